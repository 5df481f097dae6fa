package sync

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestRecordLinksStored syncs each CRM's fake and checks that the first
// sync stores the connector's record links, that a second sync does not
// ask the CRM again (HubSpot's account details, the one link source that
// costs a request), and that a --full sync does: one request for the
// links beside the deals pull's one for the portal currency.
func TestRecordLinksStored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		new  connectortest.Factory
		// deal is the stored deal link; asks is the endpoint the links
		// cost, "" for none.
		deal, asks string
	}{
		{"hubspot", synctest.NewHubSpot, "https://app-eu1.hubspot.com/contacts/12345678/record/0-3/{id}", "GET /account-info/v3/details"},
		{"amocrm", synctest.NewAmoCRM, "/leads/detail/{id}", ""},
		{"bitrix24", synctest.NewBitrix24, "/crm/deal/details/{id}/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.new(t, connectortest.FakeOptions{})
			s := warehousetest.NewSQLite(t)
			syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
			var links []rows.RecordLink
			if err := s.ScanRecordLinks(context.Background(), func(r *rows.RecordLink) error { links = append(links, *r); return nil }); err != nil {
				t.Fatal(err)
			}
			var deal string
			for _, l := range links {
				if l.Connector != "crm" {
					t.Errorf("link of connector %q", l.Connector)
				}
				if l.Kind == rows.KindDeal {
					deal = l.URL
				}
				if strings.Contains(l.URL, "/rest/") {
					t.Errorf("link %s carries the webhook's path", l.URL)
				}
			}
			if !strings.HasSuffix(deal, tc.deal) || !strings.HasPrefix(deal, "http") {
				t.Errorf("stored deal link %q, want one ending in %q", deal, tc.deal)
			}
			for _, full := range []bool{false, true} {
				c.Faults.ResetCounts()
				syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), full)
				want := 0
				if full && tc.asks != "" {
					want = 2
				}
				if tc.asks != "" {
					if diff := cmp.Diff(want, c.Faults.RequestCounts()[tc.asks]); diff != "" {
						t.Errorf("full=%v: %s requests (-want +got):\n%s", full, tc.asks, diff)
					}
				}
			}
		})
	}
}
