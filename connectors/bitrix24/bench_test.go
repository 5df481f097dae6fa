package bitrix24

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
)

// BenchmarkFullSync pulls a whole portal (CRMKPI_BENCH_RECORDS records,
// default 20,000, split over companies, contacts, deals and activities)
// from the fake with the vendor's leaky bucket (2/s, 50) enforced, 50 ms
// latency per request, and the client's default limiter.
func BenchmarkFullSync(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("CRMKPI_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	clk := newClock(t0)
	srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithLatency(50*time.Millisecond))
	defer srv.Close()
	seed(srv, n/4)
	c, err := New(Options{Name: "bench", WebhookURL: srv.WebhookURL(), Now: clk.Now,
		Fields: map[string]string{"nps_score": "UF_CRM_NPS", "deal_expense": "UF_CRM_EXPENSE", "key_client": "UF_CRM_KEY"}})
	if err != nil {
		b.Fatal(err)
	}
	var records, requests int
	start := time.Now()
	for b.Loop() {
		for _, obj := range c.Objects() {
			err := c.Pull(context.Background(), obj, "", func(_ context.Context, p *connectors.Page) error {
				records += p.Len()
				requests += p.Requests
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(records)/secs, "records/s")
	b.ReportMetric(float64(records)/float64(requests), "records/request")
	b.ReportMetric(float64(srv.Rejected()), "503s")
	b.ReportMetric(float64(c.Stats().RateLimited), "rate-limited")
}
