package sync

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// benchLatency is the fake's delay on every answer: $CRMKPI_BENCH_LATENCY
// (a time.Duration), default 50 ms, a CRM's usual.
func benchLatency(b *testing.B) time.Duration {
	d := 50 * time.Millisecond
	if v := os.Getenv("CRMKPI_BENCH_LATENCY"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 0 {
			b.Fatalf("CRMKPI_BENCH_LATENCY=%q: want a duration such as 50ms", v)
		}
	}
	return d
}

// benchResyncs is how many incremental syncs, each after another 1% of the
// main records changed, the incr1pct phase runs per iteration:
// $CRMKPI_BENCH_RESYNCS, default 1. Its 429s are the total over them all.
func benchResyncs(b *testing.B) int {
	n := 1
	if v := os.Getenv("CRMKPI_BENCH_RESYNCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("CRMKPI_BENCH_RESYNCS=%q: want a number of at least 1", v)
		}
	}
	return n
}

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
	// change edits every 100th record of the main object through the
	// fake's own API, as a user in the CRM would, moving its modification
	// time to now; it returns how many it changed.
	change func(round int) int
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
	// maxrss is the child's rusage Maxrss, in bytes, read by the parent.
	maxrss uint64
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

// benchSeedAge is how long before the first sync the fakes' seeded
// records were last modified. A scheduled re-sync finds most of an account
// untouched for longer than any connector's overlap (Bitrix24 re-reads
// the last hour of its window, HubSpot 10 minutes, amoCRM a second); a
// seed stamped at now would fall inside it and be read again by every
// incremental sync, hiding what the 1% changed costs.
const benchSeedAge = 24 * time.Hour

// benchCase is one connector of BenchmarkSync.
type benchCase struct {
	name string
	// rate is the documented requests/s; perRequest the most records
	// one request may bring. Their product is the flat bound.
	rate, perRequest float64
	// pageMax is the most records one request brings for the objects
	// whose endpoint documents a smaller page than perRequest (amoCRM's
	// events: 100). The bound is the rate × the records a sync would
	// bring per request if every request carried its endpoint's most.
	pageMax map[string]float64
	// settle is how long the fake's rate-limit window takes to forget a
	// sync: a re-sync starts a new process whose limiter starts empty, as
	// a scheduled one minutes later would find it.
	settle time.Duration
	// setup serves n main records, answering after lat; now is the
	// fake's clock, which stamps the edits of change. With limited the
	// fake enforces the documented rate limit, on the real clock; without,
	// none (TestBenchIncremental counts records, and would only wait).
	// Records are seeded benchSeedAge before now.
	setup func(tb testing.TB, n int, lat time.Duration, now func() time.Time, limited bool) benchFake
}

