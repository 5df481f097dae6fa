package connectortest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// pullLimit bounds every pull of the suite: it catches a connector that
// loops, and is never reached by one that works.
const pullLimit = 2 * time.Minute

// Run exercises the connector that newFixture builds, against its fake
// with short pages, the same way for every connector type, through the
// Connector interface alone:
//
//   - a full pull of every object equals the fake, record by record;
//   - a pull resumed from the cursor of any page, after the pages before
//     it, equals the full pull;
//   - a pull cancelled while a page's request is in flight returns the
//     cancellation, and resuming it from its last cursor completes it;
//   - a 401 fails at once (no retry) with an *AuthError located at the
//     object and page;
//   - a storm of 429s, with and without Retry-After, and the transient
//     faults (5xx, HTML, truncated and malformed bodies, a reset mid-body,
//     a slow answer, an echoing gateway) are ridden out;
//   - an empty page that still says "more" ends the pull, successfully or
//     with an error at the object, and no cursor it saved skips a record;
//   - changes and deletions reach an incremental pull (the deletion feed,
//     or a Reconciler's ID listings).
func Run(t *testing.T, newFixture Factory) {
	t.Run("FullPullEqualsFake", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, FakeOptions{ShortPages: true})
		ps, _ := pullAll(t, f.Connector(t, "conformance", ConnOptions{}), nil)
		equal(t, "full pull", f.Want(), ps.Rows)
	})
	t.Run("ResumeFromEveryCursor", func(t *testing.T) {
		t.Parallel()
		testResume(t, newFixture(t, FakeOptions{ShortPages: true}))
	})
	t.Run("CancelMidPage", func(t *testing.T) {
		t.Parallel()
		testCancel(t, newFixture(t, FakeOptions{ShortPages: true}))
	})
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		testUnauthorized(t, newFixture(t, FakeOptions{ShortPages: true}))
	})
	t.Run("RateLimitStorm", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, FakeOptions{ShortPages: true})
		f.Faults.Fail(5, Fault{Status: http.StatusTooManyRequests})
		f.Faults.Fail(3, Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"})
		ridesOut(t, f, ConnOptions{MaxRetries: 20})
	})
	for _, fault := range []Fault{
		{Status: http.StatusInternalServerError},
		{Kind: FaultHTML, Status: http.StatusBadGateway},
		{Kind: FaultTruncated},
		{Kind: FaultReset},
		{Kind: FaultMalformed},
		{Kind: FaultEcho, Status: http.StatusBadGateway},
		{Kind: FaultSlow, Delay: time.Hour},
	} {
		t.Run("Transient/"+fault.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, FakeOptions{ShortPages: true})
			o := ConnOptions{}
			n := 2
			if fault.Kind == FaultSlow {
				o.Timeout, n = f.SlowTimeout, 1
			}
			f.Faults.Fail(n, fault)
			ridesOut(t, f, o)
		})
	}
	t.Run("EmptyPageSaysMore", func(t *testing.T) {
		t.Parallel()
		testEmptyMore(t, newFixture(t, FakeOptions{ShortPages: true}))
	})
	t.Run("Deletions", func(t *testing.T) {
		t.Parallel()
		testDeletions(t, newFixture(t, FakeOptions{ShortPages: true}))
	})
}

func equal(t *testing.T, what string, want, got Rows) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s differs from the fake (-fake +pulled):\n%s", what, diff)
	}
}

// pull runs one Pull of obj from cursor, applying its pages to ps, and
// returns the last cursor a page carried (cursor when none did) and the
// pages' cursors in order.
func pull(ctx context.Context, c connectors.Connector, obj connectors.Object, cursor string, ps *Pages) (string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, pullLimit)
	defer cancel()
	var cursors []string
	err := c.Pull(ctx, obj, cursor, func(_ context.Context, p *connectors.Page) error {
		ps.Add(p)
		if p.Cursor != "" {
			cursor = p.Cursor
		}
		cursors = append(cursors, p.Cursor)
		return nil
	})
	return cursor, cursors, err
}

// pullAll pulls every object of c from its cursor in from (everything when
// nil), and returns the pages applied and the last cursors. A connector
// with ID listings is reconciled after an incremental pull, as the sync
// engine does on its cadence.
func pullAll(t *testing.T, c connectors.Connector, from map[connectors.Object]string) (*Pages, map[connectors.Object]string) {
	t.Helper()
	ps := NewPages()
	return ps, pullInto(t, c, from, ps)
}

