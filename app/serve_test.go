package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack/slacktest"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestHealthzFirstFailedRun: a connector that has never synced is healthy
// while its first run goes, unhealthy as soon as that run fails (no grace
// of stale_after), and healthy again once a run succeeds; a running retry
// does not make it look healthy.
func TestHealthzFirstFailedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := config.Parse(strings.NewReader(`connectors:
  - {name: hs, type: hubspot, token: t, schedule: "@every 1h", stale_after: 24h}
  - {name: amo, type: amocrm, token: t, base_url: "https://x.amocrm.ru", schedule: "@every 1h", stale_after: 24h}
`), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := warehousetest.NewSQLite(t)
	srv, err := (&App{Config: cfg, Store: s}).NewServer(ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("/healthz body %q: %v", rec.Body, err)
		}
		return rec.Code, body
	}
	start := func(c string, obj connectors.Object) int64 {
		id, err := s.StartRun(ctx, c, obj, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	finish := func(id int64, status string) {
		errText := ""
		if status == warehouse.RunFailed {
			errText = "authentication failed (HTTP 401)"
		}
		if err := s.FinishRun(ctx, id, time.Now(), status, 0, errText); err != nil {
			t.Fatal(err)
		}
	}
	amoOK := start("amo", connectors.ObjectDeals)
	finish(amoOK, warehouse.RunSucceeded)
	steps := []struct {
		name string
		do   func()
		code int
		body map[string]any
	}{
		{"never synced, just started", func() {}, 200, map[string]any{"status": "ok"}},
		{"first run going", func() { start("hs", connectors.ObjectDeals) }, 200, map[string]any{"status": "ok"}},
		{"first run failed", func() {
			st, _ := s.RunStatus(ctx)
			for _, o := range st {
				if o.Connector == "hs" {
					finish(o.LastRunID, warehouse.RunFailed)
				}
			}
		}, 503, map[string]any{"status": "failing", "failing": []any{"hs/deals"}}},
		{"retry going", func() { start("hs", connectors.ObjectDeals) }, 503, map[string]any{"status": "failing", "failing": []any{"hs/deals"}}},
		{"retry succeeded", func() {
			st, _ := s.RunStatus(ctx)
			for _, o := range st {
				if o.Connector == "hs" {
					finish(o.LastRunID, warehouse.RunSucceeded)
				}
			}
		}, 200, map[string]any{"status": "ok"}},
	}
	for _, st := range steps {
		st.do()
		code, body := get()
		if code != st.code {
			t.Errorf("%s: /healthz %d, want %d", st.name, code, st.code)
		}
		if diff := cmp.Diff(st.body, body); diff != "" {
			t.Errorf("%s: /healthz body (-want +got):\n%s", st.name, diff)
		}
	}
}

// alertSlack is a slacktest server that records the alerts posted.
type alertSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	posts []url.Values
}

func newAlertSlack(t *testing.T) *alertSlack {
	as := &alertSlack{}
	as.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			as.mu.Lock()
			as.posts = append(as.posts, r.PostForm)
			n := len(as.posts)
			as.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"channel":"C0ALERTS","ts":"1793523600.%06d"}`, n)
		})
	})
	as.Start()
	t.Cleanup(as.Stop)
	return as
}

func (as *alertSlack) texts() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	var out []string
	for _, p := range as.posts {
		out = append(out, p.Get("channel")+": "+p.Get("text"))
	}
	return out
}

// serving is a Server running in the test: its HTTP handler on a real
// loopback listener, its schedule running (on an hourly schedule, so that
// only the test's RunNow runs a task).
type serving struct {
	*Server
	addr string
	logs *connectortest.Buffer
	stop func() error
}

// serve opens the config at path as `crmkpi serve` does and runs it until
// stop, which returns Run's error.
func serve(t *testing.T, path string) *serving {
	t.Helper()
	logs := &connectortest.Buffer{}
	r := redact.New()
	cfg, err := LoadConfig(path, func(string) (string, bool) { return "", false }, r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, Env{Logger: NewLogger(logs, false, LogLevel(""), r), Redactor: r, Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := a.NewServer(ServeOptions{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	stopped := false
	s := &serving{Server: srv, addr: ln.Addr().String(), logs: logs}
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		err := <-done
		a.Close()
		return err
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// tick runs the named task as its schedule's tick would, and fails when a
// tick of it was still running.
func (s *serving) tick(t *testing.T, task string) error {
	t.Helper()
	ran, err := s.Scheduler.RunNow(context.Background(), task)
	if !ran {
		t.Fatalf("%s did not run: %v", task, err)
	}
	return err
}

func (s *serving) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// TestServeAlertsOncePerChange runs serve against a HubSpot fake that
// refuses the configured token: /healthz turns 503 after the first failed
// run and one alert is posted however many runs fail. serve is restarted
// (the state is in the warehouse, no second alert), then restarted with the
// right token: one "recovered" alert, and /healthz 200.
func TestServeAlertsOncePerChange(t *testing.T) {
	t.Parallel()
	const good, bad = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69", "pat-eu1-0000ffff-4b6e-4d21-9a8f-revokedtoken"
	hs := hubspottest.NewServer(hubspottest.WithToken(good), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	slack := newAlertSlack(t)
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "w.db")
	config := func(token string) string {
		return writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf(`warehouse: {dsn: %q}
