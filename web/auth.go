package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/crmkpi/crmkpi/config"
)

// InsecureListenError is Handler's refusal to serve the pages on an
// address other than loopback without web.auth.
type InsecureListenError struct {
	Listen string
}

func (e *InsecureListenError) Error() string {
	return fmt.Sprintf("serve the web pages on %q: not a loopback address, so web.auth must be set (a token or basic auth; docs/config.md)", e.Listen)
}

// CheckListen returns an *InsecureListenError when listen is not a
// loopback address (127.0.0.0/8, ::1, localhost) and auth is not set. An
// empty host (":9090") is every interface. Handler calls it; a command
// may call it before it opens anything.
func CheckListen(listen string, auth config.WebAuth) error {
	if auth.Set() || loopback(listen) {
		return nil
	}
	return &InsecureListenError{Listen: listen}
}

func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard lets a request through when it carries the configured
// credentials. The secrets are hashed once, so that every compare is of
// two 32-byte digests in constant time: neither the content nor the
// length of a secret shows in the time an answer takes.
type guard struct {
	token          *[32]byte // bearer token mode
	user, password *[32]byte // basic auth mode
}

func newGuard(a config.WebAuth) *guard {
	if !a.Set() {
		return nil
	}
	digest := func(s string) *[32]byte { d := sha256.Sum256([]byte(s)); return &d }
	if a.Token != "" {
		return &guard{token: digest(a.Token.Value())}
	}
	return &guard{user: digest(a.Basic.User), password: digest(a.Basic.Password.Value())}
}

func same(want *[32]byte, got string) int {
	d := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(want[:], d[:])
}

// allows reports whether r carries the credentials. In token mode a
// browser, which cannot send a bearer token, may give the token as the
// password of basic auth, with any user name.
func (g *guard) allows(r *http.Request) bool {
	if g.token != nil {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			return same(g.token, strings.TrimSpace(tok)) == 1
		}
		_, pass, ok := r.BasicAuth()
		return ok && same(g.token, pass) == 1
	}
	user, pass, ok := r.BasicAuth()
	// & rather than &&: the password is compared even when the user is wrong.
	return ok && same(g.user, user)&same(g.password, pass) == 1
}

// wrap answers 401 to requests without the credentials.
func (g *guard) wrap(next http.Handler, unauthorized http.HandlerFunc) http.Handler {
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allows(r) {
			if g.token != nil {
				w.Header().Add("WWW-Authenticate", `Bearer realm="crmkpi"`)
			}
			w.Header().Add("WWW-Authenticate", `Basic realm="crmkpi", charset="UTF-8"`)
			unauthorized(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
