package sync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// memCRM is a minimal in-memory connector for engine tests: companies with
// ids 1..n, paged by id with a cursor of the last id stored, so the engine's
// cursor and failure handling can be tested without HTTP. The connectors'
// own fakes test the engine end to end in e2e_test.go.
type memCRM struct {
	name     string
	ids      []int
	pageSize int
	// failAt makes Pull fail when about to emit this page (1-based).
	failAt   int
	live     []string // for ListIDs
	pulls    int
	listings int
}

var t0 = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)

func (m *memCRM) Name() string { return m.name }
func (m *memCRM) Objects() []connectors.Object {
	return []connectors.Object{connectors.ObjectCompanies}
}
func (m *memCRM) Check(context.Context) ([]string, error) {
	return nil, nil
}

func (m *memCRM) Pull(ctx context.Context, obj connectors.Object, cursor string, emit func(context.Context, *connectors.Page) error) error {
	m.pulls++
	after := 0
	if cursor != "" {
		after, _ = strconv.Atoi(cursor)
	}
	page := 0
	var p *connectors.Page
	for _, id := range m.ids {
		if id <= after {
			continue
		}
		if p == nil {
			p = &connectors.Page{Requests: 1}
		}
		p.Companies = append(p.Companies, connectors.Company{
			Meta: connectors.Meta{ID: strconv.Itoa(id), UpdatedAt: t0.Add(time.Duration(id) * time.Minute)},
			Name: fmt.Sprintf("Company %d", id),
		})
		if len(p.Companies) == m.pageSize {
			// Like an HTTP request, the next page fails once ctx is done.
			if err := ctx.Err(); err != nil {
				return err
			}
			page++
			if page == m.failAt {
				return &connectors.Error{Connector: m.name, Object: obj, Page: page, Err: errors.New("HTTP 500: boom")}
			}
			p.Cursor = strconv.Itoa(id)
			if err := emit(ctx, p); err != nil {
				return err
			}
			p = nil
		}
	}
	if p != nil {
		page++
		if page == m.failAt {
			return &connectors.Error{Connector: m.name, Object: obj, Page: page, Err: errors.New("HTTP 500: boom")}
		}
		p.Cursor = p.Companies[len(p.Companies)-1].ID
		return emit(ctx, p)
	}
	return nil
}

// memReconciler is a memCRM without a deletion feed: the engine must scan
// its ids.
type memReconciler struct{ *memCRM }

func (m memReconciler) ReconcileObjects() []connectors.Object {
	return []connectors.Object{connectors.ObjectCompanies}
}

func (m memReconciler) ListIDs(ctx context.Context, obj connectors.Object, emit func([]string) error) error {
	m.listings++
	return emit(m.live)
}

func companyIDs(t *testing.T, s *warehouse.Store) (live, deleted []string) {
	t.Helper()
	cs := warehousetest.Companies(t, s)
	for _, c := range cs {
		live = append(live, c.ID)
	}
	sort.Slice(live, func(i, j int) bool { return atoi(live[i]) < atoi(live[j]) })
	return live, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func ints(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestEngineFullThenIncremental(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		crm := &memCRM{name: "mem", ids: ints(1, 25), pageSize: 10}
		e := &Engine{Store: s}
		sum, err := e.Run(ctx, []Job{{Connector: crm}})
		if err != nil || sum.Failed() {
			t.Fatalf("Run: %v %v", err, sum.Err())
		}
		o := sum.Connectors[0].Objects[0]
		if o.Records != 25 || o.Pages != 3 || o.Requests != 3 {
			t.Errorf("first run: records=%d pages=%d requests=%d, want 25, 3, 3", o.Records, o.Pages, o.Requests)
		}
		if cur, _ := s.Cursor(ctx, "mem", connectors.ObjectCompanies); cur != "25" {
			t.Errorf("cursor = %q, want 25", cur)
		}
		crm.ids = ints(1, 28)
		sum, _ = e.Run(ctx, []Job{{Connector: crm}})
		if o := sum.Connectors[0].Objects[0]; o.Records != 3 || o.Pages != 1 {
			t.Errorf("incremental: records=%d pages=%d, want 3, 1", o.Records, o.Pages)
		}
		live, _ := companyIDs(t, s)
		if diff := cmp.Diff(seq(1, 28), live); diff != "" {
			t.Errorf("warehouse ids (-want +got):\n%s", diff)
		}
		st, err := s.RunStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || st[0].Status != warehouse.RunSucceeded || st[0].Records != 3 {
			t.Errorf("run status = %+v, want one succeeded run with 3 records", st)
		}
	})
}

