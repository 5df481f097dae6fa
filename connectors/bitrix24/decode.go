package bitrix24

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// fields is one record decoded to its raw values. Bitrix24 sends ids and
// money as strings in crm.*.list and as numbers elsewhere, "sometimes
// within one scenario" (b24gosdk), so every value is read leniently.
type fields map[string]json.RawMessage

func decodeFields(raw json.RawMessage) (fields, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("record is not a JSON object")
	}
	var f fields
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	return f, nil
}

// rawString renders a JSON scalar as text: a string as is, a number as
// written, true/false as "Y"/"N" (Bitrix24's booleans); ok is false for
// null, absent, objects and arrays.
func rawString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case 't':
		return "Y", string(raw) == "true"
	case 'f':
		return "N", string(raw) == "false"
	case 'n', '{', '[':
		return "", false
	}
	return string(raw), true
}

func (f fields) str(key string) string {
	s, _ := rawString(f[key])
	return strings.TrimSpace(s)
}

// id reads a reference to another record: "" for absent, null and "0",
// which Bitrix24 uses for "none".
func (f fields) id(key string) string {
	s := f.str(key)
	if s == "" {
		return ""
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 {
			return ""
		}
		if n == float64(int64(n)) {
			return strconv.FormatInt(int64(n), 10)
		}
	}
	return s
}

// num reads a number sent as a number or a string. Money user fields
// arrive as "1500|RUB"; the amount is the part before the bar.
func (f fields) num(key string) *float64 {
	return parseNum(f.str(key))
}

func parseNum(s string) *float64 {
	s, _, _ = strings.Cut(s, "|")
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if s == "" {
		return nil
	}
	n, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || n != n {
		return nil
	}
	return &n
}

func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return int64(f), nil
}

// flag reads Bitrix24's Y/N booleans (and true/false, 1/0).
func (f fields) flag(key string) bool {
	switch strings.ToUpper(f.str(key)) {
	case "Y", "TRUE", "1":
		return true
	}
	return false
}

// timeLayouts are the datetime shapes seen on the wire: ISO 8601 with the
// portal's offset (the documented one), with fractions, without an offset,
// and the dd.mm.yyyy forms some user fields come back in.
var timeLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"02.01.2006 15:04:05",
	"02.01.2006",
}

// parseTime reads a datetime and returns it in UTC. A value without an
// offset is wall-clock time at the portal's offset (loc). Unreadable
// values give ok=false rather than an error: optional dates come back in
// odd shapes ("{}", "24.08.2023 13:19:39") and must not sink a page.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	// "+0300" offsets (no colon).
	if t, err := time.Parse("2006-01-02T15:04:05-0700", s); err == nil {
		return t.UTC(), true
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (f fields) time(key string, loc *time.Location) time.Time {
	t, _ := parseTime(f.str(key), loc)
	return t
}

func (f fields) timePtr(key string, loc *time.Location) *time.Time {
	t, ok := parseTime(f.str(key), loc)
	if !ok {
		return nil
	}
	return &t
}
