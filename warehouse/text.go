package warehouse

import (
	"encoding/json"
	"strings"
)

// rowArgs appends the values of src's i-th row in table column order: key,
// canonical columns, raw, updated_at, deleted, synced_at. Both the INSERT
// and the COPY paths use it, so the two store identical values.
func (s *Store) rowArgs(args []any, connector string, src rowSource, i int, synced any) []any {
	start := len(args)
	m := src.meta(i)
	args = append(args, connector, m.ID)
	args = src.cols(i, args)
	args = append(args, s.d.rawArg(m.Raw), s.d.timeArg(m.UpdatedAt), m.Deleted, synced)
	if s.d.name == DialectPostgres {
		for j := start; j < len(args); j++ {
			if str, ok := args[j].(string); ok && strings.IndexByte(str, 0) >= 0 {
				// PostgreSQL text cannot hold U+0000 at all; a CRM name
				// with one must not fail the sync forever. The raw
				// column keeps the original losslessly.
				args[j] = strings.ReplaceAll(str, "\x00", "\uFFFD")
			}
		}
	}
	return args
}

// rawEnvelopeKey names the one key of the object that holds, as a JSON
// string, a raw record PostgreSQL's jsonb cannot store as is.
const rawEnvelopeKey = "crmkpi_raw_json"

// rawArg stores the raw JSON as given, NULL when empty. On PostgreSQL, JSON
// that jsonb refuses although it is valid JSON (a \u0000 escape, a lone
// surrogate escape such as \ud800) is stored as {"crmkpi_raw_json": "<the
// original text>"}: lossless, and still jsonb.
func (d *dialect) rawArg(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	if d.name == DialectPostgres && jsonbRefuses(raw) {
		b, err := json.Marshal(map[string]string{rawEnvelopeKey: string(raw)})
		if err == nil {
			return string(b)
		}
	}
	return string(raw)
}

// jsonbRefuses reports whether raw holds a \u escape that PostgreSQL's jsonb
// rejects: U+0000, or a surrogate not part of a high-low pair.
func jsonbRefuses(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			continue
		}
		switch {
		case r == 0:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			// A high surrogate must be followed by \u and a low one.
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo, ok := hex4(raw, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