func pullInto(t *testing.T, c connectors.Connector, from map[connectors.Object]string, ps *Pages) map[connectors.Object]string {
	t.Helper()
	ctx := context.Background()
	to := map[connectors.Object]string{}
	for _, obj := range c.Objects() {
		cur, _, err := pull(ctx, c, obj, from[obj], ps)
		if err != nil {
			t.Fatalf("Pull(%s, %q): %v", obj, from[obj], err)
		}
		to[obj] = cur
	}
	if r, ok := c.(connectors.Reconciler); ok && from != nil {
		for _, obj := range r.ReconcileObjects() {
			var live []string
			if err := r.ListIDs(ctx, obj, func(ids []string) error { live = append(live, ids...); return nil }); err != nil {
				t.Fatalf("ListIDs(%s): %v", obj, err)
			}
			ps.Reconcile(obj, live)
		}
	}
	return to
}

// testResume pulls each object in full, then again from the cursor of
// every page after the pages before it: each must equal the full pull.
func testResume(t *testing.T, f *Fixture) {
	c := f.Connector(t, "conformance", ConnOptions{})
	ctx := context.Background()
	resumed := 0
	for _, obj := range c.Objects() {
		var pages []*connectors.Page
		full := NewPages()
		err := c.Pull(ctx, obj, "", func(_ context.Context, p *connectors.Page) error {
			pages = append(pages, p)
			full.Add(p)
			return nil
		})
		if err != nil {
			t.Fatalf("Pull(%s): %v", obj, err)
		}
		for k, p := range pages {
			if p.Cursor == "" {
				continue
			}
			ps := NewPages()
			for _, q := range pages[:k+1] {
				ps.Add(q)
			}
			if _, _, err := pull(ctx, c, obj, p.Cursor, ps); err != nil {
				t.Fatalf("Pull(%s) from the cursor of page %d, %q: %v", obj, k+1, p.Cursor, err)
			}
			if diff := cmp.Diff(full.Rows, ps.Rows); diff != "" {
				t.Errorf("%s resumed after page %d of %d (cursor %q) differs from the full pull (-full +resumed):\n%s", obj, k+1, len(pages), p.Cursor, diff)
			}
			resumed++
		}
	}
	if resumed == 0 {
		t.Fatal("no page carried a cursor")
	}
}

