package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// indie is a small HubSpot written from reference/hubspot.md alone, with
// the readings where the document allows more than one, to check that the
// connector does not depend on our own fake's choices.
type indie struct {
	sortsAsStrings  bool // search sorts typed as the spec's string[]
	opaqueAfter     bool // paging.next.after is an opaque token everywhere
	ignoreArchived  bool // archived=true is ignored
	noAccountInfo   bool // /account-info/v3/details is 404
	noAssociations  bool // /crm/v4/associations/... is 404
	stringyAssoc    bool // toObjectId/typeId as strings, from.id as a number
	numericMetadata bool // stage metadata as JSON bool/number, displayOrder as a string
	noUpdatedAt     bool // records without updatedAt/createdAt
	noCurrency      bool // deals without deal_currency_code

	mu       sync.Mutex
	searches int
}

type indieDeal struct {
	id       int
	stage    string
	modified time.Time
	archived bool
}

var indieDeals = []indieDeal{
	{101, "won", time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), false},
	{102, "lost", time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), false},
	{103, "open", time.Date(2026, 10, 15, 11, 52, 0, 0, time.UTC), false},
	{104, "won", time.Date(2026, 10, 15, 11, 55, 0, 0, time.UTC), false},
	{105, "open", time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC), true},
}

func (f *indie) after(n int) string {
	if f.opaqueAfter {
		return "tok" + strconv.Itoa(n*7919)
	}
	return strconv.Itoa(n)
}

func (f *indie) offset(after string) int {
	if after == "" {
		return 0
	}
	if f.opaqueAfter {
		n, _ := strconv.Atoi(strings.TrimPrefix(after, "tok"))
		return n / 7919
	}
	n, _ := strconv.Atoi(after)
	return n
}

func (f *indie) record(d indieDeal) map[string]any {
	props := map[string]any{
		"dealname": fmt.Sprint("Deal ", d.id), "amount": "100", "pipeline": "default", "dealstage": d.stage,
		"closedate": "2026-10-01", "createdate": "2026-09-01T00:00:00Z", "hs_object_id": strconv.Itoa(d.id),
		"hs_lastmodifieddate": d.modified.Format(time.RFC3339Nano), "hubspot_owner_id": nil,
	}
	if !f.noCurrency {
		props["deal_currency_code"] = "EUR"
	}
	r := map[string]any{"id": strconv.Itoa(d.id), "properties": props, "archived": d.archived}
	if !f.noUpdatedAt {
		r["createdAt"], r["updatedAt"] = "2026-09-01T00:00:00Z", d.modified.Format(time.RFC3339Nano)
	}
	if d.archived {
		r["archivedAt"] = d.modified.Format(time.RFC3339Nano)
	}
	return r
}

func (f *indie) page(w http.ResponseWriter, recs []map[string]any, off, limit int, extra map[string]any) {
	out := map[string]any{}
	for k, v := range extra {
		out[k] = v
	}
	end := min(off+limit, len(recs))
	out["results"] = recs[min(off, len(recs)):end]
	if end < len(recs) {
		out["paging"] = map[string]any{"next": map[string]any{"after": f.after(end)}}
	}
	json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":"error","message":%q,"correlationId":"f0ee980f-a446-4189-b004-ff06d08bf4e3","category":"VALIDATION_ERROR"}`, msg)
}