var benchCases = []benchCase{
	{"hubspot", 10, 100, nil, 10 * time.Second, func(tb testing.TB, n int, lat time.Duration, now func() time.Time, limited bool) benchFake {
		// 100 requests per rolling 10 s (the fake's default windows,
		// search 5/s); list pages of 100.
		const token = "pat-na1-11111111-2222-3333-4444-555555555555"
		opts := []hubspottest.Option{hubspottest.WithToken(token), hubspottest.WithLatency(lat), hubspottest.WithClock(now)}
		if !limited {
			opts = append(opts, hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
		}
		srv := hubspottest.NewServer(opts...)
		tb.Cleanup(srv.Close)
		// n contacts, 10 a company; n/10 deals; n/5 engagements over
		// the five types.
		if err := srv.Seed(hubspottest.World{Seed: 1, Now: now().Add(-benchSeedAge), Companies: max(1, n/10), Contacts: n,
			Deals: max(1, n/10), Activities: max(1, n/5)}); err != nil {
			tb.Fatal(err)
		}
		return benchFake{url: srv.URL, token: token, counts: srv.RequestCounts, change: func(round int) int {
			k := 0
			for i, r := range srv.Records("contacts") {
				if i%100 == 0 {
					if err := srv.Update("contacts", r.ID, map[string]string{"firstname": fmt.Sprintf("Changed %d", round)}); err != nil {
						tb.Fatal(err)
					}
					k++
				}
			}
			return k
		}}
	}},
	{"amocrm", 7, 250, map[string]float64{"events": 100}, time.Second, func(tb testing.TB, n int, lat time.Duration, now func() time.Time, limited bool) benchFake {
		// 7 requests/s (the fake's default); list pages of 250.
		opts := []amocrmtest.Option{amocrmtest.WithLatency(lat), amocrmtest.WithClock(now)}
		if !limited {
			opts = append(opts, amocrmtest.WithRateLimit(0, 0))
		}
		srv := amocrmtest.NewServer(opts...)
		tb.Cleanup(srv.Close)
		srv.Seed(amocrmtest.SeedConfig{Users: 8, Companies: n / 10, Contacts: n / 5, Leads: n, Tasks: n / 10,
			Notes: n / 10, Messages: n / 20, Seed: 1, End: now().Add(-benchSeedAge)})
		return benchFake{url: srv.URL, token: srv.Token(), counts: func() map[string]int { return nil }, change: func(round int) int {
			k := 0
			for i, o := range srv.Objects(amocrmtest.Leads) {
				if i%100 == 0 {
					id, _ := strconv.ParseInt(fmt.Sprint(o["id"]), 10, 64)
					if !srv.Update(amocrmtest.Leads, id, amocrmtest.Object{"name": fmt.Sprintf("Changed %d", round)}) {
						tb.Fatalf("amocrm: update lead %v", o["id"])
					}
					k++
				}
			}
			return k
		}}
	}},
	{"bitrix24", 2, 2500, nil, 25 * time.Second, func(tb testing.TB, n int, lat time.Duration, now func() time.Time, limited bool) benchFake {
		// The leaky bucket: 2 requests/s, 50 deep (the fake's default);
		// a batch of 50 list calls brings 2,500 rows. SeedUniform stamps
		// up to the clock's now, so the clock runs benchSeedAge behind
		// while it seeds.
		var seeded atomic.Bool
		clock := func() time.Time {
			if !seeded.Load() {
				return now().Add(-benchSeedAge)
			}
			return now()
		}
		opts := []bitrix24test.Option{bitrix24test.WithLatency(lat), bitrix24test.WithClock(clock)}
		if !limited {
			opts = append(opts, bitrix24test.WithRateLimit(0, 0))
		}
		srv := bitrix24test.NewServer(opts...)
		tb.Cleanup(srv.Close)
		// n deals and n activities; n/10 companies and contacts.
		srv.SeedUniform(n/10, n/10, n, n)
		seeded.Store(true)
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
		}, change: func(round int) int {
			k := 0
			for i, r := range srv.All(bitrix24test.Deals) {
				if i%100 == 0 {
					id := fmt.Sprint(r["ID"])
					if !srv.Update(bitrix24test.Deals, id, bitrix24test.Record{"TITLE": fmt.Sprintf("Changed %d", round)}) {
						tb.Fatalf("bitrix24: update deal %s", id)
					}
					k++
				}
			}
			return k
		}}
	}},
}

