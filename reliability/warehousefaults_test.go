package reliability

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"

	"github.com/crmkpi/crmkpi/connectors"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
)

// failingStore fails the n-th ApplyPage of obj with err, as a full disk or
// a database gone away mid-sync does; the page's transaction never commits.
type failingStore struct {
	crmsync.Store
	obj  connectors.Object
	n    int
	err  error
	mu   gosync.Mutex
	seen int
}

func (f *failingStore) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	if obj == f.obj {
		f.mu.Lock()
		f.seen++
		hit := f.seen == f.n
		f.mu.Unlock()
		if hit {
			return f.err
		}
	}
	return f.Store.ApplyPageFenced(ctx, l, obj, p)
}

// TestWarehouseFaults fails one page's write (a full disk, a dropped
// connection): the run fails naming connector, object and page, the cursor
// stays before the page, and the next run completes the warehouse.
func TestWarehouseFaults(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name string
		err  error
	}{
		{"disk full", errors.New("database or disk is full (SQLITE_FULL)")},
		{"connection lost", errors.New("driver: bad connection")},
	}
	for _, k := range kinds {
		for _, f := range faults {
			t.Run(k.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				each(t, func(t *testing.T, s *warehouse.Store) {
					c := k.new(t)
					fs := &failingStore{Store: s, obj: connectors.ObjectDeals, n: 2, err: f.err}
					sum := syncRun(t, fs, c.Clock, c.Connector(t, "crm", connOpts{}), false)
					err := sum.Err()
					if err == nil || !strings.Contains(err.Error(), "crm deals page 2: store page: "+f.err.Error()) {
						t.Fatalf("run error = %v, want the failed page named", err)
					}
					noneRunning(t, s, "crm")
					mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
					equalFake(t, s, "crm", c.Want())
				})
			})
		}
	}
}
