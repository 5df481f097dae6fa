package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted is what every printed or marshalled form of a non-empty Secret shows.
const redacted = "[REDACTED]"

// Secret is a config value that must never be printed: a token, a password
// inside a DSN, a Bitrix24 webhook URL. Every way of printing or marshalling
// it (fmt verbs, encoding/json, yaml.v3, log/slog) gives "[REDACTED]", so a
// Config can be logged or dumped whole. An empty Secret stays "" to show
// that it is unset. Value returns the real value for the code that uses it.
type Secret string

// Value returns the secret itself. Call it only where the value leaves the
// program for its intended recipient, such as an Authorization header.
func (s Secret) Value() string { return string(s) }

func (s Secret) redact() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns "[REDACTED]", or "" for an empty Secret.
func (s Secret) String() string { return s.redact() }

// GoString returns "[REDACTED]", or "" for an empty Secret, so %#v of a
// struct holding a Secret redacts it too.
func (s Secret) GoString() string { return s.redact() }

// Format implements fmt.Formatter. Without it, a verb that does not suit a
// string (%d, %t) would make fmt print the raw value inside its
// "%!d(config.Secret=...)" complaint, bypassing String.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		if verb == 'v' && f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprintf(f, fmt.FormatString(f, verb), s.redact())
	default:
		fmt.Fprint(f, s.redact())
	}
}

// MarshalText returns the redacted form; it covers encoders that use
// encoding.TextMarshaler, such as map keys in encoding/json.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redact()), nil }

// MarshalJSON returns the redacted form as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redact()) }

// MarshalYAML returns the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.redact(), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redact()) }
