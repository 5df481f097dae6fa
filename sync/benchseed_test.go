package sync

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestBenchIncremental runs BenchmarkSync's fakes, seeded as the benchmark
// seeds them, through a full sync and an incremental one after the
// benchmark's 1% edit, and counts what the incremental sync read: the
// edited records and the objects that have no change filter, nothing of
// the seed. A seed stamped inside a connector's overlap window made every
// incremental phase of the benchmark re-read most of the data set
// (Bitrix24 all of it), which measured the seed, not the connector. The
// fakes and connectors run without rate limits: what is counted is
// records, and the limits would only make the test wait on the clock.
func TestBenchIncremental(t *testing.T) {
	t.Parallel()
	const n = 1000 // main records; the edit touches every 100th
	want := map[string]map[string]int{
		// The owners (8, one archived) and the stages of the two
		// pipelines (5+3) have no change filter.
		"hubspot": {"users": 8, "stages": 8, "contacts": 10, "companies": 0, "deals": 0,
			"calls": 0, "emails": 0, "meetings": 0, "notes": 0, "tasks": 0},
		// Users (8) and pipelines have no change filter: the stages of
		// the two, 3+2, each with amoCRM's won and lost (142, 143). Each
		// windowed object reads again the record the full sync read
		// last: the seed, a day old, is behind the sync's clock, so the
		// window starts at it (connectors.NextWindow; amoCRM's filter
		// is inclusive): the 10 edited deals and one more.
		"amocrm": {"users": 8, "stages": 9, "deals": 11, "companies": 1, "contacts": 1, "tasks": 1, "notes": 1, "events": 1},
		// Users (2) and the stages of the two pipelines (4+3) are
		// re-read. As for amoCRM, each windowed object reads again the
		// record the full sync read last, the one SeedUniform stamped
		// latest: the seed is older than the sync's clock less the
		// overlap, so the window starts at it (connectors.NextWindow;
		// the >=DATE_MODIFY filter is inclusive): the 10 edited deals
		// and one more.
		"bitrix24": {"users": 2, "stages": 7, "deals": 11, "companies": 1, "contacts": 1, "activities": 1},
	}
	for _, tc := range benchCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := connectortest.NewClock(time.Now().UTC().Truncate(time.Second))
			fake := tc.setup(t, n, 0, clock.Now, false)
			s := warehousetest.NewSQLite(t)
			unpaced := connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000}
			run := func(full bool) map[string]int {
				var conn connectors.Connector
				var err error
				switch tc.name {
				case "hubspot":
					conn, err = hubspot.New(hubspot.Options{Name: "hs", BaseURL: fake.url, Token: fake.token, Now: clock.Now,
						HTTPOptions: unpaced, SearchRateLimit: 1e6})
				case "amocrm":
					conn, err = amocrm.New(amocrm.Options{Name: "amo", BaseURL: fake.url, Token: fake.token, Now: clock.Now, HTTPOptions: unpaced})
				case "bitrix24":
					conn, err = bitrix24.New(bitrix24.Options{Name: "b24", WebhookURL: fake.url, Now: clock.Now, HTTPOptions: unpaced})
				}
				if err != nil {
					t.Fatal(err)
				}
				e := &Engine{Store: s, Now: clock.Now}
				sum, err := e.Run(context.Background(), []Job{{Connector: conn, Full: full}})
				if err == nil {
					err = sum.Err()
				}
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				got := map[string]int{}
				for _, c := range sum.Connectors {
					for _, o := range c.Objects {
						got[string(o.Object)] = o.Records
					}
				}
				return got
			}
			run(true)
			// A scheduled re-sync an hour later, after a user edited 1%
			// of the main records.
			clock.Advance(30 * time.Minute)
			if k := fake.change(1); k != n/100 {
				t.Fatalf("changed %d records, want %d", k, n/100)
			}
			clock.Advance(30 * time.Minute)
			if diff := cmp.Diff(want[tc.name], run(false)); diff != "" {
				t.Errorf("records of the incremental sync (-want +got):\n%s", diff)
			}
		})
	}
}
