package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack/slacktest"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// Distinctive fake secrets: each must never appear in anything crmkpi
// prints, logs, stores outside its token table, or sends to Slack.
const (
	secHubSpot     = "pat-na1-5ec7e7a1-hubs-4000-8000-000000000001"
	secAmoToken    = "amo-longlived-5ec7e7b2-token"
	secAmoClient   = "amo-client-5ec7e7c3-secret"
	secAmoRefresh  = "amo-refresh-5ec7e7d4-revoked"
	secB24Code     = "b24code5ec7e7e5"
	secB24Echo     = "b24echo5ec7e7f6"
	secB24Down     = "b24down5ec7e7a7"
	secSlack       = "xoxb-5ec7e7b8-slack-bot-token"
	secPGPassword  = "pgpass5ec7e7c9"
	secEchoHubSpot = "pat-na1-5ec7e7da-echo-4000-8000-000000000002"
)

// echoServer is a hostile CRM: it answers every request with an error whose
// body repeats everything the request carried (headers, URL, body), as a
// careless proxy or API might. The first answer is a 500, the rest 401.
func echoServer(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		status := http.StatusUnauthorized
		if n == 1 {
			status = http.StatusInternalServerError
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":"denied","auth":%q,"url":%q,"body":%q,"message":"token %s at %s"}`,
			r.Header.Get("Authorization"), r.URL.String(), b, r.Header.Get("Authorization"), r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// slackRecorder is a slacktest server that records every request's query,
// body and headers (but Authorization, the token's own channel).
type slackRecorder struct {
	*slacktest.Server
	mu   sync.Mutex
	seen []string
	n    int
	// unauthorized counts requests without the token in the header.
	unauthorized int
}

func newSlackRecorder(t *testing.T) *slackRecorder {
	sr := &slackRecorder{}
	answer := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
	handle := func(method string, h func(w http.ResponseWriter, r *http.Request, form url.Values)) slacktest.Binder {
		return func(c slacktest.Customize) {
			c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				var hdr strings.Builder
				for k, vs := range r.Header {
					if k != "Authorization" {
						fmt.Fprintf(&hdr, "%s: %s\n", k, strings.Join(vs, ","))
					}
				}
				form, _ := url.ParseQuery(string(b))
				sr.mu.Lock()
				if r.Header.Get("Authorization") != "Bearer "+secSlack {
					sr.unauthorized++
				}
				sr.seen = append(sr.seen, method+"?"+r.URL.RawQuery+"\n"+hdr.String()+"\n"+string(b))
				sr.mu.Unlock()
				h(w, r, form)
			})
		}
	}
	sr.Server = slacktest.NewTestServer(
		handle("auth.test", func(w http.ResponseWriter, r *http.Request, _ url.Values) {
			w.Header().Set("X-OAuth-Scopes", "chat:write,users:read,users:read.email,im:write")
			answer(w, `{"ok":true,"user_id":"U0BOT","team":"T","user":"crmkpi"}`)
		}),
		handle("chat.postMessage", func(w http.ResponseWriter, r *http.Request, form url.Values) {
			sr.mu.Lock()
			sr.n++
			n := sr.n
			sr.mu.Unlock()
			if n == 1 {
				// A hostile proxy: a 500 repeating the credentials.
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, "upstream failed for %s", r.Header.Get("Authorization"))
				return
			}
			answer(w, fmt.Sprintf(`{"ok":true,"channel":%q,"ts":"1793523600.%06d"}`, form.Get("channel"), n))
		}),
		handle("chat.update", func(w http.ResponseWriter, r *http.Request, form url.Values) {
			answer(w, fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q}`, form.Get("channel"), form.Get("ts")))
		}),
		handle("conversations.open", func(w http.ResponseWriter, r *http.Request, form url.Values) {
			answer(w, fmt.Sprintf(`{"ok":true,"channel":{"id":"D%s"}}`, strings.TrimPrefix(form.Get("users"), "U")))
		}),
		handle("users.lookupByEmail", func(w http.ResponseWriter, r *http.Request, _ url.Values) {
			answer(w, `{"ok":false,"error":"users_not_found"}`)
		}),
	)
	sr.Start()
	t.Cleanup(sr.Stop)
	return sr
}

func (sr *slackRecorder) requests() []string {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return append([]string(nil), sr.seen...)
}

// leakChecker collects the secrets and where they must not show.
type leakChecker struct {
	t       *testing.T
	secrets []string
}

func (lc *leakChecker) add(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			lc.secrets = append(lc.secrets, s)
		}
	}
}

// check fails when text holds a secret or a distinctive part of one (its
// "5ec7e7" marker and the fake's generated token suffixes).
func (lc *leakChecker) check(where, text string) {
	lc.t.Helper()
	for _, s := range lc.secrets {
		for _, needle := range distinctive(s) {
			if i := strings.Index(text, needle); i >= 0 {
				lo, hi := max(0, i-120), min(len(text), i+len(needle)+60)
				lc.t.Errorf("%s leaks secret %q (as %q): …%s…", where, s, needle, text[lo:hi])
				break
			}
		}
	}
}

// distinctive returns s and the parts of it that identify it alone.
func distinctive(s string) []string {
	out := []string{s}
	if i := strings.Index(s, "5ec7e7"); i >= 0 {
		out = append(out, s[i:min(len(s), i+8)])
	}
	// The amoCRM fake's OAuth tokens: fake-refresh-SEQ-NANOS.
	if i := strings.LastIndex(s, "-"); strings.HasPrefix(s, "fake-") && i > 0 && len(s)-i > 10 {
		out = append(out, s[i+1:])
	}
	return out
}

// TestSecretsNeverLeak runs every command in-process with distinctive fake
// secrets in the config (HubSpot and amoCRM tokens, an amoCRM OAuth client
// secret and refresh tokens, Bitrix24 webhook secrets, the Slack token, a
// PostgreSQL password) while the fakes misbehave in ways that could echo
// them: 5xx and 401 bodies repeating the request, a refused connection to a
// webhook URL, a timeout, a refresh refused; then serve's tasks run once
// each. No secret may appear in stdout, stderr (logs at debug level),
// sync_runs, sync_state, /metrics, /healthz or any request Slack received.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	pg := warehousetest.NewPostgres(t)
	u, err := url.Parse(synctest.SchemaDSN(warehousetest.PostgresURL(), pg.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	// Trust authentication ignores the password, but crmkpi must hide it.
	u.User = url.UserPassword(user, secPGPassword)
	dsn := u.String()
	db := synctest.OpenDSN(t, synctest.SchemaDSN(warehousetest.PostgresURL(), pg.Schema()))

	now := time.Now()
	hs := hubspottest.NewServer(hubspottest.WithToken(secHubSpot), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	if err := hs.Seed(hubspottest.World{Seed: 3, Now: now.Add(-time.Hour), Companies: 4}); err != nil {
		t.Fatal(err)
	}
	amo := amocrmtest.NewServer(amocrmtest.WithToken(secAmoToken), amocrmtest.WithOAuth("amo-client-id", secAmoClient),
		amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0))
	t.Cleanup(amo.Close)
	amo.Seed(amocrmtest.SeedConfig{Users: 3, Companies: 4, Contacts: 6, Leads: 8, Tasks: 4, Notes: 4, Messages: 2, Seed: 4, End: now.Add(-24 * time.Hour)})
	amoRefresh := amo.OAuthRefreshToken()
	b24 := bitrix24test.NewServer(bitrix24test.WithRateLimit(0, 0), bitrix24test.WithWebhook("1", secB24Code))
	t.Cleanup(b24.Close)
	synctest.SeedBitrix24(b24, 12)
	echo := echoServer(t)
	slack := newSlackRecorder(t)

	// A port nothing listens on: the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String() + "/rest/1/" + secB24Down + "/"
	ln.Close()

	lc := &leakChecker{t: t}
	lc.add(secHubSpot, secAmoToken, secAmoClient, secAmoRefresh, secB24Code, secB24Echo, secB24Down, secSlack, secPGPassword,
		secEchoHubSpot, amoRefresh)

	dir := t.TempDir()
	common := fmt.Sprintf(`timezone: Europe/Moscow
currency: RUB
warehouse:
  dsn: %q
managers:
  - {email: v.valeev@example.com, name: Vadim Valeev, team: sales, slack_id: U0VADIM}
notify:
  slack:
    token: %q
    channel: "#sales-kpi"
    direct_messages: true
    api_url: %q
`, dsn, secSlack, slack.GetAPIURL())
	// Every connector is unpaced and retries within milliseconds: what
	// is checked is what the output holds, and the vendors' rates and
	// half-second backoffs made the test wait on the clock for most of
	// its run. The same attempts fail and are retried, and logged.
	good := fmt.Sprintf(`connectors:
  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, search_rate_limit: 1000, timeout: 300ms, min_backoff: 1ms, max_backoff: 5ms}
  - {name: amo, type: amocrm, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, min_backoff: 1ms, max_backoff: 5ms}
  - name: amo-oauth
    type: amocrm
    base_url: %q
    schedule: "@every 1h"
    rate_limit: 1000
    burst: 100
    min_backoff: 1ms
    max_backoff: 5ms
    oauth: {client_id: amo-client-id, client_secret: %q, refresh_token: %q, redirect_uri: "https://example.com/cb"}
  - {name: b24, type: bitrix24, webhook_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, min_backoff: 1ms, max_backoff: 5ms}
`, secHubSpot, hs.URL, secAmoToken, amo.URL, amo.URL, secAmoClient, amoRefresh, b24.WebhookURL())
	hostile := fmt.Sprintf(`
  - {name: hs-echo, type: hubspot, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, search_rate_limit: 1000, min_backoff: 1ms, max_backoff: 5ms}
  - {name: b24-echo, type: bitrix24, webhook_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, min_backoff: 1ms, max_backoff: 5ms}
  - name: amo-echo
    type: amocrm
    base_url: %q
    schedule: "@every 1h"
    rate_limit: 1000
    burst: 100
    min_backoff: 1ms
    max_backoff: 5ms
    oauth: {client_id: amo-client-id, client_secret: %q, refresh_token: %q, redirect_uri: "https://example.com/cb"}
  - name: amo-revoked
    type: amocrm
    base_url: %q
    schedule: "@every 1h"
    rate_limit: 1000
    burst: 100
    min_backoff: 1ms
    max_backoff: 5ms
    oauth: {client_id: amo-client-id, client_secret: %q, refresh_token: %q, redirect_uri: "https://example.com/cb"}
`, secEchoHubSpot, echo.URL, echo.URL+"/rest/1/"+secB24Echo+"/", echo.URL, secAmoClient, secAmoRefresh, amo.URL, secAmoClient, secAmoRefresh)
	down := fmt.Sprintf(`
  - {name: b24-down, type: bitrix24, webhook_url: %q, schedule: "@every 1h", min_backoff: 1ms, max_backoff: 5ms}
`, downURL)
	cfgGood := writeFile(t, dir, "good.yaml", common+good)
	cfgAll := writeFile(t, dir, "all.yaml", common+good+strings.TrimPrefix(hostile, "\n"))
	cfgDown := writeFile(t, dir, "down.yaml", common+"connectors:"+down)
	cfgServe := writeFile(t, dir, "serve.yaml", strings.ReplaceAll(common+good+strings.TrimPrefix(hostile, "\n"), "@every 1h", "@every 1s"))
	env := map[string]string{"CRMKPI_LOG_LEVEL": "debug"}

	type step struct {
		name    string
		args    []string
		timeout time.Duration // bounds commands that retry a refused connection
		want    int           // exit code
		before  func()
	}
	steps := []step{
		{name: "check", args: []string{"check", "--config", cfgAll}, want: 1},
		{name: "check down", args: []string{"check", "--config", cfgDown}, timeout: 2 * time.Second, want: 1},
		{name: "migrate", args: []string{"migrate", "--config", cfgAll}},
		{name: "sync", args: []string{"sync", "--config", cfgAll}, want: 1, before: func() {
			hs.Fail(1, connectortest.Fault{Kind: connectortest.FaultStatus, Status: 500})
			hs.Fail(1, connectortest.Fault{Kind: connectortest.FaultSlow, Delay: time.Second})
			amo.Fail(1, amocrmtest.FaultServerError)
			b24.Fail(1, bitrix24test.FaultServerError)
		}},
		{name: "sync down", args: []string{"sync", "--config", cfgDown}, timeout: 2 * time.Second, want: 1},
		{name: "sync full", args: []string{"sync", "--config", cfgGood, "--full"}},
		{name: "sync revoked", args: []string{"sync", "--config", cfgGood, "--connector", "hs", "--connector", "amo"}, want: 1,
			before: func() { hs.RevokeToken(secHubSpot); amo.RevokeTokens() }},
		{name: "score table", args: []string{"score", "--config", cfgAll, "--period", "current"}},
		{name: "score json", args: []string{"score", "--config", cfgAll, "--period", "current", "--format", "json"}},
		{name: "notify dry-run", args: []string{"notify", "--config", cfgAll, "--period", "current", "--dry-run"}},
		{name: "notify", args: []string{"notify", "--config", cfgAll, "--period", "current"}, want: -1},
		{name: "run", args: []string{"run", "--config", cfgAll}, want: 1},
		{name: "status", args: []string{"status", "--config", cfgAll}, want: 1},
		{name: "status json", args: []string{"status", "--config", cfgAll, "--format", "json"}, want: 1},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		ctx := context.Background()
		if s.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.timeout)
			defer cancel()
		}
		code, stdout, stderr := runIn(ctx, env, s.args...)
		if s.want >= 0 && code != s.want {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.name, code, s.want, stdout, stderr)
		}
		lc.check(s.name+": stdout", stdout)
		lc.check(s.name+": stderr", stderr)
		if testing.Verbose() {
			t.Logf("%s: exit %d, %d bytes of stdout, %d of stderr", s.name, code, len(stdout), len(stderr))
		}
	}

	// serve, as runServe assembles it: every task runs once as its tick
	// would, /metrics and /healthz are scraped over HTTP, and it stops by
	// cancelling.
	var serveOut, serveErr connectortest.Buffer
	vars := env
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	e := newEnv(strings.NewReader(""), &serveOut, &serveErr, lookup)
	cfg, err := loadConfig(e, cfgServe)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv, err := a.NewServer(app.ServeOptions{Collectors: []prometheus.Collector{buildInfoGauge(readBuildInfo())}})
	if err != nil {
		t.Fatal(err)
	}
	srvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, srvLn) }()
	var ticks sync.WaitGroup
	for _, task := range srv.Scheduler.Tasks {
		ticks.Go(func() {
			if ran, _ := srv.Scheduler.RunNow(ctx, task.Name); !ran {
				t.Errorf("%s did not run", task.Name)
			}
		})
	}
	ticks.Wait()
	code, metrics, err := httpGet("http://" + srvLn.Addr().String() + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Errorf("/metrics = %d, %v", code, err)
	}
	for _, c := range []string{"hs", "amo-oauth", "b24", "hs-echo", "b24-echo", "amo-echo"} {
		if !strings.Contains(metrics, `crmkpi_sync_runs_total{connector="`+c+`"`) {
			t.Errorf("/metrics has no run of %s after every task ran", c)
		}
	}
	_, health, err := httpGet("http://" + srvLn.Addr().String() + "/healthz")
	if err != nil {
		t.Errorf("/healthz: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve stopped with %v after its ctx was cancelled, want none (exit 0)\n%s", err, serveErr.String())
	}
	lc.check("serve: stdout", serveOut.String())
	lc.check("serve: stderr", serveErr.String())
	lc.check("/metrics", metrics)
	lc.check("/healthz", health)
	if !strings.Contains(metrics, "crmkpi_") {
		t.Errorf("/metrics has no crmkpi_ metric:\n%.2000s", metrics)
	}

	// The tokens the OAuth connectors rotated to are secrets too.
	rows, err := db.Query("SELECT token FROM oauth_tokens")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.FieldsFunc(tok, func(r rune) bool { return r == '"' || r == ',' || r == '{' || r == '}' || r == ':' }) {
			if strings.HasPrefix(f, "fake-") {
				lc.add(f)
			}
		}
	}
	rows.Close()

	lc.check("sync_runs", dumpTable(t, db, "sync_runs"))
	state := dumpTable(t, db, "sync_state")
	t.Logf("sync_state:\n%s", state)
	lc.check("sync_state", state)
	reqs := slack.requests()
	if len(reqs) == 0 {
		t.Error("Slack received no request")
	}
	if slack.unauthorized > 0 {
		t.Errorf("%d of %d Slack requests lack the token in the Authorization header", slack.unauthorized, len(reqs))
	}
	for i, r := range reqs {
		lc.check(fmt.Sprintf("Slack request %d", i), r)
	}
}

// dumpTable returns every row of table, every column, as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
