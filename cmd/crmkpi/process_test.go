package main

// Process tests: the real crmkpi binary, built once, run as a child process
// against the fake CRMs served by this test process, on SQLite and
// PostgreSQL. They prove what only a process can: a SIGKILL at any moment
// loses nothing, a signal stops a sync as interrupted, a process that lost
// its lock stores nothing more, first syncs migrate a fresh warehouse
// together, and serve runs its schedule and stops on SIGTERM. The work of
// each command is tested in-process in package app.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain removes the binary that crmkpiBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// crmkpiBinary builds the crmkpi command once per test binary and returns
// its path.
func crmkpiBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "crmkpi-process-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "crmkpi")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const hubspotToken = "pat-na1-11111111-2222-3333-4444-555555555555"

// fakes are the three fake CRMs, seeded small, on the real clock (the
// child process cannot share an injected one).
type fakes struct {
	hs  *hubspottest.Server
	amo *amocrmtest.Server
	b24 *bitrix24test.Server
}

func newFakes(t *testing.T, latency time.Duration) *fakes {
	t.Helper()
	now := time.Now()
	hs := hubspottest.NewServer(hubspottest.WithToken(hubspotToken), hubspottest.WithRateLimit(0, 0),
		hubspottest.WithSearchRateLimit(0), hubspottest.WithLatency(latency))
	t.Cleanup(hs.Close)
	if err := hs.Seed(hubspottest.World{Seed: 3, Now: now.Add(-time.Hour), Companies: 8}); err != nil {
		t.Fatal(err)
	}
	hs.SetShortPages(10)
	amo := amocrmtest.NewServer(amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0), amocrmtest.WithLatency(latency))
	t.Cleanup(amo.Close)
	amo.Seed(amocrmtest.SeedConfig{Users: 4, Companies: 15, Contacts: 30, Leads: 40, Tasks: 30, Notes: 30, Messages: 20, Seed: 4,
		End: now.Add(-24 * time.Hour)})
	b24 := bitrix24test.NewServer(bitrix24test.WithRateLimit(0, 0), bitrix24test.WithLatency(latency))
	t.Cleanup(b24.Close)
	synctest.SeedBitrix24(b24, 130)
	return &fakes{hs: hs, amo: amo, b24: b24}
}

func (f *fakes) total() int {
	return f.hs.TotalRequests() + f.amo.TotalRequests() + f.b24.TotalRequests()
}

// want is what the warehouse should hold, by connector name.
func (f *fakes) want() map[string]synctest.Rows {
	return map[string]synctest.Rows{"hs": synctest.HubSpot(f.hs), "amo": synctest.AmoCRM(f.amo), "b24": synctest.Bitrix24(f.b24)}
}

