package hubspot

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// BenchmarkFullSync pulls a seeded portal of CRMKPI_BENCH_RECORDS records
// (default 20,000) from the fake with HubSpot's limits enforced (100 per
// rolling 10 s, search 5/s) and 50 ms latency per request, all objects
// concurrently as the sync engine runs them, with the connector's default
// rate limits.
func BenchmarkFullSync(b *testing.B) {
	n := 20000
	if v := os.Getenv("CRMKPI_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	clk := newClock()
	srv := hubspottest.NewServer(hubspottest.WithClock(clk.Now), hubspottest.WithToken(testToken),
		hubspottest.WithLatency(50*time.Millisecond))
	defer srv.Close()
	// Companies : contacts : deals : activities = 1 : 3 : 2 : 10.
	co := max(n/16, 1)
	if err := srv.Seed(hubspottest.World{Seed: 1, Now: clk.Now(), Companies: co, Contacts: 3 * co, Deals: 2 * co, Activities: n - 6*co}); err != nil {
		b.Fatal(err)
	}
	var records, requests int
	var elapsed time.Duration
	var rateLimited int64
	for b.Loop() {
		srv.ResetCounts()
		c, err := New(Options{Name: "bench", BaseURL: srv.URL, Token: testToken, Now: clk.Now})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var mu sync.Mutex
		records = 0
		var wg sync.WaitGroup
		errs := make([]error, len(c.Objects()))
		for i, obj := range c.Objects() {
			wg.Go(func() {
				w := newWarehouse()
				errs[i] = w.pull(b, c, obj)
				mu.Lock()
				records += w.seen[obj]
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		requests = srv.TotalRequests()
		rateLimited += c.Stats().RateLimited
	}
	b.ReportMetric(float64(records)*float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(requests), "records/request")
	b.ReportMetric(float64(rateLimited)/float64(b.N), "429s/op")
	_ = connectors.ObjectUsers
}
