package hubspot

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// A first sync reads the associations inline and batch-reads only the
// record whose inline list was cut; the stored links are those of the
// batch-read path (an incremental window over the same records), primary
// companies included.
func TestInlineAssociationsCutList(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	deal := func(name string) string {
		return srv.Create(hubspottest.Deals, map[string]string{"dealname": name, "deal_currency_code": "EUR"})
	}
	company := func() string { return srv.Create(hubspottest.Companies, map[string]string{"name": "C"}) }
	primary := []hubspottest.AssociationType{hubspottest.Primary(hubspottest.Deals), {Category: "HUBSPOT_DEFINED", TypeID: 341}}

	// Deal 1: 130 companies (131 entries with the primary's two types),
	// the primary the highest id, past the cut at 100 entries.
	d1 := deal("many")
	var last string
	for i := 0; i < 130; i++ {
		last = company()
		var types []hubspottest.AssociationType
		if i == 129 {
			types = primary
		}
		mustDo(t, srv.Associate(hubspottest.Deals, d1, hubspottest.Companies, last, types...))
	}
	// Deal 2: two companies, the primary the higher id, inline whole.
	d2 := deal("two")
	low, high := company(), company()
	mustDo(t, srv.Associate(hubspottest.Deals, d2, hubspottest.Companies, low))
	mustDo(t, srv.Associate(hubspottest.Deals, d2, hubspottest.Companies, high, primary...))
	// Deal 3: contacts only, 101 of them, cut too; the lowest id is its
	// contact.
	d3 := deal("contacts")
	var first string
	for i := 0; i < 101; i++ {
		ct := srv.Create(hubspottest.Contacts, nil)
		if i == 0 {
			first = ct
		}
		mustDo(t, srv.Associate(hubspottest.Deals, d3, hubspottest.Contacts, ct))
	}
	clk.Advance(time.Minute)

	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	if err := w.pull(t, c, connectors.ObjectDeals); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for id, d := range w.deals {
		got[id] = d.CompanyID + " " + d.ContactID
	}
	want := map[string]string{d1: last + " ", d2: high + " ", d3: " " + first}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deal links (-want +got):\n%s", diff)
	}
	// One list page and the archived listing; one batch read per type for
	// its cut record (deal 1's companies, deal 3's contacts).
	reqs := map[string]int{
		"GET /crm/v3/pipelines/deals":                          1,
		"GET /crm/v3/objects/deals":                            2,
		"POST /crm/v4/associations/deals/companies/batch/read": 1,
		"POST /crm/v4/associations/deals/contacts/batch/read":  1,
	}
	if diff := cmp.Diff(reqs, srv.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// The same deals through search and batch reads store the same links.
	wb := newWarehouse()
	wb.cursors[connectors.ObjectDeals] = cursor{Mode: modeIdle, Since: clk.Now().Add(-time.Hour), AssocAt: clk.Now()}.encode()
	if err := wb.pull(t, c, connectors.ObjectDeals); err != nil {
		t.Fatal(err)
	}
	batch := map[string]string{}
	for id, d := range wb.deals {
		batch[id] = d.CompanyID + " " + d.ContactID
	}
	if diff := cmp.Diff(batch, got); diff != "" {
		t.Errorf("inline links differ from the batch-read ones (-batch +inline):\n%s", diff)
	}
}

// companyContacts creates a company and n contacts, those linked(i) says
// associated with it, and a Client a minute later.
func companyContacts(t *testing.T, n int, linked func(i int) bool) (srv *hubspottest.Server, clk *clock, c *Client, co string, ids []string) {
	t.Helper()
	clk = newClock()
	srv = newFake(t, clk)
	co = srv.Create(hubspottest.Companies, map[string]string{"name": "C"})
	for i := 0; i < n; i++ {
		id := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "F" + strconv.Itoa(i)})
		if linked(i) {
			mustDo(t, srv.Associate(hubspottest.Contacts, id, hubspottest.Companies, co))
		}
		ids = append(ids, id)
	}
	clk.Advance(time.Minute)
	return srv, clk, newTestClient(t, srv, clk, nil), co, ids
}

// A batch of records none of which names a target type inline (nothing
// associated, or a server that ignores the parameter, as robust_test's
// independent server does) is batch-read for that type: links are never
// dropped for want of an inline answer. One record naming it is enough to
// trust the others' silence.
func TestInlineAssociationsAbsentAreBatchRead(t *testing.T) {
	srv, _, c, co, ids := companyContacts(t, 3, func(i int) bool { return i == 1 })

	w := newWarehouse()
	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if got := w.contacts[ids[1]].CompanyID; got != co {
		t.Errorf("contact %s company = %q, want %s", ids[1], got, co)
	}
	if n := srv.Requests("POST /crm/v4/associations/contacts/companies/batch/read"); n != 0 {
		t.Errorf("batch reads with one contact naming companies = %d, want 0", n)
	}

	srv.Unassociate(hubspottest.Contacts, ids[1], hubspottest.Companies, co)
	srv.ResetCounts()
	w = newWarehouse()
	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("POST /crm/v4/associations/contacts/companies/batch/read"); n != 1 {
		t.Errorf("batch reads with no contact naming companies = %d, want 1", n)
	}
	if got := w.contacts[ids[1]].CompanyID; got != "" {
		t.Errorf("contact %s company = %q, want none", ids[1], got)
	}
}