// config writes a crmkpi.yaml for the named connectors (all three when
// none) to a temporary directory and returns its path.
func (f *fakes) config(t *testing.T, dsn, schedule string, names ...string) string {
	t.Helper()
	if len(names) == 0 {
		names = []string{"hs", "amo", "b24"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "warehouse:\n  dsn: %q\nconnectors:\n", dsn)
	for _, n := range names {
		switch n {
		case "hs":
			fmt.Fprintf(&b, "  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: %q, rate_limit: 1000, burst: 100, search_rate_limit: 1000}\n",
				hubspotToken, f.hs.URL, schedule)
		case "amo":
			fmt.Fprintf(&b, "  - {name: amo, type: amocrm, token: %q, base_url: %q, schedule: %q, rate_limit: 1000, burst: 100}\n",
				f.amo.Token(), f.amo.URL, schedule)
		case "b24":
			fmt.Fprintf(&b, "  - {name: b24, type: bitrix24, webhook_url: %q, schedule: %q, rate_limit: 1000, burst: 100}\n",
				f.b24.WebhookURL(), schedule)
		}
	}
	path := filepath.Join(t.TempDir(), "crmkpi.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testWarehouse is a warehouse for a child process: its DSN (a SQLite
// file, or a PostgreSQL schema named in the DSN's search_path) and a
// database/sql view of it for the test.
type testWarehouse struct {
	dsn string
	db  *sql.DB
}

func (w testWarehouse) check(t *testing.T, want map[string]synctest.Rows) {
	t.Helper()
	for name, rows := range want {
		got, err := synctest.Read(context.Background(), w.db, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows, got); diff != "" {
			t.Errorf("%s: warehouse differs from the fake (-fake +warehouse):\n%s", name, diff)
		}
	}
}

func (w testWarehouse) runs(t *testing.T, connector string) []synctest.Run {
	t.Helper()
	runs, err := synctest.Runs(context.Background(), w.db, connector)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// child is a running crmkpi process.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr *connectortest.Buffer
	done           chan struct{}
	err            error
}

func start(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{stdout: &connectortest.Buffer{}, stderr: &connectortest.Buffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(crmkpiBinary(t), args...)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	c.cmd.Env = append(os.Environ(), "CRMKPI_LOG_LEVEL=info")
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// wait waits for the child to exit, at most d, and returns its exit code.
func (c *child) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("crmkpi %s still running after %s; stderr:\n%s", strings.Join(c.cmd.Args[1:], " "), d, c.stderr)
	}
	return c.cmd.ProcessState.ExitCode()
}

// waitHeld waits until the child sends a request that g holds (what names
// it), failing if the child exits first; the 30 s only guard a hang.
func (c *child) waitHeld(t *testing.T, g *connectortest.Gate, what string) {
	t.Helper()
	select {
	case <-g.Held():
	case <-c.done:
		t.Fatalf("crmkpi %s exited %d before %s\n%s", strings.Join(c.cmd.Args[1:], " "), c.cmd.ProcessState.ExitCode(), what, c.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("crmkpi %s did not reach %s in 30 s\n%s", strings.Join(c.cmd.Args[1:], " "), what, c.stderr)
	}
}

// crmkpi runs the binary to its end and returns its exit code.
func crmkpi(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	c := start(t, args...)
	code = c.wait(t, 60*time.Second)
	return code, c.stdout.String(), c.stderr.String()
}

// pollUntil calls cond until it holds or d passes. It is only for what a
// child process does, which sends this test no event.
func pollUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestProcessSIGKILL kills a child `crmkpi sync` of all three connectors
// with SIGKILL after the fakes have served N requests, for several N, then
// runs a normal sync: the warehouse must equal the fakes record by record.
func TestProcessSIGKILL(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			// Fakes of its own: a kill is triggered by the requests they
			// served.
			f := newFakes(t, 2*time.Millisecond)
			want := f.want()
			for _, n := range []int{1, 4, 12, 25, 36, 44} { // a whole first sync is 48 requests
				t.Run(fmt.Sprintf("after %d requests", n), func(t *testing.T) {
					w := newWarehouse(t, kind)
					dsn := w.dsn
					app := fmt.Sprintf("crmkpi_kill_%d_%d", n, time.Now().UnixNano())
					if kind == "postgres" {
						dsn = appDSN(t, dsn, app)
					}
					cfg := f.config(t, dsn, "@every 1m")
					base := f.total()
					c := start(t, "sync", "--config", cfg)
					exited := false
					pollUntil(t, 30*time.Second, fmt.Sprintf("%d requests", n), func() bool {
						select {
						case <-c.done:
							exited = true
							return true
						default:
						}
						return f.total()-base >= n
					})
					if exited {
						t.Fatalf("sync ended before %d requests (%d served); stderr:\n%s", n, f.total()-base, c.stderr)
					}
					if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					<-c.done
					if kind == "postgres" {
						// The server finishes what the dead process sent (a
						// run's INSERT may commit after the kill) before it
						// ends its sessions: count the runs after that.
						pollUntil(t, 30*time.Second, "the killed sync's sessions to end", func() bool {
							var open int
							if err := w.db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&open); err != nil {
								t.Fatal(err)
							}
							return open == 0
						})
					}
					served := f.total() - base
					ghosts := 0
					for _, name := range []string{"hs", "amo", "b24"} {
						for _, r := range w.runs(t, name) {
							if r.Status == warehouse.RunRunning {
								ghosts++
							}
						}
					}
					if code, _, stderr := crmkpi(t, "sync", "--config", cfg); code != 0 {
						t.Fatalf("sync after the kill: exit %d\n%s", code, stderr)
					}
					w.check(t, want)
					// The killed sync's runs, left running, are closed by
					// the next sync of their connector.
					closed := 0
					for _, name := range []string{"hs", "amo", "b24"} {
						for _, r := range w.runs(t, name) {
							switch {
							case r.Status == warehouse.RunRunning || r.Finished.IsZero():
								t.Errorf("%s run %d %s left %s after the next sync", name, r.ID, r.Object, r.Status)
							case r.Status == warehouse.RunInterrupted && strings.Contains(r.Error, "found running by "):
								closed++
							}
						}
					}
					if ghosts == 0 || closed != ghosts {
						t.Errorf("the kill left %d runs running; the next sync closed %d as interrupted", ghosts, closed)
					}
					t.Logf("killed after %d requests; the resumed sync made %d", served, f.total()-base-served)
				})
			}
		})
	}
}

