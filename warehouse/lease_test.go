package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// companyPage is a page of companies with those ids, its cursor the last.
func companyPage(ids ...string) *connectors.Page {
	p := &connectors.Page{Cursor: ids[len(ids)-1]}
	for _, id := range ids {
		p.Companies = append(p.Companies, connectors.Company{Meta: connectors.Meta{ID: id, UpdatedAt: at(1, 0)}, Name: "Company " + id})
	}
	return p
}

func companyIDs(t *testing.T, s *warehouse.Store) (live []string) {
	t.Helper()
	for _, c := range warehousetest.Companies(t, s) {
		live = append(live, c.ID)
	}
	slices.Sort(live)
	return live
}

// TestLeaseFence takes a connector's lock away from its holder A (its
// PostgreSQL backend terminated; its lock file removed) and lets B take the
// connector: every fenced write of A then fails with a *LostLeaseError
// naming B and stores nothing, while B's writes go on, also after A's
// Release.
func TestLeaseFence(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		other := warehousetest.Reopen(t, s)
		a, err := s.TryLock(ctx, conn, "sync-a")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ApplyPageFenced(ctx, a, connectors.ObjectCompanies, companyPage("1")); err != nil {
			t.Fatalf("ApplyPageFenced while holding the lease: %v", err)
		}
		if err := warehouse.BreakLock(ctx, a); err != nil {
			t.Fatal(err)
		}
		b, err := other.TryLock(ctx, conn, "sync-b")
		if err != nil {
			t.Fatalf("TryLock after the lock was lost: %v", err)
		}
		if b.Token != a.Token+1 || b.Previous != "sync-a" {
			t.Errorf("new lease: token %d, previous %q; want %d, sync-a", b.Token, b.Previous, a.Token+1)
		}

		wantLost := func(what string, err error) {
			t.Helper()
			lost, ok := errors.AsType[*warehouse.LostLeaseError](err)
			if !ok {
				t.Errorf("%s with the lost lease = %v, want a *LostLeaseError", what, err)
				return
			}
			if lost.Holder != "sync-b" || lost.Token != a.Token || lost.Current != b.Token {
				t.Errorf("%s: %+v, want holder sync-b, token %d, current %d", what, lost, a.Token, b.Token)
			}
			if want := "lost the lease on hub to sync-b"; !strings.Contains(err.Error(), want) {
				t.Errorf("%s error %q lacks %q", what, err, want)
			}
		}
		wantLost("ApplyPageFenced", s.ApplyPageFenced(ctx, a, connectors.ObjectCompanies, companyPage("2")))
		wantLost("SetCursorFenced", s.SetCursorFenced(ctx, a, connectors.ObjectCompanies, "x"))
		_, err = s.MarkMissingDeletedFenced(ctx, a, connectors.ObjectCompanies, nil, at(2, 0))
		wantLost("MarkMissingDeletedFenced", err)
		_, err = s.InterruptOrphanRuns(ctx, a, at(2, 0))
		wantLost("InterruptOrphanRuns", err)
		wantLost("Heartbeat", a.Heartbeat(ctx))
		if diff := cmp.Diff([]string{"1"}, companyIDs(t, s)); diff != "" {
			t.Errorf("companies after the lost lease's writes (-want +got):\n%s", diff)
		}
		if c, err := s.Cursor(ctx, conn, connectors.ObjectCompanies); err != nil || c != "1" {
			t.Errorf("cursor = %q, %v; want 1 (the lost lease's writes stored nothing)", c, err)
		}

		if err := other.ApplyPageFenced(ctx, b, connectors.ObjectCompanies, companyPage("2", "3")); err != nil {
			t.Fatalf("ApplyPageFenced of the new holder: %v", err)
		}
		// A's Release cannot unlock what it lost (and may say so), but
		// must leave B's lock alone.
		t.Logf("release of the lost lease: %v", a.Release())
		if err := other.ApplyPageFenced(ctx, b, connectors.ObjectCompanies, companyPage("4")); err != nil {
			t.Fatalf("ApplyPageFenced of the new holder after the old one's Release: %v", err)
		}
		_, err = warehousetest.Reopen(t, s).TryLock(ctx, conn, "sync-c")
		if le, ok := errors.AsType[*warehouse.LockedError](err); !ok || !strings.Contains(le.Holder, "sync-b") {
			t.Errorf("TryLock while B holds the lock = %v, want locked by sync-b", err)
		}
		if err := b.Release(); err != nil {
			t.Fatal(err)
		}
		wantLive := []string{"1", "2", "3", "4"}
		if diff := cmp.Diff(wantLive, companyIDs(t, s)); diff != "" {
			t.Errorf("companies (-want +got):\n%s", diff)
		}
		// A released lease is no lease either.
		err = other.ApplyPageFenced(ctx, b, connectors.ObjectCompanies, companyPage("5"))
		if _, ok := errors.AsType[*warehouse.LostLeaseError](err); !ok {
			t.Errorf("ApplyPageFenced after Release = %v, want a *LostLeaseError", err)
		}
	})
}

