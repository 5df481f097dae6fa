package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
)

// TestHealthzFirstFailedRun: a connector that has never synced is healthy
// while its first run goes, unhealthy as soon as that run fails (no grace
// of stale_after), and healthy again once a run succeeds; a running retry
// does not make it look healthy.
func TestHealthzFirstFailedRun(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Parse(strings.NewReader(`connectors:
  - {name: hs, type: hubspot, token: t, schedule: "@every 1h", stale_after: 24h}
  - {name: amo, type: amocrm, token: t, base_url: "https://x.amocrm.ru", schedule: "@every 1h", stale_after: 24h}
`), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := healthHandler(cfg, s, time.Now())
	get := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest("GET", "/healthz", nil))
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

// TestServeAlertsOncePerChange runs serve against a HubSpot fake that
// refuses the configured token: /healthz turns 503 after the first failed
// run and one alert is posted however many runs fail. serve is restarted
// (the state is in the warehouse, no second alert), then restarted with the
// right token: one "recovered" alert, and /healthz 200.
func TestServeAlertsOncePerChange(t *testing.T) {
	const good, bad = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69", "pat-eu1-0000ffff-4b6e-4d21-9a8f-revokedtoken"
	hs := hubspottest.NewServer(hubspottest.WithToken(good), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	slack := newAlertSlack(t)
	dir := t.TempDir()
	config := func(token string) string {
		return writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf(`warehouse: {dsn: %q}
connectors:
  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: "@every 1s", rate_limit: 1000, burst: 100, search_rate_limit: 1000}
notify:
  slack: {token: xoxb-alerts-token, alerts_channel: "#crm-sync", api_url: %q}
`, "sqlite:"+filepath.Join(dir, "w.db"), token, hs.URL, slack.GetAPIURL()))
	}
	// serve runs until stop is called; it then returns serve's exit code.
	serve := func(cfg string) (addr string, stop func() int) {
		addr = freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var out, errb syncBuffer
		go func() {
			done <- run(ctx, []string{"serve", "--config", cfg, "--listen", addr}, strings.NewReader(""), &out, &errb, func(string) (string, bool) { return "", false })
		}()
		return addr, func() int {
			cancel()
			code := <-done
			if strings.Contains(errb.String(), good) || strings.Contains(errb.String(), bad) {
				t.Errorf("serve logs a token:\n%s", errb.String())
			}
			return code
		}
	}
	health := func(addr string) (int, string) {
		code, body, _ := httpGet("http://" + addr + "/healthz")
		return code, body
	}
	dsn := "sqlite:" + filepath.Join(dir, "w.db")
	config(bad) // serve migrates; the test reads sync_runs beside it
	db := synctest.OpenDSN(t, dsn)
	failed := func() int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM sync_runs WHERE status = 'failed'").Scan(&n); err != nil {
			return -1 // the table is not there yet
		}
		return n
	}
	failingAlert := "#crm-sync: :large_red_circle: crmkpi: connector *hs* is failing"

	addr, stop := serve(config(bad))
	pollUntil(t, 20*time.Second, "/healthz 503 after the first failed run", func() bool {
		code, _ := health(addr)
		return code == http.StatusServiceUnavailable
	})
	if _, body := health(addr); !strings.Contains(body, `"status":"failing"`) || !strings.Contains(body, `"hs/`) {
		t.Errorf("/healthz = %s, want hs failing", body)
	}
	// Let several more runs fail: still one alert.
	n := failed()
	pollUntil(t, 20*time.Second, "three more failed runs", func() bool { return failed() >= n+3 })
	if code := stop(); code != 0 {
		t.Errorf("serve exit %d after cancel", code)
	}
	if got := slack.texts(); len(got) != 1 || !strings.HasPrefix(got[0], failingAlert) {
		t.Fatalf("alerts after failed runs = %q, want one failing alert", got)
	}

	addr, stop = serve(config(bad))
	n = failed()
	pollUntil(t, 20*time.Second, "a failed run after the restart", func() bool { return failed() > n })
	pollUntil(t, 20*time.Second, "/healthz 503 after the restart", func() bool {
		code, _ := health(addr)
		return code == http.StatusServiceUnavailable
	})
	stop()
	if got := slack.texts(); len(got) != 1 {
		t.Fatalf("alerts after a restart = %q, want still the one", got)
	}

	addr, stop = serve(config(good))
	pollUntil(t, 30*time.Second, "/healthz 200 with the right token", func() bool {
		code, _ := health(addr)
		return code == http.StatusOK
	})
	pollUntil(t, 10*time.Second, "the recovered alert", func() bool { return len(slack.texts()) == 2 })
	stop()
	want := []string{"#crm-sync: :large_green_circle: crmkpi: connector *hs* recovered: every object synced."}
	if got := slack.texts(); !strings.HasPrefix(got[0], failingAlert) || !cmp.Equal(got[1:], want) {
		t.Errorf("alerts = %q, want the failing one, then %q", got, want)
	}
	for _, txt := range slack.texts() {
		if strings.Contains(txt, "pat-eu1-") || strings.Contains(txt, "xoxb-") {
			t.Errorf("an alert holds a token: %s", txt)
		}
	}
}
