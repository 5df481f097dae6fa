package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

func TestExitCode(t *testing.T) {
	skip := &app.SkippedError{Skips: []string{"b24 locked by host:1"}}
	fail := errors.New("sync failed for 1 object(s)")
	signalled := func(sig syscall.Signal) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(interrupted{sig})
		return ctx
	}
	bg := context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", bg, nil, 0},
		{"usage", bg, usageError{fail}, 2},
		{"config", bg, fmt.Errorf("sync: %w", &app.ConfigError{Err: fail}), 2},
		{"failure", bg, fail, 1},
		{"skip", bg, skip, 3},
		{"wrapped skip", bg, fmt.Errorf("sync: %w", skip), 3},
		{"two skips", bg, errors.Join(skip, skip), 3},
		{"a skip and a failure", bg, errors.Join(skip, fail), 1},
		{"a wrapped skip and a failure", bg, fmt.Errorf("run: %w", errors.Join(fail, fmt.Errorf("sync: %w", skip))), 1},
		{"SIGINT", signalled(syscall.SIGINT), fail, 130},
		{"SIGTERM", signalled(syscall.SIGTERM), fail, 143},
		{"SIGTERM over a skip", signalled(syscall.SIGTERM), skip, 143},
		{"SIGTERM after a clean stop", signalled(syscall.SIGTERM), nil, 0},
	} {
		if got := exitCode(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
	if got, want := skip.Error(), "skipped: b24 locked by host:1 (--skip-locked makes a skip exit 0)"; got != want {
		t.Errorf("SkippedError = %q, want %q", got, want)
	}
}

// appDSN names the connections of a child process in pg_stat_activity.
func appDSN(t *testing.T, dsn, app string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}

// stopIdle stops c with SIGSTOP at a moment when none of its PostgreSQL
// connections (named app) is inside a statement or a transaction, so that
// the stopped process holds no row lock another process would wait for.
func stopIdle(t *testing.T, c *child, db *sql.DB, app string) {
	t.Helper()
	pid := c.cmd.Process.Pid
	pollUntil(t, 30*time.Second, "the child stopped outside a transaction", func() bool {
		if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, 5*time.Second, "the child stopped", func() bool { return processState(t, pid) == "T" })
		var busy int
		if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", app).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return true
		}
		c.cmd.Process.Signal(syscall.SIGCONT)
		return false
	})
}

// processState is the state letter of pid in /proc (T when stopped).
func processState(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ...; comm may hold spaces, so read after the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

// snapshot sums up everything a sync writes: every cursor, and per record
// table the rows, deleted rows and newest synced_at.
func snapshot(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	rows, err := db.Query("SELECT connector, object, cursor, updated_at FROM sync_state ORDER BY connector, object")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c, o, cur, at string
		if err := rows.Scan(&c, &o, &cur, &at); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{c, o, cur, at}, " "))
	}
	rows.Close()
	for _, tb := range []string{"crm_users", "crm_stages", "crm_companies", "crm_contacts", "crm_deals", "crm_activities"} {
		var n, deleted int
		var newest sql.NullString
		if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE deleted), max(synced_at)::text FROM "+tb).Scan(&n, &deleted, &newest); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %d %s", tb, n, deleted, newest.String))
	}
	return out
}

