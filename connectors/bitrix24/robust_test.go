package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
)

// The tests in this file run the connector against fakes that read the
// reference otherwise than ours does (bitrix24test's quirk options), as
// fakes written independently from the same document may.

func dropKeys(env map[string]any, keys ...string) {
	for _, k := range keys {
		delete(env, k)
	}
}

func TestScanUnderOtherReadings(t *testing.T) {
	const n = 260 // one batch of six pages (the last short)
	hidden := func(r bitrix24test.Record) bool { id, _ := strconv.Atoi(r["ID"].(string)); return id%7 == 0 }
	for _, tc := range []struct {
		name     string
		opts     []bitrix24test.Option
		hide     func(bitrix24test.Record) bool
		requests int // HTTP requests of the full load, 0: not checked
		batches  int // of which batch requests, -1: not checked
	}{
		{"as documented", nil, nil, 1, 1},
		// Only the literal $result[c00][49][ID] in the raw text resolves.
		{"references resolved in the raw text", []bitrix24test.Option{bitrix24test.WithRefMode(bitrix24test.RefsRaw)}, nil, 1, 1},
		// The call past the short page fails (halt=1): not needed, ignored.
		{"unresolved reference is an error", []bitrix24test.Option{bitrix24test.WithRefMode(bitrix24test.RefsStrict)}, nil, 1, 1},
		// References stay text: two broken chains (a page each), then a
		// call per page.
		{"references never resolved", []bitrix24test.Option{bitrix24test.WithRefMode(bitrix24test.RefsLiteral)}, nil, 2 + 4, 2},
		// The whole batch refused (400) for its references: a call per
		// page, after two refused batches (pages 1 and 2).
		{"references refuse the batch", []bitrix24test.Option{bitrix24test.WithRefMode(bitrix24test.RefsRefused)}, nil, 2 + 6, 2},
		// 404 once, then a call per page: 6 pages + the refused batch.
		{"no batch method", []bitrix24test.Option{bitrix24test.WithoutMethods("batch")}, nil, 7, 1},
		{"start=-1 ignored (next and total sent)", []bitrix24test.Option{bitrix24test.WithoutFastMode()}, nil, 1, 1},
		// Short pages that carry next are not the end.
		{"short pages with next", []bitrix24test.Option{bitrix24test.WithoutFastMode()}, hidden, 0, -1},
		{"next and total in fast mode", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "crm.deal.list" {
				env["next"], env["total"] = 50, 999
			}
		})}, nil, 0, -1},
		{"batch without result_next, result_total, result_time", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "batch" {
				dropKeys(env["result"].(map[string]any), "result_next", "result_total", "result_time", "result_error")
			}
		})}, nil, 1, 1},
		{"result_next as an object on every page", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "batch" {
				env["result"].(map[string]any)["result_next"] = map[string]any{}
			}
		})}, nil, 1, 1},
		{"odd time block", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			env["time"] = map[string]any{"date_start": 1725292115, "operating_reset_at": "soon"}
		})}, nil, 1, 1},
		{"no time block", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			delete(env, "time")
		})}, nil, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			opts := tc.opts
			if tc.hide != nil {
				opts = append(opts, bitrix24test.WithHiddenRows(tc.hide))
			}
			srv := newFake(t, clk, opts...)
			seed(srv, n)
			c := newClient(t, srv, clk, nil)
			r := pull(t, c, connectors.ObjectDeals, "")
			var want []string
			for _, rec := range srv.All(bitrix24test.Deals) {
				if tc.hide == nil || !tc.hide(rec) {
					want = append(want, rec["ID"].(string))
				}
			}
			sortStrings(want)
			if diff := cmp.Diff(want, r.ids(connectors.ObjectDeals)); diff != "" {
				t.Errorf("deals (-want +got):\n%s", diff)
			}
			if tc.requests > 0 && srv.TotalRequests() != tc.requests {
				t.Errorf("full load took %d requests, want %d", srv.TotalRequests(), tc.requests)
			}
			if tc.batches >= 0 && srv.Requests("batch") != tc.batches {
				t.Errorf("full load sent %d batches, want %d", srv.Requests("batch"), tc.batches)
			}
			if got := r.requests; got != srv.TotalRequests() {
				t.Errorf("pages report %d requests, the fake saw %d", got, srv.TotalRequests())
			}

			// The same reading serves the id reconciliation.
			var ids []string
			if err := c.ListIDs(context.Background(), connectors.ObjectDeals, func(b []string) error { ids = append(ids, b...); return nil }); err != nil {
				t.Fatal(err)
			}
			sortStrings(ids)
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("ListIDs (-want +got):\n%s", diff)
			}
		})
	}
}

