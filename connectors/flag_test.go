package connectors_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/connectors"
)

func TestFlagString(t *testing.T) {
	gold := connectors.Flag{Yes: []string{"Gold", " 45 "}}
	tests := []struct {
		in         string
		plain, yes bool // with no extra values; with Yes naming Gold and 45
	}{
		{"true", true, true}, {"TRUE", true, true}, {" 1 ", true, true}, {"yes", true, true},
		{"Y", true, true}, {"да", true, true}, {"ДА", true, true}, {"on", true, true},
		{"false", false, false}, {"0", false, false}, {"no", false, false}, {"N", false, false},
		{"off", false, false}, {"нет", false, false}, {"", false, false}, {"  ", false, false},
		{"Gold", false, true}, {"gold", false, true}, {"Silver", false, false},
		{"45", false, true}, {"450", false, false}, {"2", false, false}, {"truthy", false, false},
	}
	for _, tt := range tests {
		if got := (connectors.Flag{}).String(tt.in); got != tt.plain {
			t.Errorf("Flag{}.String(%q) = %v, want %v", tt.in, got, tt.plain)
		}
		if got := gold.String(tt.in); got != tt.yes {
			t.Errorf("Flag{Gold,45}.String(%q) = %v, want %v", tt.in, got, tt.yes)
		}
	}
}

func TestFlagJSON(t *testing.T) {
	gold := connectors.Flag{Yes: []string{"Gold", "45"}}
	tests := []struct {
		in         string
		plain, yes bool
	}{
		{`true`, true, true}, {`false`, false, false}, {`null`, false, false}, {``, false, false},
		{`1`, true, true}, {`1.0`, true, true}, {`0`, false, false}, {`45`, false, true},
		{`"Y"`, true, true}, {`"N"`, false, false}, {`"Gold"`, false, true}, {`"off"`, false, false},
		{`[]`, false, false}, {`["45"]`, false, true}, {`[46, 45]`, false, true}, {`["N", "Y"]`, true, true},
		{`{"id": "45", "value": "Gold"}`, false, true}, {`{}`, false, false},
		{`{bad`, false, false}, {`"unterminated`, false, false}, {`tru`, false, false},
	}
	for _, tt := range tests {
		if got := (connectors.Flag{}).JSON([]byte(tt.in)); got != tt.plain {
			t.Errorf("Flag{}.JSON(%s) = %v, want %v", tt.in, got, tt.plain)
		}
		if got := gold.JSON([]byte(tt.in)); got != tt.yes {
			t.Errorf("Flag{Gold,45}.JSON(%s) = %v, want %v", tt.in, got, tt.yes)
		}
	}
}

// FuzzFlag checks that JSON of a JSON string agrees with String, that
// nothing panics, and that a value is yes only when it spells one of the
// yes words or the named values.
func FuzzFlag(f *testing.F) {
	for _, s := range []string{"true", "Y", "да", "Gold", "off", "", "[\"Gold\"]", "{\"v\":1}", "1e0"} {
		f.Add(s, "Gold")
	}
	f.Fuzz(func(t *testing.T, s, yes string) {
		fl := connectors.Flag{Yes: []string{yes}}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fl.JSON(b), fl.String(s); got != want {
			t.Errorf("JSON(%s) = %v, String(%q) = %v", b, got, s, want)
		}
		_ = fl.JSON([]byte(s))
		if fl.String(s) {
			v := strings.ToLower(strings.TrimSpace(s))
			named := strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(yes)) && v != ""
			switch v {
			case "true", "1", "yes", "y", "да", "on":
			default:
				if !named {
					t.Errorf("String(%q) with Yes %q = true", s, yes)
				}
			}
		}
	})
}
