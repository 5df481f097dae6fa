// Package hubspottest is a fake HubSpot CRM API for tests, benchmarks and the
// demo, in the manner of net/http/httptest.
//
// It speaks the endpoints crmkpi uses as the reference documents them
// (objects list, with inline associations cut past InlineAssociationLimit,
// and search, owners, deal pipelines, v4 association batch reads, account
// details, the OAuth token endpoints) over a mutable data set
// held in HubSpot's own shape: properties are strings, returned only when
// asked for, empty ones as null; the last page has no paging; search answers
// 400 past 10,000 results and does not list archived records. It enforces
// HubSpot's rolling ten-second limit and the search limit with HubSpot's 429
// bodies, checks tokens and their scopes, and has knobs for faults.
//
// Rate windows use the wall clock (they pace real requests); record
// timestamps and token expiry use the injectable clock.
package hubspottest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// Object types the fake serves under /crm/v3/objects/{type}.
const (
	Companies = "companies"
	Contacts  = "contacts"
	Deals     = "deals"
	Calls     = "calls"
	Emails    = "emails"
	Meetings  = "meetings"
	Notes     = "notes"
	Tasks     = "tasks"
)

// ObjectTypes lists every object type the fake holds.
var ObjectTypes = []string{Companies, Contacts, Deals, Calls, Emails, Meetings, Notes, Tasks}

// Scopes HubSpot requires for reading each kind of data.
const (
	ScopeContacts  = "crm.objects.contacts.read"
	ScopeCompanies = "crm.objects.companies.read"
	ScopeDeals     = "crm.objects.deals.read"
	ScopeOwners    = "crm.objects.owners.read"
	ScopeEmailBody = "sales-email-read"
	// ScopeOAuth ("User and Account Information") is what the account
	// details endpoint needs, per HubSpot's account-info spec.
	ScopeOAuth = "oauth"
)

// AllScopes is what a fully authorised token holds.
var AllScopes = []string{ScopeContacts, ScopeCompanies, ScopeDeals, ScopeOwners, ScopeEmailBody, ScopeOAuth}

// SearchCap is HubSpot's limit on how deep one search query may page.
const SearchCap = 10000

// Record is one CRM object in HubSpot's shape. Properties hold HubSpot's
// string values; "" is served as null.
type Record struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
	ArchivedAt time.Time
}

// Owner is a HubSpot owner (a user or queue that records are assigned to).
type Owner struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	UserID    int64 // 0 when the owner has no active user (served without userId)
	Type      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Archived  bool
	Teams     []Team
}

// Team is an owner's team.
type Team struct {
	ID      string
	Name    string
	Primary bool
}

// Pipeline is a deal pipeline with its stages.
type Pipeline struct {
	ID           string
	Label        string
	DisplayOrder int
	Archived     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Stages       []Stage
}

// Stage is a deal stage. Metadata holds HubSpot's string metadata,
// "isClosed" ("true"/"false") and "probability" ("0.0".."1.0").
type Stage struct {
	ID           string
	Label        string
	DisplayOrder int
	Archived     bool
	Metadata     map[string]string
}

// Status is what reference/hubspot.md says a deal in the stage is: won in
// a closed stage of probability 1, lost in another closed stage, else
// open. It reads the metadata as the fake serves it, so that the seed and
// the tests' expected rows agree without the connector's mapping.
func (s Stage) Status() string {
	if s.Metadata["isClosed"] != "true" {
		return "open"
	}
	if p, _ := strconv.ParseFloat(s.Metadata["probability"], 64); p == 1 {
		return "won"
	}
	return "lost"
}

