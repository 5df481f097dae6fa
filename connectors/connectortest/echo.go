package connectortest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// EchoGateway is a gateway in front of a CRM that answers every request
// with one status and a text body repeating the request (Echo), secrets
// included. It cuts its echo as gateways do: request n cuts it through the
// secret at a position that moves with n (odd n), or pads it so the secret
// straddles a connector's 300-byte snippet cut at a moving position (even
// n). Close it when done.
type EchoGateway struct {
	*httptest.Server
	secret string

	mu     sync.Mutex
	status int
	n      int
	echoes int
}

// NewEchoGateway starts a gateway that answers 400 until Answer says
// otherwise, and cuts its echoes through secret.
func NewEchoGateway(secret string) *EchoGateway {
	g := &EchoGateway{secret: secret, status: http.StatusBadRequest}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

func (g *EchoGateway) serve(w http.ResponseWriter, r *http.Request) {
	echo := Echo(r)
	g.mu.Lock()
	g.n++
	n, status := g.n, g.status
	if at := strings.Index(echo, g.secret); at >= 0 && g.secret != "" {
		g.echoes++
		k := (n * 7) % len(g.secret)
		if n%2 == 1 {
			echo = echo[:at+k]
		} else if pad := 300 - at - k; pad > 0 {
			echo = strings.Repeat("-", pad-1) + " " + echo
		}
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, echo)
}

// Answer sets the status of the answers from now on.
func (g *EchoGateway) Answer(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = status
}

// Echoed is how many answers echoed a piece of the secret.
func (g *EchoGateway) Echoed() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.echoes
}
