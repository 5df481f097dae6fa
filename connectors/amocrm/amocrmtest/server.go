// Package amocrmtest is a fake amoCRM / Kommo account speaking API v4 as
// reference/amocrm.md documents it: HAL envelopes, 204 on empty pages,
// problem+json errors with retry_after, the 7 requests/s limit and the IP ban
// that follows repeated 429s, long-lived tokens and the OAuth token endpoint
// with rotating refresh tokens. Like net/http/httptest it takes no
// *testing.T, so `crmkpi demo` and benchmarks can run it too.
//
// The data set is mutable through Put, Update, Delete and AddEvent (records in
// the vendor's JSON shape), or generated with Seed. Fault knobs (Fail,
// SetIgnoreFilters, SetPaymentRequired, SetAdmin, RevokeTokens, ...) and
// request counts (Requests, TotalRequests) serve the tests.
package amocrmtest

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// The faults of amoCRM's own shapes, for Fail (the embedded
// connectortest.Faults): a FaultStatus answers problem+json, a 429 with
// retry_after and counting towards the IP ban.
var (
	FaultServerError     = connectortest.Fault{Status: 500}                                         // 500 problem+json
	FaultGatewayTimeout  = connectortest.Fault{Kind: connectortest.FaultHTML, Status: 504}          // 504 with an HTML body
	FaultTooManyRequests = connectortest.Fault{Status: 429}                                         // 429 problem+json with retry_after
	FaultTooManyHTML     = connectortest.Fault{Status: 429, Code: "html"}                           // 429 with a non-JSON body
	FaultUnauthorized    = connectortest.Fault{Status: 401}                                         // 401 problem+json
	FaultPaymentRequired = connectortest.Fault{Status: 402}                                         // 402 problem+json
	FaultMalformedJSON   = connectortest.Fault{Kind: connectortest.FaultMalformed, Body: malformed} // 200 with a garbled body
	FaultTruncatedJSON   = connectortest.Fault{Kind: connectortest.FaultTruncated}                  // 200 with half of the real body
	FaultHTML            = connectortest.Fault{Kind: connectortest.FaultHTML, Status: 200}          // 200 with an HTML page
	FaultReset           = connectortest.Fault{Kind: connectortest.FaultReset}                      // the connection closes mid-body
	FaultSlow            = connectortest.Fault{Kind: connectortest.FaultSlow, Delay: SlowDelay}     // the real answer after SlowDelay
	// FaultRepeatPage answers a list request with its first page, whatever
	// page was asked, and a next link back to the page asked: a server
	// stuck on one page that still says "more".
	FaultRepeatPage = connectortest.Fault{Kind: connectortest.FaultNative, Code: "repeat-page"}
	// FaultEmptyPage answers a list request with 200, no records and a
	// next link back to the page asked: an empty page that still says
	// "more" without moving on.
	FaultEmptyPage = connectortest.Fault{Kind: connectortest.FaultNative, Code: "empty-page"}
)

const malformed = `{"_page":1,"_embedded":{"leads":[{"id":20500001,"name":"Ord`

// SlowDelay is how long FaultSlow holds an answer.
const SlowDelay = 200 * time.Millisecond

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for created_at/updated_at bumps, event
// times and token expiry. Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLatency delays every answer by d (real time).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRateLimit sets the enforced request rate; rps 0 disables it. Default
// 7 requests/s with a burst of 7, the documented limit.
func WithRateLimit(rps float64, burst int) Option {
	return func(s *Server) {
		if rps <= 0 {
			s.limiter = nil
			return
		}
		if burst <= 0 {
			burst = 1
		}
		s.limiter = rate.NewLimiter(rate.Limit(rps), burst)
	}
}

// WithBanAfter sets how many 429 answers make the server ban the client's
// IP (403 with an HTML page to every request until Unban). 0 disables the
// ban. Default 20.
func WithBanAfter(n int) Option { return func(s *Server) { s.banAfter = n } }

// WithRetryAfter sets the retry_after (seconds) of 429 bodies. Default 1
// (the documented sample says 300; tests and the demo cannot wait that long).
func WithRetryAfter(sec int) Option { return func(s *Server) { s.retryAfter = sec } }