// AssociationType is one label of an association (v4 shape).
type AssociationType struct {
	Category string // HUBSPOT_DEFINED or USER_DEFINED
	TypeID   int
	Label    string // "" is served as null
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for record timestamps and token expiry.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLatency delays every answer by d (wall time).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRateLimit sets the per-app rolling limit: max requests in any window
// (default 100 per 10 s). max 0 disables it.
func WithRateLimit(max int, window time.Duration) Option {
	return func(s *Server) { s.general = newWindow(max, window) }
}

// WithSearchRateLimit sets the search limit per rolling second (default 5);
// 0 disables it.
func WithSearchRateLimit(perSecond int) Option {
	return func(s *Server) { s.search = newWindow(perSecond, time.Second) }
}

// WithRateLimitRetryAfter makes rolling-window 429s carry Retry-After with
// this many seconds; by default they carry none, as HubSpot often does.
func WithRateLimitRetryAfter(secs string) Option {
	return func(s *Server) { s.retryAfter = secs }
}

// WithToken registers a private app token with its scopes (AllScopes when
// none are given).
func WithToken(token string, scopes ...string) Option {
	return func(s *Server) { s.AddToken(token, scopes...) }
}

// WithOAuthApp registers an OAuth app whose refresh tokens (AddRefreshToken)
// the token endpoint exchanges.
func WithOAuthApp(clientID, clientSecret string) Option {
	return func(s *Server) { s.clientID, s.clientSecret = clientID, clientSecret }
}

// WithAssociationPageSize sets how many associations one result of a v4
// batch read carries before it pages (default 500).
func WithAssociationPageSize(n int) Option { return func(s *Server) { s.assocPage = n } }

// WithoutListener makes the server listen nowhere: its URL names no real
// host, and Transport reaches it in process. A testing/synctest bubble
// needs this: its clock stands still while any goroutine waits on the
// real network, so a real listener would stop the fake time that the rate
// windows (time.Now) and the client's limiters run on.
func WithoutListener() Option { return func(s *Server) { s.noListen = true } }

// WithCompanyCurrency sets the portal currency served by account details
// (default USD); "" serves it empty. A token without ScopeOAuth gets 403
// MISSING_SCOPES there, as from HubSpot.
func WithCompanyCurrency(code string) Option { return func(s *Server) { s.currency = code } }

// Server is a fake HubSpot. Its methods are safe for concurrent use. The
// embedded Faults queue its faults (Fail) and log its requests under
// endpoint keys such as "GET /crm/v3/objects/contacts", "POST
// /crm/v3/objects/deals/search", "POST
// /crm/v4/associations/deals/companies/batch/read", "GET /crm/v3/owners",
// "GET /crm/v3/pipelines/deals", "POST /oauth/v1/token", "GET
// /oauth/v1/access-tokens", "GET /account-info/v3/details"; a FaultStatus
// answers with HubSpot's error body for its status.
type Server struct {
	connectortest.Faults

	// URL is the base URL of the fake, for the connector's BaseURL.
	URL string
	ts  *httptest.Server

	noListen bool
	handler  http.Handler

	mu         sync.Mutex
	now        func() time.Time
	latency    time.Duration
	general    *window
	search     *window
	retryAfter string
	dailyLimit int
	dailyUsed  int
	shortPages int
	// searchCap overrides SearchCap when > 0; opaqueSearch renders search
	// cursors as opaque tokens instead of numeric offsets.
	searchCap    int
	opaqueSearch bool
	assocPage    int
	currency     string
	nextID       uint64

	objects   map[string]*store
	owners    []Owner
	pipelines []Pipeline
	assoc     map[string]map[uint64]map[uint64][]AssociationType // "from/to" → from id → to id

	tokens       map[string]*tokenInfo
	refresh      map[string][]string // refresh token → scopes
	clientID     string
	clientSecret string
	rotate       bool
	issued       int

	rateLimited int
}

type tokenInfo struct {
	scopes  []string
	expiry  time.Time // zero: never (private app)
	oauth   bool
	revoked bool
}

type store struct {
	byID map[uint64]*Record
	ids  []uint64 // sorted, live and archived
}

// NewServer starts a fake HubSpot. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		now:       time.Now,
		general:   newWindow(100, 10*time.Second),
		search:    newWindow(5, time.Second),
		assocPage: 500,
		currency:  "USD",
		nextID:    1000,
		objects:   map[string]*store{},
		assoc:     map[string]map[uint64]map[uint64][]AssociationType{},
		tokens:    map[string]*tokenInfo{},
		refresh:   map[string][]string{},
	}
	s.Faults.Key = endpointKey
	s.Faults.Native = s.nativeFault
	for _, t := range ObjectTypes {
		s.objects[t] = &store{byID: map[uint64]*Record{}}
	}
	for _, o := range opts {
		o(s)
	}
	s.handler = s.routes()
	if s.noListen {
		s.URL = fmt.Sprintf("http://hubspot-%d.invalid", servers.Add(1))
		return s
	}
	s.ts = httptest.NewServer(s.handler)
	s.URL = s.ts.URL
	return s
}

// servers numbers the servers without a listener, so that each has a URL
// of its own (clients key their rate limits by it).
var servers atomic.Int64

// Close shuts the server down.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Client returns an HTTP client that reaches the server.
func (s *Server) Client() *http.Client {
	if s.ts == nil {
		return &http.Client{Transport: s.Transport()}
	}
	return s.ts.Client()
}

