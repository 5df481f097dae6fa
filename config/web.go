package config

import (
	"cmp"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Web configures the scorecard pages that crmkpi serve and crmkpi web
// serve (package web).
type Web struct {
	// BaseURL is where people open the pages, without a trailing "/"; when
	// set, Slack scorecards link each manager to BaseURL/managers/KEY. ""
	// means no links.
	BaseURL string  `yaml:"base_url,omitempty"`
	Auth    WebAuth `yaml:"auth,omitempty"`
}

// WebAuth guards the pages with a bearer token or with basic auth; the
// zero value is no auth, which the pages accept only on a loopback
// address.
type WebAuth struct {
	Token Secret `yaml:"token,omitempty"`
	// Basic is set when User is not empty.
	Basic BasicAuth `yaml:"basic,omitempty"`
}

// Set reports whether a token or basic auth is configured.
func (a WebAuth) Set() bool { return a.Token != "" || a.Basic.User != "" }

// BasicAuth is a user name and password for HTTP basic auth.
type BasicAuth struct {
	User     string `yaml:"user,omitempty"`
	Password Secret `yaml:"password,omitempty"`
}

func (d *decoder) web(n *yaml.Node, path string, w *Web) bool {
	_, bad := d.fields(n, path, map[string]field{
		"base_url": func(v *yaml.Node, p string) bool {
			var s string
			if !d.url(v, p, &s) {
				return false
			}
			// Slack links append /managers/KEY: a query, fragment or
			// password in the base would end up in the wrong place or in
			// every message.
			if u, _ := url.Parse(s); u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				d.errorf(v, "%s: want a plain http(s) URL, without user, query or fragment", p)
				return false
			}
			w.BaseURL = strings.TrimRight(s, "/")
			return true
		},
		"auth": func(v *yaml.Node, p string) bool { return d.webAuth(v, p, &w.Auth) },
	})
	return len(bad) == 0
}

func (d *decoder) webAuth(n *yaml.Node, path string, a *WebAuth) bool {
	if isNull(n) {
		return true
	}
	present, bad := d.fields(n, path, map[string]field{
		"token": func(v *yaml.Node, p string) bool {
			if !d.secret(v, p, &a.Token) {
				return false
			}
			if strings.TrimSpace(a.Token.Value()) == "" {
				d.errorf(v, "%s: must not be empty", p)
				return false
			}
			return true
		},
		"basic": func(v *yaml.Node, p string) bool {
			var b BasicAuth
			at, bad := d.fields(v, p, map[string]field{
				"user":     func(v *yaml.Node, p string) bool { return d.str(v, p, &b.User) },
				"password": func(v *yaml.Node, p string) bool { return d.secret(v, p, &b.Password) },
			})
			if len(bad) > 0 {
				return false
			}
			// Point at the key when it is written, empty after ${VAR}
			// expansion; at the block when it is missing.
			where := func(key string) *yaml.Node { return cmp.Or(at[key], v) }
			ok := true
			switch {
			case b.User == "":
				d.errorf(where("user"), "%s.user: required", p)
				ok = false
			case strings.Contains(b.User, ":"):
				// RFC 7617: the first colon ends the user name.
				d.errorf(where("user"), "%s.user: must not contain \":\"", p)
				ok = false
			}
			if b.Password == "" {
				d.errorf(where("password"), "%s.password: required", p)
				ok = false
			}
			if ok {
				a.Basic = b
			}
			return ok
		},
	})
	if len(bad) > 0 {
		return false
	}
	switch {
	case present["token"] != nil && present["basic"] != nil:
		d.errorf(n, "%s: set token or basic, not both", path)
		a.Token, a.Basic = "", BasicAuth{}
		return false
	case present["token"] == nil && present["basic"] == nil:
		d.errorf(n, "%s: set token or basic, or leave auth out", path)
		return false
	}
	return true
}