// TestProcessLostLease: a `crmkpi sync` loses its lock mid-sync (the
// PostgreSQL backend holding it is terminated while the process is
// stopped), and a second `crmkpi sync` of the connector runs at once and
// completes alone. When the first goes on, its next page finds the lease
// lost: it stops with "lost the lease on hs to HOLDER", exits 1 and stores
// nothing more, and the warehouse equals the fake.
func TestProcessLostLease(t *testing.T) {
	t.Parallel()
	// Big enough (over 100 requests, ten objects at once) that the first
	// sync has pages left when the fake holds its 16th request.
	hs := hubspottest.NewServer(hubspottest.WithToken(hubspotToken), hubspottest.WithRateLimit(0, 0),
		hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	if err := hs.Seed(hubspottest.World{Seed: 5, Now: time.Now().Add(-time.Hour), Companies: 60}); err != nil {
		t.Fatal(err)
	}
	hs.SetShortPages(10)
	// The first sync is stopped while the fake holds its requests: it
	// waits for an answer, however slowly the machine runs, so that it has
	// pages left to store and, once its database statements are done,
	// none in flight.
	gate := hs.Hold(15)
	t.Cleanup(gate.Open) // before hs.Close, which waits for held requests
	f := &fakes{hs: hs}
	w := newWarehouse(t, "postgres")
	first := start(t, "sync", "--config", f.config(t, appDSN(t, w.dsn, "crmkpi_first"), "@every 1m", "hs"))
	first.waitHeld(t, gate, "its 16th request")
	stopIdle(t, first, w.db, "crmkpi_first")
	// Its held requests are answered into its sockets; it reads them only
	// when it goes on, after the second sync.
	gate.Open()
	served := f.hs.TotalRequests()
	var lastRun int64
	if err := w.db.QueryRow("SELECT max(id) FROM sync_runs").Scan(&lastRun); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := w.db.QueryRow("SELECT pg_terminate_backend(pid, 10000) FROM sync_leases WHERE connector = 'hs'").Scan(&ok); err != nil || !ok {
		first.cmd.Process.Signal(syscall.SIGCONT)
		t.Fatalf("terminate the lock holder's backend: %v %v", ok, err)
	}

	second := start(t, "sync", "--config", f.config(t, w.dsn, "@every 1m", "hs"))
	if code := second.wait(t, 60*time.Second); code != 0 {
		first.cmd.Process.Signal(syscall.SIGCONT)
		t.Fatalf("second sync: exit %d, want 0\n%s", code, second.stderr)
	}
	done := snapshot(t, w.db)
	w.check(t, map[string]synctest.Rows{"hs": synctest.HubSpot(f.hs)})
	// Runs after the second's last are the first's, begun when it
	// resumed: it runs objects concurrently, and one it had not reached
	// when stopped starts now, to fail on its first fenced write.
	var secondLast int64
	if err := w.db.QueryRow("SELECT max(id) FROM sync_runs").Scan(&secondLast); err != nil {
		t.Fatal(err)
	}

	if err := first.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	code := first.wait(t, 60*time.Second)
	holder2 := fmt.Sprintf(":%d", second.cmd.Process.Pid)
	if code != 1 || !strings.Contains(first.stderr.String(), "lost the lease on hs to ") || !strings.Contains(first.stderr.String(), holder2) {
		t.Errorf("first sync: exit %d, want 1 with lost the lease on hs to the second (pid %d):\n%s", code, second.cmd.Process.Pid, first.stderr)
	}
	if diff := cmp.Diff(done, snapshot(t, w.db)); diff != "" {
		t.Errorf("the first sync wrote after losing its lease (-after the second +after the first):\n%s", diff)
	}
	w.check(t, map[string]synctest.Rows{"hs": synctest.HubSpot(f.hs)})

	lost := 0
	for _, r := range w.runs(t, "hs") {
		switch {
		case r.Status == warehouse.RunRunning || r.Finished.IsZero():
			t.Errorf("run %d %s left %s", r.ID, r.Object, r.Status)
		case r.ID > secondLast && r.Status == warehouse.RunFailed && strings.Contains(r.Error, "lost the lease on hs to "):
			lost++
		case r.ID > secondLast:
			t.Errorf("first sync's run %d %s, begun after it resumed: %s %s, want the lease lost", r.ID, r.Object, r.Status, r.Error)
		case r.ID > lastRun && r.Status != warehouse.RunSucceeded:
			t.Errorf("second sync's run %d %s: %s %s", r.ID, r.Object, r.Status, r.Error)
		case r.ID <= lastRun && r.Status == warehouse.RunFailed && strings.Contains(r.Error, "lost the lease on hs to "):
			lost++
		case r.ID <= lastRun && r.Status != warehouse.RunSucceeded:
			t.Errorf("first sync's run %d %s: %s %s, want succeeded or the lease lost", r.ID, r.Object, r.Status, r.Error)
		}
	}
	if lost == 0 {
		t.Errorf("no run of the first sync records the lost lease")
	}
	var token int64
	if err := w.db.QueryRow("SELECT token FROM sync_leases WHERE connector = 'hs'").Scan(&token); err != nil || token != 2 {
		t.Errorf("lease token = %d, %v; want 2 (two holders)", token, err)
	}
	t.Logf("stopped after %d of %d requests; %d of the first sync's runs lost the lease", served, f.hs.TotalRequests(), lost)
}

// TestProcessSignalsInterrupt: SIGINT and SIGTERM stop a `crmkpi sync`
// with exit 130 and 143; its runs are recorded interrupted (or succeeded),
// never failed or running; `status` does not call the connectors FAILING;
// the next sync completes the warehouse.
func TestProcessSignalsInterrupt(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(fmt.Sprintf("%s/%s", kind, map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]), func(t *testing.T) {
				t.Parallel()
				// Fakes of its own, which hold the sync's requests from
				// the 6th on each until it is signalled: every connector
				// is then in mid-sync, however slowly the machine runs.
				f := newFakes(t, 0)
				want := f.want()
				w := newWarehouse(t, kind)
				cfg := f.config(t, w.dsn, "@every 1m")
				gates := []*connectortest.Gate{f.hs.Hold(5), f.amo.Hold(5), f.b24.Hold(5)}
				for _, g := range gates {
					t.Cleanup(g.Open) // before the fakes close, which waits for held requests
				}
				c := start(t, "sync", "--config", cfg)
				for i, g := range gates {
					c.waitHeld(t, g, "its 6th request to "+[]string{"hs", "amo", "b24"}[i])
				}
				if err := c.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code, wantCode := c.wait(t, 60*time.Second), 128+int(sig)
				for _, g := range gates {
					g.Open()
				}
				if code != wantCode {
					t.Fatalf("exit %d after %s, want %d\n%s", code, sig, wantCode, c.stderr)
				}
				interrupted := 0
				for _, name := range []string{"hs", "amo", "b24"} {
					for _, r := range w.runs(t, name) {
						switch r.Status {
						case warehouse.RunInterrupted:
							interrupted++
						case warehouse.RunSucceeded:
						default:
							t.Errorf("%s run %d %s: %s %s", name, r.ID, r.Object, r.Status, r.Error)
						}
					}
				}
				if interrupted == 0 {
					t.Errorf("no run recorded interrupted")
				}
				_, stdout, _ := crmkpi(t, "status", "--config", cfg)
				if strings.Contains(stdout, "FAILING") || !strings.Contains(stdout, "interrupted") {
					t.Errorf("status after the stop shows FAILING or no interrupted run:\n%s", stdout)
				}
				if code, _, stderr := crmkpi(t, "sync", "--config", cfg); code != 0 {
					t.Fatalf("sync after the stop: exit %d\n%s", code, stderr)
				}
				w.check(t, want)
				t.Logf("%d runs interrupted", interrupted)
			})
		}
	}
}

// TestProcessFirstSyncsFreshWarehouse starts two first syncs (of two
// connectors) at once on a fresh PostgreSQL schema, three times: both
// migrate it, both exit 0 and both connectors' data is complete.
func TestProcessFirstSyncsFreshWarehouse(t *testing.T) {
	t.Parallel()
	f := newFakes(t, 0)
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			schema := warehousetest.EmptySchema(t)
			dsn := synctest.SchemaDSN(warehousetest.PostgresURL(), schema)
			amo := start(t, "sync", "--config", f.config(t, dsn, "@every 1m", "amo"))
			b24 := start(t, "sync", "--config", f.config(t, dsn, "@every 1m", "b24"))
			for _, c := range []*child{amo, b24} {
				if code := c.wait(t, 60*time.Second); code != 0 {
					t.Errorf("%s: exit %d\n%s", strings.Join(c.cmd.Args[1:], " "), code, c.stderr)
				}
			}
			w := testWarehouse{dsn: dsn, db: synctest.OpenDSN(t, dsn)}
			w.check(t, map[string]synctest.Rows{"amo": synctest.AmoCRM(f.amo), "b24": synctest.Bitrix24(f.b24)})
		})
	}
}
