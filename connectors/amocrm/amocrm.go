package amocrm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// Objects of this connector beyond the canonical ones: each is pulled with
// its own cursor and emits activities (and, for events, deletions).
const (
	ObjectTasks  connectors.Object = "tasks"
	ObjectNotes  connectors.Object = "notes"
	ObjectEvents connectors.Object = "events"
)

// Vendor defaults (docs/config.md lists them).
var (
	// DefaultHTTP are the HTTP settings New uses where Options has
	// zeros: connectors.DefaultHTTP but for 7 requests per second (Kommo
	// "Limitations"), one at a time, since amoCRM counts per second and
	// bursts earn 429s.
	DefaultHTTP = connectors.HTTPOptions{RateLimit: 7}.Or(connectors.DefaultHTTP)
	// DefaultOverlap re-reads the last second of every window: timestamps
	// have 1-second resolution.
	DefaultOverlap = time.Second
)

const (
	pageLimit     = 250
	eventsLimit   = 100
	expiryWarning = 14 * 24 * time.Hour
)

// OAuth configures an OAuth 2.0 integration. The refresh token rotates on
// every refresh; the connector saves each new pair through
// Options.TokenStore before it uses it, and a pair found in the TokenStore
// wins over RefreshToken, which only seeds the first run.
type OAuth struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	RefreshToken string
	// TokenURL overrides BaseURL + "/oauth2/access_token".
	TokenURL string
}

// Options configure a Client. Zero values mean the documented defaults.
type Options struct {
	// Name is the connector's name from the config.
	Name string
	// BaseURL is the account's own URL: https://SUBDOMAIN.amocrm.ru,
	// https://SUBDOMAIN.kommo.com or https://SUBDOMAIN.amocrm.com (they are
	// not interchangeable). Required.
	BaseURL string
	// Token is a long-lived token (a JWT). Either Token or OAuth is
	// required.
	Token string
	OAuth *OAuth
	// TokenStore persists rotating OAuth tokens; required with OAuth.
	TokenStore connectors.TokenStore
	// HTTPOptions are the shared client's settings, for everything this
	// client sends; zeros take DefaultHTTP's. A 429's retry_after above
	// MaxRetryAfter fails the run instead of waiting.
	connectors.HTTPOptions
	// Fields maps nps_score, nps_date (contact), deal_expense (lead) and
	// key_client (company) to custom field ids (or field codes).
	Fields map[string]string
	// KeyClient reads the key_client field (connectors.Flag: the config's
	// key_client_values besides a ticked checkbox).
	KeyClient connectors.Flag
	// Overlap is how far each incremental window reaches back into the
	// previous one; default DefaultOverlap.
	Overlap time.Duration
	// Lag keeps each window's end this far behind the run's start; default
	// 0 (amoCRM lists are read from the primary store).
	Lag time.Duration
	// Currency overrides the account currency (GET /api/v4/account) for
	// deal amounts.
	Currency string
	// Since, when set, keeps a pull from an empty cursor (a first sync,
	// sync --full) from old activity and deals: leads and notes are read
	// from filter[updated_at][from]=Since, events from
	// filter[created_at][from]=Since. Tasks are read whole and those last
	// modified and due (complete_till) before Since are dropped: amoCRM
	// documents no filter on the due date, and a task done early but due
	// after Since counts in the periods after it. Users, pipelines,
	// companies, contacts and the deleted leads are read whole.
	Since time.Time
	// PageSize is the limit of list requests; default and maximum 250
	// (events always use at most 100).
	PageSize int
	Logger   *slog.Logger
	// Now is the clock for windows and token expiry; default time.Now.
	Now       func() time.Time
	Transport http.RoundTripper
}

