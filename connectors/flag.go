package connectors

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Flag reads a yes/no custom field (key_client, or any boolean a connector
// maps) with one meaning for every CRM, so that "Gold" or "off" never mean
// one thing in HubSpot and another in Bitrix24.
//
// A value is yes when it is, ignoring case and surrounding space, one of
// true, 1, yes, y, да, on (a ticked checkbox in every CRM's spelling:
// HubSpot "true", Bitrix24 "Y" or "1", amoCRM true), or one of the values
// in Yes (the enum or list options the config names, e.g. "Gold"; matched
// against the option's value or id). Everything else is no: "false",
// "off", "Gold" when Yes does not name it, an empty field.
type Flag struct {
	// Yes lists the extra values that mean yes, as the config names them
	// (fields.key_client_values).
	Yes []string
}

// yesWords are the spellings of a ticked checkbox.
var yesWords = []string{"true", "1", "yes", "y", "да", "on"}

// String reports whether the text value s means yes.
func (f Flag) String(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, w := range yesWords {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return f.Names(s)
}

// Names reports whether Yes names s (ignoring case and surrounding space),
// for option ids and codes, which must not match the yes words: an enum
// option with id 1 is not a ticked checkbox.
func (f Flag) Names(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, w := range f.Yes {
		if strings.EqualFold(s, strings.TrimSpace(w)) {
			return true
		}
	}
	return false
}

// JSON reports whether the JSON value b means yes: a boolean as it is, a
// number or string by String (1 is yes, 0 and 2 are not unless Yes names
// them), an array when any element is yes (a multi-select list), an
// object when any of its values is (an enum item {"id":…,"value":…}).
// Null, malformed JSON and everything else are no.
func (f Flag) JSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case 't':
		return string(b) == "true"
	case 'f', 'n':
		return false
	case '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return false
		}
		return f.String(s)
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(b, &list) != nil {
			return false
		}
		for _, e := range list {
			if f.JSON(e) {
				return true
			}
		}
		return false
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return false
		}
		for _, e := range m {
			if f.JSON(e) {
				return true
			}
		}
		return false
	}
	// A number: compare its canonical text, so 1.0 and 1e0 are 1.
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return false
	}
	return f.String(string(b)) || f.String(strconv.FormatFloat(n, 'f', -1, 64))
}
