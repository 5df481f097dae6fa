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