// WithToken sets the accepted long-lived token instead of a generated one.
func WithToken(tok string) Option { return func(s *Server) { s.tokens = map[string]bool{tok: true} } }

// WithOAuth enables the OAuth token endpoint for the integration clientID /
// secret. The initial refresh token is OAuthRefreshToken().
func WithOAuth(clientID, secret string) Option {
	return func(s *Server) {
		s.oauth = &oauthState{clientID: clientID, secret: secret, byRefresh: map[string]*pair{}, byAccess: map[string]*pair{}}
	}
}

// WithAccessTokenTTL sets the lifetime of OAuth access tokens; default 24h.
func WithAccessTokenTTL(d time.Duration) Option { return func(s *Server) { s.accessTTL = d } }

// Server is a fake amoCRM account on a loopback HTTP server.
// All its methods are safe for concurrent use. The embedded Faults queue
// its faults (Fail) and log its requests by path ("/api/v4/leads",
// "/oauth2/access_token"), whatever it answered.
type Server struct {
	connectortest.Faults

	// URL is the account's base URL, e.g. http://127.0.0.1:41234.
	URL string
	srv *httptest.Server

	mu         sync.Mutex
	now        func() time.Time
	latency    time.Duration
	limiter    *rate.Limiter
	banAfter   int
	n429       int
	banned     bool
	retryAfter int
	ignoreFilt bool
	quirks     Quirks
	unpaid     bool
	admin      bool
	tokens     map[string]bool
	oauth      *oauthState
	accessTTL  time.Duration
	cols       map[Entity]*collection
	account    Object
	taskTypes  []Object
	pipelines  []Object
	eventSeq   int64
}

// NewServer starts a fake account with an empty data set (one account, no
// pipelines). Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		now:        time.Now,
		limiter:    rate.NewLimiter(7, 7),
		banAfter:   20,
		retryAfter: 1,
		admin:      true,
		accessTTL:  24 * time.Hour,
		cols:       map[Entity]*collection{},
	}
	s.Faults.Key = func(r *http.Request) string { return r.URL.Path }
	s.Faults.Native = s.nativeFault
	for _, e := range []Entity{Leads, Contacts, Companies, Tasks, Users, LeadNotes, ContactNotes, CompanyNotes, Events} {
		s.cols[e] = newCollection()
	}
	for _, o := range opts {
		o(s)
	}
	if s.tokens == nil {
		s.tokens = map[string]bool{LongLivedToken(s.now().Add(365 * 24 * time.Hour)): true}
	}
	if s.oauth != nil {
		s.oauth.seed = s.oauth.issue(s.now(), 0, nil)
	}
	s.account = Object{
		"id": 30000001, "name": "Fake account", "subdomain": "example", "country": "RU",
		"currency": "RUB", "currency_symbol": "₽", "created_at": 1700000000, "created_by": 8000001,
		"current_user_id": 8000001, "is_technical_account": false,
	}
	// Every account has the two system task types (SDK TaskModel
	// constants): 1 follow-up ("Связаться"), the default of a new task, and
	// 2 meeting ("Встреча"). Custom ones are added with SetTaskTypes.
	s.taskTypes = []Object{TaskType(1, "Связаться"), TaskType(2, "Встреча")}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Token returns a long-lived token the server accepts (a JWT whose exp the
// connector can read).
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		return t
	}
	return ""
}

