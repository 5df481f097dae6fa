package amocrm

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// TestRecordLinks builds the record pages from base_url's host alone, with
// no request: a trailing path or slash in the config changes nothing.
func TestRecordLinks(t *testing.T) {
	for _, base := range []string{"https://example.amocrm.ru", "https://example.amocrm.ru/", "https://example.amocrm.ru/api/v4"} {
		c, err := New(Options{BaseURL: base, Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.RecordLinks(context.Background())
		if err != nil {
			t.Fatalf("RecordLinks(%s): %v", base, err)
		}
		want := []connectors.RecordLink{
			{Kind: "deal", URL: "https://example.amocrm.ru/leads/detail/{id}"},
			{Kind: "contact", URL: "https://example.amocrm.ru/contacts/detail/{id}"},
			{Kind: "company", URL: "https://example.amocrm.ru/companies/detail/{id}"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RecordLinks(%s) mismatch (-want +got):\n%s", base, diff)
		}
	}
}