// Transport returns a transport that reaches the server: over HTTP, or in
// process with WithoutListener, where a fault that breaks the connection
// (connectortest.FaultReset) answers as a truncated one.
func (s *Server) Transport() http.RoundTripper {
	if s.ts == nil {
		return connectortest.InProcess(s.handler)
	}
	return s.ts.Client().Transport
}

// --- tokens ---

// AddToken registers a private app token with its scopes (AllScopes when
// none are given).
func (s *Server) AddToken(token string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = AllScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = &tokenInfo{scopes: slices.Clone(scopes)}
}

// RevokeToken makes token (private or access) answer 401 from now on.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[token]; ok {
		t.revoked = true
	}
}

// AddRefreshToken registers an OAuth refresh token granting scopes
// (AllScopes when none are given).
func (s *Server) AddRefreshToken(refreshToken string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = AllScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[refreshToken] = slices.Clone(scopes)
}

// RevokeRefreshToken makes the token endpoint refuse refreshToken.
func (s *Server) RevokeRefreshToken(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refresh, refreshToken)
}

// SetRotateRefreshTokens makes every refresh answer a new refresh token and
// retire the old one.
func (s *Server) SetRotateRefreshTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate = on
}

// TokensIssued is how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// --- knobs ---

// SetDailyLimit makes the fake answer HubSpot's DAILY 429 once limit more
// requests were served; 0 lifts it.
func (s *Server) SetDailyLimit(limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dailyLimit, s.dailyUsed = limit, 0
}

// SetShortPages makes list and search pages hold at most n results while
// still carrying paging.next when more remain (0 turns it off), as HubSpot
// sometimes does.
func (s *Server) SetShortPages(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shortPages = n
}

// SetSearchPaging makes search answer 400 from offset capAt (0: SearchCap)
// and, with opaque, hand out paging.next.after as an opaque token rather
// than the documented numeric offset: readings an independent server may
// make of the 10,000-result cap and of "a numeric offset rendered as a
// string".
func (s *Server) SetSearchPaging(capAt int, opaque bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searchCap, s.opaqueSearch = capAt, opaque
}

// SetCompanyCurrency changes the portal currency.
func (s *Server) SetCompanyCurrency(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.currency = code
}

// RateLimited is how many 429s the rate windows (not Fail) answered.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// ResetCounts zeroes the request log and RateLimited.
func (s *Server) ResetCounts() {
	s.Faults.ResetCounts()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = 0
}

// --- data ---

// modProp is the property HubSpot keeps the last-modified time in.
func modProp(objectType string) string {
	if objectType == Contacts {
		return "lastmodifieddate"
	}
	return "hs_lastmodifieddate"
}

func createProp(objectType string) string {
	switch objectType {
	case Companies, Contacts, Deals:
		return "createdate"
	}
	return "hs_createdate"
}

// FormatTime renders t as HubSpot does: UTC, milliseconds only when non-zero.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

func (s *Server) st(objectType string) *store {
	st, ok := s.objects[objectType]
	if !ok {
		panic("hubspottest: unknown object type " + objectType)
	}
	return st
}

// Create adds a record of objectType with props and returns its new id; its
// created and modified times are the clock's now.
func (s *Server) Create(objectType string, props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	now := s.now().UTC().Truncate(time.Millisecond)
	r := &Record{ID: strconv.FormatUint(s.nextID, 10), Properties: cloneProps(props), CreatedAt: now, UpdatedAt: now}
	s.fill(objectType, r, true)
	s.insert(objectType, s.nextID, r)
	return r.ID
}

// Load adds records as given (ids, times and properties), for seeding large
// data sets; the system properties (hs_object_id, created and modified
// dates) are filled from the record's fields where missing. A record with
// an existing id replaces it.
func (s *Server) Load(objectType string, recs ...Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st(objectType)
	sorted := true
	for i := range recs {
		id, err := strconv.ParseUint(recs[i].ID, 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("record id %q is not a positive integer", recs[i].ID)
		}
		r := recs[i]
		r.Properties = cloneProps(r.Properties)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = r.CreatedAt
		}
		s.fill(objectType, &r, false)
		if _, ok := st.byID[id]; !ok {
			if n := len(st.ids); n > 0 && st.ids[n-1] > id {
				sorted = false
			}
			st.ids = append(st.ids, id)
		}
		st.byID[id] = &r
		if id > s.nextID {
			s.nextID = id
		}
	}
	if !sorted {
		slices.Sort(st.ids)
	}
	return nil
}