// TestEngineKilledAtEveryPage cancels the sync right after each page in turn
// and resumes it: the warehouse must end with every record exactly once.
func TestEngineKilledAtEveryPage(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		for killAfter := 1; killAfter <= 5; killAfter++ {
			t.Run(fmt.Sprintf("after page %d", killAfter), func(t *testing.T) {
				name := fmt.Sprintf("kill%d", killAfter)
				crm := &memCRM{name: name, ids: ints(1, 47), pageSize: 10}
				ctx, cancel := context.WithCancel(context.Background())
				e := &Engine{Store: &cancelAfter{Store: s, n: killAfter, cancel: cancel}}
				// Pages fetched before the kill may still be stored (they
				// were paid for); whatever happened, the resume must fill in
				// exactly the rest.
				e.Run(ctx, []Job{{Connector: crm}})
				// Resume with a fresh context and a plain store.
				e = &Engine{Store: s}
				sum, err := e.Run(context.Background(), []Job{{Connector: crm}})
				if err != nil || sum.Failed() {
					t.Fatalf("resume: %v", sum.Err())
				}
				cs := warehousetest.Companies(t, s)
				var got []string
				for _, c := range cs {
					if c.Connector == name {
						got = append(got, c.ID)
					}
				}
				sort.Slice(got, func(i, j int) bool { return atoi(got[i]) < atoi(got[j]) })
				if diff := cmp.Diff(seq(1, 47), got); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// cancelAfter cancels the run's context once n pages have been stored.
type cancelAfter struct {
	Store
	n      int
	cancel context.CancelFunc
	seen   int
}

func (c *cancelAfter) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	if err := c.Store.ApplyPageFenced(ctx, l, obj, p); err != nil {
		return err
	}
	c.seen++
	if c.seen == c.n {
		c.cancel()
	}
	return nil
}

func TestEngineFailedPullKeepsCursor(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		crm := &memCRM{name: "mem", ids: ints(1, 50), pageSize: 10, failAt: 3}
		e := &Engine{Store: s}
		sum, _ := e.Run(ctx, []Job{{Connector: crm}})
		if !sum.Failed() {
			t.Fatal("want failure")
		}
		if got, want := sum.Err().Error(), "mem companies page 3: HTTP 500: boom"; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		if cur, _ := s.Cursor(ctx, "mem", connectors.ObjectCompanies); cur != "20" {
			t.Errorf("cursor = %q, want 20 (the last stored page)", cur)
		}
		st, _ := s.RunStatus(ctx)
		if len(st) != 1 || st[0].Status != warehouse.RunFailed || st[0].Error != "mem companies page 3: HTTP 500: boom" || st[0].Records != 20 {
			t.Errorf("run status = %+v", st)
		}
		crm.failAt = 0
		sum, _ = e.Run(ctx, []Job{{Connector: crm}})
		if o := sum.Connectors[0].Objects[0]; o.Err != nil || o.Records != 30 {
			t.Errorf("resume: records=%d err=%v, want 30, nil", o.Records, o.Err)
		}
	})
}

// failingStore fails ApplyPage on the nth call, like a database that went
// away mid-sync.
type failingStore struct {
	Store
	n, calls int
}

func (f *failingStore) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	f.calls++
	if f.calls == f.n {
		return errors.New("connection refused")
	}
	return f.Store.ApplyPageFenced(ctx, l, obj, p)
}

func TestEngineWarehouseFailureStopsPull(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		crm := &memCRM{name: "mem", ids: ints(1, 100), pageSize: 10}
		e := &Engine{Store: &failingStore{Store: s, n: 2}, Pipeline: 1}
		sum, _ := e.Run(ctx, []Job{{Connector: crm}})
		if got, want := sum.Err().Error(), "mem companies page 2: store page: connection refused"; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		if cur, _ := s.Cursor(ctx, "mem", connectors.ObjectCompanies); cur != "10" {
			t.Errorf("cursor = %q, want 10", cur)
		}
		live, _ := companyIDs(t, s)
		if diff := cmp.Diff(seq(1, 10), live); diff != "" {
			t.Errorf("stored ids (-want +got):\n%s", diff)
		}
	})
}