func sortStrings(s []string) { slices.Sort(s) }

func TestMapScalarsEitherWay(t *testing.T) {
	m := testMapper()
	for _, tc := range []struct {
		name string
		raw  string
		want any
	}{
		{"activity, numbers and bools", `{"ID":20,"OWNER_ID":37,"OWNER_TYPE_ID":2,"TYPE_ID":2,"DIRECTION":1,"COMPLETED":true,"RESPONSIBLE_ID":1,
			"START_TIME":"2024-09-05T13:25:00+03:00","END_TIME":"2024-09-05T13:28:03+03:00","LAST_UPDATED":"2024-09-05T13:30:24+03:00"}`,
			connectors.Activity{Meta: connectors.Meta{ID: "20", UpdatedAt: utc("2024-09-05T10:30:24Z")}, Type: "call", Direction: "inbound",
				OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-05T10:25:00Z"), Completed: true, DurationS: intp(183), Connected: boolp(true)}},
		{"activity, direction 0 and COMPLETED N", `{"ID":"21","OWNER_ID":"75","OWNER_TYPE_ID":"3","TYPE_ID":"4","DIRECTION":"0","COMPLETED":"N",
			"RESPONSIBLE_ID":"6","START_TIME":"2024-09-10T11:00:00+03:00","LAST_UPDATED":"2024-09-06T09:00:00+03:00"}`,
			connectors.Activity{Meta: connectors.Meta{ID: "21", UpdatedAt: utc("2024-09-06T06:00:00Z")}, Type: "email",
				OwnerID: "6", ContactID: "75", OccurredAt: utc("2024-09-10T08:00:00Z")}},
		{"deal, numbers, empty money and currency, open with CLOSEDATE", `{"ID":38,"CATEGORY_ID":1,"STAGE_ID":"C1:NEW","STAGE_SEMANTIC_ID":"P",
			"OPPORTUNITY":"","CURRENCY_ID":"","CLOSEDATE":"2024-10-01T03:00:00+02:00","ASSIGNED_BY_ID":6,"COMPANY_ID":"0","CONTACT_ID":null,
			"DATE_MODIFY":"2024-09-03T09:00:00+02:00"}`,
			connectors.Deal{Meta: connectors.Meta{ID: "38", UpdatedAt: utc("2024-09-03T07:00:00Z")}, PipelineID: "1", StageID: "C1:NEW",
				Status: "open", OwnerID: "6"}},
		{"deal, won, money as a number", `{"ID":"37","CATEGORY_ID":"0","STAGE_ID":"WON","STAGE_SEMANTIC_ID":"S","OPPORTUNITY":19999.99,
			"CURRENCY_ID":"eur","CLOSEDATE":"2024-09-09T02:00:00+02:00","COMPANY_ID":9,"DATE_MODIFY":"2024-09-10T11:03:41+02:00"}`,
			connectors.Deal{Meta: connectors.Meta{ID: "37", UpdatedAt: utc("2024-09-10T09:03:41Z")}, PipelineID: "0", StageID: "WON",
				Status: "won", Amount: f64(19999.99), Currency: "EUR", CompanyID: "9", ClosedAt: utcPtr("2024-09-09T00:00:00Z")}},
		{"deal, lost, MOVED_TIME without an offset", `{"ID":"42","STAGE_ID":"LOSE","STAGE_SEMANTIC_ID":"F","CLOSEDATE":"2024-12-01",
			"MOVED_TIME":"2024-09-11 09:30:00","DATE_MODIFY":"2024-09-11 09:30:00"}`,
			connectors.Deal{Meta: connectors.Meta{ID: "42", UpdatedAt: utc("2024-09-11T06:30:00Z")}, PipelineID: "0", StageID: "LOSE",
				Status: "lost", ClosedAt: utcPtr("2024-09-11T06:30:00Z")}},
		{"user, ACTIVE as Y", `{"ID":1,"ACTIVE":"Y","NAME":"Vadim","EMAIL":"v@example.com"}`,
			connectors.User{Meta: connectors.Meta{ID: "1", UpdatedAt: seenT}, Name: "Vadim", Email: "v@example.com", Active: true}},
		{"user, ACTIVE as N", `{"ID":"6","ACTIVE":"N","NAME":"John"}`,
			connectors.User{Meta: connectors.Meta{ID: "6", UpdatedAt: seenT}, Name: "John"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := json.RawMessage(tc.raw)
			var got any
			var err error
			switch tc.want.(type) {
			case connectors.Activity:
				got, err = m.activity(raw)
			case connectors.Deal:
				got, err = m.deal(raw)
			case connectors.User:
				got, err = m.user(raw)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, noRaw); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A portal that ignores the ">ID" filter still pages by start and next:
// the client notices the stalled ID scan and pages by offset, for the full
// load, the id listing and the windows after. One that ignores start too
// stalls loudly rather than ending after one page.
func TestScanPagesByOffsetOnIgnoredIDFilter(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bitrix24test.Option
	}{
		{"batch", nil},
		{"no batch", []bitrix24test.Option{bitrix24test.WithoutMethods("batch")}},
		{"no batch, start=-1 ignored", []bitrix24test.Option{bitrix24test.WithoutMethods("batch"), bitrix24test.WithoutFastMode()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk, append(tc.opts, bitrix24test.WithoutIDFilter())...)
			seed(srv, 120)
			clk.Advance(2 * time.Hour)
			c := newClient(t, srv, clk, nil)
			full := pull(t, c, connectors.ObjectDeals, "")
			if len(full.deals) != 120 {
				t.Fatalf("full load read %d deals, want 120", len(full.deals))
			}
			if srv.TotalRequests() > 8 {
				t.Errorf("full load took %d requests, want a stalled scan and 3 pages", srv.TotalRequests())
			}
			var ids []string
			if err := c.ListIDs(context.Background(), connectors.ObjectDeals, func(b []string) error { ids = append(ids, b...); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(ids) != 120 || ids[0] != "1" || ids[119] != "120" {
				t.Errorf("ListIDs gave %d ids, want 1..120", len(ids))
			}

			// Killed after every page: the page read by ID before the
			// scan stalled (deals 1-50) is read again by offset, every
			// later page once.
			killed, restarts := pullKilled(t, newClient(t, srv, clk, nil), connectors.ObjectDeals, "")
			seen := map[string]int{}
			for _, p := range killed.pages {
				for _, d := range p.Deals {
					seen[d.ID]++
				}
			}
			if len(seen) != 120 || restarts != 4 {
				t.Errorf("killed after every page: %d deals in %d restarts, want 120 in 4", len(seen), restarts)
			}
			for id, k := range seen {
				if n, _ := strconv.Atoi(id); (n <= 50 && k != 2) || (n > 50 && k != 1) {
					t.Errorf("deal %s emitted %d times", id, k)
				}
			}

			// A fresh process resumes from the cursor in offset paging.
			clk.Advance(time.Hour)
			srv.Update(bitrix24test.Deals, "77", bitrix24test.Record{"TITLE": "changed"})
			clk.Advance(time.Minute)
			c2 := newClient(t, srv, clk, nil)
			srv.ResetCounts()
			r := pull(t, c2, connectors.ObjectDeals, full.last())
			// And deal 120, the last the full load read, where the window
			// starts.
			if diff := cmp.Diff([]string{"120", "77"}, r.ids(connectors.ObjectDeals)); diff != "" || srv.TotalRequests() != 1 {
				t.Errorf("window after: %d requests, ids (-want +got):\n%s", srv.TotalRequests(), diff)
			}
		})
	}
	t.Run("start ignored too", func(t *testing.T) {
		clk := newClock(t0)
		srv := newFake(t, clk, bitrix24test.WithoutIDFilter(), bitrix24test.WithoutStart())
		seed(srv, 120)
		c := newClient(t, srv, clk, nil)
		err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
		if !errors.Is(err, ErrCursorStalled) {
			t.Fatalf("err = %v, want ErrCursorStalled", err)
		}
		if srv.TotalRequests() > 8 {
			t.Errorf("%d requests before giving up, want a handful", srv.TotalRequests())
		}
	})
}

func TestUsersUnderOtherReadings(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bitrix24test.Option
	}{
		{"as documented", nil},
		{"no total", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "user.get" {
				delete(env, "total")
			}
		})}},
		{"neither total nor next", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "user.get" {
				dropKeys(env, "total", "next")
			}
		})}},
		{"total 0", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "user.get" {
				env["total"] = 0
			}
		})}},
		{"no batch", []bitrix24test.Option{bitrix24test.WithoutMethods("batch")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk, tc.opts...)
			var users []bitrix24test.Record
			var want []string
			for i := 1; i <= 120; i++ {
				users = append(users, bitrix24test.Record{"ID": strconv.Itoa(i), "ACTIVE": i%2 == 0, "NAME": "U", "EMAIL": "u" + strconv.Itoa(i) + "@example.com"})
				want = append(want, strconv.Itoa(i))
			}
			srv.AddMany(bitrix24test.Users, users)
			c := newClient(t, srv, clk, nil)
			r := pull(t, c, connectors.ObjectUsers, "")
			sortStrings(want)
			if diff := cmp.Diff(want, r.ids(connectors.ObjectUsers)); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if srv.TotalRequests() > 5 {
				t.Errorf("%d requests for 120 users, want at most 5", srv.TotalRequests())
			}
			if u := r.users["2"]; !u.Active || r.users["1"].Active {
				t.Errorf("ACTIVE misread: 1=%v 2=%v", r.users["1"].Active, u.Active)
			}
		})
	}
}