// LongLivedToken builds a token shaped like amoCRM's long-lived tokens: a
// JWT (unsigned here) whose payload carries exp.
func LongLivedToken(exp time.Time) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`))
	p := enc.EncodeToString(fmt.Appendf(nil, `{"aud":"fake","jti":"%d","iat":%d,"nbf":%d,"exp":%d,"sub":"8000001","account_id":30000001,"scopes":["crm"]}`,
		exp.UnixNano(), exp.Add(-time.Hour).Unix(), exp.Add(-time.Hour).Unix(), exp.Unix()))
	return h + "." + p + ".c2lnbmF0dXJl"
}

// SetIgnoreFilters makes list endpoints ignore filter[...] parameters, as an
// account without the filters API might.
func (s *Server) SetIgnoreFilters(v bool) { s.mu.Lock(); s.ignoreFilt = v; s.mu.Unlock() }

// Quirks are readings of the reference that an independently written amoCRM
// fake (or a real account) may make; the zero value is this fake's default.
// The connector must work against each of them.
type Quirks struct {
	// IgnoreOrder ignores order[...] parameters: lists come in id order.
	IgnoreOrder bool
	// UpdatedFilter restricts the filter[updated_at] forms understood:
	// "range" only [from]/[to], "single" only the single "since" value;
	// "" both.
	UpdatedFilter string
	// EventTypes sets how filter[type] is read: "literal" compares the
	// whole value with the type (no comma lists), "array" honours only
	// filter[type][]=…; "" accepts all three forms.
	EventTypes string
	// IgnoreOnlyDeleted serves live leads to with=only_deleted.
	IgnoreOnlyDeleted bool
	// Empty200 answers an empty page with 200, "_embedded": [] and a next
	// link instead of 204.
	Empty200 bool
	// ClampPage answers a page beyond the end with the last page again.
	ClampPage bool
	// HeavyLimit, when above 0, answers 504 with an HTML page to every
	// list request whose limit is above it: "504 on heavy pages → lower
	// limit" (reference §3).
	HeavyLimit int
}

// SetQuirks sets the quirks list endpoints follow.
func (s *Server) SetQuirks(q Quirks) { s.mu.Lock(); s.quirks = q; s.mu.Unlock() }

// SetPaymentRequired makes every API request answer 402 (account unpaid).
func (s *Server) SetPaymentRequired(v bool) { s.mu.Lock(); s.unpaid = v; s.mu.Unlock() }

// SetAdmin sets whether the token's user is an admin; /api/v4/users answers
// 403 to others.
func (s *Server) SetAdmin(v bool) { s.mu.Lock(); s.admin = v; s.mu.Unlock() }

// SetRetryAfter sets the retry_after of 429 bodies, in seconds.
func (s *Server) SetRetryAfter(sec int) { s.mu.Lock(); s.retryAfter = sec; s.mu.Unlock() }

// SetBanAfter sets how many 429s lead to the IP ban; 0 disables it.
func (s *Server) SetBanAfter(n int) { s.mu.Lock(); s.banAfter = n; s.mu.Unlock() }

// Banned reports whether the IP ban is on.
func (s *Server) Banned() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.banned }

// Unban lifts the IP ban and resets the 429 count.
func (s *Server) Unban() { s.mu.Lock(); s.banned, s.n429 = false, 0; s.mu.Unlock() }

// RevokeTokens makes every token, long-lived or OAuth, invalid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
	if s.oauth != nil {
		for _, p := range s.oauth.byRefresh {
			p.revoked = true
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	key := s.Record(r)
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}

	s.mu.Lock()
	if s.banned {
		s.mu.Unlock()
		banned(w)
		return
	}
	if s.limiter != nil && !s.limiter.Allow() {
		s.tooMany(w) // unlocks
		return
	}
	s.mu.Unlock()
	if r.URL.Path == "/oauth2/access_token" {
		s.token(w, r)
		return
	}
	// Faults come after the ban and the rate limit, which refuse a request
	// before anything else does, and spare the token endpoint.
	s.ServeNext(w, r, key, http.HandlerFunc(s.route))
}

// nativeFault answers a FaultStatus in amoCRM's problem+json shape, and
// the stuck pages of FaultRepeatPage and FaultEmptyPage.
func (s *Server) nativeFault(w http.ResponseWriter, r *http.Request, f connectortest.Fault, next http.Handler) {
	switch {
	case f.Kind == connectortest.FaultNative:
		s.stuck(w, r, f.Code == "empty-page", next)
	case f.Status == http.StatusTooManyRequests:
		s.mu.Lock()
		s.tooManyKind(w, f.Code == "html") // unlocks
	case f.Status == http.StatusInternalServerError:
		problem(w, 500, cmp.Or(f.Code, "ErrInternalServer"), cmp.Or(f.Message, "Internal server error"), Object{"trace_id": "0f0e0d0c"})
	case f.Status == http.StatusUnauthorized:
		unauthorized(w)
	case f.Status == http.StatusPaymentRequired:
		problem(w, 402, "Payment Required", "Payment required", nil)
	default:
		problem(w, f.Status, cmp.Or(f.Code, http.StatusText(f.Status)), cmp.Or(f.Message, http.StatusText(f.Status)), nil)
	}
}

// stuck answers a list request as a server stuck on one page: the first
// page (repeat) or an empty one, with a next link back to the page asked.
func (s *Server) stuck(w http.ResponseWriter, r *http.Request, empty bool, next http.Handler) {
	asked := s.base(r) + r.URL.RequestURI()
	if !empty {
		first := r.Clone(r.Context())
		q := first.URL.Query()
		q.Set("page", "1")
		first.URL.RawQuery = q.Encode()
		r = first
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := stuckPage(rec.Body.Bytes(), asked, empty)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body)
}

func (s *Server) tooMany(w http.ResponseWriter) { s.tooManyKind(w, false) }

// tooManyKind answers 429 and counts it towards the IP ban. Called with
// s.mu held; unlocks it.
func (s *Server) tooManyKind(w http.ResponseWriter, html bool) {
	s.n429++
	if s.banAfter > 0 && s.n429 >= s.banAfter {
		s.banned = true
	}
	ra := s.retryAfter
	s.mu.Unlock()
	if html {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(429)
		w.Write([]byte("<html><body>Too Many Requests</body></html>"))
		return
	}
	problem(w, 429, "Too Many Requests", "You have sent too many requests in a given amount of time. Please try again later.", Object{"retry_after": ra})
}

func banned(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte("<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1><p>Your IP address has been blocked.</p></body></html>"))
}

func unauthorized(w http.ResponseWriter) {
	problem(w, 401, "Unauthorized", "Invalid user name or password", nil)
}

// problem writes an application/problem+json error as documented.
func problem(w http.ResponseWriter, status int, title, detail string, extra Object) {
	o := Object{"title": title, "type": "https://httpstatus.es/" + strconv.Itoa(status), "status": status, "detail": detail}
	for k, v := range extra {
		o[k] = v
	}
	b, _ := json.Marshal(o)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[tok] {
		return true
	}
	if s.oauth != nil {
		return s.oauth.useAccess(tok, s.now())
	}
	return false
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w)
		return
	}
	s.mu.Lock()
	unpaid, admin := s.unpaid, s.admin
	s.mu.Unlock()
	if unpaid {
		problem(w, 402, "Payment Required", "Payment required", nil)
		return
	}
	if r.Method != http.MethodGet {
		problem(w, 405, "Method Not Allowed", "Method not allowed", nil)
		return
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch p {
	case "/api/v4/account":
		s.serveAccount(w, r)
	case "/api/v4/leads/pipelines":
		s.servePipelines(w, r)
	case "/api/v4/users":
		if !admin {
			problem(w, 403, "Forbidden", "Access denied", nil)
			return
		}
		s.list(w, r, Users, "users", 250)
	case "/api/v4/leads":
		s.list(w, r, Leads, "leads", 250)
	case "/api/v4/contacts":
		s.list(w, r, Contacts, "contacts", 250)
	case "/api/v4/companies":
		s.list(w, r, Companies, "companies", 250)
	case "/api/v4/tasks":
		s.list(w, r, Tasks, "tasks", 250)
	case "/api/v4/leads/notes":
		s.list(w, r, LeadNotes, "notes", 250)
	case "/api/v4/contacts/notes":
		s.list(w, r, ContactNotes, "notes", 250)
	case "/api/v4/companies/notes":
		s.list(w, r, CompanyNotes, "notes", 250)
	case "/api/v4/events":
		s.list(w, r, Events, "events", 100)
	case "/api/v4/events/types":
		s.serveEventTypes(w, r)
	default:
		if e, id, ok := oneRecord(p); ok {
			s.serveOne(w, r, e, id)
			return
		}
		problem(w, 404, "Not Found", "Not found", nil)
	}
}

// oneRecord reads the path of one lead, contact or company,
// /api/v4/leads/ID.
func oneRecord(path string) (Entity, int64, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v4/")
	if !ok {
		return "", 0, false
	}
	kind, idText, ok := strings.Cut(rest, "/")
	e := Entity(kind)
	if _, known := singulars[e]; !ok || !known {
		return "", 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return e, id, true
}

// serveOne answers GET /api/v4/{leads,contacts,companies}/ID: the record
// as the list shows it (with=contacts for a lead's contacts), 204 when
// there is none or it is deleted.
func (s *Server) serveOne(w http.ResponseWriter, r *http.Request, e Entity, id int64) {
	with := map[string]bool{}
	for _, v := range r.URL.Query()["with"] {
		for _, p := range strings.Split(v, ",") {
			with[strings.TrimSpace(p)] = true
		}
	}
	s.mu.Lock()
	rec, ok := s.cols[e].byID[fmt.Sprint(id)]
	var b []byte
	if ok && !rec.deleted {
		b = s.render(e, rec, with, false, r)
	}
	s.mu.Unlock()
	if b == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeHAL(w, b)
}

// serveAccount answers GET /api/v4/account: the account object, with
// _embedded.task_types (a list of {id, name, color, icon_id, code}, SDK
// AccountModel / TaskTypesCollection) when with names task_types.
func (s *Server) serveAccount(w http.ResponseWriter, r *http.Request) {
	with := map[string]bool{}
	for _, v := range r.URL.Query()["with"] {
		for _, p := range strings.Split(v, ",") {
			with[strings.TrimSpace(p)] = true
		}
	}
	s.mu.Lock()
	o := shallow(s.account)
	if with["task_types"] {
		o["_embedded"] = Object{"task_types": clone(s.taskTypes)}
	}
	b, _ := json.Marshal(o)
	s.mu.Unlock()
	writeHAL(w, b)
}

// TaskType builds a task type as GET /api/v4/account?with=task_types
// lists it. Custom types have ids the account assigns (large numbers) and
// no code.
func TaskType(id int64, name string) Object {
	return Object{"id": id, "name": name, "color": nil, "icon_id": nil, "code": nil}
}

// SetTaskTypes replaces the account's task types (include 1 and 2, which
// every account has, unless a test wants them missing).
func (s *Server) SetTaskTypes(types []Object) {
	c := make([]Object, len(types))
	for i, t := range types {
		c[i] = clone(t).(map[string]any)
	}
	s.mu.Lock()
	s.taskTypes = c
	s.mu.Unlock()
}

func writeHAL(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/hal+json")
	w.Write(b)
}

func (s *Server) base(r *http.Request) string { return "http://" + r.Host }

// list serves one page of a collection with the documented parameters:
// page, limit, filter[updated_at|created_at][from|to] (or a single
// filter[updated_at] = since), filter[type], filter[entity],
// filter[entity_id], order[id|updated_at|created_at], with=contacts and
// with=only_deleted (leads).
func (s *Server) list(w http.ResponseWriter, r *http.Request, e Entity, name string, maxLimit int) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problem(w, 400, "Bad Request", "Request validation failed", nil)
			return
		}
		if n > maxLimit {
			problem(w, 422, "Unprocessable Entity", fmt.Sprintf("Limit %d per page", maxLimit), nil)
			return
		}
		limit = n
	}
	s.mu.Lock()
	heavy := s.quirks.HeavyLimit
	s.mu.Unlock()
	if heavy > 0 && limit > heavy {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		fmt.Fprint(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
		return
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problem(w, 400, "Bad Request", "Request validation failed", nil)
			return
		}
		page = n
	}
	with := map[string]bool{}
	for _, v := range q["with"] {
		for _, p := range strings.Split(v, ",") {
			with[strings.TrimSpace(p)] = true
		}
	}
	onlyDeleted := e == Leads && with["only_deleted"]

	s.mu.Lock()
	ignore := s.ignoreFilt
	qk := s.quirks
	col := s.cols[e]
	byKey, byUpd := col.sorted()
	if qk.IgnoreOnlyDeleted {
		onlyDeleted = false
	}

	var f filter
	if !ignore {
		f = parseFilter(q, qk)
	}
	src := byKey
	desc, byUpdated := false, false
	switch {
	case qk.IgnoreOrder:
	case q.Get("order[updated_at]") != "":
		src, desc, byUpdated = byUpd, q.Get("order[updated_at]") == "desc", true
	case q.Get("order[id]") != "":
		desc = q.Get("order[id]") == "desc"
	case q.Get("order[created_at]") != "" && e == Events:
		desc = q.Get("order[created_at]") == "desc"
	}
	start, end := 0, len(src)
	if !desc && byUpdated && f.updFrom != nil {
		from := *f.updFrom
		start = sort.Search(len(src), func(i int) bool { return src[i].updated >= from })
	}
	skip := (page - 1) * limit
	if qk.ClampPage {
		n := 0
		for _, rec := range src[start:end] {
			if rec.deleted == onlyDeleted && f.match(rec) {
				n++
			}
		}
		if n > 0 && skip >= n {
			skip = (n - 1) / limit * limit
		}
	}
	var out []*record
	for k := 0; k < end-start && len(out) < limit; k++ {
		i := start + k
		if desc {
			i = end - 1 - k
		}
		rec := src[i]
		if rec.deleted != onlyDeleted || !f.match(rec) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, rec)
	}
	items := make([][]byte, len(out))
	for i, rec := range out {
		items[i] = s.render(e, rec, with, onlyDeleted, r)
	}
	s.mu.Unlock()

	if len(out) == 0 {
		if qk.Empty200 {
			nq := r.URL.Query()
			nq.Set("page", strconv.Itoa(page+1))
			fmt.Fprintf(w, `{"_page":%d,"_links":{"next":{"href":%q}},"_embedded":[]}`, page, s.base(r)+r.URL.Path+"?"+nq.Encode())
			return
		}
		// An empty page is 204 with no body, never 200 [].
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"_page":%d,"_links":{"self":{"href":%q}`, page, s.base(r)+r.URL.RequestURI())
	if len(out) == limit {
		// Like the real API: next is there whenever the page is full, even
		// when the next page turns out empty (it then answers 204).
		nq := r.URL.Query()
		nq.Set("page", strconv.Itoa(page+1))
		fmt.Fprintf(&b, `,"next":{"href":%q}`, s.base(r)+r.URL.Path+"?"+nq.Encode())
	}
	if page > 1 {
		pq := r.URL.Query()
		pq.Set("page", strconv.Itoa(page-1))
		fmt.Fprintf(&b, `,"prev":{"href":%q}`, s.base(r)+r.URL.Path+"?"+pq.Encode())
	}
	fmt.Fprintf(&b, `},"_embedded":{%q:[`, name)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}}")
	writeHAL(w, b.Bytes())
}

