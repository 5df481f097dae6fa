package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/sync/synctest"
)

// Secrets shaped like the real ones: a HubSpot private app token, an
// amoCRM long-lived token (a JWT) and a Bitrix24 webhook code.
const (
	fragHubSpot = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69"
	fragAmo     = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImp0aSI6IjRmY2Y4YTFjMmIifQ." +
		"eyJhdWQiOiI4YzJlMWY3YSIsImlhdCI6MTc1MTg5MjM2OSwiZXhwIjoxODE0NDAwMDAwLCJzdWIiOiIxMDI4Mzc0NiJ9." +
		"C4mN9qX2vB7kP1sT6wY3zR8uE5oI0aL4dF9gH2jK7lZ3xC6vB1nM8qW5eR0tY4uI9oP2aS7dF3gH6jK1lZ"
	fragB24 = "k7p2x9q4m1v8z3w6"
)

// echoProxy is a gateway in front of a CRM that answers every request with
// status and a text body repeating the request: its line, every header
// (Authorization too) and its body. It cuts its echo as gateways do:
// request n cuts it through the secret at a position that moves with n
// (odd n), or pads it so the secret straddles the connector's own
// 300-byte snippet cut at a moving position (even n).
type echoProxy struct {
	*httptest.Server
	secret string

	mu     sync.Mutex
	status int
	n      int
	echoes int // answers whose echo held a piece of the secret
}

func newEchoProxy(t *testing.T, secret string) *echoProxy {
	p := &echoProxy{secret: secret, status: http.StatusBadRequest}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var e strings.Builder
		fmt.Fprintf(&e, "gateway error; the request was:\r\n%s %s HTTP/1.1\r\n", r.Method, r.URL.RequestURI())
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range r.Header {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(&e, "%s: %s\r\n", k, strings.Join(r.Header[k], ", "))
		}
		fmt.Fprintf(&e, "\r\n%s", b)
		echo := e.String()
		p.mu.Lock()
		p.n++
		n, status := p.n, p.status
		if at := strings.Index(echo, secret); at >= 0 {
			p.echoes++
			k := (n * 7) % len(secret)
			if n%2 == 1 {
				echo = echo[:at+k]
			} else if pad := 300 - at - k; pad > 0 {
				echo = strings.Repeat("-", pad-1) + " " + echo
			}
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, echo)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *echoProxy) answer(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

func (p *echoProxy) echoed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.echoes
}

// TestSecretFragmentsNeverLeak syncs three connectors behind gateways that
// echo each request, secrets included, in their error bodies and cut the
// echo mid-secret: first a 400 (final at once), then a 500 (retried until
// the run's deadline, whose error names the last answer). No 8-byte piece
// of any secret may reach stdout, stderr (debug logs included) or
// sync_runs.error.
func TestSecretFragmentsNeverLeak(t *testing.T) {
	t.Parallel()
	hs := newEchoProxy(t, fragHubSpot)
	amo := newEchoProxy(t, fragAmo)
	b24 := newEchoProxy(t, fragB24)
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "crmkpi.db")
	cfg := writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf(`timezone: Europe/Moscow
currency: RUB
warehouse: {dsn: %q}
connectors:
  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, search_rate_limit: 1000}
  - {name: amo, type: amocrm, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100}
  - {name: b24, type: bitrix24, webhook_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100}
`, dsn, fragHubSpot, hs.URL, fragAmo, amo.URL, b24.URL+"/rest/1/"+fragB24+"/"))
	env := map[string]string{"CRMKPI_LOG_LEVEL": "debug"}
	secrets := map[string]string{"HubSpot token": fragHubSpot, "amoCRM token": fragAmo, "Bitrix24 webhook code": fragB24}
	leaks := func(where, text string) {
		t.Helper()
		for name, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if j := strings.Index(text, s[i:i+8]); j >= 0 {
					lo, hi := max(0, j-100), min(len(text), j+60)
					t.Errorf("%s holds %q of the %s: …%s…", where, s[i:i+8], name, text[lo:hi])
					break
				}
			}
		}
	}
	db := func() string {
		return dumpTable(t, synctest.OpenDSN(t, dsn), "sync_runs")
	}

	for _, step := range []struct {
		name    string
		status  int
		timeout time.Duration
		want    string // in sync_runs.error of every connector
	}{
		{"400", http.StatusBadRequest, 0, "HTTP 400: gateway error"},
		// The client retries a 500 with backoff; the deadline stops it.
		{"500", http.StatusInternalServerError, 3 * time.Second, "HTTP 500: gateway error"},
	} {
		for _, p := range []*echoProxy{hs, amo, b24} {
			p.answer(step.status)
		}
		ctx := context.Background()
		if step.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, step.timeout)
			defer cancel()
		}
		before := hs.echoed() + amo.echoed() + b24.echoed()
		code, stdout, stderr := runIn(ctx, env, "sync", "--config", cfg)
		if code == 0 {
			t.Errorf("%s: sync exit 0 against gateways that refuse everything\n%s", step.name, stderr)
		}
		runs := db()
		for _, c := range []string{"hs", "amo", "b24"} {
			if !strings.Contains(runs, "connector="+c) {
				t.Errorf("%s: no run of %s recorded", step.name, c)
			}
		}
		if n := strings.Count(runs, step.want); n < 3 {
			t.Errorf("%s: %d runs whose error holds %q, want one per connector at least: the echoes did not reach the errors\n%s", step.name, n, step.want, runs)
		}
		if !strings.Contains(stderr, step.want) {
			t.Errorf("%s: stderr does not show %q", step.name, step.want)
		}
		if hs.echoed()+amo.echoed()+b24.echoed() == before {
			t.Errorf("%s: no request carried a secret to the gateways", step.name)
		}
		leaks(step.name+": stdout", stdout)
		leaks(step.name+": stderr", stderr)
		leaks(step.name+": sync_runs", runs)
		if testing.Verbose() {
			t.Logf("%s: exit %d; stderr:\n%s", step.name, code, stderr)
		}
	}
}
