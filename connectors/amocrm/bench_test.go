package amocrm

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// BenchmarkFullSync pulls every object of a seeded account from the fake
// with amoCRM's limit enforced on both sides (7 requests/s) and 50 ms of
// latency per request, objects concurrently as the sync engine runs them.
// Size: CRMKPI_BENCH_RECORDS (default 20000).
func BenchmarkFullSync(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("CRMKPI_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	srv := amocrmtest.NewServer(amocrmtest.WithLatency(50 * time.Millisecond))
	defer srv.Close()
	srv.Seed(amocrmtest.SeedConfig{
		Users: 20, Companies: n / 10, Contacts: n / 4, Leads: n * 2 / 5, Tasks: n / 10, Notes: n / 10, Messages: n / 20, Seed: 42,
	})
	var records, requests, limited int64
	start := time.Now()
	for b.Loop() {
		c, err := New(Options{Name: "amo", BaseURL: srv.URL, Token: srv.Token()})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(c.Objects()))
		for _, obj := range c.Objects() {
			wg.Go(func() {
				errs <- c.Pull(context.Background(), obj, "", func(_ context.Context, p *connectors.Page) error {
					atomic.AddInt64(&records, int64(p.Len()))
					return nil
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		st := c.Stats()
		requests += st.Requests
		limited += st.RateLimited
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(records)/secs, "records/s")
	b.ReportMetric(float64(records)/float64(max(requests, 1)), "records/request")
	b.ReportMetric(float64(limited)/float64(b.N), "429s/op")
}
