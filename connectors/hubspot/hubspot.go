// Package hubspot pulls a HubSpot portal (owners, deal pipelines, companies,
// contacts, deals and the five engagement types with their associations)
// into crmkpi's canonical records.
//
// First syncs read the list endpoints (100 per page); later syncs read the
// search endpoint for the records last modified since a bookmark, sorted by
// hs_object_id and restarted above the last id before the 10,000-result
// cap. Associations come inline on a first sync's list pages
// (associations=companies,contacts,...), and otherwise from the v4
// batch-read endpoint (1,000 ids per call): search returns none, and
// since their changes do not move a record's modified time they are
// re-read on their own cadence. See reference/hubspot.md.
//
// What the reference leaves open about inline associations is read so
// that nothing is lost, at the cost of a batch read:
//   - A record's inline list of a type that is cut (paging.next, past 100
//     per HubSpot's 2020 changelog) is batch-read whole, with v4 labels,
//     rather than paged through its link: the link's endpoint and whether
//     its cursor is a v4 one are not in the reference. Its links are the
//     union of both answers.
//   - An inline answer that does not read as the spec's
//     CollectionResponseAssociatedId gets its record batch-read.
//   - When no record of a batch of list pages names a target type, the
//     batch is batch-read for it: nothing associated looks the same as a
//     server that ignores the parameter.
//   - The primary company is the v3 type deal_to_company or
//     contact_to_company (v4 typeIds 5 and 1), which a portal lists next to
//     the _unlabeled type of the same company; the batch-read path reads
//     the same association from its typeId (whatever its label: HubSpot
//     renamed "Primary" to "Deal with Primary Company" and the like in
//     2024) or a label Primary. How v3 names a custom label is not
//     documented: it is read as not primary, as v4 reads any label but
//     Primary.
package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// Object names of the engagements, pulled as separate objects so each has
// its own cursor and they run concurrently; their records are activities.
const (
	ObjectCalls    connectors.Object = "calls"
	ObjectEmails   connectors.Object = "emails"
	ObjectMeetings connectors.Object = "meetings"
	ObjectNotes    connectors.Object = "notes"
	ObjectTasks    connectors.Object = "tasks"
)

// Options configure a Client. Zero values mean HubSpot's documented
// defaults.
type Options struct {
	// Name is the connector's name from the config.
	Name string
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string
	// Token is a private app (static) token. Exactly one of Token and
	// OAuth is required.
	Token string
	// OAuth configures a public app's refresh-token flow.
	OAuth *OAuth
	// HTTPOptions are the shared client's settings; zeros take
	// DefaultHTTP's. RateLimit, when set, replaces RateTier: the app's
	// budget is then 10 × RateLimit requests per RateWindow. Burst defaults
	// to a tenth of the budget. Timeout bounds one attempt.
	connectors.HTTPOptions
	// RateTier sets the app's budget per RateWindow by the portal's plan
	// (a name of RateTiers) or as a number; default DefaultRateTier. The
	// budget is held exactly over every 10-second window, as HubSpot
	// counts it, and shared by every Client of the process on the same
	// account (see account).
	RateTier string
	// SearchRateLimit is the rate of search requests (HubSpot: 5 per
	// second per account); default DefaultSearchRateLimit. Searches go one
	// at a time at this pace and never more than its whole part in any
	// second as HubSpot counts it.
	SearchRateLimit float64
	// Fields maps nps_score, nps_date (contact properties), deal_expense
	// (deal property) and key_client (company property) to HubSpot
	// property names. nps_score and nps_date default to
	// hs_feedback_last_nps_rating and hs_feedback_last_survey_date.
	Fields map[string]string
	// KeyClient reads the key_client field (connectors.Flag: the config's
	// key_client_values besides a ticked checkbox).
	KeyClient connectors.Flag
	// Overlap is how far each incremental window reaches back before the
	// previous one ended; default DefaultOverlap. The search index is
	// eventually consistent (reference/hubspot.md: "re-read with an
	// overlap"): a change not yet indexed when a window closed, at now, is
	// read by the next window, whose start the overlap moves back over it.
	Overlap time.Duration
	// AssociationsEvery is how often associations of all records are
	// re-read (their changes do not move modified times); default
	// DefaultAssociationsEvery.
	// Full loads read them anyway.
	AssociationsEvery time.Duration
	// Since, when set, keeps a pull from an empty cursor (a first sync,
	// sync --full) from old deals and engagements: it reads, through the
	// search API, the deals last modified at or after Since, and the
	// engagements last modified or occurring (hs_timestamp) at or after
	// it. Owners, pipelines, companies and contacts are read whole.
	Since time.Time
	// Currency is the portal's company currency, used for deals without
	// deal_currency_code; default: asked from /account-info/v3/details
	// (which needs the oauth scope) when first needed. When neither says,
	// such deals get no currency; see Client.portalCurrency.
	Currency string
	// TokenStore persists OAuth tokens, rotated refresh tokens included.
	TokenStore connectors.TokenStore
	// Logger receives debug and warning lines; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Transport is the HTTP transport; default a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// OAuth holds a public app's credentials. The access token lives 30
// minutes and is refreshed 5 minutes before it expires.
type OAuth struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
	// TokenURL defaults to BaseURL + /oauth/v1/token.
	TokenURL string
}

