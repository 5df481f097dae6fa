package hubspot

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// The tests below run in a testing/synctest bubble against a fake without
// a listener, with HubSpot's documented limits enforced by the fake (100
// per 10 s per app, 5 searches per second) on the bubble's clock: time
// only passes where the limiters, the network and the fake wait, so the
// figures are exact and nothing waits for real.

// network carries requests to the fake as a network would: each way takes
// a pseudo-random 20 to 60 ms, so that requests sent in order can arrive
// out of it. It records when each request arrives, which is when the fake
// counts it.
type network struct {
	next http.RoundTripper

	mu       sync.Mutex
	rng      *rand.Rand
	all      []time.Duration // arrivals since start
	searches []time.Duration
	start    time.Time
}

func newNetwork(next http.RoundTripper, seed uint64) *network {
	return &network{next: next, rng: rand.New(rand.NewPCG(seed, 99)), start: time.Now()}
}

func (n *network) delay() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return 20*time.Millisecond + time.Duration(n.rng.Int64N(int64(40*time.Millisecond)))
}

func (n *network) RoundTrip(req *http.Request) (*http.Response, error) {
	time.Sleep(n.delay())
	n.mu.Lock()
	at := time.Since(n.start)
	n.all = append(n.all, at)
	if strings.HasSuffix(req.URL.Path, "/search") {
		n.searches = append(n.searches, at)
	}
	n.mu.Unlock()
	resp, err := n.next.RoundTrip(req)
	time.Sleep(n.delay())
	return resp, err
}

// busiest returns the most arrivals in any span (t-period, t], as the
// fake's windows count them.
func busiest(arrivals []time.Duration, period time.Duration) int {
	a := slices.Sorted(slices.Values(arrivals))
	most := 0
	for i, t := range a {
		first := sort.Search(len(a), func(j int) bool { return a[j] > t-period })
		most = max(most, i+1-first)
	}
	return most
}

// pullAll pulls every object of c at once, as the sync engine does, from
// the cursors in cur, which it moves on; it returns the records read by
// object.
func pullAll(t *testing.T, c *Client, cur map[connectors.Object]string) map[connectors.Object]int {
	t.Helper()
	var mu sync.Mutex
	read := map[connectors.Object]int{}
	var wg sync.WaitGroup
	for _, obj := range c.Objects() {
		mu.Lock()
		from := cur[obj]
		mu.Unlock()
		wg.Go(func() {
			err := c.Pull(t.Context(), obj, from, func(_ context.Context, p *connectors.Page) error {
				mu.Lock()
				defer mu.Unlock()
				read[obj] += p.Len()
				cur[obj] = p.Cursor
				return nil
			})
			if err != nil {
				t.Errorf("pull %s: %v", obj, err)
			}
		})
	}
	wg.Wait()
	return read
}

