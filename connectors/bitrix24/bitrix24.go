// Package bitrix24 pulls a Bitrix24 portal (users, deal pipelines and
// stages, companies, contacts, deals, activities) into canonical records
// through the classic REST API.
//
// Every list is read with the documented fast method: order by ID, filter
// ">ID", start=-1 (no COUNT), and up to 50 such calls chained inside one
// batch request with $result references, so one HTTP request brings up to
// 2,500 rows; a portal that ignores ">ID" is paged by start and next,
// and one without a classic list method is read through crm.item.list.
// Incremental pulls read closed windows of DATE_MODIFY
// (activities: LAST_UPDATED) written in the portal's own offset; a window
// starts from the earlier of our clock and the portal's. Bitrix24
// has no feed of deletions, so the client implements connectors.Reconciler:
// the sync engine lists every live id and flags the rest.
package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// Vendor defaults (limits.md: the leaky bucket of non-Enterprise plans;
// docs/config.md lists them).
const (
	// DefaultRateLimit is the bucket's drain rate, requests per second.
	DefaultRateLimit = 2
	// DefaultBucket is the portal's bucket: 50 requests (250 on
	// Enterprise plans).
	DefaultBucket = 50
	// DefaultBurst is how far ahead of the drain rate the client may run.
	// The portal's bucket is shared by every app and webhook on the
	// portal (and every client on our IP), so we take a fifth of it and
	// leave the rest as headroom for the others.
	DefaultBurst = DefaultBucket / 5
	// DefaultOverlap re-reads the last hour of every window: it covers
	// clock skew and a DST change of the portal's offset between runs.
	DefaultOverlap = time.Hour
	// DefaultReconcileEvery is how often deletions are reconciled.
	DefaultReconcileEvery = 24 * time.Hour
	// DefaultTokenURL is Bitrix24's OAuth server.
	DefaultTokenURL = "https://oauth.bitrix.info/oauth/token/"
)

// OAuth configures a local or Marketplace application. The access token
// lives an hour and is refreshed only when a call answers 401
// expired_token, as the vendor asks; the refresh token rotates on every
// refresh and is saved to Options.TokenStore before it is used.
type OAuth struct {
	ClientID     string
	ClientSecret string
	// RefreshToken is the initial refresh token; a token in the TokenStore
	// wins over it.
	RefreshToken string
	// TokenURL defaults to DefaultTokenURL.
	TokenURL string
}

// Options configure a Client. Give WebhookURL, or BaseURL (the OAuth
// client_endpoint, https://portal/rest/) with OAuth and/or Token.
type Options struct {
	// Name is the connector's name from the config.
	Name string
	// WebhookURL is the inbound webhook, https://portal/rest/{user}/{code}/.
	// Its whole path is a secret and is redacted from every error and log.
	WebhookURL string
	// BaseURL is the REST endpoint for OAuth, https://portal/rest/.
	BaseURL string
	// Token is an OAuth access token to start with (optional with OAuth).
	Token string
	// OAuth enables refreshing Token.
	OAuth *OAuth
	// HTTPOptions are the shared client's settings; zeros take
	// DefaultHTTP's. Burst defaults to a fifth of Bucket. Enterprise
	// portals drain 5/s into a bucket of 250: RateLimit 5, Bucket 250.
	// Timeout bounds one attempt (the portal's own cap is 60 s);
	// MaxRetryAfter is the longest OPERATION_TIME_LIMIT wait sat through,
	// beyond which the pull fails with a rate-limit error.
	connectors.HTTPOptions
	// Bucket is the size of the portal's leaky bucket; default
	// DefaultBucket.
	Bucket int
	// Fields maps nps_score, nps_date (contact), deal_expense (deal) and
	// key_client (company) to UF_CRM_* field codes.
	Fields map[string]string
	// KeyClient reads the key_client field (connectors.Flag: the config's
	// key_client_values besides a ticked checkbox).
	KeyClient connectors.Flag
	// Overlap is how much of the previous window the next one re-reads;
	// default DefaultOverlap.
	Overlap time.Duration
	// ReconcileEvery is how often the sync engine should run ListIDs;
	// default DefaultReconcileEvery.
	ReconcileEvery time.Duration
	// Since, when set, keeps a pull from an empty cursor (a first sync,
	// sync --full) from old deals and activities: deals modified at or
	// after it (>=DATE_MODIFY), activities updated at or after it
	// (>=LAST_UPDATED) and, in two more scans, those updated before it
	// that start or are due at or after it (>=START_TIME, >=DEADLINE).
	// Users, stages, companies and contacts are read whole, and ListIDs
	// lists every id: a record older than Since is never flagged deleted
	// for not having been read (PartialPull).
	Since time.Time
	// BatchSize is how many list calls one batch request chains, 1..50;
	// default 50.
	BatchSize int
	// TokenStore persists rotated OAuth tokens.
	TokenStore connectors.TokenStore
	// Logger receives debug lines; default discards.
	Logger *slog.Logger
	// Now is the clock for window ends; default time.Now.
	Now func() time.Time
	// Transport is the HTTP transport; default http.DefaultTransport's clone.
	Transport http.RoundTripper
}