func (f *indie) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 10
	}
	switch {
	case r.URL.Path == "/crm/v3/pipelines/deals":
		md := func(closed, p string) any {
			if f.numericMetadata {
				pf, _ := strconv.ParseFloat(p, 64)
				return map[string]any{"isClosed": closed == "true", "probability": pf}
			}
			return map[string]any{"isClosed": closed, "probability": p}
		}
		order := func(n int) any {
			if f.numericMetadata {
				return strconv.Itoa(n)
			}
			return n
		}
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{
			"id": "default", "label": "Sales", "displayOrder": order(0), "archived": false, "updatedAt": "2024-02-01T10:00:00Z",
			"stages": []any{
				map[string]any{"id": "open", "label": "Open", "displayOrder": order(0), "metadata": md("false", "0.2"), "archived": false, "updatedAt": "2024-02-01T10:00:00Z"},
				map[string]any{"id": "won", "label": "Won", "displayOrder": order(1), "metadata": md("true", "1"), "archived": false, "updatedAt": "2024-02-01T10:00:00Z"},
				map[string]any{"id": "lost", "label": "Lost", "displayOrder": order(2), "metadata": md("true", "0"), "archived": false, "updatedAt": "2024-02-01T10:00:00Z"},
			}}}})
	case r.URL.Path == "/crm/v3/objects/deals" && r.Method == http.MethodGet:
		archived := q.Get("archived") == "true" && !f.ignoreArchived
		var recs []map[string]any
		for _, d := range indieDeals {
			if d.archived == archived {
				recs = append(recs, f.record(d))
			}
		}
		f.page(w, recs, f.offset(q.Get("after")), min(limit, 2), nil)
	case r.URL.Path == "/crm/v3/objects/deals/search":
		f.mu.Lock()
		f.searches++
		f.mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		var body struct {
			FilterGroups []struct {
				Filters []struct{ PropertyName, Operator, Value string }
			}
			Sorts json.RawMessage
			Limit int
			After string
		}
		if err := json.Unmarshal(b, &body); err != nil {
			writeError(w, 400, "Invalid input JSON on line 1, column 1")
			return
		}
		var strs []string
		var objs []map[string]string
		if (f.sortsAsStrings && json.Unmarshal(body.Sorts, &strs) != nil) || (!f.sortsAsStrings && json.Unmarshal(body.Sorts, &objs) != nil) {
			writeError(w, 400, "Invalid input JSON on line 1, column 18: sorts")
			return
		}
		var recs []map[string]any
		for _, d := range indieDeals {
			ok := !d.archived
			for _, g := range body.FilterGroups {
				for _, fl := range g.Filters {
					v, _ := strconv.ParseInt(fl.Value, 10, 64)
					ms := d.modified.UnixMilli()
					switch fl.PropertyName + " " + fl.Operator {
					case "hs_lastmodifieddate GTE":
						ok = ok && ms >= v
					case "hs_lastmodifieddate LT":
						ok = ok && ms < v
					case "hs_object_id GT":
						ok = ok && int64(d.id) > v
					}
				}
			}
			if ok {
				recs = append(recs, f.record(d))
			}
		}
		f.page(w, recs, f.offset(body.After), min(body.Limit, 1), map[string]any{"total": len(recs)})
	case strings.HasPrefix(r.URL.Path, "/crm/v4/associations/deals/"):
		if f.noAssociations {
			writeError(w, 404, "Not found")
			return
		}
		var body struct {
			Inputs []struct{ ID string }
		}
		json.NewDecoder(r.Body).Decode(&body)
		var res []any
		for _, in := range body.Inputs {
			id, _ := strconv.Atoi(in.ID)
			var from, to, typ any = in.ID, id + 1000, 5
			if f.stringyAssoc {
				from, to, typ = id, strconv.Itoa(id+1000), "5"
			}
			res = append(res, map[string]any{"from": map[string]any{"id": from},
				"to": []any{map[string]any{"toObjectId": to, "associationTypes": []any{map[string]any{"category": "HUBSPOT_DEFINED", "typeId": typ, "label": nil}}}}})
		}
		w.WriteHeader(207)
		json.NewEncoder(w).Encode(map[string]any{"status": "COMPLETE", "results": res,
			"errors":    []any{map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "No associations found", "context": map[string]any{"fromObjectId": []string{"0"}}}},
			"numErrors": 1})
	case r.URL.Path == "/account-info/v3/details":
		if f.noAccountInfo {
			writeError(w, 404, "Not found")
			return
		}
		fmt.Fprint(w, `{"portalId":1,"companyCurrency":"usd"}`)
	case r.URL.Path == "/crm/v3/owners":
		if q.Get("archived") == "true" && !f.ignoreArchived {
			fmt.Fprint(w, `{"results":[{"id":"9","email":"gone@example.com","firstName":"Gone","lastName":"","userIdIncludingInactive":3,"type":"PERSON"}]}`)
			return
		}
		fmt.Fprint(w, `{"results":[{"id":512345679,"email":"queue@example.com","firstName":"","lastName":"","type":"QUEUE","createdAt":"2023-02-01T08:00:00.000Z","archived":false}]}`)
	default:
		writeError(w, 404, "Not found")
	}
}

type dealRow struct {
	ID, Status, Currency, CompanyID string
	Deleted                         bool
}