func TestCheckWithoutScopeMethod(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []bitrix24test.Option
		warnings []string
		err      string
	}{
		{"no scope method", []bitrix24test.Option{bitrix24test.WithoutMethods("scope")},
			[]string{"the portal has no scope method; crm and user access checked by reading deals and users"}, ""},
		{"no scope method, no crm", []bitrix24test.Option{bitrix24test.WithoutMethods("scope"), bitrix24test.WithScopes("user")},
			nil, "b24 deals: read deals: authentication failed (HTTP 403): insufficient_scope: The request requires higher privileges than provided by the webhook token"},
		{"no scope method, no user", []bitrix24test.Option{bitrix24test.WithoutMethods("scope"), bitrix24test.WithScopes("crm")},
			nil, "b24 users: read users: authentication failed (HTTP 403): insufficient_scope: The request requires higher privileges than provided by the webhook token"},
		{"scopes as a string", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "scope" {
				env["result"] = "crm,user,task"
			}
		})}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk, tc.opts...)
			seed(srv, 1)
			c := newClient(t, srv, clk, nil)
			warnings, err := c.Check(context.Background())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.err || !cmp.Equal(warnings, tc.warnings) {
				t.Errorf("Check = %q, %q; want %q, %q", warnings, got, tc.warnings, tc.err)
			}
		})
	}
}

