package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// benchLatency is the fake's delay on every answer, a CRM's usual.
const benchLatency = 50 * time.Millisecond

// benchRecords is the size of the data set, counted in the connector's
// main object (HubSpot contacts, amoCRM leads, Bitrix24 deals):
// $CRMKPI_BENCH_RECORDS, default 5000 (a few minutes for the three
// connectors). 200000 takes about 15 minutes; not for CI.
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

// benchFake is a fake CRM serving a data set for the child sync.
type benchFake struct {
	url, token string
	// counts are the requests the fake saw, by endpoint or method.
	counts func() map[string]int
}

// benchResult is what sync/internal/benchsync prints.
type benchResult struct {
	Records      int            `json:"records"`
	Requests     int64          `json:"requests"`
	RateLimited  int64          `json:"rate_limited"`
	Seconds      float64        `json:"seconds"`
	Objects      map[string]int `json:"objects"`
	ObjRequests  map[string]int `json:"object_requests"`
	PeakHeapLive uint64         `json:"peak_heap_live"`
	PeakRSS      uint64         `json:"peak_rss"`
}

// buildBenchsync builds the child sync binary into dir.
func buildBenchsync(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "benchsync")
	// go test puts its own toolchain first on PATH.
	cmd := exec.Command("go", "build", "-o", bin, "github.com/crmkpi/crmkpi/sync/internal/benchsync")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build benchsync: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkSync runs one --full sync of each connector, as a first sync
// does, from its fake into SQLite, or into a new schema of the PostgreSQL
// database $BENCHSYNC_DSN names. The fake enforces the CRM's documented
// rate limit and answers after 50 ms; it is served by this process, while
// the sync runs in a child process (sync/internal/benchsync) with the
// connector at its defaults, so the peak RSS reported, the child's VmHWM,
// is the sync's alone.
//
// It reports the throughput beside the bound the rate limit allows:
// requests/s × the most records one request may bring.
func BenchmarkSync(b *testing.B) {
	n := benchRecords(b)
	bin := buildBenchsync(b, b.TempDir())
	cases := []struct {
		name string
		// bound is the documented requests/s × records per request.
		bound float64
		setup func(b *testing.B) benchFake
	}{
		{"hubspot", 10 * 100, func(b *testing.B) benchFake {
			// 100 requests per rolling 10 s (the fake's default windows,
			// search 5/s); list pages of 100.
			const token = "pat-na1-11111111-2222-3333-4444-555555555555"
			srv := hubspottest.NewServer(hubspottest.WithToken(token), hubspottest.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			// n contacts, 10 a company; n/10 deals; n/5 engagements over
			// the five types.
			if err := srv.Seed(hubspottest.World{Seed: 1, Companies: max(1, n/10), Contacts: n, Deals: max(1, n/10), Activities: max(1, n/5)}); err != nil {
				b.Fatal(err)
			}
			return benchFake{url: srv.URL, token: token, counts: srv.RequestCounts}
		}},
		{"amocrm", 7 * 250, func(b *testing.B) benchFake {
			// 7 requests/s (the fake's default); list pages of 250.
			srv := amocrmtest.NewServer(amocrmtest.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			srv.Seed(amocrmtest.SeedConfig{Users: 8, Companies: n / 10, Contacts: n / 5, Leads: n, Tasks: n / 10,
				Notes: n / 10, Messages: n / 20, Seed: 1})
			return benchFake{url: srv.URL, token: srv.Token(), counts: func() map[string]int { return nil }}
		}},
		{"bitrix24", 2 * 2500, func(b *testing.B) benchFake {
			// The leaky bucket: 2 requests/s, 50 deep (the fake's
			// default); a batch of 50 list calls brings 2,500 rows.
			srv := bitrix24test.NewServer(bitrix24test.WithLatency(benchLatency))
			b.Cleanup(srv.Close)
			// n deals and n activities; n/10 companies and contacts.
			srv.SeedUniform(n/10, n/10, n, n)
			methods := []string{"batch", "server.time", "user.get", "crm.status.list", "crm.category.list",
				"crm.company.list", "crm.contact.list", "crm.deal.list", "crm.activity.list"}
			return benchFake{url: srv.WebhookURL(), counts: func() map[string]int {
				m := map[string]int{}
				for _, meth := range methods {
					if k := srv.Requests(meth); k > 0 {
						m[meth] = k
					}
				}
				return m
			}}
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			fake := tc.setup(b)
			dir := b.TempDir()
			var recs, i int
			var reqs, limited int64
			var secs, peakRSS, maxrssKiB, peakHeap float64
			for b.Loop() {
				i++
				cmd := exec.CommandContext(context.Background(), bin, "-connector", tc.name, "-url", fake.url,
					"-db", filepath.Join(dir, fmt.Sprintf("crmkpi%d.db", i)))
				cmd.Env = append(os.Environ(), "BENCHSYNC_TOKEN="+fake.token)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("benchsync: %v\n%s", err, stderr.Bytes())
				}
				var res benchResult
				if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
					b.Fatalf("benchsync output %q: %v", stdout.Bytes(), err)
				}
				// The child's own peak (VmHWM). Maxrss (KiB on Linux) is
				// kept to show it is not the child's: it is never below this
				// process's own peak RSS at the start (see benchsync).
				peakRSS = max(peakRSS, float64(res.PeakRSS))
				maxrssKiB = max(maxrssKiB, float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss))
				peakHeap = max(peakHeap, float64(res.PeakHeapLive))
				recs += res.Records
				reqs += res.Requests
				limited += res.RateLimited
				secs += res.Seconds
				b.Logf("%s: %d records %v in %.1f s; requests by object %v; by endpoint %v", tc.name, res.Records, res.Objects, res.Seconds, res.ObjRequests, fake.counts())
			}
			perSec := float64(recs) / secs
			b.ReportMetric(perSec, "records/s")
			b.ReportMetric(float64(recs)/float64(b.N), "records/op")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(recs)/float64(max(reqs, 1)), "records/request")
			b.ReportMetric(float64(limited), "429s")
			b.ReportMetric(float64(reqs)/secs, "requests/s")
			b.ReportMetric(tc.bound, "bound-records/s")
			b.ReportMetric(100*perSec/tc.bound, "%bound")
			b.ReportMetric(peakRSS/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(maxrssKiB/1024, "rusage-maxrss-MiB")
			b.ReportMetric(peakHeap/(1<<20), "peak-live-heap-MiB")
			b.ReportMetric(0, "ns/op")
		})
	}
}