// Client is a HubSpot connector. It is safe for concurrent Pull calls on
// different objects; they share one rate limiter and one search limiter.
type Client struct {
	opts   Options
	http   *connectors.Client
	tokens *connectors.TokenSource // nil with a private app token
	// tokenURL is the OAuth token endpoint, which takes no bearer token.
	tokenURL *url.URL
	acct     *account
	log      *slog.Logger
	warn     connectors.Warnings
	fields   map[string]string
	kinds    map[connectors.Object]*kind

	mu              connectors.Lock // held while the currency is read
	currency        string
	currencyUnknown bool // the account endpoint could not say; see portalCurrency

	// pipes holds the last deal pipelines read, which the stages and the
	// deals pulls of one run share; see puller.loadStages.
	pipes struct {
		mu     connectors.Lock // held during the read, so a concurrent pull waits for it
		at     time.Time
		stages []connectors.Stage
	}

	// sortsAsStrings: search sorts go as ["hs_object_id"] (the spec's
	// type) after the object form was refused.
	sortsAsStrings atomic.Bool
}

// defaultBudget is DefaultRateTier's.
var defaultBudget, _ = ParseRateTier(DefaultRateTier)

// Vendor defaults (docs/config.md lists them).
var (
	// DefaultHTTP are the HTTP settings New uses where Options has
	// zeros: connectors.DefaultHTTP but for the default tier's budget
	// spread over its window, a tenth of it at once.
	DefaultHTTP = connectors.HTTPOptions{
		RateLimit: float64(defaultBudget) / RateWindow.Seconds(),
		Burst:     defaultBudget / 10,
	}.Or(connectors.DefaultHTTP)
	// DefaultOverlap re-reads the last 10 minutes of every window, for
	// the search index's lag.
	DefaultOverlap = 10 * time.Minute
	// DefaultAssociationsEvery is how often associations are re-read.
	DefaultAssociationsEvery = 24 * time.Hour
)

var _ connectors.Connector = (*Client)(nil)

// fieldKeys are the mappings Options.Fields may hold.
var fieldKeys = []string{"nps_score", "nps_date", "deal_expense", "key_client"}

// maxPropertyQuery keeps the properties of a list URL far below the ~8 KB
// where HubSpot answers 414 URI Too Long.
const maxPropertyQuery = 3000