func TestStagesUnderOtherReadings(t *testing.T) {
	all := []string{"C1:LOSE", "C1:NEW", "C1:WON", "LOSE", "NEW", "PREPARATION", "WON"}
	for _, tc := range []struct {
		name string
		opts []bitrix24test.Option
		want []string
	}{
		{"as documented", nil, all},
		{"no batch", []bitrix24test.Option{bitrix24test.WithoutMethods("batch")}, all},
		{"categories as a bare list", []bitrix24test.Option{bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "crm.category.list" {
				env["result"] = env["result"].(map[string]any)["categories"]
			}
		})}, all},
		// A portal that ignores the ENTITY_ID filter answers with other
		// status lists too (sources, a pipeline not listed): they are no
		// stages of the pipeline asked for.
		{"status filter ignored", []bitrix24test.Option{bitrix24test.WithoutMethods("batch"), bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
			if m == "crm.status.list" {
				env["result"] = append(env["result"].([]any),
					map[string]any{"ID": "900", "ENTITY_ID": "SOURCE", "STATUS_ID": "CALL", "NAME": "Call", "SORT": "10", "SEMANTICS": nil},
					map[string]any{"ID": "901", "ENTITY_ID": "DEAL_STAGE_9", "STATUS_ID": "C9:WON", "NAME": "Won", "SORT": "10", "SEMANTICS": "S"})
				if f, _ := env["result"].([]any)[0].(map[string]any); f["ENTITY_ID"] == "DEAL_STAGE" {
					// The default pipeline's rows written as DEAL_STAGE_0
					// are still its own.
					f["ENTITY_ID"] = "DEAL_STAGE_0"
				}
			}
		})}, all},
		// Without crm.category.list only the default pipeline is known.
		{"no crm.category.list", []bitrix24test.Option{bitrix24test.WithoutMethods("crm.category.list")}, []string{"LOSE", "NEW", "PREPARATION", "WON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk, tc.opts...)
			seed(srv, 1)
			c := newClient(t, srv, clk, nil)
			r := pull(t, c, connectors.ObjectStages, "")
			if diff := cmp.Diff(tc.want, r.ids(connectors.ObjectStages)); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
			if st := r.stages["WON"]; st.Status != connectors.StatusWon || st.PipelineName != "General" || st.PipelineID != "0" {
				t.Errorf("WON = %+v, want won in pipeline 0 General", st)
			}
		})
	}
}