// Client is the amoCRM connector. It is safe for concurrent Pulls of
// different objects; all of them share one rate limiter.
type Client struct {
	opts   Options
	name   string
	http   *connectors.Client
	log    *slog.Logger
	now    func() time.Time
	fields map[string]string

	// banned is set by the first IP-ban answer; from then on no request
	// leaves this client, as more requests would only prolong the ban.
	banned atomic.Bool
	saw429 atomic.Bool

	// tokens holds the OAuth pair; nil with a long-lived token.
	tokens *connectors.TokenSource
	// tokenURL is the OAuth token endpoint.
	tokenURL string

	// currency is Options.Currency; the account's is in acct.
	currency string
	acctMu   connectors.Lock // held while the account is read
	acct     *account
	// taskTypesTried is set once the task types were asked for, read or
	// not, so a failing account read costs one request per Client.
	taskTypesTried atomic.Bool

	warn connectors.Warnings
	// single holds the list paths that ignored filter[updated_at][from]
	// and are read with the single-value form.
	single sync.Map
	// noOrder holds the lists (list.key) that refused order[id] (400 or
	// 422).
	noOrder sync.Map
}

var _ connectors.Connector = (*Client)(nil)

// New validates opts and returns a Client. It sends no request.
func New(opts Options) (*Client, error) {
	if opts.Name == "" {
		opts.Name = "amocrm"
	}
	if opts.BaseURL == "" {
		return nil, errors.New("amocrm: base_url is required (https://SUBDOMAIN.amocrm.ru or .kommo.com)")
	}
	if opts.Token == "" && opts.OAuth == nil {
		return nil, errors.New("amocrm: a long-lived token or an oauth block is required")
	}
	if opts.OAuth != nil && opts.TokenStore == nil {
		return nil, errors.New("amocrm: OAuth needs a token store, since every refresh rotates the refresh token")
	}
	opts.HTTPOptions = opts.HTTPOptions.Or(DefaultHTTP)
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.PageSize <= 0 || opts.PageSize > pageLimit {
		opts.PageSize = pageLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Client{opts: opts, name: opts.Name, now: opts.Now, fields: opts.Fields, log: connectors.Logger(opts.Logger, opts.Name)}
	c.warn.Log = c.log
	c.currency = strings.ToUpper(strings.TrimSpace(opts.Currency))
	secrets := []string{opts.Token}
	if o := opts.OAuth; o != nil {
		secrets = append(secrets, o.ClientSecret, o.RefreshToken)
	}
	var err error
	c.http, err = connectors.NewClient(connectors.ClientOptions{
		HTTPOptions: opts.HTTPOptions,
		Connector:   opts.Name,
		BaseURL:     strings.TrimSuffix(opts.BaseURL, "/"),
		Secrets:     secrets,
		Authorize:   c.authorize,
		Classify:    c.classify,
		Transport:   opts.Transport,
		Logger:      c.log,
	})
	if err != nil {
		return nil, fmt.Errorf("amocrm: %w", err)
	}
	if opts.OAuth != nil {
		c.newTokens()
	}
	return c, nil
}

// Name returns the connector's name.
func (c *Client) Name() string { return c.name }

// Objects lists users and stages first, then the records, then the
// activity sources.
func (c *Client) Objects() []connectors.Object {
	return []connectors.Object{
		connectors.ObjectUsers, connectors.ObjectStages, connectors.ObjectCompanies,
		connectors.ObjectContacts, connectors.ObjectDeals, ObjectTasks, ObjectNotes, ObjectEvents,
	}
}

// Stats returns the shared HTTP client's counters (requests, retries, 429s).
func (c *Client) Stats() connectors.ClientStats { return c.http.Stats() }

func (c *Client) authorize(ctx context.Context, req *http.Request) error {
	if c.banned.Load() {
		return c.banError()
	}
	tok := c.opts.Token
	if c.tokens != nil && !c.isTokenEndpoint(req) {
		var err error
		tok, err = c.tokens.Access(ctx)
		if err != nil {
			return err
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

func (c *Client) banError() error {
	return &connectors.RateLimitError{
		Status: http.StatusForbidden, Fatal: true,
		Detail: "amoCRM has blocked this IP address (HTTP 403 with an HTML page after repeated 429s); " +
			"the run stopped without further requests, since each one prolongs the ban: wait, then lower rate_limit",
	}
}

// wrongCredentials begins the detail of a 401.
const wrongCredentials = "wrong domain or token"

// problem is amoCRM's application/problem+json error body.
type problem struct {
	Title      string          `json:"title"`
	Detail     string          `json:"detail"`
	Hint       string          `json:"hint"`
	RetryAfter json.RawMessage `json:"retry_after"`
}

func parseProblem(body []byte) (problem, bool) {
	var p problem
	b := strings.TrimSpace(string(body))
	if !strings.HasPrefix(b, "{") || json.Unmarshal(body, &p) != nil {
		return p, false
	}
	return p, true
}

func (p problem) text() string {
	s := p.Title
	if p.Detail != "" && p.Detail != p.Title {
		if s != "" {
			s += ": "
		}
		s += p.Detail
	}
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s
}

func isHTML(h http.Header, body []byte) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return strings.Contains(ct, "html") || strings.HasPrefix(strings.TrimSpace(string(body)), "<")
}

// classify reads amoCRM's answers before the shared client's generic rules.
func (c *Client) classify(status int, h http.Header, body []byte) connectors.Verdict {
	switch status {
	case http.StatusTooManyRequests:
		c.saw429.Store(true)
		var wait time.Duration
		p, ok := parseProblem(body)
		if ok {
			var n num
			if json.Unmarshal(p.RetryAfter, &n) == nil && n > 0 {
				wait = time.Duration(n) * time.Second
			}
		}
		if wait == 0 {
			// The header is undocumented but honoured when present; with
			// neither, exponential backoff (the SDK's non-JSON 429 case).
			wait, _ = connectors.ParseRetryAfter(h.Get("Retry-After"), c.now())
		}
		detail := "too many requests"
		if ok {
			detail = p.text()
		}
		return connectors.Verdict{Handled: true, Retry: true, Wait: wait,
			Err: &connectors.RateLimitError{Status: status, RetryAfter: wait, Detail: detail}}
	case http.StatusForbidden:
		// The ban's body is not documented: an HTML page on the real API,
		// maybe problem+json or nothing elsewhere. Any non-JSON 403, and
		// any 403 at all once this client has seen a 429, is the ban.
		if _, isJSON := parseProblem(body); !isJSON || c.saw429.Load() {
			c.banned.Store(true)
			return connectors.Verdict{Handled: true, Err: c.banError()}
		}
		p, _ := parseProblem(body)
		return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status, Detail: "access denied: " + p.text()}}
	case http.StatusUnauthorized:
		p, _ := parseProblem(body)
		d := wrongCredentials
		if t := p.text(); t != "" {
			d += ": " + t
		}
		return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status, Detail: d}}
	case http.StatusPaymentRequired:
		p, _ := parseProblem(body)
		return connectors.Verdict{Handled: true, Err: &connectors.ResponseError{Status: status,
			Snippet: "the amoCRM account is unpaid or its trial has ended (Payment Required): " + p.text()}}
	}
	return connectors.Verdict{}
}

