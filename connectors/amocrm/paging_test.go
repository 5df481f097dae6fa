package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// seedTasks puts n tasks with ids 101… into srv.
func seedTasks(srv *amocrmtest.Server, n int) map[string]bool {
	want := map[string]bool{}
	for i := range n {
		srv.Put(amocrmtest.Tasks, amocrmtest.Object{"id": 101 + i, "text": fmt.Sprint("t", i), "updated_at": 1700000000 + i,
			"entity_type": "leads", "entity_id": 1, "task_type_id": 1, "complete_till": 1700000000, "result": []any{}})
		want[fmt.Sprint("task:", 101+i)] = true
	}
	return want
}

// pullThen pulls obj from cursor and calls inject once the first after
// pages were emitted.
func pullThen(c *Client, obj connectors.Object, cursor string, after int, inject func()) (result, error) {
	r := result{cursor: cursor}
	err := c.Pull(context.Background(), obj, cursor, func(_ context.Context, p *connectors.Page) error {
		r.pages = append(r.pages, p)
		r.merged.Activities = append(r.merged.Activities, p.Activities...)
		r.cursor = p.Cursor
		r.requests += p.Requests
		if len(r.pages) == after && inject != nil {
			inject()
		}
		return nil
	})
	return r, err
}

// A server that does not move on (stuck on one page, looping back, or
// answering an empty page whose next link points back at itself) fails
// the run with an error naming the object and page, before the cursor
// moves past the records not yet read; once the server is healthy, a run
// from the saved cursor reads them all.
func TestStuckServerFails(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    connectortest.Fault
		after    int // pages read before the fault
		wantErr  string
		wantPage int // the page the saved cursor resumes at
		requests int // requests of the faulty run
	}{
		// Page 2 repeats page 1, shaped like a clamped last page: one
		// probe for the record after page 1 gets page 1 again (pages 1
		// and 2, the probe).
		{"stuck on the first page", amocrmtest.FaultRepeatPage, 1, "amo tasks page 2: malformed response: /api/v4/tasks page 2 repeats 5 records already read (ids 101 to 105)", 2, 3},
		// Page 3 repeats page 1: not the last page read, no probe
		// (pages 1 to 3).
		{"looping back to the first page", amocrmtest.FaultRepeatPage, 2, "amo tasks page 3: malformed response: /api/v4/tasks page 3 repeats 5 records already read (ids 101 to 105)", 3, 3},
		// Page 2 is empty and links to page 2: asked once more, then
		// an error (pages 1, 2, 2).
		{"empty page linking back to itself", amocrmtest.FaultEmptyPage, 1, "amo tasks page 3: malformed response: /api/v4/tasks page 2 came back empty twice, its next link pointing back at page 2", 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			want := seedTasks(srv, 30)
			c := newConn(t, srv, clk, func(o *Options) { o.PageSize = 5 })
			r, err := pullThen(c, ObjectTasks, "", tc.after, func() { srv.Fail(100, tc.fault) })
			var ce *connectors.Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want a *connectors.Error containing %q", err, tc.wantErr)
			}
			if n := srv.Requests("/api/v4/tasks"); n != tc.requests {
				t.Errorf("requests = %d, want %d", n, tc.requests)
			}
			cur, err := parseCursor(r.cursor)
			if err != nil {
				t.Fatal(err)
			}
			if cur.To == 0 || cur.Phase != 0 || cur.Page != tc.wantPage {
				t.Fatalf("saved cursor %s, want the window's page %d", r.cursor, tc.wantPage)
			}

			srv.ClearFaults()
			r2 := pull(t, newConn(t, srv, clk, func(o *Options) { o.PageSize = 5 }), ObjectTasks, r.cursor)
			got := ids(append(r.merged.Activities, r2.merged.Activities...), func(a connectors.Activity) string { return a.ID })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tasks over both runs (-want +got):\n%s", diff)
			}
			if final := fmt.Sprintf(`{"v":1,"from":%d}`, cur.To-1); r2.cursor != final {
				t.Errorf("final cursor %s, want %s", r2.cursor, final)
			}
		})
	}
}

