package bitrix24

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// TestRecordLinks builds the record pages from the portal's host: the
// webhook's secret path never reaches a link; an OAuth base URL gives the
// same host.
func TestRecordLinks(t *testing.T) {
	want := []connectors.RecordLink{
		{Kind: "deal", URL: "https://portal.bitrix24.ru/crm/deal/details/{id}/"},
		{Kind: "contact", URL: "https://portal.bitrix24.ru/crm/contact/details/{id}/"},
		{Kind: "company", URL: "https://portal.bitrix24.ru/crm/company/details/{id}/"},
	}
	for _, o := range []Options{
		{WebhookURL: "https://portal.bitrix24.ru/rest/1/s3cr3tc0de/"},
		{BaseURL: "https://portal.bitrix24.ru/rest/", Token: "tok"},
	} {
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.RecordLinks(context.Background())
		if err != nil {
			t.Fatalf("RecordLinks: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RecordLinks mismatch (-want +got):\n%s", diff)
		}
		for _, l := range got {
			if strings.Contains(l.URL, "s3cr3tc0de") || strings.Contains(l.URL, "/rest/") {
				t.Errorf("link %s carries the webhook's path", l.URL)
			}
		}
	}
}