// getJSON sends one GET and decodes a 2xx body with decode inside the retry
// loop. It returns the status (204 = no content). With OAuth, a 401 makes
// one forced refresh and one more try, for a token revoked before its
// expiry.
func (c *Client) getJSON(ctx context.Context, cost *int, path string, q url.Values, decode func([]byte) error) (int, error) {
	if c.banned.Load() {
		return 0, c.banError()
	}
	req := &connectors.Request{URL: path, Query: q, Header: http.Header{"Accept": {"application/hal+json, application/json"}}}
	req.Decode = func(status int, body []byte) error {
		if status == http.StatusNoContent || len(strings.TrimSpace(string(body))) == 0 {
			return nil
		}
		return decode(body)
	}
	for try := 0; ; try++ {
		var used string
		if c.tokens != nil {
			used = c.tokens.Current()
		}
		resp, err := c.http.Do(ctx, req)
		if cost != nil {
			if resp != nil {
				*cost += resp.Attempts
			} else {
				*cost++
			}
		}
		if err != nil {
			var ae *connectors.AuthError
			if c.tokens != nil && try == 0 && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				c.tokens.Refused(used)
				continue
			}
			return 0, err
		}
		return resp.Status, nil
	}
}

// account is what the connector reads from GET /api/v4/account.
type account struct {
	currency string
	// taskTypes names task_type_id values (_embedded.task_types); nil
	// when the account did not list them.
	taskTypes map[int64]string
}

