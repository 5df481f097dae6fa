package hubspot

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// TestRecordLinks reads the portal id and UI domain from the fake's
// account details (portalId 12345678 on app-eu1.hubspot.com, the shape of
// HubSpot's "Retrieve account details" answer) and builds every record
// page from them, in one request.
func TestRecordLinks(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	c := newTestClient(t, srv, clk, nil)
	got, err := c.RecordLinks(context.Background())
	if err != nil {
		t.Fatalf("RecordLinks: %v", err)
	}
	base := "https://app-eu1.hubspot.com/contacts/12345678/record/"
	want := []connectors.RecordLink{
		{Kind: "contact", URL: base + "0-1/{id}"},
		{Kind: "company", URL: base + "0-2/{id}"},
		{Kind: "deal", URL: base + "0-3/{id}"},
		{Kind: "task", URL: base + "0-27/{id}"},
		{Kind: "note", URL: base + "0-46/{id}"},
		{Kind: "meeting", URL: base + "0-47/{id}"},
		{Kind: "call", URL: base + "0-48/{id}"},
		{Kind: "email", URL: base + "0-49/{id}"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RecordLinks mismatch (-want +got):\n%s", diff)
	}
	if n := srv.Requests("GET /account-info/v3/details"); n != 1 {
		t.Errorf("account details read %d times, want 1", n)
	}
}

// TestRecordLinksNoScope: a private app without the oauth scope cannot
// read the portal id; RecordLinks says so as the AuthError HubSpot's 403
// is, and makes no links up.
func TestRecordLinksNoScope(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, hubspottest.WithToken("pat-other", hubspottest.ScopeDeals))
	c := newTestClient(t, srv, clk, func(o *Options) { o.Token = "pat-other" })
	links, err := c.RecordLinks(context.Background())
	var ae *connectors.AuthError
	if !errors.As(err, &ae) || ae.Status != 403 {
		t.Fatalf("RecordLinks without the oauth scope = %v, %v; want a 403 AuthError", links, err)
	}
	if links != nil {
		t.Errorf("links = %v, want none", links)
	}
}
