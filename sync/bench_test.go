package sync

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// benchLatency is the fake's delay on every answer, a CRM's usual.
const benchLatency = 50 * time.Millisecond

// benchRecords is the size of the data set: $CRMKPI_BENCH_RECORDS, default
// 5000 (about a minute for the three connectors).
func benchRecords(b *testing.B) int {
	n := 5000
	if v := os.Getenv("CRMKPI_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("CRMKPI_BENCH_RECORDS=%q: want a number of at least 100", v)
		}
	}
	return n
}

// benchConn is a connector with its vendor's documented defaults (rate
// limit, burst, page sizes) and its HTTP counters.
type benchConn interface {
	connectors.Connector
	Stats() connectors.ClientStats
}

// BenchmarkSync syncs each connector from its fake, which enforces the
// CRM's documented rate limit and answers after 50 ms, into SQLite: a
// --full sync of every object, as a first sync does. It reports the
// throughput beside the bound the rate limit allows: requests/s × the
// most records one request may bring.
func BenchmarkSync(b *testing.B) {
	n := benchRecords(b)
	cases := []struct {
		name string
		// bound is the documented requests/s × records per request.
		bound float64
		setup func(b *testing.B) benchConn
	}{
		{"hubspot", 10 * 100, func(b *testing.B) benchConn {
			// 100 requests per rolling 10 s (the fake's default windows,
			// search 5/s); list pages of 100.
			const token = "pat-na1-11111111-2222-3333-4444-555555555555"
			srv := hubspottest.NewServer(hubspottest.WithToken(token), hubspottest.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			// 16 records per company: 3 contacts, 2 deals, 10 engagements.
			if err := srv.Seed(hubspottest.World{Seed: 1, Companies: max(1, n/16)}); err != nil {
				b.Fatal(err)
			}
			c, err := hubspot.New(hubspot.Options{Name: "hs", BaseURL: srv.URL, Token: token})
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
		{"amocrm", 7 * 250, func(b *testing.B) benchConn {
			// 7 requests/s (the fake's default); list pages of 250.
			srv := amocrmtest.NewServer(amocrmtest.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			srv.Seed(amocrmtest.SeedConfig{Users: 8, Companies: n / 10, Contacts: n / 5, Leads: n * 3 / 10, Tasks: n / 10,
				Notes: n / 5, Messages: n / 10, Seed: 1})
			c, err := amocrm.New(amocrm.Options{Name: "amo", BaseURL: srv.URL, Token: srv.Token()})
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
		{"bitrix24", 2 * 2500, func(b *testing.B) benchConn {
			// The leaky bucket: 2 requests/s, 50 deep (the fake's
			// default); a batch of 50 list calls brings 2,500 rows.
			srv := bitrix24test.NewServer(bitrix24test.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			seedBitrix24(srv, n/4)
			c, err := bitrix24.New(bitrix24.Options{Name: "b24", WebhookURL: srv.WebhookURL()})
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			conn := tc.setup(b)
			s := warehousetest.NewSQLite(b)
			e := &Engine{Store: s}
			recs := 0
			for b.Loop() {
				sum, err := e.Run(context.Background(), []Job{{Connector: conn, Full: true}})
				if err != nil || sum.Failed() {
					b.Fatalf("sync: %v %v", err, sum.Err())
				}
				recs += records(sum)
			}
			st := conn.Stats()
			perSec := float64(recs) / b.Elapsed().Seconds()
			b.ReportMetric(perSec, "records/s")
			b.ReportMetric(float64(recs)/float64(b.N), "records/op")
			b.ReportMetric(float64(st.Requests)/float64(b.N), "requests/op")
			b.ReportMetric(float64(recs)/float64(max(st.Requests, 1)), "records/request")
			b.ReportMetric(float64(st.RateLimited), "429s")
			b.ReportMetric(float64(st.Requests)/b.Elapsed().Seconds(), "requests/s")
			b.ReportMetric(tc.bound, "bound-records/s")
			b.ReportMetric(100*perSec/tc.bound, "%bound")
			b.ReportMetric(0, "ns/op")
		})
	}
}
