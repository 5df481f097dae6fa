package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// breakLock takes connector's lock from its holder as a crash of its
// connection would: on PostgreSQL it terminates the backend holding the
// advisory lock (and waits for it to end); on SQLite it removes the lock
// file, as a person clearing a lock by hand does.
func breakLock(t *testing.T, s *warehouse.Store, connector string) {
	t.Helper()
	if s.Dialect() == warehouse.DialectSQLite {
		if err := os.Remove(s.Path() + ".lock." + connector); err != nil {
			t.Fatal(err)
		}
		return
	}
	var ok bool
	if err := synctest.DB(t, s).QueryRow("SELECT pg_terminate_backend(pid, 10000) FROM sync_leases WHERE connector = $1", connector).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate the lock's backend: %v, %v", ok, err)
	}
}

// takeover calls fn once, after the first page it stores.
type takeover struct {
	Store
	once gosync.Once
	fn   func()
}

func (s *takeover) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	err := s.Store.ApplyPageFenced(ctx, l, obj, p)
	if err == nil {
		s.once.Do(s.fn)
	}
	return err
}

// TestEngineLostLease: sync A of a connector loses its lock after its first
// page (its backend terminated, its lock file removed) and sync B takes the
// connector and syncs it to the end. A must then stop at its next page with
// "lost the lease on mem to sync-b", storing nothing more: the warehouse
// holds each record once, the cursor is B's, A's run is failed and B's
// succeeded.
func TestEngineLostLease(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		var sumB *Summary
		a := &Engine{Store: &takeover{Store: s, fn: func() {
			breakLock(t, s, "mem")
			b := &Engine{Store: s, Holder: "sync-b"}
			sumB, _ = b.Run(ctx, []Job{{Connector: &memCRM{name: "mem", ids: ints(1, 47), pageSize: 10}}})
		}}, Holder: "sync-a", Pipeline: 1}
		sumA, err := a.Run(ctx, []Job{{Connector: &memCRM{name: "mem", ids: ints(1, 47), pageSize: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		if sumB == nil || sumB.Failed() || len(sumB.Skipped()) > 0 {
			t.Fatalf("sync B: %+v", sumB)
		}
		oa := sumA.Connectors[0].Objects[0]
		if _, ok := errors.AsType[*warehouse.LostLeaseError](oa.Err); !ok || oa.Interrupted {
			t.Fatalf("sync A: %v (interrupted %v), want a lost lease", oa.Err, oa.Interrupted)
		}
		if want := "mem companies page 2: store page: store mem companies page: lost the lease on mem to sync-b"; oa.Err.Error() != want {
			t.Errorf("sync A error = %q, want %q", oa.Err, want)
		}
		if oa.Records != 10 {
			t.Errorf("sync A stored %d records, want 10 (its first page)", oa.Records)
		}
		live, _ := companyIDs(t, s)
		if diff := cmp.Diff(seq(1, 47), live); diff != "" {
			t.Errorf("stored ids (-want +got):\n%s", diff)
		}
		if cur, _ := s.Cursor(ctx, "mem", connectors.ObjectCompanies); cur != "47" {
			t.Errorf("cursor = %q, want 47 (B's)", cur)
		}
		runs, err := synctest.Runs(ctx, synctest.DB(t, s), "mem")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, fmt.Sprintf("%s %d %s", r.Status, r.Records, r.Error))
		}
		want := []string{
			"failed 10 mem companies page 2: store page: store mem companies page: lost the lease on mem to sync-b",
			"ok 37 ",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("runs (-want +got):\n%s", diff)
		}
	})
}

// TestEngineMassDeleteGuard: a deletion scan that lists nothing, or under
// the configured share of the records stored, flags nothing and fails the
// run, on a --full pull and on the incremental listing alike, unless the
// job allows mass deletion.
func TestEngineMassDeleteGuard(t *testing.T) {
	t.Parallel()
	type step struct {
		name    string
		ids     []int    // what the CRM's pull returns
		live    []string // what its listing returns
		full    bool
		share   float64
		allow   bool
		wantErr string // "" for success
		flagged int
	}
	steps := []step{
		{name: "full pull of 6 into an empty warehouse", ids: ints(1, 6), full: true},
		{name: "--full pull returning nothing", full: true,
			wantErr: "mem companies: reconcile deletions: the CRM listed no ids while 6 records are stored; refusing to flag every stored record deleted (if the CRM really lost them, run crmkpi sync --connector mem --allow-mass-delete)"},
		{name: "--full pull of 2 of 6", ids: ints(1, 2), full: true,
			wantErr: "mem companies: reconcile deletions: the CRM listed 2 ids while 6 records are stored, under the 50% a listing must hold; refusing to flag up to 4 stored records deleted (if the CRM really lost them, run crmkpi sync --connector mem --allow-mass-delete)"},
		{name: "empty listing", live: []string{},
			wantErr: "mem companies: reconcile deletions: the CRM listed no ids while 6 records are stored; refusing to flag every stored record deleted (if the CRM really lost them, run crmkpi sync --connector mem --allow-mass-delete)"},
		{name: "listing of 2 of 6 at a share of 40%", live: seq(1, 2), share: 0.4,
			wantErr: "mem companies: reconcile deletions: the CRM listed 2 ids while 6 records are stored, under the 40% a listing must hold; refusing to flag up to 4 stored records deleted (if the CRM really lost them, run crmkpi sync --connector mem --allow-mass-delete)"},
		{name: "--full pull of 3 of 6, half", ids: ints(1, 3), full: true, flagged: 3},
		{name: "listing of 1 of 3 at a share of 30%", live: seq(1, 1), share: 0.3, flagged: 2},
		{name: "--full pull returning nothing, allowed", full: true, allow: true, flagged: 1},
	}
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		now := t0
		e := &Engine{Store: s, Now: func() time.Time { return now }}
		for _, st := range steps {
			now = now.Add(25 * time.Hour) // the daily listing is due each time
			crm := &memCRM{name: "mem", ids: st.ids, pageSize: 10, live: st.live}
			before, _ := companyIDs(t, s)
			sum, err := e.Run(ctx, []Job{{Connector: memReconciler{crm}, Full: st.full, MinListingShare: st.share, AllowMassDelete: st.allow}})
			if err != nil {
				t.Fatal(err)
			}
			o := sum.Connectors[0].Objects[0]
			gotErr := ""
			if o.Err != nil {
				gotErr = o.Err.Error()
			}
			if gotErr != st.wantErr {
				t.Errorf("%s: error %q, want %q", st.name, gotErr, st.wantErr)
			}
			if st.wantErr != "" {
				if _, ok := errors.AsType[*MassDeleteError](o.Err); !ok {
					t.Errorf("%s: error is not a *MassDeleteError", st.name)
				}
				after, _ := companyIDs(t, s)
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("%s: live records changed on a refused scan (-before +after):\n%s", st.name, diff)
				}
				st2, _ := s.RunStatus(ctx)
				if len(st2) != 1 || st2[0].Status != warehouse.RunFailed || st2[0].Error != st.wantErr {
					t.Errorf("%s: run status %+v, want failed with the error", st.name, st2)
				}
			}
			if o.Deleted != st.flagged {
				t.Errorf("%s: flagged %d, want %d", st.name, o.Deleted, st.flagged)
			}
		}
	})
}

