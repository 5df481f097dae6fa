package warehouse

import "testing"

func TestJSONBRefuses(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"a":"plain"}`, false},
		{`{"a":"\u0000"}`, true},
		{`{"a":"\u0041\u0000"}`, true},
		{`{"a":"\\u0000"}`, false}, // an escaped backslash, then text
		{`{"a":"\\\u0000"}`, true},
		{`{"a":"\ud83d\ude00"}`, false},
		{`{"a":"\uD83D\uDE00"}`, false},
		{`{"a":"\ud83d"}`, true},
		{`{"a":"\ud83d\u0041"}`, true},
		{`{"a":"\ude00"}`, true},
		{`{"a":"\u12"}`, false},
		{`\`, false},
	}
	for _, tt := range tests {
		if got := jsonbRefuses([]byte(tt.in)); got != tt.want {
			t.Errorf("jsonbRefuses(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