// TestTryLockIgnoresCancellation is the fault behind skipped connectors:
// a TryLock whose context ends while pg_try_advisory_lock runs left the
// lock with a pooled session, and the next TryLock found it "held by
// another process". Taking and releasing a lock do not depend on the
// caller's context, so after each TryLock cut at a different moment (from
// before it starts to well after) and its Release, another process takes
// the lock at once.
func TestTryLockIgnoresCancellation(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		other := warehousetest.Reopen(t, s)
		for i := range 30 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i*i*20)*time.Microsecond)
			l, err := s.TryLock(ctx, conn, "cut")
			cancel()
			if err != nil {
				t.Errorf("TryLock cut after %d µs: %v", i*i*20, err)
			} else if err := l.Release(); err != nil {
				t.Fatalf("Release: %v", err)
			}
			l2, err := other.TryLock(context.Background(), conn, "next")
			if err != nil {
				t.Fatalf("TryLock after a TryLock cut after %d µs and released: %v", i*i*20, err)
			}
			if err := l2.Release(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestLeaseStatus: sync_leases shows the holder, its heartbeat, its
// release, and the last sync skipped because the lock was held.
func TestLeaseStatus(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		other := warehousetest.Reopen(t, s)
		fixedClock(s, at(1, 9))
		fixedClock(other, at(1, 10))
		l, err := s.TryLock(ctx, conn, "sync-a")
		if err != nil {
			t.Fatal(err)
		}
		fixedClock(s, at(1, 11))
		if err := l.Heartbeat(ctx); err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		if _, err := other.TryLock(ctx, conn, "sync-b"); err == nil {
			t.Fatal("second TryLock took a held lock")
		}
		want := []warehouse.LeaseStatus{{Connector: conn, Token: 1, Holder: "sync-a", AcquiredAt: at(1, 9), HeartbeatAt: at(1, 11),
			SkippedAt: ptr(at(1, 10)), SkippedBy: "sync-b", SkippedHolder: "sync-a"}}
		if s.Dialect() == warehouse.DialectSQLite {
			want[0].SkippedHolder = "" // the lock file's description, with pid and host
		}
		got, err := other.Leases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == warehouse.DialectSQLite && len(got) == 1 {
			if !strings.HasPrefix(got[0].SkippedHolder, "sync-a (pid ") {
				t.Errorf("SkippedHolder = %q, want the lock file's sync-a (pid ...)", got[0].SkippedHolder)
			}
			got[0].SkippedHolder = ""
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Leases while held (-want +got):\n%s", diff)
		}
		fixedClock(s, at(1, 12))
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
		got, err = s.Leases(ctx)
		if err != nil || len(got) != 1 || got[0].ReleasedAt == nil || !got[0].ReleasedAt.Equal(at(1, 12)) {
			t.Errorf("Leases after Release = %+v, %v; want released at %v", got, err, at(1, 12))
		}
	})
}

// TestInterruptOrphanRuns: a new holder closes the runs its connector's
// earlier holders left running, as interrupted at the time it noticed, and
// no other connector's.
func TestInterruptOrphanRuns(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		start := func(connector string, obj connectors.Object) int64 {
			t.Helper()
			id, err := s.StartRun(ctx, connector, obj, at(1, 9))
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		old, err := s.TryLock(ctx, conn, "killed:1")
		if err != nil {
			t.Fatal(err)
		}
		defer old.Release() // stops its heartbeat; the lock is gone already
		deals, contacts, amo := start(conn, connectors.ObjectDeals), start(conn, connectors.ObjectContacts), start("amo", connectors.ObjectDeals)
		users := start(conn, connectors.ObjectUsers)
		if err := s.FinishRun(ctx, users, at(1, 10), warehouse.RunSucceeded, 3, ""); err != nil {
			t.Fatal(err)
		}
		// The holder dies without a word.
		if err := warehouse.BreakLock(ctx, old); err != nil {
			t.Fatal(err)
		}
		l, err := s.TryLock(ctx, conn, "next:2")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		n, err := s.InterruptOrphanRuns(ctx, l, at(2, 8))
		if err != nil || n != 2 {
			t.Fatalf("InterruptOrphanRuns = %d, %v; want 2, nil", n, err)
		}
		st, err := s.RunStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := "interrupted: its sync ended without recording the end (killed, or cut off from the warehouse); found running by next:2, which took the lock from killed:1"
		want := []warehouse.ObjectStatus{
			{Connector: "amo", Object: "deals", LastRunID: amo, StartedAt: at(1, 9), Status: warehouse.RunRunning},
			{Connector: conn, Object: "contacts", LastRunID: contacts, StartedAt: at(1, 9), FinishedAt: ptr(at(2, 8)), Status: warehouse.RunInterrupted, Error: msg},
			{Connector: conn, Object: "deals", LastRunID: deals, StartedAt: at(1, 9), FinishedAt: ptr(at(2, 8)), Status: warehouse.RunInterrupted, Error: msg},
			{Connector: conn, Object: "users", LastRunID: users, StartedAt: at(1, 9), FinishedAt: ptr(at(1, 10)), Status: warehouse.RunSucceeded,
				Records: 3, LastSuccess: ptr(at(1, 10))},
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("RunStatus (-want +got):\n%s", diff)
		}
	})
}

// TestLockScopedBySchema: warehouses in two schemas of one PostgreSQL
// database share no locks, also when the schema comes from the DSN's
// search_path rather than OpenSchema (as every crmkpi process opens it).
func TestLockScopedBySchema(t *testing.T) {
	ctx := context.Background()
	var stores []*warehouse.Store
	for range 2 {
		u, err := url.Parse(warehousetest.PostgresURL())
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", warehousetest.EmptySchema(t))
		u.RawQuery = q.Encode()
		s, err := warehouse.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	for i, s := range stores {
		l, err := s.TryLock(ctx, conn, fmt.Sprintf("sync-%d", i))
		if err != nil {
			t.Fatalf("TryLock in schema %d: %v", i, err)
		}
		defer l.Release()
	}
}