// What a healthy server may do at a page's edges does not fail the run
// and loses nothing: one empty page linking back to itself (asked again),
// a page past the end answered with the last page again (checked with a
// one-record probe), 200 empty pages past the end that keep linking on
// (maxEmptyPages of them end the list).
func TestPagingEdgesRiddenOut(t *testing.T) {
	for _, tc := range []struct {
		name     string
		q        amocrmtest.Quirks
		fault    bool
		requests int // 6 full pages, then the end
	}{
		{"as documented: 204 after the last page", amocrmtest.Quirks{}, false, 7},
		{"one empty page linking back to itself", amocrmtest.Quirks{}, true, 8},
		{"page past the end repeats the last", amocrmtest.Quirks{ClampPage: true}, false, 8},
		{"empty 200 pages past the end", amocrmtest.Quirks{Empty200: true}, false, 6 + maxEmptyPages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			want := seedTasks(srv, 30)
			srv.SetQuirks(tc.q)
			c := newConn(t, srv, clk, func(o *Options) { o.PageSize = 5 })
			r, err := pullThen(c, ObjectTasks, "", 2, func() {
				if tc.fault {
					srv.Fail(1, amocrmtest.FaultEmptyPage)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.merged.Activities) != 30 {
				t.Errorf("tasks = %d, want 30 (no duplicates)", len(r.merged.Activities))
			}
			got := ids(r.merged.Activities, func(a connectors.Activity) string { return a.ID })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
			// The pages also count the one account read (task type names).
			if n := srv.Requests("/api/v4/tasks"); n != tc.requests || r.requests != tc.requests+1 {
				t.Errorf("requests = %d (pages say %d), want %d (+1 account read)", n, r.requests, tc.requests)
			}
			if want := fmt.Sprintf(`{"v":1,"from":%d}`, clk.Now().Unix()-1); r.cursor != want {
				t.Errorf("final cursor %s, want %s", r.cursor, want)
			}
		})
	}
}

// A page that repeats the last full page read looks like a clamped end of
// the list; when the probe finds a record after it, the server skipped
// pages, and the run fails instead of ending there.
func TestRepeatBeforeTheEndFails(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	seedTasks(srv, 30)
	// Page 3 answers page 2 again.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("page") == "3" && q.Get("limit") == "5" {
			q.Set("page", "2")
			r.URL.RawQuery = q.Encode()
		}
		proxy(srv.URL).ServeHTTP(w, r)
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL; o.PageSize = 5 })
	r, err := tryPull(c, ObjectTasks, "", -1)
	want := "amo tasks page 3: malformed response: /api/v4/tasks page 3 repeats 5 records already read (ids 106 to 110) while records may follow"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if n := srv.Requests("/api/v4/tasks"); n != 4 {
		t.Errorf("requests = %d, want 4 (pages 1, 2, 3, the probe)", n)
	}
	if cur, _ := parseCursor(r.cursor); cur.Page != 3 {
		t.Errorf("saved cursor %s, want page 3", r.cursor)
	}
}

// A list that counts its pages (_page, _page_count: users, reference §6.7)
// and gives no next link is read to its last counted page.
func TestPageCountWithoutNext(t *testing.T) {
	var asked []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		asked = append(asked, page)
		w.Header().Set("Content-Type", "application/hal+json")
		switch page {
		case "1":
			fmt.Fprint(w, `{"_total_items":3,"_page":1,"_page_count":2,"_links":{"self":{"href":"/api/v4/users/?page=1&limit=2"}},
				"_embedded":{"users":[{"id":1,"name":"A","email":"a@example.com"},{"id":2,"name":"B","email":"b@example.com"}]}}`)
		case "2":
			fmt.Fprint(w, `{"_total_items":3,"_page":2,"_page_count":2,"_links":{"self":{"href":"/api/v4/users/?page=2&limit=2"}},
				"_embedded":{"users":[{"id":3,"name":"C","email":"c@example.com","rights":{"is_active":false}}]}}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer ts.Close()
	clk := newClock()
	c, err := New(Options{Name: "amo", BaseURL: ts.URL, Token: "tok", Now: clk.Now, PageSize: 2,
		HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := pull(t, c, connectors.ObjectUsers, "")
	var got []string
	for _, u := range r.merged.Users {
		got = append(got, fmt.Sprintf("%s %s %v", u.ID, u.Email, u.Active))
	}
	want := []string{"1 a@example.com true", "2 b@example.com true", "3 c@example.com false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1", "2"}, asked); diff != "" {
		t.Errorf("pages asked (-want +got):\n%s", diff)
	}
}

// A server that answers 504 to heavy pages (reference §3: "504 on heavy
// pages → lower limit") is read in smaller pages: 250, then 50, then 25,
// then 5 a page here, every record once, and a run stopped after its
// first page resumes at the records after it.
func TestGatewayTimeoutLowersLimit(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Users: 3, Leads: 33, Messages: 12, Seed: 8, End: clk.Now().Add(-24 * time.Hour)})
	srv.SetQuirks(amocrmtest.Quirks{HeavyLimit: 20})
	want := fakeIDs(srv.Objects(amocrmtest.Leads), "")
	r := pull(t, newConn(t, srv, clk, nil), connectors.ObjectDeals, "")
	if diff := cmp.Diff(want, ids(r.merged.Deals, func(d connectors.Deal) string { return d.ID })); diff != "" {
		t.Errorf("deals (-fake +pulled):\n%s", diff)
	}
	if len(r.merged.Deals) != 33 {
		t.Errorf("%d deals, want each of the 33 once", len(r.merged.Deals))
	}
	ev := pull(t, newConn(t, srv, clk, nil), ObjectEvents, "")
	if len(ev.merged.Activities) != 12 {
		t.Errorf("%d chat messages, want 12", len(ev.merged.Activities))
	}

	// Stopped after its first page (5 leads), the run resumes at lead 6.
	c := newConn(t, srv, clk, nil)
	first, err := tryPull(c, connectors.ObjectDeals, "", 1)
	if !errors.Is(err, errStop) || len(first.merged.Deals) != 5 || !strings.Contains(first.cursor, `"limit":5`) {
		t.Fatalf("first page: %v, %d deals, cursor %s; want 5 deals and limit 5 in the cursor", err, len(first.merged.Deals), first.cursor)
	}
	rest := pull(t, c, connectors.ObjectDeals, first.cursor)
	got := ids(first.merged.Deals, func(d connectors.Deal) string { return d.ID })
	for _, d := range rest.merged.Deals {
		if got[d.ID] {
			t.Errorf("deal %s read twice", d.ID)
		}
		got[d.ID] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resumed deals (-fake +pulled):\n%s", diff)
	}
}