// New returns a HubSpot connector.
func New(opts Options) (*Client, error) {
	if opts.Name == "" {
		opts.Name = "hubspot"
	}
	if (opts.Token == "") == (opts.OAuth == nil) {
		return nil, errors.New("hubspot: exactly one of token and oauth is required")
	}
	if opts.OAuth != nil && (opts.OAuth.ClientID == "" || opts.OAuth.ClientSecret == "" || opts.OAuth.RefreshToken == "") {
		return nil, errors.New("hubspot: oauth needs client_id, client_secret and refresh_token")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	if opts.RateTier != "" && opts.RateLimit == 0 {
		n, err := ParseRateTier(opts.RateTier)
		if err != nil {
			return nil, fmt.Errorf("hubspot: %w", err)
		}
		opts.RateLimit = float64(n) / RateWindow.Seconds()
	}
	if opts.Burst == 0 && opts.RateLimit > 0 {
		opts.Burst = max(1, int(opts.RateLimit*RateWindow.Seconds())/10)
	}
	opts.HTTPOptions = opts.HTTPOptions.Or(DefaultHTTP)
	if opts.SearchRateLimit <= 0 {
		opts.SearchRateLimit = DefaultSearchRateLimit
	}
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.AssociationsEvery <= 0 {
		opts.AssociationsEvery = DefaultAssociationsEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	fields := map[string]string{
		"nps_score": "hs_feedback_last_nps_rating",
		"nps_date":  "hs_feedback_last_survey_date",
	}
	for k, v := range opts.Fields {
		if !slices.Contains(fieldKeys, k) {
			return nil, fmt.Errorf("hubspot: unknown fields key %q (want one of %s)", k, strings.Join(fieldKeys, ", "))
		}
		fields[k] = strings.TrimSpace(v)
	}
	c := &Client{opts: opts, fields: fields, log: connectors.Logger(opts.Logger, opts.Name), currency: strings.ToUpper(opts.Currency)}
	c.warn.Log = c.log
	c.kinds = c.buildKinds()
	for _, k := range c.kinds {
		if n := len(url.QueryEscape(strings.Join(k.props, ","))); n > maxPropertyQuery {
			return nil, fmt.Errorf("hubspot: %s properties take %d characters in a URL; shorten the fields mappings", k.path, n)
		}
	}
	budget := max(1, int(math.Floor(opts.RateLimit*RateWindow.Seconds()+1e-9)))
	c.acct = accountFor(accountKey{base: opts.BaseURL, cred: opts.credential(), budget: budget, burst: opts.Burst, search: opts.SearchRateLimit})
	secrets := []string{opts.Token}
	if o := opts.OAuth; o != nil {
		secrets = append(secrets, o.ClientSecret, o.RefreshToken)
	}
	httpOpts := opts.HTTPOptions
	httpOpts.RateLimit = 0 // the account's limits pace every request (limit)
	hc, err := connectors.NewClient(connectors.ClientOptions{
		HTTPOptions: httpOpts,
		Connector:   opts.Name,
		BaseURL:     opts.BaseURL,
		Secrets:     secrets,
		Authorize:   c.authorize,
		Classify:    c.classify,
		Limit:       c.limit,
		Transport:   opts.Transport,
		Logger:      c.log,
	})
	if err != nil {
		return nil, fmt.Errorf("hubspot: %w", err)
	}
	c.http = hc
	if opts.OAuth != nil {
		if err := c.newTokens(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Name returns the connector's name.
func (c *Client) Name() string { return c.opts.Name }

// Objects lists users and stages first, then the CRM objects; each
// engagement type is its own object.
func (c *Client) Objects() []connectors.Object {
	return []connectors.Object{
		connectors.ObjectUsers, connectors.ObjectStages, connectors.ObjectCompanies,
		connectors.ObjectContacts, connectors.ObjectDeals,
		ObjectCalls, ObjectEmails, ObjectMeetings, ObjectNotes, ObjectTasks,
	}
}

// Stats returns the shared HTTP client's counters.
func (c *Client) Stats() connectors.ClientStats { return c.http.Stats() }

// errorBody is HubSpot's error shape (spec Error plus the 429 fields).
type errorBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Category   string `json:"category"`
	ErrorType  string `json:"errorType"`
	PolicyName string `json:"policyName"`
	Errors     []struct {
		Context map[string][]string `json:"context"`
	} `json:"errors"`
}

// dailyLimitMessage is what a run stopped by the daily quota says.
const dailyLimitMessage = "HubSpot daily API limit reached; resets at midnight portal time"

// classify reads HubSpot's error bodies before the shared client's generic
// status rules.
func (c *Client) classify(status int, h http.Header, body []byte) connectors.Verdict {
	if status < 400 {
		return connectors.Verdict{}
	}
	var e errorBody
	_ = jsonUnmarshal(body, &e) // an unreadable body falls back to the snippet
	switch status {
	case http.StatusTooManyRequests:
		if e.PolicyName == "DAILY" {
			return connectors.Verdict{Handled: true, Err: &connectors.RateLimitError{Status: status, Fatal: true, Detail: dailyLimitMessage}}
		}
		// Retry-After is often missing: then the client's exponential
		// backoff applies.
		wait, _ := connectors.ParseRetryAfter(h.Get("Retry-After"), time.Now())
		detail := e.Message
		if e.PolicyName != "" {
			detail = e.PolicyName + ": " + detail
		}
		return connectors.Verdict{Handled: true, Retry: true, Wait: wait, Err: &connectors.RateLimitError{Status: status, RetryAfter: wait, Detail: detail}}
	case http.StatusUnauthorized:
		detail := strings.TrimSpace(e.Category + ": " + e.Message)
		if e.Category == "" {
			detail = c.http.Snippet(h, body)
		}
		// An OAuth token may be refused before its expiry; refresh once
		// and retry (HubSpot says a 401 is not a reliable expiry signal,
		// so expiry is tracked too).
		if c.tokens != nil && c.tokens.Refused("") {
			return connectors.Verdict{Handled: true, Retry: true, Err: &connectors.AuthError{Status: status, Detail: detail}}
		}
		return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status, Detail: detail}}
	case http.StatusForbidden:
		if e.Category == "MISSING_SCOPES" {
			var need []string
			for _, er := range e.Errors {
				need = append(need, er.Context["requiredGranularScopes"]...)
				need = append(need, er.Context["requiredScopes"]...)
			}
			return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status, Detail: "token lacks scope " + strings.Join(need, " or ")}}
		}
	case http.StatusConflict:
		// HubSpot's SDK retries a 409 like a 5xx (reference §5); every
		// request here is a read, which a repeat cannot harm.
		return connectors.Verdict{Handled: true, Retry: true, Err: &connectors.ResponseError{Status: status, Snippet: c.http.Snippet(h, body)}}
	case 530:
		// Cloudflare's origin error: HubSpot answers it to a token of the
		// wrong format instead of 401.
		return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status, Detail: "HubSpot rejected the token's format"}}
	}
	return connectors.Verdict{}
}
