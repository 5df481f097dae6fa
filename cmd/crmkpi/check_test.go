package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// TestCheckOwnDeadlines checks five CRMs at once: one refusing connections,
// one that never answers, one with an untrusted certificate, one refusing
// the token and one that works. Each is reported with its own cause, in
// config order, and the one that works is ok: the one that hangs does not
// use up the others' time.
func TestCheckOwnDeadlines(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the client gives up
	}))
	t.Cleanup(hang.Close)
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are expected
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	hs := hubspottest.NewServer(hubspottest.WithToken("pat-eu1-good"), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)

	dir := t.TempDir()
	conn := func(name, token, base string) string {
		return fmt.Sprintf("  - {name: %s, type: hubspot, token: %s, base_url: %q, schedule: \"@every 1h\", rate_limit: 1000, burst: 100}\n", name, token, base)
	}
	cfg := writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf("warehouse: {dsn: %q}\nconnectors:\n", "sqlite:"+filepath.Join(dir, "w.db"))+
		conn("refused", "pat-eu1-good", refused)+
		conn("hang", "pat-eu1-good", hang.URL)+
		conn("tls", "pat-eu1-good", untrusted.URL)+
		conn("badtoken", "pat-eu1-wrong", hs.URL)+
		conn("ok", "pat-eu1-good", hs.URL))

	// The deadline is on the real clock (the CRMs are real sockets): long
	// enough for the working check on a loaded machine under -race; the
	// hanging one takes all of it, beside the others.
	code, stdout, stderr := runCmd(t, nil, "check", "--config", cfg, "--timeout", "6s")
	if code != exitFailed {
		t.Errorf("check exit %d, want %d\nstderr:\n%s", code, exitFailed, stderr)
	}
	want := []string{
		"config: ok (5 connectors, 0 managers)",
		"warehouse sqlite:" + filepath.Join(dir, "w.db") + ": ok",
		"warehouse sqlite:" + filepath.Join(dir, "w.db") + ": warning: no warehouse file yet",
		"connector refused: FAILED (connection refused): ",
		"connector hang: FAILED (timeout after 6s): ",
		"connector tls: FAILED (TLS handshake): ",
		"connector badtoken: FAILED (401 unauthorized): ",
		"connector ok: ok",
		"slack: not configured",
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("check printed %d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	if strings.Contains(stdout, "pat-eu1-") {
		t.Errorf("check prints a token:\n%s", stdout)
	}
}

// TestCheckPlurals: check counts in the right number: "1 connector, 1
// manager", "1 check failed".
func TestCheckPlurals(t *testing.T) {
	t.Parallel()
	hs := hubspottest.NewServer(hubspottest.WithToken("pat-eu1-good"), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf("warehouse: {dsn: %q}\nconnectors:\n"+
		"  - {name: badtoken, type: hubspot, token: pat-eu1-wrong, base_url: %q}\nmanagers: [{email: anna@example.com}]\n",
		"sqlite:"+filepath.Join(dir, "w.db"), hs.URL))
	code, stdout, stderr := runCmd(t, nil, "check", "--config", cfg)
	if code != exitFailed || !strings.HasPrefix(stdout, "config: ok (1 connector, 1 manager)\n") || !strings.HasSuffix(stderr, "crmkpi check: 1 check failed\n") {
		t.Errorf("check = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