// The primary company by either path: v4 by its typeId whatever its label
// (HubSpot's 2024 labels, "Deal with Primary Company") or by the label
// Primary; v3 inline by the type deal_to_company beside the _unlabeled one.
// A shape that does not read as the spec's, or a cut list, is incomplete.
func TestPrimaryCompanyBothPaths(t *testing.T) {
	batch := `{"results":[{"from":{"id":"1"},"to":[
		{"toObjectId":30,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":341,"label":null}]},
		{"toObjectId":40,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":5,"label":"Deal with Primary Company"},{"category":"HUBSPOT_DEFINED","typeId":341,"label":null}]}]},
		{"from":{"id":"2"},"to":[
		{"toObjectId":30,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":341,"label":null}]},
		{"toObjectId":40,"associationTypes":[{"category":"USER_DEFINED","typeId":17,"label":"Primary"}]}]},
		{"from":{"id":"3"},"to":[
		{"toObjectId":30,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":341,"label":null}]},
		{"toObjectId":40,"associationTypes":[{"category":"USER_DEFINED","typeId":5,"label":"Partner"}]}]}]}`
	var ab assocBatch
	mustDo(t, json.Unmarshal([]byte(batch), &ab))
	acc := map[string][]link{}
	if _, err := ab.addLinks(acc, primaryV4("deals", "companies")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"1": choose(acc["1"]), "2": choose(acc["2"]), "3": choose(acc["3"])}
	if diff := cmp.Diff(map[string]string{"1": "40", "2": "40", "3": "30"}, got); diff != "" {
		t.Errorf("v4 primary (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, from, assoc string
		want              string
		found, complete   bool
	}{
		{"primary", "deals", `{"companies":{"results":[{"id":"30","type":"deal_to_company_unlabeled"},{"id":"40","type":"deal_to_company"},{"id":"40","type":"deal_to_company_unlabeled"}]}}`, "40", true, true},
		{"contact primary", "contacts", `{"companies":{"results":[{"id":30,"type":"contact_to_company_unlabeled"},{"id":40,"type":"contact_to_company"}]}}`, "40", true, true},
		{"unlabeled only", "deals", `{"companies":{"results":[{"id":"40","type":"deal_to_company_unlabeled"},{"id":"30","type":"deal_to_company_unlabeled"}]}}`, "30", true, true},
		{"engagements have none", "calls", `{"companies":{"results":[{"id":"40","type":"call_to_company"},{"id":"30","type":"call_to_company"}]}}`, "30", true, true},
		{"cut", "deals", `{"companies":{"results":[{"id":"40","type":"deal_to_company"}],"paging":{"next":{"after":"MTAw","link":"x"}}}}`, "40", true, false},
		{"other type only", "deals", `{"contacts":{"results":[{"id":"9","type":"deal_to_contact"}]}}`, "", false, true},
		{"none", "deals", ``, "", false, true},
		{"not an object", "deals", `[1]`, "", true, false},
		{"results not a list", "deals", `{"companies":{"results":{"id":"40"}}}`, "", true, false},
		{"id not numeric", "deals", `{"companies":{"results":[{"id":"x"}]}}`, "", true, false},
	} {
		o := object{Associations: json.RawMessage(tc.assoc)}
		ls, found, complete := o.inlineLinks(tc.from, "companies")
		if got := choose(ls); got != tc.want || found != tc.found || complete != tc.complete {
			t.Errorf("%s: %q found %v complete %v, want %q %v %v", tc.name, got, found, complete, tc.want, tc.found, tc.complete)
		}
	}
}

// A list page whose inline associations are whole is emitted at once:
// gathering more pages would save no batch read, and holds the records in
// memory for nothing. One cut list keeps the batch gathering, so that one
// batch read serves the batch.
func TestInlineWholeEmitsEachPage(t *testing.T) {
	srv, clk, c, co, ids := companyContacts(t, 250, func(int) bool { return true })
	pull := func() (sizes []int, links map[string]string) {
		t.Helper()
		links = map[string]string{}
		err := c.Pull(context.Background(), connectors.ObjectContacts, "", func(_ context.Context, p *connectors.Page) error {
			if len(p.Contacts) > 0 {
				sizes = append(sizes, len(p.Contacts))
			}
			for _, ct := range p.Contacts {
				links[ct.ID] = ct.CompanyID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return sizes, links
	}

	sizes, links := pull()
	if diff := cmp.Diff([]int{100, 100, 50}, sizes); diff != "" {
		t.Errorf("contacts by page, inline whole (-want +got):\n%s", diff)
	}
	if links[ids[0]] != co || links[ids[249]] != co || len(links) != 250 {
		t.Errorf("links: %d contacts, first %q, last %q; want 250, %s, %s", len(links), links[ids[0]], links[ids[249]], co, co)
	}
	if n := srv.Requests("POST /crm/v4/associations/contacts/companies/batch/read"); n != 0 {
		t.Errorf("batch reads, inline whole = %d, want 0", n)
	}

	// The first contact's list is cut past 100 companies: one batch of
	// all three pages, one batch read.
	var last string
	for i := 0; i < 100; i++ {
		last = srv.Create(hubspottest.Companies, map[string]string{"name": "D"})
		mustDo(t, srv.Associate(hubspottest.Contacts, ids[0], hubspottest.Companies, last))
	}
	clk.Advance(time.Minute)
	srv.ResetCounts()
	sizes, links = pull()
	if diff := cmp.Diff([]int{250}, sizes); diff != "" {
		t.Errorf("contacts by page, one list cut (-want +got):\n%s", diff)
	}
	if links[ids[0]] != co || links[ids[1]] != co {
		t.Errorf("links: first %q, second %q; want %s (the lowest id), %s", links[ids[0]], links[ids[1]], co, co)
	}
	if n := srv.Requests("POST /crm/v4/associations/contacts/companies/batch/read"); n != 1 {
		t.Errorf("batch reads, one list cut = %d, want 1", n)
	}
}

// A type named inline on an earlier page of the listing shows the server
// honours associations=: later pages that name it nowhere are not
// batch-read, as they were not when one batch of up to 1,000 held them
// all.
func TestInlineNamedEarlierTrustsSilence(t *testing.T) {
	srv, _, c, co, ids := companyContacts(t, 250, func(i int) bool { return i < 100 })
	w := newWarehouse()
	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if got := [3]string{w.contacts[ids[0]].CompanyID, w.contacts[ids[99]].CompanyID, w.contacts[ids[100]].CompanyID}; got != [3]string{co, co, ""} {
		t.Errorf("companies of contacts 0, 99, 100 = %q, want [%s %s \"\"]", got, co, co)
	}
	if n := srv.Requests("POST /crm/v4/associations/contacts/companies/batch/read"); n != 0 {
		t.Errorf("batch reads = %d, want 0", n)
	}
}

// A contact's associatedcompanyid (reference §2, a contact property) is
// its primary company, kept by every path: the list, the search of a later
// sync and the association re-read, also where the associations name no
// company (a server that fills the property only) or another one besides.
func TestAssociatedCompanyID(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	a := srv.Create(hubspottest.Companies, map[string]string{"name": "A"})
	b := srv.Create(hubspottest.Companies, map[string]string{"name": "B"})
	onlyProp := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "P", "associatedcompanyid": b})
	both := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "Q"})
	mustDo(t, srv.Associate(hubspottest.Contacts, both, hubspottest.Companies, a))
	mustDo(t, srv.Associate(hubspottest.Contacts, both, hubspottest.Companies, b, hubspottest.Primary(hubspottest.Contacts)))
	zero := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "Z", "associatedcompanyid": "0"})
	mustDo(t, srv.Associate(hubspottest.Contacts, zero, hubspottest.Companies, b))
	mustDo(t, srv.Associate(hubspottest.Contacts, zero, hubspottest.Companies, a))
	clk.Advance(time.Minute)
	c := newTestClient(t, srv, clk, nil)

	want := map[string]string{onlyProp: b, both: b, zero: a}
	wh := newWarehouse()
	check := func(when string) {
		t.Helper()
		got := map[string]string{}
		for _, id := range []string{onlyProp, both, zero} {
			got[id] = wh.contacts[id].CompanyID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: companies (-want +got):\n%s", when, diff)
		}
	}
	mustDo(t, wh.pull(t, c, connectors.ObjectContacts))
	check("full load")

	// A later sync a day on: every contact changed (search), and the
	// associations are re-read.
	clk.Advance(25 * time.Hour)
	for _, id := range []string{onlyProp, both, zero} {
		mustDo(t, srv.Update(hubspottest.Contacts, id, map[string]string{"lastname": "L"}))
	}
	clk.Advance(time.Minute)
	srv.ResetCounts()
	mustDo(t, wh.pull(t, c, connectors.ObjectContacts))
	if n := srv.Requests("POST /crm/v3/objects/contacts/search"); n != 1 {
		t.Errorf("searches = %d, want 1", n)
	}
	if n := srv.Requests("GET /crm/v3/objects/contacts"); n != 2 {
		t.Errorf("lists (archived, association re-read) = %d, want 2", n)
	}
	check("incremental with association re-read")
}