// render marshals one record as the list endpoint returns it.
func (s *Server) render(e Entity, rec *record, with map[string]bool, onlyDeleted bool, r *http.Request) []byte {
	if onlyDeleted {
		b, _ := json.Marshal(Object{
			"id": rec.id, "updated_at": rec.updated, "is_deleted": true, "account_id": 30000001,
			"_links": Object{"self": Object{"href": fmt.Sprintf("%s/api/v4/leads/%d", s.base(r), rec.id)}},
		})
		return b
	}
	o := rec.obj
	if e == Leads && !with["contacts"] {
		// _embedded.contacts comes only with with=contacts.
		if emb, ok := o["_embedded"].(map[string]any); ok {
			if _, has := emb["contacts"]; has {
				o = shallow(o)
				emb2 := shallow(emb)
				delete(emb2, "contacts")
				o["_embedded"] = emb2
			}
		}
	}
	b, err := json.Marshal(o)
	if err != nil {
		b = []byte(`{}`)
	}
	return b
}

func shallow(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

type filter struct {
	updFrom, updTo *int64
	crFrom, crTo   *int64
	types          map[string]bool
	entity         string
	entityIDs      map[int64]bool
}

func parseFilter(q url.Values, qk Quirks) filter {
	var f filter
	ptr := func(k string) *int64 {
		v := q.Get(k)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil
		}
		return &n
	}
	if qk.UpdatedFilter != "single" {
		f.updFrom, f.updTo = ptr("filter[updated_at][from]"), ptr("filter[updated_at][to]")
	}
	if f.updFrom == nil && qk.UpdatedFilter != "range" {
		f.updFrom = ptr("filter[updated_at]") // single value: "since"
	}
	f.crFrom, f.crTo = ptr("filter[created_at][from]"), ptr("filter[created_at][to]")
	for k, vs := range q {
		switch qk.EventTypes {
		case "literal":
			if k != "filter[type]" {
				continue
			}
		case "array":
			if k != "filter[type][]" {
				continue
			}
		default:
			if k != "filter[type]" && k != "filter[type][]" && !strings.HasPrefix(k, "filter[type][") {
				continue
			}
		}
		if f.types == nil {
			f.types = map[string]bool{}
		}
		for _, v := range vs {
			if qk.EventTypes == "literal" {
				f.types[v] = true
				continue
			}
			for _, t := range strings.Split(v, ",") {
				f.types[strings.TrimSpace(t)] = true
			}
		}
	}
	f.entity = q.Get("filter[entity]")
	for k, vs := range q {
		if k != "filter[entity_id]" && !strings.HasPrefix(k, "filter[entity_id][") {
			continue
		}
		if f.entityIDs == nil {
			f.entityIDs = map[int64]bool{}
		}
		for _, v := range vs {
			for _, p := range strings.Split(v, ",") {
				if n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64); err == nil {
					f.entityIDs[n] = true
				}
			}
		}
	}
	return f
}