// portal seeds a fake of a few thousand records, enforcing the app limit
// budget per 10 s and 5 searches per second.
func portal(t *testing.T, budget, companies int) *hubspottest.Server {
	t.Helper()
	srv := hubspottest.NewServer(hubspottest.WithoutListener(), hubspottest.WithToken(testToken),
		hubspottest.WithRateLimit(budget, RateWindow), hubspottest.WithSearchRateLimit(5))
	if err := srv.Seed(hubspottest.World{Seed: 42, Companies: companies}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// changeOnePercent edits 1% of each object type's records (at least one).
func changeOnePercent(t *testing.T, srv *hubspottest.Server, rng *rand.Rand, run int) map[string]int {
	t.Helper()
	changed := map[string]int{}
	for _, typ := range hubspottest.ObjectTypes {
		recs := srv.Records(typ)
		n := max(1, len(recs)/100)
		for _, i := range rng.Perm(len(recs))[:n] {
			if err := srv.Update(typ, recs[i].ID, map[string]string{"hs_crmkpi_run": strconv.Itoa(run)}); err != nil {
				t.Fatal(err)
			}
		}
		changed[typ] = n
	}
	return changed
}

// TestResyncNeverHitsTheSearchLimit is issue 17's re-sync after 1%
// changed, 20 times in a row, with every object pulled at once over a
// network whose delays reorder requests: HubSpot's 5 searches per second
// per account is never exceeded as the fake counts it, so no request is
// ever answered 429, and the app's 100 per 10 s holds too.
func TestResyncNeverHitsTheSearchLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portal(t, 100, 200)
		net := newNetwork(srv.Transport(), 1)
		c, err := New(Options{Name: "hs", BaseURL: srv.URL, Token: testToken, Transport: net})
		if err != nil {
			t.Fatal(err)
		}
		cur := map[connectors.Object]string{}
		pullAll(t, c, cur)
		rng := rand.New(rand.NewPCG(7, 7))
		for run := range 20 {
			changed := changeOnePercent(t, srv, rng, run)
			time.Sleep(time.Minute) // the changes are in the past of the next window's end
			searches := srv.Requests("POST /crm/v3/objects/deals/search")
			read := pullAll(t, c, cur)
			if read[connectors.ObjectDeals] < changed[hubspottest.Deals] || read[ObjectNotes] < changed[hubspottest.Notes] {
				t.Fatalf("run %d read %d deals and %d notes, want at least the %d and %d changed", run, read[connectors.ObjectDeals], read[ObjectNotes], changed[hubspottest.Deals], changed[hubspottest.Notes])
			}
			if srv.Requests("POST /crm/v3/objects/deals/search") == searches {
				t.Fatalf("run %d sent no deals search: the test does not exercise the search limit", run)
			}
			time.Sleep(29 * time.Minute)
		}
		if n := srv.RateLimited(); n != 0 {
			t.Errorf("the fake answered 429 %d times over 20 re-syncs, want 0", n)
		}
		if most := busiest(net.searches, time.Second); most > 5 {
			t.Errorf("%d searches arrived within one second, want at most 5", most)
		}
		if most := busiest(net.all, RateWindow); most > 100 {
			t.Errorf("%d requests arrived within 10 s, want at most 100", most)
		}
		if s := c.Stats(); s.RateLimited != 0 || s.Retries != 0 {
			t.Errorf("client stats %+v, want no 429 and no retry", s)
		}
	})
}

// TestInstancesOnOneAccountShareItsLimits: two connectors on the same
// portal and token (a re-built connector, check beside sync) draw on one
// budget, so pulling with both at once still earns no 429; another token
// is another app, with a budget of its own.
func TestInstancesOnOneAccountShareItsLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portal(t, 100, 100)
		net := newNetwork(srv.Transport(), 2)
		mk := func(token string) *Client {
			c, err := New(Options{Name: "hs", BaseURL: srv.URL, Token: token, Transport: net})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a, b := mk(testToken), mk(testToken)
		if a.acct != b.acct {
			t.Fatal("two clients on one account have limits of their own")
		}
		if other := mk("pat-na1-other-app"); other.acct == a.acct {
			t.Error("a client of another app shares the first app's limits")
		}
		ca, cb := map[connectors.Object]string{}, map[connectors.Object]string{}
		var wg sync.WaitGroup
		wg.Go(func() { pullAll(t, a, ca) })
		wg.Go(func() { pullAll(t, b, cb) })
		wg.Wait()
		rng := rand.New(rand.NewPCG(3, 3))
		for run := range 5 {
			changeOnePercent(t, srv, rng, run)
			time.Sleep(time.Minute)
			wg.Go(func() { pullAll(t, a, ca) })
			wg.Go(func() { pullAll(t, b, cb) })
			wg.Wait()
		}
		if n := srv.RateLimited(); n != 0 {
			t.Errorf("the fake answered 429 %d times to two clients of one account, want 0", n)
		}
		if most := busiest(net.searches, time.Second); most > 5 {
			t.Errorf("%d searches arrived within one second, want at most 5", most)
		}
	})
}

