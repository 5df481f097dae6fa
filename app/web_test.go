package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestServeMountsThePages: serve serves the scorecard pages beside
// /healthz and /metrics on loopback, and with web.auth off loopback; off
// loopback without it the pages are off (the syncs and probes still run),
// and the log says why.
func TestServeMountsThePages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, yaml, listen string
		pages              int // status of GET / without credentials
		warn               bool
	}{
		{"loopback", "currency: EUR\n", "127.0.0.1:0", http.StatusOK, false},
		{"every interface, no auth", "currency: EUR\n", ":9090", http.StatusNotFound, true},
		{"every interface, a token", "currency: EUR\nweb: {auth: {token: s3cret-token-value}}\n", ":9090", http.StatusUnauthorized, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, logs := testApp(t, warehousetest.NewSQLite(t), tt.yaml)
			srv, err := a.NewServer(ServeOptions{Listen: tt.listen})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.pages {
				t.Errorf("GET / = %d, want %d\n%s", rec.Code, tt.pages, rec.Body)
			}
			rec = httptest.NewRecorder()
			srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("GET /healthz = %d, want 200 whatever the pages", rec.Code)
			}
			if got := strings.Contains(logs.String(), "scorecard pages off"); got != tt.warn {
				t.Errorf("log says the pages are off: %v, want %v\n%s", got, tt.warn, logs)
			}
			if strings.Contains(logs.String(), "s3cret-token-value") {
				t.Errorf("the log shows the web token:\n%s", logs)
			}
		})
	}
}

// TestDemoWeb: demo with Web serves the pages of its warehouse, says where,
// and stops at Ctrl-C (ctx's end).
func TestDemoWeb(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &connectortest.Buffer{}
	done := make(chan error, 1)
	go func() {
		_, err := Demo(ctx, Env{Stderr: stderr}, DemoOptions{Dir: t.TempDir(), Managers: 3, Seed: 2, Web: "127.0.0.1:0",
			Now: time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)})
		done <- err
	}()
	re := regexp.MustCompile(`The scorecard pages: (http://127\.0\.0\.1:\d+/)`)
	var url string
	for url == "" {
		select {
		case err := <-done:
			t.Fatalf("demo ended before serving the pages: %v\n%s", err, stderr)
		case <-time.After(20 * time.Millisecond):
			if m := re.FindStringSubmatch(stderr.String()); m != nil {
				url = m[1]
			}
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Leaderboard") || !strings.Contains(string(body), "October 2026") {
		t.Errorf("GET %s = %d:\n%.500s", url, resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo after Ctrl-C: %v", err)
	}
}