// newWarehouse returns a fresh, migrated warehouse of kind ("sqlite" or
// "postgres") for a child process.
func newWarehouse(t *testing.T, kind string) testWarehouse {
	t.Helper()
	if kind == "sqlite" {
		s := warehousetest.NewSQLite(t)
		return testWarehouse{dsn: "sqlite:" + s.Path(), db: synctest.DB(t, s)}
	}
	s := warehousetest.NewPostgres(t)
	return testWarehouse{dsn: synctest.SchemaDSN(warehousetest.PostgresURL(), s.Schema()), db: synctest.DB(t, s)}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func httpGet(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestProcessServe runs `crmkpi serve` with a schedule of every second
// against a slow fake, so that a sync outlasts a tick: runs happen, the
// runs of one object never overlap, /healthz answers 200 once they
// succeeded, /metrics shows the counters and SIGTERM stops it with exit 0.
func TestProcessServe(t *testing.T) {
	t.Parallel()
	// About 1.5 s a sync: users, stages, four objects and their first
	// reconciliation, ~4 requests deep at 300 ms each.
	f := newFakes(t, 300*time.Millisecond)
	w := newWarehouse(t, "sqlite")
	cfg := f.config(t, w.dsn, "@every 1s", "b24")
	addr := freePort(t)
	srv := start(t, "serve", "--config", cfg, "--listen", addr)

	objects := 6
	pollUntil(t, 40*time.Second, "three finished runs of every object", func() bool {
		finished := map[string]int{}
		for _, r := range w.runs(t, "b24") {
			if r.Status == warehouse.RunSucceeded {
				finished[r.Object]++
			}
		}
		if len(finished) < objects {
			return false
		}
		for _, n := range finished {
			if n < 3 {
				return false
			}
		}
		return true
	})
	code, body, err := httpGet("http://" + addr + "/healthz")
	if err != nil || code != http.StatusOK {
		t.Errorf("/healthz after successful runs = %d %q %v, want 200", code, body, err)
	}
	code, metrics, err := httpGet("http://" + addr + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("/metrics = %d %v", code, err)
	}
	for _, m := range []string{`crmkpi_sync_records_total{connector="b24",object="deals"}`, `crmkpi_http_requests_total{connector="b24"}`,
		`crmkpi_sync_runs_total{connector="b24",object="deals",status="ok"}`, `crmkpi_sync_last_success_timestamp_seconds{connector="b24",object="deals"}`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	stopped := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.wait(t, 15*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0; stderr:\n%s", code, srv.stderr)
	}
	t.Logf("serve stopped %s after SIGTERM", time.Since(stopped).Round(time.Millisecond))

	// Never two runs of one object at once, and none left running.
	runs := w.runs(t, "b24")
	byObject := map[string][]synctest.Run{}
	for _, r := range runs {
		if r.Finished.IsZero() {
			t.Errorf("run %d %s left %s after serve stopped", r.ID, r.Object, r.Status)
			continue
		}
		byObject[r.Object] = append(byObject[r.Object], r)
	}
	for obj, rs := range byObject {
		for i := 1; i < len(rs); i++ {
			if rs[i].Started.Before(rs[i-1].Finished) {
				t.Errorf("%s: run %d started %s, before run %d finished %s", obj, rs[i].ID, rs[i].Started.Format(time.StampMicro),
					rs[i-1].ID, rs[i-1].Finished.Format(time.StampMicro))
			}
		}
	}
	if !strings.Contains(srv.stderr.String(), "tick skipped") {
		t.Logf("no tick was skipped (the syncs were quicker than a second)")
	}
	t.Logf("%d runs; ticks skipped: %d", len(runs), strings.Count(srv.stderr.String(), "tick skipped"))
}
