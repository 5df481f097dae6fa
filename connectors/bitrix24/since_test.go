package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
)

// sinceWorld is a portal whose deals and activities straddle since
// (2024-08-01 00:00 +03:00): it returns the ids a first sync from since
// must read.
func sinceWorld(srv *bitrix24test.Server) (deals, acts []string) {
	const before, after = "2024-07-15T10:00:00+03:00", "2024-08-20T10:00:00+03:00"
	var ds, as, cos []bitrix24test.Record
	for i := 1; i <= 120; i++ {
		mod := after
		if i%3 == 0 {
			mod = before
		} else {
			deals = append(deals, strconv.Itoa(i))
		}
		ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P",
			"CATEGORY_ID": "0", "ASSIGNED_BY_ID": "1", "DATE_CREATE": before, "DATE_MODIFY": mod})
		cos = append(cos, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": "1", "DATE_MODIFY": before})
	}
	// Activities by i%4: updated after since; updated before, starting
	// after (a meeting planned); updated and starting before, due after
	// (a to-do); all before.
	for i := 1; i <= 240; i++ {
		a := bitrix24test.Record{"ID": i, "OWNER_ID": 1, "OWNER_TYPE_ID": "2", "TYPE_ID": "1", "PROVIDER_ID": "CRM_MEETING", "SUBJECT": "Meet",
			"COMPLETED": "N", "RESPONSIBLE_ID": "1", "CREATED": before, "LAST_UPDATED": before, "START_TIME": before, "DEADLINE": before}
		switch i % 4 {
		case 0:
			a["LAST_UPDATED"] = after
		case 1:
			a["START_TIME"], a["DEADLINE"] = after, after
		case 2:
			a["TYPE_ID"], a["PROVIDER_ID"], a["SUBJECT"], a["DEADLINE"] = "6", "CRM_TODO", "To do", after
		}
		if i%4 != 3 {
			acts = append(acts, strconv.Itoa(i))
		}
		as = append(as, a)
	}
	srv.AddMany(bitrix24test.Deals, ds)
	srv.AddMany(bitrix24test.Companies, cos)
	srv.AddMany(bitrix24test.Activities, as)
	return deals, acts
}

var since = time.Date(2024, 8, 1, 0, 0, 0, 0, time.FixedZone("MSK", 3*3600))

// TestSinceFirstSync checks a first sync with since against the fake: deals
// modified before since are not read, activities neither unless they
// start or are due after it; companies come whole. Each since scan costs
// one request per batch of 2,500 records, a later scan one call first: the
// deals' batch (after the portal's time, asked once), and the activities'
// three scans: 60 updated since in a batch; 60 starting since, then 120 due
// since (those 60 again), each in one call and a batch.
func TestSinceFirstSync(t *testing.T) {
	clk := newClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := newFake(t, clk)
	wantDeals, wantActs := sinceWorld(srv)
	c := newClient(t, srv, clk, func(o *Options) { o.Since = since })

	deals := pull(t, c, connectors.ObjectDeals, "")
	if diff := cmp.Diff(sorted(wantDeals), deals.ids(connectors.ObjectDeals)); diff != "" {
		t.Errorf("deals (-want +pulled):\n%s", diff)
	}
	if n := srv.TotalRequests(); n != 2 || deals.requests != 2 {
		t.Errorf("deals: the fake served %d requests, pages report %d; want 2 (server.time and one batch)", n, deals.requests)
	}
	// The next window starts at the latest DATE_MODIFY read, the world's
	// "after" (connectors.NextWindow), not an overlap before our now.
	if want := `{"from":"2024-08-20T07:00:00Z","tz":10800}`; deals.last() != want {
		t.Errorf("deals' final cursor = %s, want %s", deals.last(), want)
	}

	srv.ResetCounts()
	acts := pull(t, c, connectors.ObjectActivities, "")
	if diff := cmp.Diff(sorted(wantActs), acts.ids(connectors.ObjectActivities)); diff != "" {
		t.Errorf("activities (-want +pulled):\n%s", diff)
	}
	if n := srv.TotalRequests(); n != 5 || acts.requests != 5 || len(acts.pages) != 5 {
		t.Errorf("activities: %d requests served, %d reported, %d pages; want 5, 5, 5", n, acts.requests, len(acts.pages))
	}
	// The scan's second call, after the 50th record due since.
	wantFilter := map[string]any{">=DEADLINE": "2024-08-01T00:00:00+03:00", "<LAST_UPDATED": "2024-08-01T00:00:00+03:00", ">ID": "198"}
	if diff := cmp.Diff(wantFilter, srv.LastParams("crm.activity.list")["filter"]); diff != "" {
		t.Errorf("the last activity scan's filter (-want +got):\n%s", diff)
	}

	srv.ResetCounts()
	cos := pull(t, c, connectors.ObjectCompanies, "")
	if len(cos.companies) != 120 || srv.TotalRequests() != 1 {
		t.Errorf("companies: %d in %d requests, want all 120 in 1", len(cos.companies), srv.TotalRequests())
	}
	for _, tt := range []struct {
		obj  connectors.Object
		want bool
	}{{connectors.ObjectDeals, true}, {connectors.ObjectActivities, true}, {connectors.ObjectCompanies, false}, {connectors.ObjectContacts, false}} {
		if got := c.PartialPull(tt.obj); got != tt.want {
			t.Errorf("PartialPull(%s) = %v, want %v", tt.obj, got, tt.want)
		}
	}
	if newClient(t, srv, clk, nil).PartialPull(connectors.ObjectDeals) {
		t.Error("PartialPull(deals) without since = true")
	}
}

// TestSinceResumeAfterEveryPage stops the activities' first sync from
// since after each page and resumes it from the page's cursor, as a killed
// sync does: every scan is finished and nothing is read twice over.
func TestSinceResumeAfterEveryPage(t *testing.T) {
	clk := newClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := newFake(t, clk)
	_, wantActs := sinceWorld(srv)
	c := newClient(t, srv, clk, func(o *Options) { o.Since = since; o.BatchSize = 1 })
	got := newResult()
	cur := ""
	errStop := errors.New("stop")
	for runs := 1; ; runs++ {
		err := c.Pull(context.Background(), connectors.ObjectActivities, cur, func(_ context.Context, p *connectors.Page) error {
			got.add(p)
			cur = p.Cursor
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("run %d: %v", runs, err)
		}
		if cur2, _ := parseCursor(cur); cur2.From != nil {
			break
		}
		if runs > 20 {
			t.Fatal("no end after 20 runs")
		}
	}
	if diff := cmp.Diff(sorted(wantActs), got.ids(connectors.ObjectActivities)); diff != "" {
		t.Errorf("activities (-want +pulled):\n%s", diff)
	}
	// 60 updated since, 60 starting since, 120 due since, 50 a page.
	if len(got.pages) != 2+2+3 {
		t.Errorf("pages = %d, want 7", len(got.pages))
	}
}

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }
