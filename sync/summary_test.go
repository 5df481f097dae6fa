package sync

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// TestWriteSummary: one line per object with its counts in the right
// number ("1 record", "2 pages") and its duration as people read it, then
// the failures.
func TestWriteSummary(t *testing.T) {
	sum := &Summary{Connectors: []ConnectorResult{
		{Connector: "hs", Objects: []ObjectResult{
			{Connector: "hs", Object: connectors.ObjectDeals, Records: 1, Pages: 1, Requests: 1, Duration: 340 * time.Millisecond},
			{Connector: "hs", Object: connectors.ObjectCompanies, Records: 1200, Pages: 12, Requests: 13, Duration: 5*time.Minute + 3*time.Second, Deleted: 2},
			{Connector: "hs", Object: connectors.ObjectUsers, Err: errors.New("hs users: authentication failed (HTTP 401)"), Duration: 2540 * time.Millisecond},
		}},
		{Connector: "b24", Skipped: "locked by kpi-1:77"},
	}}
	var b strings.Builder
	WriteSummary(&b, sum)
	want := "b24: skipped: locked by kpi-1:77\n" +
		"hs  deals        ok                 1 record       1 page       1 request     340ms\n" +
		"hs  companies    ok              1200 records     12 pages     13 requests    5m 3s 2 flagged deleted\n" +
		"hs  users        FAILED             0 records      0 pages      0 requests     2.5s\n" +
		"\nfailures:\n  hs users: authentication failed (HTTP 401)\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteSummary (-want +got):\n%s", diff)
	}
}

func TestMassDeleteErrorPlurals(t *testing.T) {
	for _, tt := range []struct {
		e    MassDeleteError
		want string
	}{
		{MassDeleteError{Connector: "b24", Stored: 1, MinShare: 0.5},
			"the CRM listed no ids while 1 record is stored; refusing to flag every stored record deleted (if the CRM really lost them, run crmkpi sync --connector b24 --allow-mass-delete)"},
		{MassDeleteError{Connector: "b24", Listed: 1, Stored: 3, MinShare: 0.5},
			"the CRM listed 1 id while 3 records are stored, under the 50% a listing must hold; refusing to flag up to 2 stored records deleted (if the CRM really lost them, run crmkpi sync --connector b24 --allow-mass-delete)"},
		{MassDeleteError{Connector: "b24", Listed: 2, Stored: 5, MinShare: 0.5},
			"the CRM listed 2 ids while 5 records are stored, under the 50% a listing must hold; refusing to flag up to 3 stored records deleted (if the CRM really lost them, run crmkpi sync --connector b24 --allow-mass-delete)"},
		{MassDeleteError{Connector: "b24", Listed: 2, Stored: 3, MinShare: 0.8},
			"the CRM listed 2 ids while 3 records are stored, under the 80% a listing must hold; refusing to flag up to 1 stored record deleted (if the CRM really lost them, run crmkpi sync --connector b24 --allow-mass-delete)"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.e, got, tt.want)
		}
	}
}