func TestIncrementalWithoutPortalTime(t *testing.T) {
	// No date_start in any time block and no server.time: the offset is
	// learned from the records' own DATE_MODIFY during the full load.
	noDateStart := bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
		if tb, ok := env["time"].(map[string]any); ok {
			delete(tb, "date_start")
		}
	})
	clk := newClock(t0)
	srv := newFake(t, clk, noDateStart, bitrix24test.WithoutMethods("server.time"))
	seed(srv, 60)
	c := newClient(t, srv, clk, nil)
	full := pull(t, c, connectors.ObjectDeals, "")
	cr, _ := parseCursor(full.last())
	if cr.TZ == nil || *cr.TZ != 3*3600 {
		t.Fatalf("cursor %s: tz not learned from DATE_MODIFY", full.last())
	}

	clk.Advance(2 * time.Hour)
	srv.Update(bitrix24test.Deals, "7", bitrix24test.Record{"TITLE": "changed"})
	clk.Advance(time.Minute)

	// A fresh process with a cursor that lost its tz: nothing tells the
	// offset, so the window is written in UTC and widened by 14 h at both
	// ends. The fake reads filter values as wall-clock portal time
	// (b24-rest-docs #215), so an unwidened end would miss deal 7.
	cr.TZ = nil
	c2 := newClient(t, srv, clk, nil)
	inc := pull(t, c2, connectors.ObjectDeals, cr.String())
	if _, ok := inc.deals["7"]; !ok {
		t.Errorf("incremental missed the changed deal 7: %v", inc.ids(connectors.ObjectDeals))
	}
	f := srv.LastParams("crm.deal.list")["filter"].(map[string]any)
	if got, want := f[">=DATE_MODIFY"], portalTime(cr.From.Add(-zoneSlack), time.UTC); got != want {
		t.Errorf(">=DATE_MODIFY = %v, want %v (widened, UTC)", got, want)
	}
	if got, want := f["<DATE_MODIFY"], portalTime(t0.Add(2*time.Hour+time.Minute+zoneSlack), time.UTC); got != want {
		t.Errorf("<DATE_MODIFY = %v, want %v (widened, UTC)", got, want)
	}
	next, _ := parseCursor(inc.last())
	if want := t0.Add(2*time.Hour + time.Minute - DefaultOverlap); next.From == nil || !next.From.Equal(want) {
		t.Errorf("next window from %v, want %v", next.From, want)
	}
}