func TestEngineLockSkips(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		lease, err := s.TryLock(ctx, "mem", "other-host:4242")
		if err != nil {
			t.Fatalf("TryLock: %v", err)
		}
		crm := &memCRM{name: "mem", ids: ints(1, 5), pageSize: 10}
		reg := prometheus.NewRegistry()
		e := &Engine{Store: s, Holder: "me:1", Metrics: NewMetrics(reg)}
		sum, _ := e.Run(ctx, []Job{{Connector: crm}})
		c := sum.Connectors[0]
		if n := counter(t, reg, "crmkpi_sync_skipped_total"); n != 1 {
			t.Errorf("crmkpi_sync_skipped_total = %v, want 1", n)
		}
		if !strings.HasPrefix(c.Skipped, "locked by other-host:4242") || crm.pulls != 0 || sum.Failed() || len(sum.Skipped()) != 1 {
			t.Errorf("skipped=%q (%d) pulls=%d failed=%v; want a skip naming other-host:4242, no pull, no failure",
				c.Skipped, len(sum.Skipped()), crm.pulls, sum.Failed())
		}
		var b strings.Builder
		WriteSummary(&b, sum)
		if want := "mem: skipped: locked by other-host:4242"; !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
		if err := lease.Release(); err != nil {
			t.Fatal(err)
		}
		sum, _ = e.Run(ctx, []Job{{Connector: crm}})
		if sum.Connectors[0].Skipped != "" || crm.pulls != 1 {
			t.Errorf("after release: skipped=%q pulls=%d", sum.Connectors[0].Skipped, crm.pulls)
		}
	})
}

func TestEngineReconcile(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		now := t0
		crm := &memCRM{name: "mem", ids: ints(1, 6), pageSize: 10, live: seq(1, 6)}
		e := &Engine{Store: s, Now: func() time.Time { return now }}
		rec := memReconciler{crm}
		// A first (full) pull reconciles from the ids it brought: no
		// listing needed.
		if sum, _ := e.Run(ctx, []Job{{Connector: rec}}); sum.Failed() {
			t.Fatal(sum.Err())
		}
		if crm.listings != 0 {
			t.Errorf("full pull listed ids %d times, want 0", crm.listings)
		}
		// Records 2 and 5 vanish from the CRM.
		crm.ids, crm.live = []int{1, 3, 4, 6}, []string{"1", "3", "4", "6"}
		now = now.Add(time.Hour)
		sum, _ := e.Run(ctx, []Job{{Connector: rec}})
		if d := sum.Connectors[0].Objects[0].Deleted; d != 0 || crm.listings != 0 {
			t.Errorf("before the daily cadence: %d flagged after %d listings, want 0, 0", d, crm.listings)
		}
		now = now.Add(24 * time.Hour)
		sum, _ = e.Run(ctx, []Job{{Connector: rec}})
		if d := sum.Connectors[0].Objects[0].Deleted; d != 2 || crm.listings != 1 {
			t.Errorf("cadence due: %d flagged after %d listings, want 2, 1", d, crm.listings)
		}
		live, _ := companyIDs(t, s)
		if diff := cmp.Diff(crm.live, live); diff != "" {
			t.Errorf("live ids (-want +got):\n%s", diff)
		}
		// --full re-reads everything and reconciles from what it read.
		crm.ids, crm.live = []int{1, 4, 6}, []string{"1", "4", "6"}
		sum, _ = e.Run(ctx, []Job{{Connector: rec, Full: true}})
		if d := sum.Connectors[0].Objects[0].Deleted; d != 1 || crm.listings != 1 {
			t.Errorf("--full: %d flagged after %d listings, want 1, 1", d, crm.listings)
		}
		live, _ = companyIDs(t, s)
		if diff := cmp.Diff(crm.live, live); diff != "" {
			t.Errorf("live ids after --full (-want +got):\n%s", diff)
		}
	})
}

// counter sums the values of the counter name in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