// loadAccount reads GET /api/v4/account?with=task_types once per Client:
// the currency for deals and the task type names for tasks come from one
// request. A server that refuses with=task_types (a 4xx other than the
// authentication, payment and rate answers) is asked once more without it.
func (c *Client) loadAccount(ctx context.Context, cost *int) (*account, error) {
	if err := c.acctMu.Lock(ctx); err != nil {
		return nil, err
	}
	defer c.acctMu.Unlock()
	if c.acct != nil {
		return c.acct, nil
	}
	var w struct {
		Currency str             `json:"currency"`
		Embedded json.RawMessage `json:"_embedded"`
	}
	decode := func(b []byte) error { w.Embedded = nil; return json.Unmarshal(b, &w) }
	_, err := c.getJSON(ctx, cost, "/api/v4/account", url.Values{"with": {"task_types"}}, decode)
	var re *connectors.ResponseError
	if errors.As(err, &re) && refused(re.Status) {
		c.warnf("account-with", fmt.Sprintf("/api/v4/account?with=task_types answered %d; read without task type names", re.Status))
		_, err = c.getJSON(ctx, cost, "/api/v4/account", nil, decode)
	}
	if errors.As(err, &re) && refused(re.Status) {
		// An account endpoint the server does not have (a 4xx that is no
		// authentication, payment or rate answer) tells nothing; the
		// deals are stored without a currency and the tasks without type
		// names, each with its warning, rather than not at all.
		c.warnf("account-refused", fmt.Sprintf("/api/v4/account answered %d; deals are stored without a currency unless the connector's currency is set", re.Status))
		c.acct = &account{}
		return c.acct, nil
	}
	if err != nil {
		return nil, err
	}
	var emb struct {
		TaskTypes json.RawMessage `json:"task_types"`
	}
	// _embedded may be [] on a PHP server when it is empty.
	if e := bytes.TrimSpace(w.Embedded); len(e) > 0 && e[0] == '{' && json.Unmarshal(e, &emb) != nil {
		emb.TaskTypes = nil
	}
	c.acct = &account{currency: strings.ToUpper(strings.TrimSpace(string(w.Currency))), taskTypes: taskTypes(emb.TaskTypes)}
	return c.acct, nil
}

// refused tells a 4xx that refuses what was asked, not who asked: no
// authentication, payment or rate answer.
func refused(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusPaymentRequired && status != http.StatusTooManyRequests
}