func TestErrorBodiesOtherShapes(t *testing.T) {
	c, err := New(Options{WebhookURL: "https://p.example/rest/1/code/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status int
		body   string
		auth   bool
		retry  bool
		detail string
	}{
		// An error body under 200 is an error, not a page without result.
		{200, `{"error":"ACCESS_DENIED","error_description":"REST API is available only on commercial plans"}`, true, false, "ACCESS_DENIED: REST API is available only on commercial plans"},
		{200, `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`, false, true, "QUERY_LIMIT_EXCEEDED: Too many requests"},
		{401, `{"error":"Invalid_Token","error_description":null}`, true, false, "Invalid_Token"},
		{503, `{"error":503,"error_description":"Service Unavailable"}`, false, true, "503: Service Unavailable"},
		{403, `{"error":"insufficient_scope","error_description":"","time":"n/a"}`, true, false, "insufficient_scope"},
	} {
		v := c.classify(tc.status, http.Header{}, []byte(tc.body))
		var ae *connectors.AuthError
		if !v.Handled || errors.As(v.Err, &ae) != tc.auth || v.Retry != tc.retry || v.Err == nil || !strings.HasSuffix(v.Err.Error(), tc.detail) {
			t.Errorf("classify(%d, %s) = %+v, want auth %v retry %v detail %q", tc.status, tc.body, v, tc.auth, tc.retry, tc.detail)
		}
	}
	// A page is never read as an error.
	if v := c.classify(200, http.Header{}, []byte(`{"result":[],"error":"x"}`)); v.Handled {
		t.Errorf("a page with result was classified: %+v", v)
	}
}

func TestHTTPHandlerShapes(t *testing.T) {
	// A hand-written portal answering every list with ids as numbers, a
	// result keyed by row index, and EMAIL as a plain string.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasSuffix(r.URL.Path, "/crm.contact.list") {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}`))
			return
		}
		after, _ := strconv.Atoi(body["filter"].(map[string]any)[">ID"].(string))
		if after >= 2 {
			w.Write([]byte(`{"result":[],"total":0}`))
			return
		}
		w.Write([]byte(`{"result":{"0":{"ID":1,"NAME":"A","COMPANY_ID":0,"ASSIGNED_BY_ID":6,"EMAIL":"a@example.com","DATE_MODIFY":"2024-09-02T18:37:18"},
			"1":{"ID":2,"NAME":"B","COMPANY_ID":null,"ASSIGNED_BY_ID":"6","EMAIL":[{"VALUE":"b@example.com","VALUE_TYPE":"HOME"}],"DATE_MODIFY":"24.08.2023 13:19:39"}}}`))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	clk := newClock(t0)
	c, err := New(Options{Name: "b24", WebhookURL: srv.URL + "/rest/1/code/", Now: clk.Now, HTTPOptions: connectors.HTTPOptions{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := pull(t, c, connectors.ObjectContacts, "")
	want := map[string]connectors.Contact{
		"1": {Meta: connectors.Meta{ID: "1", UpdatedAt: utc("2024-09-02T18:37:18Z")}, Name: "A", Email: "a@example.com", OwnerID: "6"},
		"2": {Meta: connectors.Meta{ID: "2", UpdatedAt: utc("2023-08-24T13:19:39Z")}, Name: "B", Email: "b@example.com", OwnerID: "6"},
	}
	if diff := cmp.Diff(want, r.contacts, noRaw); diff != "" {
		t.Errorf("contacts (-want +got):\n%s", diff)
	}
}

// A portal that leaves "result" out of an empty page (an encoder dropping
// an empty list) but sends its total and time: the page is empty, the
// scan ends, nothing fails. A body with neither is still an error.
func TestEmptyPageWithoutResult(t *testing.T) {
	omitEmpty := bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
		if rows, ok := env["result"].([]any); ok && len(rows) == 0 {
			delete(env, "result")
		}
	})
	clk := newClock(t0)
	srv := newFake(t, clk, omitEmpty)
	seed(srv, 50) // one full page, then an empty one
	clk.Advance(2 * time.Hour)
	c := newClient(t, srv, clk, func(o *Options) { o.BatchSize = 1 })
	full := pull(t, c, connectors.ObjectDeals, "")
	if len(full.deals) != 50 || len(full.pages) != 2 {
		t.Fatalf("full load: %d deals in %d pages, want 50 in 2", len(full.deals), len(full.pages))
	}
	clk.Advance(2 * time.Hour)
	// The next window would read deal 50 again, the last read (t0): one
	// from a second later is empty.
	if want := `{"from":"2024-09-02T14:48:35Z","tz":10800}`; full.last() != want {
		t.Errorf("full load's cursor %s, want %s", full.last(), want)
	}
	if r := pull(t, c, connectors.ObjectDeals, `{"from":"2024-09-02T14:48:36Z","tz":10800}`); len(r.deals) != 0 || len(r.pages) != 1 {
		t.Errorf("empty window: %d deals in %d pages, want 0 in 1", len(r.deals), len(r.pages))
	}
	var ids int
	if err := c.ListIDs(context.Background(), connectors.ObjectDeals, func(b []string) error { ids += len(b); return nil }); err != nil || ids != 50 {
		t.Errorf("ListIDs: %d ids, %v; want 50", ids, err)
	}

	bare := newFake(t, clk, bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
		if m == "crm.deal.list" {
			clear(env)
		}
	}))
	c = newClient(t, bare, clk, func(o *Options) { o.BatchSize = 1; o.MaxRetries = 1 })
	err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no result in answer") {
		t.Errorf("answer {}: err %v, want no result in answer", err)
	}
}