func (f *filter) match(r *record) bool {
	if f.updFrom != nil && r.updated < *f.updFrom {
		return false
	}
	if f.updTo != nil && r.updated > *f.updTo {
		return false
	}
	if f.crFrom != nil && r.created < *f.crFrom {
		return false
	}
	if f.crTo != nil && r.created > *f.crTo {
		return false
	}
	if f.types != nil {
		t, _ := r.obj["type"].(string)
		if !f.types[t] {
			return false
		}
	}
	if f.entity != "" {
		t, _ := r.obj["entity_type"].(string)
		if t != f.entity {
			return false
		}
	}
	if f.entityIDs != nil {
		id, _ := num(r.obj["entity_id"])
		if !f.entityIDs[id] {
			return false
		}
	}
	return true
}

func (s *Server) servePipelines(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ps := s.pipelines
	b, _ := json.Marshal(Object{
		"_total_items": len(ps),
		"_links":       Object{"self": Object{"href": s.base(r) + "/api/v4/leads/pipelines"}},
		"_embedded":    Object{"pipelines": ps},
	})
	s.mu.Unlock()
	if len(ps) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeHAL(w, b)
}

// EventTypes are the event type codes /api/v4/events/types lists.
var EventTypes = []string{
	"lead_added", "lead_deleted", "lead_restored", "lead_status_changed", "contact_added",
	"contact_deleted", "contact_restored", "company_added", "company_deleted", "company_restored",
	"entity_responsible_changed", "incoming_chat_message", "outgoing_chat_message",
	"incoming_call", "outgoing_call", "entity_merged",
}

func (s *Server) serveEventTypes(w http.ResponseWriter, r *http.Request) {
	var items []Object
	for i, t := range EventTypes {
		items = append(items, Object{"key": t, "type": i + 1, "lang": Object{"en": t, "ru": t}})
	}
	b, _ := json.Marshal(Object{
		"_total_items": len(items),
		"_links":       Object{"self": Object{"href": s.base(r) + "/api/v4/events/types"}},
		"_embedded":    Object{"events_types": items},
	})
	writeHAL(w, b)
}

// stuckPage rewrites a HAL list page so that its next link points at asked
// (the page the client asked for), emptying its record lists when empty.
// A body that is no JSON object (a 204) is left alone.
func stuckPage(body []byte, asked string, empty bool) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m == nil {
		return body
	}
	if empty {
		if emb, ok := m["_embedded"].(map[string]any); ok {
			for k, v := range emb {
				if _, isList := v.([]any); isList {
					emb[k] = []any{}
				}
			}
		}
	}
	links, _ := m["_links"].(map[string]any)
	if links == nil {
		links = map[string]any{}
		m["_links"] = links
	}
	links["next"] = map[string]any{"href": asked}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}
