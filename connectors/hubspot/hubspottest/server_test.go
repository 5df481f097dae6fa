package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, s *Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %s", method, path, b)
	}
	return resp.StatusCode, m
}

// TestShapes checks the documented quirks the connector relies on.
func TestShapes(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewServer(WithToken("tok"), WithClock(func() time.Time { return now }), WithRateLimit(0, 0), WithSearchRateLimit(0))
	defer s.Close()
	a := s.Create(Deals, map[string]string{"dealname": "A", "amount": "10"})
	s.Create(Deals, map[string]string{"dealname": "B"})

	st, m := do(t, s, "GET", "/crm/v3/objects/deals?limit=1&properties=dealname,amount", "")
	res := m["results"].([]any)[0].(map[string]any)
	props := res["properties"].(map[string]any)
	if st != 200 || props["amount"] != "10" || len(props) != 2 || res["updatedAt"] != "2026-01-02T03:04:05Z" || m["paging"] == nil {
		t.Errorf("first page = %d %v", st, m)
	}
	after := m["paging"].(map[string]any)["next"].(map[string]any)["after"].(string)
	_, m = do(t, s, "GET", "/crm/v3/objects/deals?limit=1&properties=amount&after="+after, "")
	if _, ok := m["paging"]; ok {
		t.Errorf("last page has paging: %v", m)
	}
	if v, ok := m["results"].([]any)[0].(map[string]any)["properties"].(map[string]any)["amount"]; !ok || v != nil {
		t.Errorf("empty property = %v, %v; want null", v, ok)
	}
	if st, m := do(t, s, "POST", "/crm/v3/objects/deals/search", `{"limit":200,"after":"10000"}`); st != 400 || m["category"] != "VALIDATION_ERROR" {
		t.Errorf("search past the cap = %d %v", st, m)
	}
	if err := s.Archive(Deals, a); err != nil {
		t.Fatal(err)
	}
	if _, m := do(t, s, "POST", "/crm/v3/objects/deals/search", `{}`); m["total"] != 1.0 {
		t.Errorf("search lists archived: %v", m)
	}
	if _, m := do(t, s, "GET", "/crm/v3/objects/deals?archived=true", ""); len(m["results"].([]any)) != 1 {
		t.Errorf("archived listing = %v", m)
	}
	s.SetDailyLimit(1)
	do(t, s, "GET", "/crm/v3/owners", "")
	if st, m := do(t, s, "GET", "/crm/v3/owners", ""); st != 429 || m["policyName"] != "DAILY" {
		t.Errorf("daily = %d %v", st, m)
	}
}

// Account details answer the spec's PortalInformationResponse, and 403
// MISSING_SCOPES to a token without the oauth scope.
func TestAccountDetails(t *testing.T) {
	s := NewServer(WithToken("tok"), WithRateLimit(0, 0), WithCompanyCurrency("EUR"))
	defer s.Close()
	st, m := do(t, s, "GET", "/account-info/v3/details", "")
	for _, k := range []string{"accountType", "additionalCurrencies", "companyCurrency", "dataHostingLocation", "portalId", "timeZone", "uiDomain", "utcOffset", "utcOffsetMilliseconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("account details lack %s: %v", k, m)
		}
	}
	if st != 200 || m["companyCurrency"] != "EUR" {
		t.Errorf("account details = %d %v, want 200 with EUR", st, m)
	}
	s.AddToken("tok", ScopeContacts, ScopeCompanies, ScopeDeals, ScopeOwners)
	st, m = do(t, s, "GET", "/account-info/v3/details", "")
	errs, _ := m["errors"].([]any)
	if st != 403 || m["category"] != "MISSING_SCOPES" || len(errs) != 1 ||
		fmt.Sprint(errs[0].(map[string]any)["context"]) != "map[requiredGranularScopes:[oauth]]" {
		t.Errorf("account details without oauth = %d %v, want 403 MISSING_SCOPES naming oauth", st, m)
	}
}

// The list endpoints' associations parameter: per asked type a
// CollectionResponseAssociatedId of v3 type names (the primary company
// twice, once per type), none for a record without associations, and a
// list past InlineAssociationLimit entries cut with paging.next.
func TestInlineAssociations(t *testing.T) {
	s := NewServer(WithToken("tok"), WithRateLimit(0, 0), WithSearchRateLimit(0))
	defer s.Close()
	d1 := s.Create(Deals, map[string]string{"dealname": "A"})
	s.Create(Deals, map[string]string{"dealname": "B"})
	co := s.Create(Companies, map[string]string{"name": "C"})
	co2 := s.Create(Companies, map[string]string{"name": "D"})
	ct := s.Create(Contacts, map[string]string{"firstname": "E"})
	if err := s.Associate(Deals, d1, Companies, co, Primary(Deals), defaultType(Deals, Companies)); err != nil {
		t.Fatal(err)
	}
	if err := s.Associate(Deals, d1, Companies, co2); err != nil {
		t.Fatal(err)
	}
	if err := s.Associate(Deals, d1, Contacts, ct, AssociationType{Category: "USER_DEFINED", TypeID: 17, Label: "Decision maker"}); err != nil {
		t.Fatal(err)
	}
	_, m := do(t, s, "GET", "/crm/v3/objects/deals?limit=2&associations=companies,contact", "")
	b, _ := json.Marshal(m["results"].([]any)[0].(map[string]any)["associations"])
	want := `{"companies":{"results":[{"id":"` + co + `","type":"deal_to_company"},{"id":"` + co + `","type":"deal_to_company_unlabeled"},` +
		`{"id":"` + co2 + `","type":"deal_to_company_unlabeled"}]},"contacts":{"results":[{"id":"` + ct + `","type":"decision_maker"}]}}`
	if string(b) != want {
		t.Errorf("associations = %s\nwant %s", b, want)
	}
	if a, ok := m["results"].([]any)[1].(map[string]any)["associations"]; ok {
		t.Errorf("deal without associations has %v", a)
	}
	// From the contact: the reverse, unlabeled default.
	_, m = do(t, s, "GET", "/crm/v3/objects/contacts?associations=deals", "")
	if b, _ := json.Marshal(m["results"].([]any)[0].(map[string]any)["associations"]); string(b) != `{"deals":{"results":[{"id":"`+d1+`","type":"contact_to_deal"}]}}` {
		t.Errorf("contact associations = %s", b)
	}

	for i := 0; i < InlineAssociationLimit+1; i++ {
		c := s.Create(Contacts, nil)
		if err := s.Associate(Deals, d1, Contacts, c); err != nil {
			t.Fatal(err)
		}
	}
	_, m = do(t, s, "GET", "/crm/v3/objects/deals?limit=1&associations=contacts", "")
	col := m["results"].([]any)[0].(map[string]any)["associations"].(map[string]any)["contacts"].(map[string]any)
	next, _ := col["paging"].(map[string]any)["next"].(map[string]any)
	if n := len(col["results"].([]any)); n != InlineAssociationLimit || next["after"] != "MTAw" ||
		next["link"] != s.URL+"/crm/v3/objects/deals/"+d1+"/associations/contacts?after=MTAw" {
		t.Errorf("cut list: %d results, paging %v", n, col["paging"])
	}
}