connectors:
  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, search_rate_limit: 1000}
notify:
  slack: {token: xoxb-alerts-token, alerts_channel: "#crm-sync", api_url: %q}
`, dsn, token, hs.URL, slack.GetAPIURL()))
	}
	stop := func(s *serving) {
		t.Helper()
		if err := s.stop(); err != nil {
			t.Errorf("serve stopped with %v, want none (exit 0)", err)
		}
		if strings.Contains(s.logs.String(), good) || strings.Contains(s.logs.String(), bad) {
			t.Errorf("serve logs a token:\n%s", s.logs)
		}
	}
	srv := serve(t, config(bad)) // serve migrates; the test reads sync_runs beside it
	db := synctest.OpenDSN(t, dsn)
	failed := func() int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM sync_runs WHERE status = 'failed'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	failingAlert := "#crm-sync: :large_red_circle: crmkpi: connector *hs* is failing"

	if code, _ := srv.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz before any run = %d, want 200", code)
	}
	srv.tick(t, "sync hs")
	if code, body := srv.get(t, "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"failing"`) || !strings.Contains(body, `"hs/`) {
		t.Errorf("/healthz after the first failed run = %d %s, want 503 with hs failing", code, body)
	}
	// Several more runs fail: still one alert.
	n := failed()
	for range 3 {
		srv.tick(t, "sync hs")
	}
	if got := failed(); got < n+3 {
		t.Errorf("%d failed runs after three more ticks, want at least %d", got, n+3)
	}
	stop(srv)
	if got := slack.texts(); len(got) != 1 || !strings.HasPrefix(got[0], failingAlert) {
		t.Fatalf("alerts after failed runs = %q, want one failing alert", got)
	}

	srv = serve(t, config(bad))
	n = failed()
	srv.tick(t, "sync hs")
	if got := failed(); got <= n {
		t.Errorf("no failed run after the restart")
	}
	if code, _ := srv.get(t, "/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz after the restart = %d, want 503", code)
	}
	stop(srv)
	if got := slack.texts(); len(got) != 1 {
		t.Fatalf("alerts after a restart = %q, want still the one", got)
	}

	srv = serve(t, config(good))
	srv.tick(t, "sync hs")
	if code, body := srv.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the right token = %d %s, want 200", code, body)
	}
	stop(srv)
	want := []string{"#crm-sync: :large_green_circle: crmkpi: connector *hs* recovered: every object synced."}
	if got := slack.texts(); len(got) != 2 || !strings.HasPrefix(got[0], failingAlert) || !cmp.Equal(got[1:], want) {
		t.Errorf("alerts = %q, want the failing one, then %q", got, want)
	}
	for _, txt := range slack.texts() {
		if strings.Contains(txt, "pat-eu1-") || strings.Contains(txt, "xoxb-") {
			t.Errorf("an alert holds a token: %s", txt)
		}
	}
}
