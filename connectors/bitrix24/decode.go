package bitrix24

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
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
	if _, ok := f["ID"]; !ok {
		if _, ok := f["id"]; ok {
			f.addClassicNames()
		}
	}
	return f, nil
}

// itemNames are the crm.item.* fields whose classic name is not their
// camelCase name in upper snake case.
var itemNames = map[string]string{"createdTime": "DATE_CREATE", "updatedTime": "DATE_MODIFY", "contactId": "CONTACT_ID"}

// addClassicNames gives a row in crm.item.list's shape (camelCase, typed:
// "id", "stageSemanticId", "updatedTime", "contactIds", §2 and sample 6.2),
// which a portal may send for the classic list methods too, the classic
// names the mapping reads: categoryId is CATEGORY_ID, updatedTime
// DATE_MODIFY, the first of contactIds CONTACT_ID. A name the row has in
// both forms keeps its classic value.
func (f fields) addClassicNames() {
	for k, v := range f {
		if k == "" || k[0] < 'a' || k[0] > 'z' {
			continue
		}
		name, ok := itemNames[k]
		if k == "contactIds" {
			var ids []json.RawMessage
			if json.Unmarshal(v, &ids) != nil || len(ids) == 0 {
				continue
			}
			name, v, ok = "CONTACT_ID", ids[0], true
		}
		if !ok {
			name = upperSnake(k)
		}
		if _, taken := f[name]; !taken {
			f[name] = v
		}
	}
}

// upperSnake writes a camelCase name in upper snake case: stageSemanticId
// is STAGE_SEMANTIC_ID.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if 'A' <= r && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// rawString renders a JSON scalar as text: a string as is, a number as
// written, true/false as "Y"/"N" (Bitrix24's booleans); ok is false for
// null, absent, objects and arrays.
func rawString(raw json.RawMessage) (string, bool) {
	v := connectors.ScalarOf(raw)
	switch v.Kind {
	case connectors.Null, connectors.Composite:
		return "", false
	case connectors.Bool:
		if v.Text == "true" {
			return "Y", true
		}
		return "N", true
	}
	return v.Text, true
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

// numberFormat is how Bitrix24 writes numbers in strings: "1500.50",
// "1500,50", "1 500", and money fields as "1500|RUB".
var numberFormat = connectors.NumberFormat{DecimalComma: true, Spaces: true, Currency: true}

func parseNum(s string) *float64 {
	n, ok, err := numberFormat.Parse(s)
	if !ok || err != nil {
		return nil
	}
	return &n
}

// parseInt reads an integer, written with or without a fraction.
func parseInt(s string) (int64, error) {
	n, ok, err := connectors.Scalar{Kind: connectors.String, Text: s}.Int(false)
	if err == nil && !ok {
		err = errors.New("want an integer, got nothing")
	}
	return n, err
}

// yesNo is Bitrix24's booleans: Y/N (and true/false, 1/0); anything else
// says nothing.
var yesNo = connectors.Truth{Yes: []string{"Y", "TRUE", "1"}, No: []string{"N", "FALSE", "0"}}

// known reads the Y/N field key; ok is false when it is missing or odd,
// where the caller must fall back on another field (COMPLETED, CLOSED,
// ACTIVE).
func (f fields) known(key string) (v, ok bool) { return yesNo.Read(connectors.ScalarOf(f[key])) }

// flag reads a Y/N field; missing or odd is no.
func (f fields) flag(key string) bool {
	v, _ := f.known(key)
	return v
}

// timeFormat is the datetime shapes seen on the wire: ISO 8601 with the
// portal's offset (the documented one), with fractions, with an offset
// without a colon, without an offset, and the dd.mm.yyyy forms some user
// fields come back in.
var timeFormat = connectors.TimeFormat{
	Layouts: []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05-0700",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
		"02.01.2006 15:04:05",
		"02.01.2006",
	},
	Want: "a Bitrix24 datetime",
}

// parseTime reads a datetime and returns it in UTC. A value without an
// offset is wall-clock time at the portal's offset (loc). Unreadable
// values give ok=false rather than an error: optional dates come back in
// odd shapes ("{}", "24.08.2023 13:19:39") and must not sink a page.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	t, err := timeFormat.Parse(s, loc)
	return t, err == nil
}

func (f fields) time(key string, loc *time.Location) time.Time {
	t, _ := parseTime(f.str(key), loc)
	return t
}

// writtenTime is timePtr in the offset the portal wrote.
func (f fields) writtenTime(key string, loc *time.Location) *time.Time {
	t, err := timeFormat.ParseWritten(f.str(key), loc)
	if err != nil {
		return nil
	}
	return &t
}

func (f fields) timePtr(key string, loc *time.Location) *time.Time {
	t, ok := parseTime(f.str(key), loc)
	if !ok {
		return nil
	}
	return &t
}
