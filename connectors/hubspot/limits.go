package hubspot

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/crmkpi/crmkpi/connectors"
)

// RateWindow is the span of HubSpot's per-app limit ("100 / 10 s").
const RateWindow = 10 * time.Second

// RateTier is a HubSpot plan's budget: requests per RateWindow a private
// app may send (reference/hubspot.md §5).
type RateTier struct {
	Name   string
	Budget int
}

// RateTiers are the plans, cheapest first; api_addon is the API Limit
// Increase pack.
var RateTiers = []RateTier{
	{"free", 100}, {"starter", 100},
	{"professional", 190}, {"enterprise", 190},
	{"api_addon", 250},
}

// DefaultRateTier is the tier assumed when none is set: the lowest, which
// holds on every plan.
const DefaultRateTier = "free"

// DefaultSearchRateLimit is HubSpot's search limit, requests per second per
// account.
const DefaultSearchRateLimit = 5

// ParseRateTier returns the requests per RateWindow that tier names: a
// name of RateTiers (any case) or a positive integer.
func ParseRateTier(tier string) (int, error) {
	tier = strings.TrimSpace(tier)
	names := make([]string, len(RateTiers))
	for i, rt := range RateTiers {
		if strings.EqualFold(tier, rt.Name) {
			return rt.Budget, nil
		}
		names[i] = rt.Name
	}
	if n, err := strconv.Atoi(tier); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("unknown rate tier %q (want %s, or requests per 10 s)", tier, strings.Join(names, ", "))
}

// account holds the limits HubSpot counts per app and per account, shared
// by every Client of the process on the same portal and credentials: two
// connector instances on one account (serve and check, a re-built
// connector) must not each spend the whole budget.
type account struct {
	pace   connectors.Limiter // the budget spread over the window, with a burst
	window *connectors.Window // the budget per RateWindow, exactly
	// Searches: HubSpot's 5 per second per account, paced one at a time
	// and held to the second as the server counts it.
	searchPace connectors.Limiter
	search     *connectors.Window
}

// accountKey names an account's limits: its API host and a hash of its
// credentials (the portal id is not known before the first answer), and
// the limits themselves, so that two configurations of one account never
// share a budget sized for only one of them.
type accountKey struct {
	base   string
	cred   [sha256.Size]byte
	budget int
	burst  int
	search float64
}

// accounts holds each account's limits while some Client uses them; the
// entry goes when the last such Client is collected.
var accounts struct {
	mu sync.Mutex
	m  map[accountKey]weak.Pointer[account]
}

func accountFor(k accountKey) *account {
	accounts.mu.Lock()
	defer accounts.mu.Unlock()
	if a := accounts.m[k].Value(); a != nil {
		return a
	}
	a := &account{
		pace:       connectors.Rate(float64(k.budget)/RateWindow.Seconds(), k.burst),
		window:     connectors.NewWindow(k.budget, RateWindow),
		searchPace: connectors.Rate(k.search, 1),
		search:     connectors.NewWindow(int(math.Floor(k.search+1e-9)), time.Second),
	}
	if accounts.m == nil {
		accounts.m = map[accountKey]weak.Pointer[account]{}
	}
	accounts.m[k] = weak.Make(a)
	runtime.AddCleanup(a, func(k accountKey) {
		accounts.mu.Lock()
		defer accounts.mu.Unlock()
		if accounts.m[k].Value() == nil {
			delete(accounts.m, k)
		}
	}, k)
	return a
}

// credential identifies the app and account a Client speaks for.
func (o *Options) credential() [sha256.Size]byte {
	if o.OAuth != nil {
		return sha256.Sum256([]byte("oauth\x00" + o.OAuth.ClientID + "\x00" + o.OAuth.RefreshToken))
	}
	return sha256.Sum256([]byte("token\x00" + o.Token))
}

// limit returns the limiters an attempt of req waits on: every request
// counts against the app's window, and a search against the account's
// search limit too, after it, so that a search waiting for its turn holds
// a slot of the plentiful budget rather than of the scarce one.
func (c *Client) limit(req *http.Request) []connectors.Limiter {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/search") {
		return []connectors.Limiter{c.acct.pace, c.acct.window, c.acct.searchPace, c.acct.search}
	}
	return []connectors.Limiter{c.acct.pace, c.acct.window}
}