// TestRateTierFillsTheWindow: a full load with every object at once, 40 to
// 120 ms a round trip, uses at least 95% of the tier's budget and never
// more than the budget in any 10 seconds as HubSpot counts them.
func TestRateTierFillsTheWindow(t *testing.T) {
	for _, tc := range []struct {
		tier   string
		budget int
	}{{"free", 100}, {"professional", 190}} {
		t.Run(tc.tier, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := portal(t, tc.budget, 300)
				// Pages of 10 make many requests of few records: the
				// limits, not decoding, are under test.
				srv.SetShortPages(10)
				net := newNetwork(srv.Transport(), 3)
				c, err := New(Options{Name: "hs", BaseURL: srv.URL, Token: testToken, Transport: net, RateTier: tc.tier})
				if err != nil {
					t.Fatal(err)
				}
				if got := c.acct.window.Max(); got != tc.budget {
					t.Fatalf("window budget = %d, want %d", got, tc.budget)
				}
				start := time.Now()
				pullAll(t, c, map[connectors.Object]string{})
				took := time.Since(start)
				reqs := srv.TotalRequests()
				if n := srv.RateLimited(); n != 0 {
					t.Errorf("the fake answered 429 %d times, want 0", n)
				}
				if most := busiest(net.all, RateWindow); most > tc.budget {
					t.Errorf("%d requests arrived within 10 s, want at most %d", most, tc.budget)
				}
				if reqs < 2*tc.budget {
					t.Fatalf("%d requests: too few to span two windows", reqs)
				}
				bound := float64(tc.budget) / RateWindow.Seconds()
				got := float64(reqs) / took.Seconds()
				t.Logf("%d requests in %s: %.2f/s, %.1f%% of %.0f per 10 s", reqs, took, got, 100*got/bound, float64(tc.budget))
				if got < 0.95*bound {
					t.Errorf("%d requests in %s = %.2f/s, want at least 95%% of %.1f/s", reqs, took, got, bound)
				}
			})
		})
	}
}

// TestRateTierNames reads the documented tiers and numbers.
func TestRateTierNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"free", 100}, {"starter", 100}, {"professional", 190}, {"Enterprise", 190}, {"api_addon", 250}, {"150", 150},
	} {
		if got, err := ParseRateTier(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseRateTier(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"gold", "0", "-5", "1.5", ""} {
		if _, err := ParseRateTier(in); err == nil {
			t.Errorf("ParseRateTier(%q) = nil error, want one", in)
		}
	}
	_, err := ParseRateTier("gold")
	if want := `unknown rate tier "gold" (want free, starter, professional, enterprise, api_addon, or requests per 10 s)`; err == nil || err.Error() != want {
		t.Errorf("ParseRateTier(gold) = %v, want %s", err, want)
	}
}

// TestRateTierSetsTheBudget: the tier names the budget per 10 s and a
// tenth of it as the burst; rate_limit, when set, replaces it.
func TestRateTierSetsTheBudget(t *testing.T) {
	for _, tc := range []struct {
		tier          string
		rate          float64
		budget, burst int
	}{
		{"", 0, 100, 10}, {"professional", 0, 190, 19}, {"api_addon", 0, 250, 25}, {"120", 0, 120, 12},
		{"", 5, 50, 5}, {"enterprise", 5, 50, 5},
	} {
		c, err := New(Options{BaseURL: "https://api.hubapi.test/" + tc.tier, Token: testToken, RateTier: tc.tier,
			HTTPOptions: connectors.HTTPOptions{RateLimit: tc.rate}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.acct.window.Max(); got != tc.budget || c.opts.Burst != tc.burst {
			t.Errorf("tier %q, rate_limit %v: budget %d, burst %d; want %d, %d", tc.tier, tc.rate, got, c.opts.Burst, tc.budget, tc.burst)
		}
		if c.acct.search.Max() != 5 || c.opts.Timeout != time.Minute {
			t.Errorf("tier %q: search window %d, timeout %s; want 5 per second, 1m", tc.tier, c.acct.search.Max(), c.opts.Timeout)
		}
	}
	if _, err := New(Options{Token: testToken, RateTier: "gold"}); err == nil {
		t.Error("New with rate tier gold succeeded, want an error")
	}
}