// taskTypes reads _embedded.task_types: a list of {id, name, color,
// icon_id, code} (SDK TaskTypesCollection), or an object keyed by id as
// API v2 sent it. Entries without an id or a name are left out.
func taskTypes(raw json.RawMessage) map[int64]string {
	type entry struct {
		ID   num `json:"id"`
		Name str `json:"name"`
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var byID map[string]json.RawMessage
		if json.Unmarshal(raw, &byID) != nil {
			return nil
		}
		for _, v := range byID {
			list = append(list, v)
		}
	}
	out := map[int64]string{}
	for _, it := range list {
		var e entry
		if json.Unmarshal(it, &e) != nil || e.ID == 0 || strings.TrimSpace(string(e.Name)) == "" {
			continue
		}
		out[int64(e.ID)] = strings.TrimSpace(string(e.Name))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// loadCurrency reads the account currency once (Options.Currency wins).
// An account that names none, or has no account endpoint, leaves the
// deals' currency empty with one warning: "" is "currency unknown", which
// scoring leaves out of money figures while the deals still count as won
// and lost, where failing the pull would store no deal at all and a guess
// would be silently wrong. Transient errors fail the page, so a retry can
// read it.
func (c *Client) loadCurrency(ctx context.Context, cost *int) (string, error) {
	if c.currency != "" {
		return c.currency, nil
	}
	acc, err := c.loadAccount(ctx, cost)
	if err != nil {
		return "", fmt.Errorf("read account currency: %w", err)
	}
	if acc.currency == "" {
		c.warnf("no-currency", "the account currency is unknown (GET /api/v4/account names none): deals are stored without a currency "+
			"and left out of money KPIs; set currency on the connector")
	}
	return acc.currency, nil
}

// loadTaskTypes returns the names of the account's task types, read once
// per Client. They only name a detail of the raw record, so a failed
// account read costs a warning, not the task sync: the names are then
// absent, and not asked for again by this Client.
func (c *Client) loadTaskTypes(ctx context.Context, cost *int) map[int64]string {
	if c.taskTypesTried.Load() {
		if acc := c.cachedAccount(); acc != nil {
			return acc.taskTypes
		}
		return nil
	}
	acc, err := c.loadAccount(ctx, cost)
	if err != nil {
		if ctx.Err() == nil {
			c.taskTypesTried.Store(true)
			c.warnf("task-types", "could not read the account's task types; tasks are stored without their type names: "+err.Error())
		}
		return nil
	}
	c.taskTypesTried.Store(true)
	if acc.taskTypes == nil {
		c.warnf("task-types-none", "the account lists no task types (GET /api/v4/account?with=task_types); tasks are stored without their type names")
	}
	return acc.taskTypes
}

func (c *Client) cachedAccount() *account {
	c.acctMu.Lock(context.Background())
	defer c.acctMu.Unlock()
	return c.acct
}

// TokenExpiry returns the expiry of the long-lived token (the JWT's exp
// claim, read without verifying the signature); ok is false for OAuth or a
// token that is not a JWT with exp.
func (c *Client) TokenExpiry() (time.Time, bool) {
	if c.opts.Token == "" {
		return time.Time{}, false
	}
	return jwtExpiry(c.opts.Token)
}

func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp num `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(claims.Exp), 0).UTC(), true
}

// expiryWarning returns a warning when the long-lived token expires within
// 14 days, and an error when it has expired.
func (c *Client) expiryCheck() (string, error) {
	exp, ok := c.TokenExpiry()
	if !ok {
		return "", nil
	}
	left := exp.Sub(c.now())
	switch {
	case left <= 0:
		return "", &connectors.AuthError{Status: http.StatusUnauthorized,
			Detail: fmt.Sprintf("the long-lived token expired on %s; generate a new one in the integration's keys", exp.Format(time.DateOnly))}
	case left < expiryWarning:
		return fmt.Sprintf("%s: the long-lived token expires on %s (in %d days); generate a new one in the integration's keys",
			c.name, exp.Format(time.DateOnly), int(left.Hours()/24)), nil
	}
	return "", nil
}

// Check verifies the token with GET /api/v4/account and that its user is an
// admin with GET /api/v4/users?limit=1 (the users list needs admin rights).
// A long-lived token expiring within 14 days is a warning; an expired one an
// error.
func (c *Client) Check(ctx context.Context) ([]string, error) {
	var warnings []string
	w, err := c.expiryCheck()
	if err != nil {
		return nil, c.http.Wrap("", 0, err)
	}
	if w != "" {
		warnings = append(warnings, w)
	}
	var acc struct {
		Currency str `json:"currency"`
	}
	_, err = c.getJSON(ctx, nil, "/api/v4/account", nil, func(b []byte) error { return json.Unmarshal(b, &acc) })
	var re *connectors.ResponseError
	switch {
	case errors.As(err, &re) && refused(re.Status):
		// As in a sync: deals without a currency, not a broken
		// connection; the users request below still checks the token.
		if c.currency == "" {
			warnings = append(warnings, fmt.Sprintf("%s: GET /api/v4/account answered %d, so the account currency is unknown; set the connector's currency", c.name, re.Status))
		}
	case err != nil:
		return warnings, c.http.Wrap("", 0, fmt.Errorf("check account: %w", err))
	case acc.Currency == "" && c.currency == "":
		warnings = append(warnings, c.name+": the account reports no currency; set the connector's currency")
	}
	_, err = c.getJSON(ctx, nil, "/api/v4/users", url.Values{"limit": {"1"}}, func([]byte) error { return nil })
	var ae *connectors.AuthError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return warnings, c.http.Wrap(connectors.ObjectUsers, 0,
			fmt.Errorf("the token's user is not an admin: GET /api/v4/users needs admin rights (use an admin's token): %w", err))
	}
	if err != nil {
		return warnings, c.http.Wrap(connectors.ObjectUsers, 0, fmt.Errorf("check users: %w", err))
	}
	return warnings, nil
}