// BenchmarkSync runs, for each connector, three phases against one
// warehouse: full (a --full sync, as a first sync does), incr1pct
// ($CRMKPI_BENCH_RESYNCS incremental syncs, each after 1% of the main
// records were edited in the fake) and nochange (an incremental sync with
// nothing edited). It syncs from the fake into SQLite, or into a schema of
// the PostgreSQL database $BENCHSYNC_DSN names. The fake enforces the CRM's
// documented rate limit and answers after $CRMKPI_BENCH_LATENCY (50 ms); it
// is served by this process, while each sync runs in a child process
// (sync/internal/benchsync) with the connector at its defaults, so the peak
// RSS reported, the child's VmHWM, is the sync's alone.
//
// It reports the throughput beside the bound the rate limit allows: the
// documented requests/s × the records per request the sync would average
// if every request carried its endpoint's documented most (%bound; for
// HubSpot and Bitrix24 every object has the same most, amoCRM's events
// come 100 a page against 250 for the rest), and beside the flat product
// of the rate and the largest page of any endpoint (%flat-bound), which no
// sync of a data set with events can reach. Small reads (users, stages)
// count as the fraction of a page they fill, so the bound is never below
// what a sync can do. It also reports the requests/s beside the documented
// rate (%rate), which tells a sync held by the rate limit from one held by
// its own latency.
func BenchmarkSync(b *testing.B) {
	n, lat, resyncs := benchRecords(b), benchLatency(b), benchResyncs(b)
	bin := buildBenchsync(b, b.TempDir())
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			fake := tc.setup(b, n, lat, time.Now, true)
			dir := b.TempDir()
			// The phases share one warehouse: the full load's, whose
			// cursors the incremental syncs then start from.
			db := filepath.Join(dir, "crmkpi.db")
			schema := fmt.Sprintf("benchsync_%d_%s", os.Getpid(), tc.name)
			sync := func(b *testing.B, full, drop bool) benchResult {
				if full {
					os.Remove(db)
				} else {
					time.Sleep(tc.settle)
				}
				args := []string{"-connector", tc.name, "-url", fake.url, "-db", db, "-full=" + strconv.FormatBool(full)}
				if os.Getenv("BENCHSYNC_DSN") != "" {
					args = append(args, "-schema", schema)
					if drop {
						args = append(args, "-drop")
					}
				}
				cmd := exec.CommandContext(context.Background(), bin, args...)
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
				res.maxrss = uint64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10
				return res
			}
			round := 0
			phases := []struct {
				name string
				run  func(b *testing.B) []benchResult
			}{
				// A first sync: everything, --full.
				{"full", func(b *testing.B) []benchResult { return []benchResult{sync(b, true, false)} }},
				// A scheduled re-sync after 1% of the main records
				// changed, $CRMKPI_BENCH_RESYNCS times in a row.
				{"incr1pct", func(b *testing.B) []benchResult {
					var out []benchResult
					for range resyncs {
						round++
						k := fake.change(round)
						res := sync(b, false, false)
						b.Logf("%s: changed %d records", tc.name, k)
						out = append(out, res)
					}
					return out
				}},
				// A re-sync with nothing changed: the floor of a run.
				{"nochange", func(b *testing.B) []benchResult { return []benchResult{sync(b, false, true)} }},
			}
			for _, ph := range phases {
				b.Run(ph.name, func(b *testing.B) {
					var recs, syncs int
					var reqs, limited int64
					var secs, peakRSS, maxrss, peakHeap float64
					// ideal is the requests the records would take at
					// their endpoints' largest pages.
					var ideal float64
					for b.Loop() {
						for _, res := range ph.run(b) {
							syncs++
							peakRSS = max(peakRSS, float64(res.PeakRSS))
							maxrss = max(maxrss, float64(res.maxrss))
							peakHeap = max(peakHeap, float64(res.PeakHeapLive))
							recs += res.Records
							reqs += res.Requests
							limited += res.RateLimited
							secs += res.Seconds
							for o, k := range res.Objects {
								ideal += float64(k) / cmp.Or(tc.pageMax[o], tc.perRequest)
							}
							b.Logf("%s %s: %d records %v in %.1f s, %d requests, %d × 429; requests by object %v; by endpoint (cumulative) %v",
								tc.name, ph.name, res.Records, res.Objects, res.Seconds, res.Requests, res.RateLimited, res.ObjRequests, fake.counts())
						}
					}
					perSec := float64(recs) / secs
					b.ReportMetric(perSec, "records/s")
					b.ReportMetric(float64(recs)/float64(syncs), "records/op")
					b.ReportMetric(float64(reqs)/float64(syncs), "requests/op")
					b.ReportMetric(float64(recs)/float64(max(reqs, 1)), "records/request")
					b.ReportMetric(float64(limited), "429s")
					b.ReportMetric(float64(syncs), "syncs")
					b.ReportMetric(float64(reqs)/secs, "requests/s")
					b.ReportMetric(secs/float64(syncs), "s/sync")
					flat := tc.rate * tc.perRequest
					bound := tc.rate * float64(recs) / max(ideal, 1)
					b.ReportMetric(bound, "bound-records/s")
					b.ReportMetric(100*perSec/bound, "%bound")
					b.ReportMetric(100*perSec/flat, "%flat-bound")
					b.ReportMetric(100*float64(reqs)/secs/tc.rate, "%rate")
					b.ReportMetric(peakRSS/(1<<20), "peak-RSS-MiB")
					b.ReportMetric(maxrss/(1<<20), "rusage-maxrss-MiB")
					b.ReportMetric(peakHeap/(1<<20), "peak-live-heap-MiB")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}