func (s *Server) fill(objectType string, r *Record, force bool) {
	p := r.Properties
	p["hs_object_id"] = r.ID
	if force || p[createProp(objectType)] == "" {
		p[createProp(objectType)] = FormatTime(r.CreatedAt)
	}
	if force || p[modProp(objectType)] == "" {
		p[modProp(objectType)] = FormatTime(r.UpdatedAt)
	}
	if objectType == Contacts && p["hs_lastmodifieddate"] == "" {
		// HubSpot's trap: contacts carry hs_lastmodifieddate too, but it
		// does not follow edits; filtering on it misses changes.
		p["hs_lastmodifieddate"] = FormatTime(r.CreatedAt)
	}
}

func (s *Server) insert(objectType string, id uint64, r *Record) {
	st := s.st(objectType)
	if _, ok := st.byID[id]; !ok {
		i, _ := slices.BinarySearch(st.ids, id)
		st.ids = slices.Insert(st.ids, i, id)
	}
	st.byID[id] = r
}

func cloneProps(p map[string]string) map[string]string {
	out := make(map[string]string, len(p)+4)
	for k, v := range p {
		out[k] = v
	}
	return out
}

func (s *Server) get(objectType, id string) (*Record, uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("bad id %q", id)
	}
	r, ok := s.st(objectType).byID[n]
	if !ok {
		return nil, 0, fmt.Errorf("%s %s not found", objectType, id)
	}
	return r, n, nil
}

// Update sets props on a record (a "" value empties one) and moves its
// modified time to the clock's now, as an edit in HubSpot does.
func (s *Server) Update(objectType, id string, props map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.get(objectType, id)
	if err != nil {
		return err
	}
	for k, v := range props {
		r.Properties[k] = v
	}
	s.touch(objectType, r)
	return nil
}

func (s *Server) touch(objectType string, r *Record) {
	r.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	r.Properties[modProp(objectType)] = FormatTime(r.UpdatedAt)
}

// Archive soft-deletes a record, as DELETE does in HubSpot: it leaves lists
// and search and appears under archived=true with its archivedAt.
func (s *Server) Archive(objectType, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.get(objectType, id)
	if err != nil {
		return err
	}
	r.Archived = true
	r.ArchivedAt = s.now().UTC().Truncate(time.Millisecond)
	r.UpdatedAt = r.ArchivedAt
	return nil
}

// Restore brings an archived record back, with a new modified time.
func (s *Server) Restore(objectType, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.get(objectType, id)
	if err != nil {
		return err
	}
	r.Archived, r.ArchivedAt = false, time.Time{}
	s.touch(objectType, r)
	return nil
}

// Merge merges loser into survivor: the loser disappears (it no longer
// resolves, even under archived=true), the survivor's hs_merged_object_ids
// gains its id and its modified time moves.
func (s *Server) Merge(objectType, survivorID, loserID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.get(objectType, survivorID)
	if err != nil {
		return err
	}
	_, ln, err := s.get(objectType, loserID)
	if err != nil {
		return err
	}
	st := s.st(objectType)
	delete(st.byID, ln)
	if i, ok := slices.BinarySearch(st.ids, ln); ok {
		st.ids = slices.Delete(st.ids, i, i+1)
	}
	if m := r.Properties["hs_merged_object_ids"]; m != "" {
		r.Properties["hs_merged_object_ids"] = m + ";" + loserID
	} else {
		r.Properties["hs_merged_object_ids"] = loserID
	}
	s.touch(objectType, r)
	return nil
}

// Get returns a copy of a record, archived ones included.
func (s *Server) Get(objectType, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.get(objectType, id)
	if err != nil {
		return Record{}, false
	}
	c := *r
	c.Properties = cloneProps(r.Properties)
	return c, true
}

// Records returns copies of all records of objectType in id order,
// archived ones included.
func (s *Server) Records(objectType string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st(objectType)
	out := make([]Record, 0, len(st.ids))
	for _, id := range st.ids {
		c := *st.byID[id]
		c.Properties = cloneProps(c.Properties)
		out = append(out, c)
	}
	return out
}

// defaultTypes are the HUBSPOT_DEFINED unlabeled association types.
var defaultTypes = map[string]int{
	"contacts/companies": 279, "companies/contacts": 280,
	"deals/contacts": 3, "contacts/deals": 4,
	"deals/companies": 341, "companies/deals": 342,
}