// testCancel cancels a pull of the deals while the request after the first
// page is in flight (the fake holds it until the client gives up).
func testCancel(t *testing.T, f *Fixture) {
	c := f.Connector(t, "conformance", ConnOptions{})
	full := NewPages()
	if _, _, err := pull(context.Background(), c, connectors.ObjectDeals, "", full); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	cancelled := false
	ps := NewPages()
	cursor, pages := "", 0
	err := c.Pull(ctx, connectors.ObjectDeals, "", func(_ context.Context, p *connectors.Page) error {
		mu.Lock()
		late := cancelled
		mu.Unlock()
		if late {
			t.Errorf("page %d emitted after the cancellation", pages+1)
		}
		ps.Add(p)
		pages++
		if p.Cursor != "" {
			cursor = p.Cursor
		}
		if pages == 1 {
			f.Faults.Fail(1, Fault{Kind: FaultSlow, Delay: time.Hour, Hook: func(*http.Request) {
				mu.Lock()
				cancelled = true
				mu.Unlock()
				cancel()
			}})
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pull cancelled mid-page = %v, want context.Canceled", err)
	}
	if !cancelled {
		t.Fatalf("the pull ended without sending the request after page 1")
	}
	f.Faults.ClearFaults()
	if _, _, err := pull(context.Background(), c, connectors.ObjectDeals, cursor, ps); err != nil {
		t.Fatalf("resume after the cancellation: %v", err)
	}
	if diff := cmp.Diff(full.Rows, ps.Rows); diff != "" {
		t.Errorf("deals cancelled after page 1 and resumed differ from the full pull (-full +resumed):\n%s", diff)
	}
}

// testUnauthorized answers 401 to the request after the first page of
// deals: the pull fails at once, typed and located.
func testUnauthorized(t *testing.T, f *Fixture) {
	c := f.Connector(t, "conformance", ConnOptions{})
	before, pages := 0, 0
	_, _, err := pull(context.Background(), c, connectors.ObjectDeals, "", NewPages())
	if err != nil {
		t.Fatal(err)
	}
	err = c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error {
		if pages++; pages == 1 {
			before = f.Faults.TotalRequests()
			f.Faults.Fail(1, Fault{Status: http.StatusUnauthorized})
		}
		return nil
	})
	var ae *connectors.AuthError
	var ce *connectors.Error
	if !errors.As(err, &ae) || !errors.As(err, &ce) || ce.Object != connectors.ObjectDeals || ce.Page != 2 || ce.Connector != "conformance" {
		t.Fatalf("Pull with a 401 after page 1 = %v, want an *AuthError in a *connectors.Error at conformance deals page 2", err)
	}
	if n := f.Faults.TotalRequests() - before; n != 1 {
		t.Errorf("%d requests after page 1, want 1: a 401 is not retried", n)
	}
	if pages != 1 {
		t.Errorf("%d pages emitted, want 1", pages)
	}
}

// ridesOut pulls everything through the faults queued: the pull succeeds,
// equals the fake, and every fault was served.
func ridesOut(t *testing.T, f *Fixture, o ConnOptions) {
	t.Helper()
	queued := f.Faults.Pending()
	ps, _ := pullAll(t, f.Connector(t, "conformance", o), nil)
	if n := f.Faults.Pending(); n != 0 {
		t.Fatalf("%d of %d faults left unserved", n, queued)
	}
	equal(t, "pull through the faults", f.Want(), ps.Rows)
}

// testEmptyMore answers every deals page after the first empty, still
// saying "more" at the same position. The pull must end, either way; once
// the fault is gone, a pull resumed from its last cursor completes it.
func testEmptyMore(t *testing.T, f *Fixture) {
	full := NewPages()
	if _, _, err := pull(context.Background(), f.Connector(t, "conformance", ConnOptions{}), connectors.ObjectDeals, "", full); err != nil {
		t.Fatal(err)
	}
	tr := NewTransport()
	var mu sync.Mutex
	pages, requests := 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.Set(func(int, *http.Request, []byte) {
		mu.Lock()
		defer mu.Unlock()
		if requests++; requests > 500 {
			cancel() // a loop: the test fails below
		}
	}, func(_ int, req *http.Request, body []byte, _ int, answer []byte) []byte {
		if !f.IsDeals(req, body) {
			return nil
		}
		m := JSONMap(answer)
		if m == nil {
			return nil
		}
		mu.Lock()
		pages++
		first := pages == 1
		mu.Unlock()
		if first {
			return nil
		}
		f.SetRecords(m, []any{})
		f.SameCursor(m, req, body)
		return MustJSON(m)
	})
	c := f.Connector(t, "conformance", ConnOptions{Transport: tr})
	ps := NewPages()
	cursor, _, err := pull(ctx, c, connectors.ObjectDeals, "", ps)
	if ctx.Err() != nil {
		t.Fatalf("the pull did not end after %d requests: %v", requests, err)
	}
	if err != nil {
		var ce *connectors.Error
		if !errors.As(err, &ce) || ce.Object != connectors.ObjectDeals {
			t.Fatalf("Pull = %v, want success or a *connectors.Error at deals", err)
		}
		t.Logf("failure, as allowed: %v", err)
	}
	tr.Clear()
	if _, _, err := pull(context.Background(), c, connectors.ObjectDeals, cursor, ps); err != nil {
		t.Fatalf("resume from %q: %v", cursor, err)
	}
	if diff := cmp.Diff(full.Rows, ps.Rows); diff != "" {
		t.Errorf("deals after the empty pages and a resumed pull differ from the full pull (-full +resumed):\n%s", diff)
	}
}

// testDeletions pulls in full, lets the fixture change 10 records and
// delete 2, and pulls incrementally: the result must be the fake's, the
// deleted records flagged.
func testDeletions(t *testing.T, f *Fixture) {
	c := f.Connector(t, "conformance", ConnOptions{})
	ps, cursors := pullAll(t, c, nil)
	before := f.Want()
	equal(t, "full pull", before, ps.Rows)
	deleted := f.Mutate(t)
	want := f.Want()
	Tombstone(want, before, deleted...)
	if f.ReconcileEvery > 0 {
		f.Clock.Advance(f.ReconcileEvery)
	}
	pullInto(t, f.Connector(t, "conformance", ConnOptions{}), cursors, ps)
	equal(t, "incremental pull after the changes", want, ps.Rows)
	flagged := 0
	for k, r := range want {
		if r.Deleted && !before[k].Deleted {
			flagged++
		}
	}
	if flagged == 0 {
		t.Errorf("Mutate deleted nothing the pull could flag")
	}
}
