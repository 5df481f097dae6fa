package connectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// amoCRM and Bitrix24 are PHP, whose json_encode cannot tell an empty
// list from an empty object (both are written []), and writes a list whose
// keys are not 0..n-1 as an object keyed by index. A record carrying one of
// those where the documents show the other must not fail its page: the
// readers below take either.

// List is a JSON list that may also arrive as null or nothing (no items),
// or as an object keyed by index ({} when empty), whose values are taken
// in the order written.
type List[T any] []T

// UnmarshalJSON implements json.Unmarshaler.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var raws []json.RawMessage
	switch {
	case len(b) == 0 || string(b) == "null":
		*l = nil
		return nil
	case b[0] == '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return err
		}
	case b[0] == '{':
		var err error
		if raws, err = objectValues(b); err != nil {
			return err
		}
	default:
		return fmt.Errorf("want a list, got %.20s", b)
	}
	out := make(List[T], len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return err
		}
	}
	*l = out
	return nil
}

// objectValues returns the values of the JSON object b in the order
// written.
func objectValues(b []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeObject decodes the JSON object b into v. Null, nothing at all and
// an empty list (an empty object as json_encode writes it) leave v as it
// was; a non-empty list or a scalar is an error.
func DecodeObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return err
		}
		if len(raws) > 0 {
			return fmt.Errorf("want an object, got a list of %d", len(raws))
		}
		return nil
	}
	return json.Unmarshal(b, v)
}

// Map is a JSON object that may also arrive as null or nothing (empty), or
// as a list, whose values are then keyed by index ("0", "1", ...): a PHP
// array keyed by strings, which json_encode writes as [] when empty.
type Map map[string]json.RawMessage

// UnmarshalJSON implements json.Unmarshaler.
func (m *Map) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*m = Map{}
		return nil
	case b[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		out := make(Map, len(list))
		for i, v := range list {
			out[strconv.Itoa(i)] = v
		}
		*m = out
		return nil
	}
	var out map[string]json.RawMessage
	err := json.Unmarshal(b, &out)
	*m = out
	return err
}