// Client is a Bitrix24 connector. It is safe for concurrent Pull calls on
// different objects; all of them share one rate limiter.
type Client struct {
	opts Options
	http *connectors.Client
	log  *slog.Logger
	// tokens holds the OAuth access token; nil with a webhook.
	tokens *connectors.TokenSource

	// offset is the portal's UTC offset in seconds, learned from the
	// time.date_start of any answer; offsetKnown says whether it has been.
	offset      atomic.Int64
	offsetKnown atomic.Bool
	// portalNow is the portal's clock at its latest answer (the
	// time.date_start, Unix nanoseconds), 0 before any: DATE_MODIFY is
	// stamped by that clock, not ours.
	portalNow atomic.Int64
	// resetAt is the last operating_reset_at seen (Unix seconds), the
	// fallback wait of an OPERATION_TIME_LIMIT answer without its own.
	resetAt atomic.Int64
	// noBatch is set once the portal answered batch with 404
	// ERROR_METHOD_NOT_FOUND: from then on every page is a call of its own.
	noBatch atomic.Bool
	// items holds the classic list methods (crm.deal.list, …) the portal
	// answered ERROR_METHOD_NOT_FOUND to: they are read through
	// crm.item.list from then on.
	items sync.Map
	// noIDFilter is set once an ID scan stalled (the portal ignores ">ID"):
	// from then on lists are paged by offset.
	noIDFilter atomic.Bool
	// chainFailures counts batches whose $result chain did not hold (a
	// reference not substituted, a chained call refused); after
	// maxChainFailures the scans stop chaining and read one page a request.
	chainFailures atomic.Int32
}

// maxChainFailures is how many broken $result chains are tolerated before
// chaining is given up for the client's lifetime.
const maxChainFailures = 2

// DefaultHTTP are the HTTP settings New uses where Options has zeros:
// connectors.DefaultHTTP but for the bucket's drain rate and a fifth of
// the default bucket (New takes a fifth of Options.Bucket instead).
var DefaultHTTP = connectors.HTTPOptions{RateLimit: DefaultRateLimit, Burst: DefaultBurst}.Or(connectors.DefaultHTTP)

var (
	_ connectors.Connector  = (*Client)(nil)
	_ connectors.Reconciler = (*Client)(nil)
)

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	if opts.Name == "" {
		opts.Name = "bitrix24"
	}
	if opts.Bucket <= 0 {
		opts.Bucket = DefaultBucket
	}
	if opts.Burst <= 0 {
		// Leave most of the portal's bucket to other apps and users.
		opts.Burst = max(1, opts.Bucket/5)
	}
	opts.HTTPOptions = opts.HTTPOptions.Or(DefaultHTTP)
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.ReconcileEvery <= 0 {
		opts.ReconcileEvery = DefaultReconcileEvery
	}
	if opts.BatchSize <= 0 || opts.BatchSize > maxBatch {
		opts.BatchSize = maxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Client{opts: opts, log: connectors.Logger(opts.Logger, opts.Name)}

	var secrets []string
	base := opts.BaseURL
	switch {
	case opts.WebhookURL != "":
		u, err := url.Parse(opts.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("webhook URL is not an http(s) URL")
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) < 3 || parts[len(parts)-3] != "rest" || parts[len(parts)-1] == "" {
			return nil, errors.New("webhook URL is not of the form https://portal/rest/{user}/{code}/")
		}
		code := parts[len(parts)-1]
		// Longest first: Redact replaces in order, so the full URL goes
		// whole and the code alone catches any other rendering of it.
		secrets = append(secrets, strings.TrimSuffix(opts.WebhookURL, "/")+"/", strings.TrimSuffix(opts.WebhookURL, "/"),
			strings.TrimSuffix(u.Path, "/"), code, url.PathEscape(code))
		base = strings.TrimSuffix(opts.WebhookURL, "/") + "/"
	case base != "":
		if opts.OAuth == nil && opts.Token == "" {
			return nil, errors.New("base URL without webhook_url needs an OAuth token")
		}
		if opts.OAuth != nil {
			secrets = append(secrets, opts.OAuth.ClientSecret, opts.OAuth.RefreshToken)
		}
		secrets = append(secrets, opts.Token)
	default:
		return nil, errors.New("webhook_url or base_url is required")
	}
	hc, err := connectors.NewClient(connectors.ClientOptions{
		HTTPOptions: opts.HTTPOptions,
		Connector:   opts.Name,
		BaseURL:     base,
		Secrets:     secrets,
		Authorize:   c.authorize,
		Classify:    c.classify,
		Transport:   opts.Transport,
		Logger:      c.log,
	})
	if err != nil {
		return nil, err
	}
	c.http = hc
	if opts.WebhookURL == "" {
		c.newTokens()
	}
	return c, nil
}

