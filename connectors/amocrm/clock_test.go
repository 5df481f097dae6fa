package amocrm

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// TestAccountClockNotOurs: the account's clock stamps updated_at, and a
// window started from our clock alone never sees a change it stamps before
// our now. Two hours behind, and stopped (a test server's fixed clock,
// which stamps every change at the second of the latest record), the
// change is read by the next run; the record read last is read again with
// it.
func TestAccountClockNotOurs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		behind time.Duration
		stop   bool
	}{
		{"two hours behind", 2 * time.Hour, false},
		{"stopped two hours behind", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := newClock()
			theirs := func() time.Time { return ours.Now().Add(-tc.behind) }
			if tc.stop {
				at := ours.Now().Add(-2 * time.Hour)
				theirs = func() time.Time { return at }
			}
			srv := newFake(t, ours, amocrmtest.WithClock(theirs))
			srv.Seed(amocrmtest.SeedConfig{Leads: 30, Companies: 3, Contacts: 6, Seed: 3, End: theirs()})
			if tc.stop {
				// A lead touched at the stopped second: the latest the
				// full pull reads, at the second the change will have.
				srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+1, amocrmtest.Object{"name": "Touched"})
			}
			c := newConn(t, srv, ours, nil)
			first := pull(t, c, connectors.ObjectDeals, "")
			if len(first.merged.Deals) != 30 {
				t.Fatalf("full pull: %d deals, want 30", len(first.merged.Deals))
			}
			last := lastRead(first.merged, false)

			ours.Advance(time.Hour)
			srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+7, amocrmtest.Object{"name": "Changed"})
			ours.Advance(time.Minute)
			next := pull(t, newConn(t, srv, ours, nil), connectors.ObjectDeals, first.cursor)
			if tc.stop {
				if diff := cmp.Diff(map[string]bool{fmt.Sprint("d", amocrmtest.FirstLeadID+1): true}, last); diff != "" {
					t.Fatalf("read last (-want +got):\n%s", diff)
				}
			}
			want := plus(last, fmt.Sprint("d", amocrmtest.FirstLeadID+7))
			if diff := cmp.Diff(want, recordIDs(connectors.Page{Deals: next.merged.Deals})); diff != "" {
				t.Errorf("next run's deals (-want +got):\n%s", diff)
			}
			for _, d := range next.merged.Deals {
				if d.ID == fmt.Sprint(amocrmtest.FirstLeadID+7) && d.Name != "Changed" {
					t.Errorf("lead %s named %q, want Changed", d.ID, d.Name)
				}
			}
		})
	}
}