// cutCursor behaves as a warehouse whose dial times out as the run's
// deadline passes: the cursor read ends the context, then fails with a
// network error that does not mention the context.
type cutCursor struct {
	Store
	cancel context.CancelFunc
}

func (c cutCursor) Cursor(ctx context.Context, connector string, obj connectors.Object) (string, error) {
	c.cancel()
	return "", errors.New("dial tcp 127.0.0.1:5432: i/o timeout")
}

// TestEngineInterruptedRuns: a run whose context ends is recorded
// interrupted, not failed, whatever its error says (here a dial timeout
// while reading its cursor, as a deadline passed in CI), and runs that an
// earlier, killed sync left running are closed as interrupted by the next
// sync of the connector, while another connector's stay.
func TestEngineInterruptedRuns(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := synctest.DB(t, s)
		e := &Engine{Store: cutCursor{Store: s, cancel: cancel}, Holder: "me:1"}
		sum, _ := e.Run(ctx, []Job{{Connector: &memCRM{name: "mem", ids: ints(1, 5), pageSize: 10}}})
		o := sum.Connectors[0].Objects[0]
		if !o.Interrupted || !strings.Contains(o.Err.Error(), "i/o timeout") {
			t.Errorf("run cut while reading its cursor: interrupted %v, error %v", o.Interrupted, o.Err)
		}
		runs, err := synctest.Runs(context.Background(), db, "mem")
		if err != nil {
			t.Fatal(err)
		}
		want := "interrupted (context canceled): mem companies: read cursor: dial tcp 127.0.0.1:5432: i/o timeout"
		if len(runs) != 1 || runs[0].Status != warehouse.RunInterrupted || runs[0].Error != want {
			t.Errorf("runs = %+v, want one interrupted with %q", runs, want)
		}
		var b strings.Builder
		WriteSummary(&b, sum)
		if !strings.Contains(b.String(), "mem companies    interrupted") {
			t.Errorf("summary does not show the run interrupted:\n%s", b.String())
		}

		// A sync killed with SIGKILL leaves its rows running.
		bg := context.Background()
		ghost, err := s.StartRun(bg, "mem", connectors.ObjectCompanies, t0)
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.StartRun(bg, "amo", connectors.ObjectCompanies, t0)
		if err != nil {
			t.Fatal(err)
		}
		noticed := t0.Add(time.Hour)
		e = &Engine{Store: s, Holder: "me:2", Now: func() time.Time { return noticed }}
		if sum, _ := e.Run(bg, []Job{{Connector: &memCRM{name: "mem", ids: ints(1, 5), pageSize: 10}}}); sum.Failed() {
			t.Fatal(sum.Err())
		}
		runs, err = synctest.Runs(bg, db, "mem")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			if r.ID == ghost {
				got = append(got, fmt.Sprintf("ghost %s %s %s", r.Status, r.Finished.Format(time.RFC3339), r.Error))
			}
		}
		wantGhost := []string{"ghost interrupted " + noticed.Format(time.RFC3339) +
			" interrupted: its sync ended without recording the end (killed, or cut off from the warehouse); found running by me:2, which took the lock from me:1"}
		if diff := cmp.Diff(wantGhost, got); diff != "" {
			t.Errorf("the killed sync's run (-want +got):\n%s", diff)
		}
		amo, err := synctest.Runs(bg, db, "amo")
		if err != nil {
			t.Fatal(err)
		}
		if len(amo) != 1 || amo[0].ID != other || amo[0].Status != warehouse.RunRunning {
			t.Errorf("another connector's running run = %+v, want it left running", amo)
		}
	})
}