// Name is the connector's name.
func (c *Client) Name() string { return c.opts.Name }

// Objects lists users and stages first, then the CRM records.
func (c *Client) Objects() []connectors.Object {
	return []connectors.Object{
		connectors.ObjectUsers, connectors.ObjectStages, connectors.ObjectCompanies,
		connectors.ObjectContacts, connectors.ObjectDeals, connectors.ObjectActivities,
	}
}

// ReconcileObjects lists the objects whose deletions ListIDs finds.
func (c *Client) ReconcileObjects() []connectors.Object {
	return []connectors.Object{
		connectors.ObjectCompanies, connectors.ObjectContacts,
		connectors.ObjectDeals, connectors.ObjectActivities,
	}
}

// PartialPull reports whether a pull of obj from an empty cursor leaves
// records out: deals and activities older than Options.Since.
func (c *Client) PartialPull(obj connectors.Object) bool {
	return len(c.sinceScans(obj)) > 0
}

// ReconcileEvery is how often the sync engine should reconcile ids (it
// also does on --full); Options.ReconcileEvery, default a day.
func (c *Client) ReconcileEvery() time.Duration { return c.opts.ReconcileEvery }

// Stats returns the shared HTTP client's counters.
func (c *Client) Stats() connectors.ClientStats { return c.http.Stats() }

// Check verifies the webhook (or token) without writing anything. The
// scope method lists the scopes it carries: crm is needed, and user_basic
// (or the wider user) for the users' e-mails, by which managers are
// matched; user_brief has no e-mails. Then it reads what every sync reads:
// one page of deal ids (crm.deal.list, fast mode: no COUNT, 50 ids at
// most; the method has no smaller page) and one page of users, so a
// webhook user without read access to deals ("Access denied.") fails here
// rather than in every sync. A portal without the scope method (404
// ERROR_METHOD_NOT_FOUND) is checked by those reads alone, with a warning.
func (c *Client) Check(ctx context.Context) ([]string, error) {
	var warnings []string
	env, err := c.call(ctx, "scope", map[string]any{})
	switch {
	case err != nil && isMethodNotFound(err):
		// The reads below prove both scopes: a missing one answers 403.
		warnings = append(warnings, "the portal has no scope method; crm and user access checked by reading deals and users")
	case err != nil:
		return nil, c.fail("", 0, fmt.Errorf("check scopes: %w", err))
	default:
		scopes, err := scopeList(env.Result)
		if err != nil {
			return nil, c.fail("", 0, &connectors.MalformedError{Detail: "scope result", Err: err})
		}
		if missing := missingScopes(scopes); len(missing) > 0 {
			return nil, c.fail("", 0, &connectors.AuthError{Status: http.StatusForbidden,
				Detail: "missing scopes " + strings.Join(missing, ", ") + " (has " + strings.Join(scopes, ", ") + ")"})
		}
	}
	env, err = c.call(ctx, "crm.deal.list", map[string]any{
		"select": []string{"ID"}, "order": map[string]any{"ID": "ASC"}, "filter": map[string]any{">ID": 0}, "start": -1,
	})
	if err != nil {
		return nil, c.fail(connectors.ObjectDeals, 0, fmt.Errorf("read deals: %w", err))
	}
	if rows, err := decodeRows(env.Result); err == nil && len(rows) == 0 {
		// Not an error: a new portal has no deals. But a user who may read
		// only some deals sees none of the others, silently.
		warnings = append(warnings, "the webhook's user sees no deals: a new portal, or a user who may not read the others' deals")
	}
	if _, err := c.call(ctx, "user.get", map[string]any{"SORT": "ID", "ORDER": "ASC", "start": 0}); err != nil {
		return nil, c.fail(connectors.ObjectUsers, 0, fmt.Errorf("read users: %w", err))
	}
	return warnings, nil
}

// missingScopes names the scopes a sync needs that scopes lacks: crm, and
// user_basic, which the full user scope also covers.
func missingScopes(scopes []string) []string {
	var missing []string
	if !slices.Contains(scopes, "crm") {
		missing = append(missing, "crm")
	}
	if !slices.Contains(scopes, "user_basic") && !slices.Contains(scopes, "user") {
		missing = append(missing, "user_basic")
	}
	return missing
}

// scopeList reads the scope method's result: a list of names as
// documented, or a comma-separated string as the OAuth answer writes them.
func scopeList(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	s, ok := rawString(raw)
	if !ok {
		return nil, fmt.Errorf("scope result %.40s is not a list", raw)
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		list = append(list, f)
	}
	return list, nil
}

// fail locates err. Secrets learned at run time (rotated OAuth tokens) are
// redacted by the shared client, which knows them through AddSecret.
func (c *Client) fail(obj connectors.Object, page int, err error) error {
	return c.http.Wrap(obj, page, err)
}
