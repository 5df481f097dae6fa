package reliability

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// timedStore measures the longest ApplyPage, lock waits included.
type timedStore struct {
	crmsync.Store
	mu      gosync.Mutex
	longest time.Duration
	pages   int
}

func (s *timedStore) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	start := time.Now()
	err := s.Store.ApplyPageFenced(ctx, l, obj, p)
	d := time.Since(start)
	s.mu.Lock()
	s.longest = max(s.longest, d)
	s.pages++
	s.mu.Unlock()
	return err
}

// closer is what every fake server has.
type closer interface{ Close() }

// TestLoad20Connectors runs 20 connectors (seven HubSpot, seven amoCRM, six
// Bitrix24, each against its own fake) on "@every 1s" schedules under one
// sync.Scheduler and sync.Engine, into one PostgreSQL schema, for 8 s or
// until every connector has synced once in full, whichever is later, then
// stops. Expected: no run failed but those the stop interrupted,
// every connector finished every object at least once and its rows equal
// its fake's, no page write waited a minute, and once the fakes and idle
// connections are closed the goroutine count is back to its baseline.
func TestLoad20Connectors(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test needs PostgreSQL")
	}
	s := warehousetest.NewPostgres(t)
	db := synctest.DB(t, s)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()

	type entry struct {
		name string
		c    *crm
		tr   *http.Transport
		conn connectors.Connector
	}
	var all []entry
	for i := range 20 {
		k := kinds[i%3]
		c := k.new(t)
		tr := http.DefaultTransport.(*http.Transport).Clone()
		name := fmt.Sprintf("%s-%02d", k.name, i)
		all = append(all, entry{name: name, c: c, tr: tr, conn: c.Connector(t, name, connOpts{Transport: tr})})
	}

	ts := &timedStore{Store: s}
	eng := &crmsync.Engine{Store: ts, Holder: "load-test"}
	sched := &crmsync.Scheduler{StopTimeout: 20 * time.Second}
	// The run stops when every connector has had a whole successful sync,
	// after 8 s at the least: a busy machine makes it longer, not a
	// failure. The 2 minutes only guard against a hang.
	var mu gosync.Mutex
	synced := map[string]bool{}
	allSynced := make(chan struct{})
	for _, e := range all {
		job := crmsync.Job{Connector: e.conn, ReconcileEvery: 24 * time.Hour}
		sched.Tasks = append(sched.Tasks, crmsync.Task{Name: "sync " + e.name, Schedule: "@every 1s",
			Run: func(ctx context.Context) error {
				sum, err := eng.Run(ctx, []crmsync.Job{job})
				if err != nil {
					return err
				}
				if sum.Err() == nil {
					mu.Lock()
					if !synced[e.name] {
						if synced[e.name] = true; len(synced) == len(all) {
							close(allSynced)
						}
					}
					mu.Unlock()
				}
				return sum.Err()
			}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		select {
		case <-time.After(8 * time.Second):
		case <-ctx.Done():
			return
		}
		select {
		case <-allSynced:
		case <-time.After(2 * time.Minute):
		case <-ctx.Done():
		}
	}()
	started := time.Now()
	if err := sched.Run(ctx); err != nil {
		t.Fatalf("scheduler: %v", err)
	}
	t.Logf("ran %s; %d pages written, longest ApplyPage %s; task starts %v",
		time.Since(started).Round(time.Millisecond), ts.pages, ts.longest, sched.Started())
	if ts.longest >= time.Minute {
		t.Errorf("longest ApplyPage took %s, want under a minute", ts.longest)
	}

	for _, e := range all {
		runs, err := synctest.Runs(context.Background(), db, e.name)
		if err != nil {
			t.Fatal(err)
		}
		done := map[string]int{}
		for _, r := range runs {
			switch {
			case r.Status == warehouse.RunRunning || r.Finished.IsZero():
				t.Errorf("%s: run %d %s left %s", e.name, r.ID, r.Object, r.Status)
			case r.Status == warehouse.RunSucceeded:
				done[r.Object]++
			case strings.Contains(r.Error, "interrupted"):
				// The stop cut this run short; its pages are kept.
			default:
				t.Errorf("%s: run %d %s %s: %s", e.name, r.ID, r.Object, r.Status, r.Error)
			}
		}
		for _, obj := range e.conn.Objects() {
			if done[string(obj)] == 0 {
				t.Errorf("%s: no run of %s finished", e.name, obj)
			}
		}
		got, err := synctest.Read(context.Background(), db, e.name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(e.c.Want(), got); diff != "" {
			t.Errorf("%s: warehouse differs from the fake (-fake +warehouse):\n%s", e.name, diff)
		}
	}

	// Everything this test started is stopped: the fakes and the clients'
	// idle keep-alive connections.
	for _, e := range all {
		e.c.Server.(closer).Close()
		e.tr.CloseIdleConnections()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines 10 s after stop, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