// The deal pull (full, then incremental) and the owners pull give the same
// answer whichever reading of the reference the server makes.
func TestRobustToReferenceReadings(t *testing.T) {
	full := []dealRow{
		{"101", "won", "EUR", "1101", false}, {"102", "lost", "EUR", "1102", false}, {"103", "open", "EUR", "1103", false},
		{"104", "won", "EUR", "1104", false}, {"105", "", "", "", true},
	}
	for _, tc := range []struct {
		name string
		f    *indie
		want func([]dealRow) []dealRow
	}{
		{"as documented", &indie{}, nil},
		{"sorts as strings", &indie{sortsAsStrings: true}, nil},
		{"opaque after", &indie{opaqueAfter: true}, nil},
		{"archived=true ignored", &indie{ignoreArchived: true}, func(r []dealRow) []dealRow { return r[:4] }},
		{"associations: strings and numbers", &indie{stringyAssoc: true}, nil},
		{"associations endpoint absent", &indie{noAssociations: true}, func(r []dealRow) []dealRow {
			for i := range r {
				r[i].CompanyID = ""
			}
			return r
		}},
		{"metadata as bool and number", &indie{numericMetadata: true}, nil},
		{"no updatedAt", &indie{noUpdatedAt: true}, nil},
		{"no deal_currency_code, account-info present", &indie{noCurrency: true}, func(r []dealRow) []dealRow {
			for i := range r[:4] {
				r[i].Currency = "USD"
			}
			return r
		}},
		{"no deal_currency_code, account-info absent", &indie{noCurrency: true, noAccountInfo: true}, func(r []dealRow) []dealRow {
			for i := range r[:4] {
				r[i].Currency = ""
			}
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.f)
			defer ts.Close()
			clk := newClock()
			c, err := New(Options{Name: "hs", BaseURL: ts.URL, Token: testToken, Now: clk.Now, HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, SearchRateLimit: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(full)
			if tc.want != nil {
				want = tc.want(want)
			}
			rows := func(obj connectors.Object, cursor string) ([]dealRow, string) {
				var out []dealRow
				err := c.Pull(context.Background(), obj, cursor, func(_ context.Context, p *connectors.Page) error {
					for _, d := range p.Deals {
						if d.Deleted {
							t.Errorf("deal %s upserted deleted, want a Deletion", d.ID)
						}
						if d.UpdatedAt.IsZero() {
							t.Errorf("deal %s without UpdatedAt", d.ID)
						}
						out = append(out, dealRow{d.ID, d.Status, d.Currency, d.CompanyID, d.Deleted})
					}
					for _, d := range p.Deletions {
						if d.Object != connectors.ObjectDeals || d.At.IsZero() {
							t.Errorf("deletion %+v, want a deal with its time", d)
						}
						out = append(out, dealRow{ID: d.ID, Deleted: true})
					}
					cursor = p.Cursor
					return nil
				})
				if err != nil {
					t.Fatalf("Pull(%s): %v", obj, err)
				}
				return out, cursor
			}
			got, cursor := rows(connectors.ObjectDeals, "")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("full load (-want +got):\n%s", diff)
			}
			// The next run's window reaches back 10 minutes: 103 and 104
			// changed in it; 105 was archived long before.
			clk.Advance(time.Hour)
			got, _ = rows(connectors.ObjectDeals, cursor)
			var inc []dealRow
			for _, r := range want {
				if r.ID == "103" || r.ID == "104" {
					inc = append(inc, r)
				}
			}
			if diff := cmp.Diff(inc, got); diff != "" {
				t.Errorf("incremental (-want +got):\n%s", diff)
			}
			if tc.f.searches == 0 {
				t.Error("the incremental run did not search")
			}

			var users []string
			err = c.Pull(context.Background(), connectors.ObjectUsers, "", func(_ context.Context, p *connectors.Page) error {
				for _, u := range p.Users {
					users = append(users, fmt.Sprintf("%s %s active=%v", u.ID, u.Name, u.Active))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Pull(users): %v", err)
			}
			wantUsers := []string{"512345679 queue@example.com active=true", "9 Gone active=false"}
			if tc.f.ignoreArchived {
				wantUsers = []string{"512345679 queue@example.com active=true", "512345679 queue@example.com active=true"}
			}
			if diff := cmp.Diff(wantUsers, users); diff != "" {
				t.Errorf("owners (-want +got):\n%s", diff)
			}
		})
	}
}

// The cap arriving before 10,000 (a 400 at after >= 3,000) and opaque
// search cursors still give every changed record exactly once.
func TestSearchEarlyCapOpaqueCursors(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.SetSearchPaging(3000, true)
	const n = 7000
	base := clk.Now().Add(-30 * time.Minute)
	recs := make([]hubspottest.Record, n)
	for i := range recs {
		recs[i] = hubspottest.Record{ID: strconv.Itoa(5000 + 3*i), CreatedAt: base.Add(-time.Hour),
			UpdatedAt: base.Add(time.Duration(i%7) * time.Second), Properties: map[string]string{"firstname": "C" + strconv.Itoa(i)}}
	}
	mustDo(t, srv.Load(hubspottest.Contacts, recs...))
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	w.cursors[connectors.ObjectContacts] = cursor{Mode: modeIdle, Since: base.Add(-time.Minute), AssocAt: clk.Now()}.encode()
	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if w.seen[connectors.ObjectContacts] != n || len(w.contacts) != n {
		t.Fatalf("emitted %d records, %d distinct, want %d and %d", w.seen[connectors.ObjectContacts], len(w.contacts), n, n)
	}
	// 15 pages of 200 reach offset 3,000, which answers 400 and restarts
	// above the last id: 16 requests per 3,000, then 5 for the last 1,000.
	if got := srv.RequestCounts()["POST /crm/v3/objects/contacts/search"]; got != 16+16+5 {
		t.Errorf("search requests = %d, want %d", got, 16+16+5)
	}
}

// Owners as reference/hubspot.md §6.3 shows them, and a deactivated one as
// GET /crm/v3/owners?archived=true lists it: archived true, without userId.
// A deactivated owner is a user who left, Active false; not deleted, for
// their deals and clients are still theirs.
func TestOwnersDeactivated(t *testing.T) {
	const activePage = `{
  "results": [
    {"id": "512345678", "email": "ana.sales@example.com", "firstName": "Ana", "lastName": "Sales",
     "userId": 9876543, "userIdIncludingInactive": 9876543, "type": "PERSON",
     "createdAt": "2022-03-01T08:00:00.000Z", "updatedAt": "2024-05-10T12:00:00.000Z", "archived": false,
     "teams": [{"id": "44001", "name": "EMEA", "primary": true}]},
    {"id": "512345679", "email": "inbound-queue@example.com", "firstName": "", "lastName": "",
     "userIdIncludingInactive": 9876544, "type": "QUEUE",
     "createdAt": "2023-02-01T08:00:00.000Z", "updatedAt": "2023-02-01T08:00:00.000Z", "archived": false}
  ],
  "paging": {"next": {"after": "512345680", "link": "https://api.hubapi.com/crm/v3/owners/?after=512345680&limit=2"}}
}`
	const archivedPage = `{
  "results": [
    {"id": "512345690", "email": "boris.left@example.com", "firstName": "Boris", "lastName": "Left",
     "userIdIncludingInactive": 9876555, "type": "PERSON",
     "createdAt": "2022-03-01T08:00:00.000Z", "updatedAt": "2026-09-30T17:00:00.000Z", "archived": true}
  ]
}`
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		switch q := r.URL.Query(); {
		case r.URL.Path != "/crm/v3/owners":
			http.NotFound(w, r)
		case q.Get("archived") == "true":
			fmt.Fprint(w, archivedPage)
		case q.Get("after") == "512345680":
			fmt.Fprint(w, `{"results":[]}`)
		default:
			fmt.Fprint(w, activePage)
		}
	}))
	defer srv.Close()
	clk := newClock()
	c, err := New(Options{Name: "hs", BaseURL: srv.URL, Token: testToken, Now: clk.Now, HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var users []connectors.User
	err = c.Pull(context.Background(), connectors.ObjectUsers, "", func(_ context.Context, p *connectors.Page) error {
		users = append(users, p.Users...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.User{
		{Meta: connectors.Meta{ID: "512345678", UpdatedAt: ts("2024-05-10T12:00:00Z")}, Email: "ana.sales@example.com", Name: "Ana Sales", Active: true},
		{Meta: connectors.Meta{ID: "512345679", UpdatedAt: ts("2023-02-01T08:00:00Z")}, Email: "inbound-queue@example.com", Name: "inbound-queue@example.com", Active: true},
		{Meta: connectors.Meta{ID: "512345690", UpdatedAt: ts("2026-09-30T17:00:00Z")}, Email: "boris.left@example.com", Name: "Boris Left", Active: false},
	}
	if diff := cmp.Diff(want, users, ignoreRaw); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"limit=100", "after=512345680&limit=100", "archived=true&limit=100"}, queries); diff != "" {
		t.Errorf("owner requests (-want +got):\n%s", diff)
	}
}
