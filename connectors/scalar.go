package connectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The CRMs send the same value as a string, a number, a boolean or null
// from one answer to the next (ids and money as strings in one list and
// numbers in another, "sometimes within one scenario", b24gosdk), and a
// proxy may rewrite them again. The connectors read every scalar through
// the one decoder below; each says, by its arguments, which spellings its
// CRM is known to send.

// Kind is what JSON value a Scalar was.
type Kind uint8

// Kinds of Scalar.
const (
	Null      Kind = iota // null, or nothing at all
	String                // a JSON string
	Number                // a JSON number
	Bool                  // true or false
	Composite             // an object or an array: not a scalar
)

// Scalar is one JSON value read as text.
type Scalar struct {
	Kind Kind
	// Text is a string's value, or a number or boolean as written; "" for
	// null and composites.
	Text string
}

// ScalarOf reads the JSON value b. Malformed JSON is a Composite, which
// every reader below refuses.
func ScalarOf(b []byte) Scalar {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return Scalar{}
	case b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return Scalar{Kind: Composite}
		}
		return Scalar{Kind: String, Text: s}
	case string(b) == "true" || string(b) == "false":
		return Scalar{Kind: Bool, Text: string(b)}
	case b[0] == '{' || b[0] == '[':
		return Scalar{Kind: Composite}
	}
	return Scalar{Kind: Number, Text: string(b)}
}

// Str is a string that may arrive as a number, a boolean or null (""). An
// object or an array is an error.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(b []byte) error {
	v := ScalarOf(b)
	if v.Kind == Composite {
		return fmt.Errorf("want a string, got %.20s", bytes.TrimSpace(b))
	}
	*s = Str(v.Text)
	return nil
}

// Int reads the scalar as an integer: a number (a fraction is dropped) or
// a string holding one, with space around it. ok is false for null and
// "", and for booleans unless bools (amoCRM sends 0/1 flags as either),
// when true is 1 and false 0. Other text, NaN, infinities and values
// beyond int64 are errors.
func (s Scalar) Int(bools bool) (n int64, ok bool, err error) {
	t := strings.TrimSpace(s.Text)
	switch {
	case s.Kind == Composite:
		return 0, false, fmt.Errorf("want an integer, got a list or object")
	case s.Kind == Bool && bools:
		if t == "true" {
			return 1, true, nil
		}
		return 0, true, nil
	case t == "":
		return 0, false, nil
	}
	if v, err := strconv.ParseInt(t, 10, 64); err == nil {
		return v, true, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e18 {
		return 0, false, fmt.Errorf("want an integer, got %.40q", t)
	}
	return int64(f), true, nil
}

// NumberFormat names the spellings of a number a CRM sends beyond JSON's.
type NumberFormat struct {
	// DecimalComma reads "1,5" as 1.5 (one comma, no point).
	DecimalComma bool
	// Spaces ignores spaces inside ("1 500"); space around is always
	// ignored.
	Spaces bool
	// Currency reads the amount of a Bitrix24 money field, "1500|RUB".
	Currency bool
}

// Float reads the scalar as a finite number in format f: a number, or a
// string holding one. ok is false for null and ""; booleans, composites,
// other text, NaN and infinities are errors.
func (s Scalar) Float(f NumberFormat) (x float64, ok bool, err error) {
	switch s.Kind {
	case Composite:
		return 0, false, fmt.Errorf("want a number, got a list or object")
	case Bool:
		return 0, false, fmt.Errorf("want a number, got %s", s.Text)
	}
	return f.Parse(s.Text)
}

// Parse reads the text t as a number in format f, as Float does.
func (f NumberFormat) Parse(t string) (x float64, ok bool, err error) {
	if f.Currency {
		t, _, _ = strings.Cut(t, "|")
	}
	t = strings.TrimSpace(t)
	if f.Spaces {
		t = strings.ReplaceAll(t, " ", "")
	}
	if t == "" {
		return 0, false, nil
	}
	if f.DecimalComma && strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
		t = strings.Replace(t, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("want a number, got %.40q", t)
	}
	return v, true, nil
}

// Truth names the spellings of yes and no a CRM sends.
type Truth struct {
	// Yes and No are the texts (of a string, or a number as written) that
	// mean yes and no, matched ignoring case and space around. With No
	// nil, any other non-empty text means no.
	Yes, No []string
	// Numbers reads a JSON number as yes unless it is 0, whatever Yes
	// says.
	Numbers bool
}

// Read reads the scalar as yes or no. A JSON boolean is itself. ok is
// false when it gives no answer: null, "", a composite, or text that is in
// neither list when No is set.
func (t Truth) Read(s Scalar) (v, ok bool) {
	switch s.Kind {
	case Null, Composite:
		return false, false
	case Bool:
		return s.Text == "true", true
	case Number:
		if t.Numbers {
			f, err := strconv.ParseFloat(s.Text, 64)
			return err == nil && f != 0, err == nil
		}
	}
	text := strings.TrimSpace(s.Text)
	if text == "" {
		return false, false
	}
	for _, w := range t.Yes {
		if strings.EqualFold(text, w) {
			return true, true
		}
	}
	if t.No == nil {
		return false, true
	}
	for _, w := range t.No {
		if strings.EqualFold(text, w) {
			return false, true
		}
	}
	return false, false
}

// Epoch says how a CRM writes timestamps as bare numbers.
type Epoch uint8

// Epochs of TimeFormat.
const (
	NoEpoch Epoch = iota
	// EpochMillis reads an integer as Unix milliseconds (HubSpot's legacy
	// properties), within ±1e14.
	EpochMillis
	// EpochSeconds reads a number as Unix seconds, or as milliseconds
	// when it is above 1e11 (no second of this era is); 0 and below are
	// no time.
	EpochSeconds
)

// TimeFormat names the shapes of a CRM's timestamps.
type TimeFormat struct {
	// Layouts are tried in order. One without a zone reads wall-clock time
	// at the loc given to Parse (UTC when nil).
	Layouts []string
	// Epoch reads bare numbers, before the layouts.
	Epoch Epoch
	// Want describes the accepted shapes for errors ("ISO 8601 or epoch
	// milliseconds").
	Want string
}

// Parse reads the timestamp s and returns it in UTC. An empty s, and one
// of no known shape, are errors; an epoch of 0 or below is the zero time.
func (f TimeFormat) Parse(s string, loc *time.Location) (time.Time, error) {
	t, err := f.ParseWritten(s, loc)
	return t.UTC(), err
}

// ParseWritten is Parse with the time left in the offset s was written in
// (loc for a layout without a zone, UTC for an epoch): a date sent as a
// local midnight is that day only there.
func (f TimeFormat) ParseWritten(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty timestamp")
	}
	switch f.Epoch {
	case EpochMillis:
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > -1e14 && ms < 1e14 {
			return time.UnixMilli(ms).UTC(), nil
		}
	case EpochSeconds:
		if n, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) && math.Abs(n) < 9e18 {
			return UnixTime(int64(n)), nil
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, l := range f.Layouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not %s", s, f.Want)
}

// UnixTime reads v as Unix seconds, or milliseconds above 1e11; 0 and
// below are the zero time.
func UnixTime(v int64) time.Time {
	switch {
	case v <= 0:
		return time.Time{}
	case v > 1e11:
		return time.UnixMilli(v).UTC()
	}
	return time.Unix(v, 0).UTC()
}