// A portal without the deprecated classic lists (crm.deal.list,
// crm.contact.list, crm.company.list answer ERROR_METHOD_NOT_FOUND) is
// read through crm.item.list in its own shape: the same deals, contacts
// (but for their e-mails, which crm.item.list does not list) and
// companies, by batch chains, windows and id listings alike.
func TestClassicListsMissing(t *testing.T) {
	clk := newClock(t0)
	classic := newFake(t, clk)
	items := newFake(t, clk, bitrix24test.WithoutMethods("crm.deal.list", "crm.contact.list", "crm.company.list"))
	seed(classic, 120)
	seed(items, 120)
	clk.Advance(2 * time.Hour)
	want := newClient(t, classic, clk, nil)
	c := newClient(t, items, clk, nil)
	noEmail := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Email" }, cmp.Ignore())
	for _, obj := range []connectors.Object{connectors.ObjectDeals, connectors.ObjectContacts, connectors.ObjectCompanies} {
		w, got := pull(t, want, obj, ""), pull(t, c, obj, "")
		if len(w.ids(obj)) != 120 {
			t.Fatalf("%s: the classic portal gave %d records", obj, len(w.ids(obj)))
		}
		if diff := cmp.Diff([]any{w.deals, w.contacts, w.companies}, []any{got.deals, got.contacts, got.companies}, noRaw, noEmail); diff != "" {
			t.Errorf("%s through crm.item.list (-classic +items):\n%s", obj, diff)
		}
		var ids int
		if err := c.ListIDs(context.Background(), obj, func(b []string) error { ids += len(b); return nil }); err != nil || ids != 120 {
			t.Errorf("%s ListIDs: %d ids, %v; want 120", obj, ids, err)
		}
	}
	if n := items.Requests("batch"); n == 0 {
		t.Error("no batch chains through crm.item.list")
	}

	full := pull(t, c, connectors.ObjectDeals, "")
	clk.Advance(time.Hour)
	items.Update(bitrix24test.Deals, "77", bitrix24test.Record{"TITLE": "changed"})
	clk.Advance(time.Minute)
	r := pull(t, newClient(t, items, clk, nil), connectors.ObjectDeals, full.last())
	// And deal 120, the last the full load read, where the window starts.
	if diff := cmp.Diff([]string{"120", "77"}, r.ids(connectors.ObjectDeals)); diff != "" || r.deals["77"].Name != "changed" {
		t.Errorf("window through crm.item.list: %+v, ids (-want +got):\n%s", r.deals["77"], diff)
	}
	f := items.LastParams("crm.item.list")["filter"].(map[string]any)
	if _, ok := f[">=updatedTime"]; !ok {
		t.Errorf("window filter %v, want >=updatedTime", f)
	}
}

// A batch answer that leaves an empty page out of result (with no error
// for it) is not taken for the end of the table, nor for a failure: the
// page is asked for alone.
func TestBatchLeavesEmptyPageOut(t *testing.T) {
	dropEmpty := bitrix24test.WithEnvelopeEdit(func(m string, env map[string]any) {
		if m != "batch" {
			return
		}
		if res, ok := env["result"].(map[string]any)["result"].(map[string]any); ok {
			for k, v := range res {
				if rows, ok := v.([]any); ok && len(rows) == 0 {
					delete(res, k)
				}
			}
		}
	})
	clk := newClock(t0)
	srv := newFake(t, clk, dropEmpty)
	seed(srv, 100) // two full pages: the third, empty, is left out
	c := newClient(t, srv, clk, nil)
	for _, obj := range []connectors.Object{connectors.ObjectDeals, connectors.ObjectCompanies} {
		if r := pull(t, c, obj, ""); len(r.ids(obj)) != 100 {
			t.Errorf("%s: %d records, want 100", obj, len(r.ids(obj)))
		}
	}
	empty := newFake(t, clk, dropEmpty)
	if r := pull(t, newClient(t, empty, clk, nil), connectors.ObjectDeals, ""); len(r.deals) != 0 || len(r.pages) != 1 {
		t.Errorf("empty table: %d deals in %d pages, want 0 in 1", len(r.deals), len(r.pages))
	}
	// A pipeline without stages: its empty list, left out, is asked for
	// alone.
	srv.AddPipeline(2, "Empty", 300)
	if r := pull(t, c, connectors.ObjectStages, ""); len(r.stages) != 7 || r.requests != 3 {
		t.Errorf("stages: %d in %d requests, want 7 in 3", len(r.stages), r.requests)
	}
}