func defaultType(from, to string) AssociationType {
	id, ok := defaultTypes[from+"/"+to]
	if !ok {
		id = 1000 + len(from) + len(to) // engagements: any stable id
	}
	return AssociationType{Category: "HUBSPOT_DEFINED", TypeID: id}
}

// Primary is the association type HubSpot uses for a primary company.
func Primary(from string) AssociationType {
	id := 5
	if from == Contacts {
		id = 1
	}
	return AssociationType{Category: "HUBSPOT_DEFINED", TypeID: id, Label: "Primary"}
}

// Associate links two records in both directions with the given types
// (HubSpot's unlabeled default when none). It does not move either
// record's modified time, as in HubSpot.
func (s *Server) Associate(fromType, fromID, toType, toID string, types ...AssociationType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := strconv.ParseUint(fromID, 10, 64)
	if err != nil {
		return fmt.Errorf("bad id %q", fromID)
	}
	t, err := strconv.ParseUint(toID, 10, 64)
	if err != nil {
		return fmt.Errorf("bad id %q", toID)
	}
	if len(types) == 0 {
		types = []AssociationType{defaultType(fromType, toType)}
	}
	s.link(fromType, f, toType, t, types)
	s.link(toType, t, fromType, f, []AssociationType{defaultType(toType, fromType)})
	return nil
}

func (s *Server) link(fromType string, f uint64, toType string, t uint64, types []AssociationType) {
	key := fromType + "/" + toType
	m := s.assoc[key]
	if m == nil {
		m = map[uint64]map[uint64][]AssociationType{}
		s.assoc[key] = m
	}
	if m[f] == nil {
		m[f] = map[uint64][]AssociationType{}
	}
	m[f][t] = slices.Clone(types)
}

// Unassociate removes the link between two records in both directions.
func (s *Server) Unassociate(fromType, fromID, toType, toID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := strconv.ParseUint(fromID, 10, 64)
	t, _ := strconv.ParseUint(toID, 10, 64)
	delete(s.assoc[fromType+"/"+toType][f], t)
	delete(s.assoc[toType+"/"+fromType][t], f)
}

// Associations returns the ids associated with a record, ascending.
func (s *Server) Associations(fromType, fromID, toType string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := strconv.ParseUint(fromID, 10, 64)
	var ids []uint64
	for t := range s.assoc[fromType+"/"+toType][f] {
		ids = append(ids, t)
	}
	slices.Sort(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatUint(id, 10)
	}
	return out
}

// AddOwner adds or replaces an owner.
func (s *Server) AddOwner(o Owner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.owners {
		if s.owners[i].ID == o.ID {
			s.owners[i] = o
			return
		}
	}
	s.owners = append(s.owners, o)
	sort.Slice(s.owners, func(i, j int) bool { return idLess(s.owners[i].ID, s.owners[j].ID) })
}

// ArchiveOwner deactivates an owner: it moves to the archived=true listing.
func (s *Server) ArchiveOwner(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.owners {
		if s.owners[i].ID == id {
			s.owners[i].Archived = true
			s.owners[i].UpdatedAt = s.now().UTC()
		}
	}
}

// Owners returns a copy of all owners.
func (s *Server) Owners() []Owner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.owners)
}

// SetPipelines replaces the deal pipelines.
func (s *Server) SetPipelines(ps ...Pipeline) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pipelines = slices.Clone(ps)
}

// Pipelines returns a copy of the deal pipelines.
func (s *Server) Pipelines() []Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pipelines)
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// --- rate windows ---

type window struct {
	max    int
	period time.Duration
	times  []time.Time
}

func newWindow(max int, period time.Duration) *window {
	return &window{max: max, period: period}
}

// allow records a request at now unless max were already served in the
// rolling period.
func (w *window) allow(now time.Time) (ok bool, remaining int) {
	if w == nil || w.max <= 0 {
		return true, -1
	}
	cut := now.Add(-w.period)
	i := 0
	for i < len(w.times) && !w.times[i].After(cut) {
		i++
	}
	w.times = w.times[i:]
	if len(w.times) >= w.max {
		return false, 0
	}
	w.times = append(w.times, now)
	return true, w.max - len(w.times)
}

func correlationID() string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rand.Uint32(), rand.Uint32()&0xffff, rand.Uint32()&0xfff, rand.Uint32()&0xfff, rand.Uint64()&0xffffffffffff)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, category, message string, extra map[string]any) {
	body := map[string]any{"status": "error", "message": message, "correlationId": correlationID(), "category": category}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

func rand32() uint32 { return rand.Uint32() }
