package config

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWeb checks the web section as the pages and Slack read it: the base
// URL without its final "/", either kind of auth, and no auth when the
// section or auth is left out. Errors are in testdata/web*.bad.yaml.
func TestWeb(t *testing.T) {
	tests := []struct {
		yaml string
		want Web
	}{
		{"", Web{}},
		{"web:", Web{}},
		{"web: {auth: ~}", Web{}},
		{"web: {base_url: 'https://kpi.example.com/'}", Web{BaseURL: "https://kpi.example.com"}},
		{"web: {base_url: 'http://10.0.0.5:9090/kpi//'}", Web{BaseURL: "http://10.0.0.5:9090/kpi"}},
		{"web: {auth: {token: '${SLACK_BOT_TOKEN}'}}", Web{Auth: WebAuth{Token: "xoxb-SECRET-slack"}}},
		{
			"web:\n  auth:\n    basic: {user: sales, password: '${DB_PASSWORD}'}\n",
			Web{Auth: WebAuth{Basic: BasicAuth{User: "sales", Password: "SECRET-mysql"}}},
		},
	}
	for _, tt := range tests {
		cfg, err := parseString(t, tt.yaml)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.yaml, err)
			continue
		}
		if diff := cmp.Diff(tt.want, cfg.Web); diff != "" {
			t.Errorf("Parse(%q).Web mismatch (-want +got):\n%s", tt.yaml, diff)
		}
		if got, want := cfg.Web.Auth.Set(), tt.want.Auth != (WebAuth{}); got != want {
			t.Errorf("Parse(%q).Web.Auth.Set() = %v, want %v", tt.yaml, got, want)
		}
	}
}

// TestWebAuthRedacted checks that the token and the password never show
// when a config is printed or marshalled whole.
func TestWebAuthRedacted(t *testing.T) {
	for _, yaml := range []string{
		"web: {auth: {token: '${SLACK_BOT_TOKEN}'}}",
		"web: {auth: {basic: {user: sales, password: '${DB_PASSWORD}'}}}",
	} {
		cfg, err := parseString(t, yaml)
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", cfg.Web), fmt.Sprintf("%s", cfg.Web.Auth), string(js)} {
			assertNoSecret(t, yaml, s)
		}
	}
}
