// Package bitrix24test is a fake Bitrix24 portal for tests, benchmarks and
// the demo, in the manner of net/http/httptest: a real HTTP server on
// loopback that speaks the classic REST API (crm.*, user.*, batch, scope,
// server.time and the OAuth token endpoint) as the reference documents it.
//
// It enforces what a client must cope with: fixed pages of 50 with
// next/total, start=-1 fast mode, batch with $result references, halt and
// the 50-call limit, numbers as strings in crm.*.list, the per-portal leaky
// bucket (2 requests/s, bucket 50) answering 503 QUERY_LIMIT_EXCEEDED,
// webhook-path and OAuth auth, and a queue of injected faults. It counts
// the requests it served per method.
package bitrix24test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// Server is a fake Bitrix24 portal. All methods are safe for concurrent use.
// The embedded Faults queue its faults (Fail) and log its requests by REST
// method ("batch" for batches, "crm.deal.list", "oauth/token" for the token
// endpoint), rejected ones included.
type Server struct {
	connectortest.Faults

	// URL is the portal's base URL, e.g. http://127.0.0.1:port; the REST
	// endpoint is URL+"/rest/".
	URL string
	srv *httptest.Server

	noListen bool

	mu         sync.Mutex
	now        func() time.Time
	loc        *time.Location
	latency    time.Duration
	tables     map[Entity]*table
	categories []Record
	scopes     []string

	webhookUser, webhookCode string
	oauth                    *oauthState
	denied                   map[string]bool

	rate       float64
	capacity   float64
	level      float64
	levelAt    time.Time
	realNow    func() time.Time
	rejected   int
	operating  time.Time // operating_reset_at to report
	subFaults  []string
	calls      map[string]int
	lastParams map[string]map[string]any
	q          quirks
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the portal's clock, which stamps DATE_MODIFY and the time
// block of every answer. Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLocation sets the portal's time zone; every datetime is written with
// its offset and filters are read in it. Default a fixed +03:00 (Moscow).
func WithLocation(loc *time.Location) Option { return func(s *Server) { s.loc = loc } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRateLimit sets the leaky bucket: it drains perSecond requests a
// second and holds bucket requests; a request that finds it full gets 503
// QUERY_LIMIT_EXCEEDED. Default 2 and 50 (Enterprise: 5 and 250). A
// perSecond of 0 turns the limit off. The bucket runs on time.Now, not
// WithClock's clock, since it must drain while the client waits: the real
// clock, or a testing/synctest bubble's (with WithoutListener).
func WithRateLimit(perSecond float64, bucket int) Option {
	return func(s *Server) { s.rate, s.capacity = perSecond, float64(bucket) }
}

// WithoutListener makes the portal listen nowhere: its URL names no real
// host, and Transport reaches it in process. A testing/synctest bubble
// needs this: its clock stands still while any goroutine waits on the
// real network, so a real listener would stop the fake time that the
// leaky bucket and the client's limiter and backoff run on.
func WithoutListener() Option { return func(s *Server) { s.noListen = true } }

// WithWebhook sets the inbound webhook's user id and secret code; requests
// to /rest/{user}/{code}/{method} with anything else get 401 NO_AUTH_FOUND.
// Default "1" and "b24fakewebhookcode".
func WithWebhook(userID, code string) Option {
	return func(s *Server) { s.webhookUser, s.webhookCode = userID, code }
}

// WithScopes sets the scopes the webhook and OAuth tokens carry; default
// crm and user_basic, the least a sync needs. A crm.* method without "crm"
// gets 403 insufficient_scope, and so does a user.* method without one of
// "user", "user_basic" or "user_brief" (user-scope.md); under user_brief
// alone user.get leaves out EMAIL and the phones, as Bitrix24 does.
func WithScopes(scopes ...string) Option { return func(s *Server) { s.scopes = scopes } }

// WithAccessDenied makes the webhook's user one without read permission
// for the given methods (e.g. "crm.deal.list"): they answer 400 with an
// empty code and "Access denied.", as crm-deal-list.md documents, as a
// request of their own or as a batch sub-call.
func WithAccessDenied(methods ...string) Option {
	return func(s *Server) {
		for _, m := range methods {
			s.denied[strings.ToLower(m)] = true
		}
	}
}

// WithOAuth enables the OAuth token endpoint at URL+"/oauth/token/" for an
// application with clientID and clientSecret, accepting refreshToken.
// Access tokens it issues live one hour of the portal's clock.
func WithOAuth(clientID, clientSecret, refreshToken string) Option {
	return func(s *Server) {
		s.oauth = &oauthState{clientID: clientID, secret: clientSecret, refresh: map[string]bool{refreshToken: true}, access: map[string]time.Time{}}
	}
}

// NewServer starts a fake portal with the default "General" deal pipeline
// and its stages, and no other data. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		now:         time.Now,
		realNow:     time.Now,
		loc:         time.FixedZone("MSK", 3*3600),
		rate:        2,
		capacity:    50,
		scopes:      []string{"crm", "user_basic"},
		denied:      map[string]bool{},
		webhookUser: "1",
		webhookCode: "b24fakewebhookcode",
		calls:       map[string]int{},
		lastParams:  map[string]map[string]any{},
		tables:      map[Entity]*table{},
	}
	for _, e := range []Entity{Deals, Contacts, Companies, Activities, Users, Statuses} {
		s.tables[e] = newTable(e)
	}
	s.Faults.Key = func(r *http.Request) string { return methodOf(r.URL.Path) }
	s.Faults.Native = s.nativeFault
	for _, o := range opts {
		o(s)
	}
	s.categories = []Record{{"id": 0, "name": "General", "sort": 300, "entityTypeId": 2, "isDefault": "Y"}}
	for i, st := range []struct{ id, name, sem, extra string }{
		{"NEW", "New", "", "process"},
		{"PREPARATION", "Preparation", "", "process"},
		{"WON", "Deal won", "S", "success"},
		{"LOSE", "Deal lost", "F", "failure"},
	} {
		s.addStatusLocked("DEAL_STAGE", "0", st.id, st.name, st.sem, st.extra, (i+1)*10)
	}
	if s.noListen {
		s.URL = fmt.Sprintf("http://bitrix24-%d.invalid", servers.Add(1))
		return s
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// servers numbers the portals without a listener, so that each has a URL
// of its own, as two portals do.
var servers atomic.Int64

// Close shuts the server down.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Transport returns a transport that reaches the portal: over HTTP, or in
// process with WithoutListener.
func (s *Server) Transport() http.RoundTripper {
	if s.srv == nil {
		return connectortest.InProcess(http.HandlerFunc(s.serveHTTP))
	}
	return s.srv.Client().Transport
}

// WebhookURL is the inbound webhook URL a client is configured with:
// URL+"/rest/{user}/{code}/".
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.URL + "/rest/" + s.webhookUser + "/" + s.webhookCode + "/"
}

// RevokeWebhook changes the webhook's code, as deleting and recreating the
// webhook in the portal does: the old URL gets 401 NO_AUTH_FOUND.
func (s *Server) RevokeWebhook() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookCode += "-revoked"
}

// Location is the portal's time zone.
func (s *Server) Location() *time.Location { return s.loc }

// ---- data API ----

// Add stores a record in e and returns its id. A missing ID gets the next
// one; missing creation and modification times get the clock's now. A
// record with an existing ID replaces it.
func (s *Server) Add(e Entity, r Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(e, r)
}

func (s *Server) addLocked(e Entity, r Record) string {
	t := s.tables[e]
	f := normalize(dateOnly(e, r, s.loc), t.crm, s.loc).(map[string]any)
	var id int64
	if v, ok := f["ID"]; ok && scalar(v) != "" {
		id, _ = strconv.ParseInt(scalar(v), 10, 64)
	} else {
		id = t.nextID
	}
	if t.crm {
		f["ID"] = strconv.FormatInt(id, 10)
	} else {
		f["ID"] = strconv.FormatInt(id, 10) // user.get sends ID as a string too
	}
	now := formatTime(s.now(), s.loc)
	if t.created != "" && f[t.created] == nil {
		f[t.created] = now
	}
	if t.mod != "" && f[t.mod] == nil {
		f[t.mod] = now
	}
	switch e {
	case Deals:
		// A deal enters its first stage when it is created; MOVED_TIME is
		// read-only and always set.
		if f["MOVED_TIME"] == nil {
			f["MOVED_TIME"] = f["DATE_CREATE"]
		}
	case Activities:
		// Empty PHP arrays, as crm.activity.list writes them.
		for _, k := range []string{"SETTINGS", "PROVIDER_PARAMS"} {
			if _, ok := f[k]; !ok {
				f[k] = []any{}
			}
		}
	}
	rw := &row{fields: f}
	if t.mod != "" {
		rw.mod = parseRecordTime(f[t.mod], s.loc)
	}
	t.put(id, rw)
	return strconv.FormatInt(id, 10)
}

// dateOnly renders a deal's date fields (BEGINDATE, CLOSEDATE: type date
// in crm.deal.fields) given as time.Time as Bitrix24 sends a date: the
// portal-local day at midnight, with the portal's offset.
func dateOnly(e Entity, r Record, loc *time.Location) map[string]any {
	out := map[string]any(r)
	if e != Deals {
		return out
	}
	cloned := false
	for _, k := range []string{"BEGINDATE", "CLOSEDATE"} {
		t, ok := r[k].(time.Time)
		if p, isPtr := r[k].(*time.Time); isPtr && p != nil {
			t, ok = *p, true
		}
		if ok {
			if !cloned {
				out, cloned = maps.Clone(out), true
			}
			y, m, d := t.In(loc).Date()
			out[k] = time.Date(y, m, d, 0, 0, 0, 0, loc)
		}
	}
	return out
}

// AddMany stores records in e in one lock, for large seeds.
func (s *Server) AddMany(e Entity, rs []Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.addLocked(e, r)
	}
}

// Update merges fields into record id of e and moves its modification time
// to the clock's now, as an edit in the portal does. A nil value removes
// the field. It reports whether the record exists.
func (s *Server) Update(e Entity, id string, fields Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[e]
	n, _ := strconv.ParseInt(id, 10, 64)
	r, ok := t.rows[n]
	if !ok {
		return false
	}
	f := maps.Clone(r.fields)
	upd := normalize(dateOnly(e, fields, s.loc), t.crm, s.loc).(map[string]any)
	for k, v := range upd {
		if v == nil {
			delete(f, k)
			continue
		}
		f[k] = v
	}
	if _, set := upd["MOVED_TIME"]; e == Deals && !set && upd["STAGE_ID"] != nil && upd["STAGE_ID"] != r.fields["STAGE_ID"] {
		// A stage change stamps MOVED_TIME, as moving a deal does.
		f["MOVED_TIME"] = formatTime(s.now(), s.loc)
	}
	if t.mod != "" {
		now := s.now()
		f[t.mod] = formatTime(now, s.loc)
		r = &row{fields: f, mod: parseRecordTime(f[t.mod], s.loc)}
	} else {
		r = &row{fields: f}
	}
	t.rows[n] = r
	return true
}

// Delete removes record id of e, as Bitrix24 does (there is no archive and
// no deletion feed). It reports whether the record existed.
func (s *Server) Delete(e Entity, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := strconv.ParseInt(id, 10, 64)
	return s.tables[e].remove(n)
}

// Deactivate marks user id inactive (Bitrix24 users are dismissed, never
// deleted).
func (s *Server) Deactivate(userID string) bool {
	return s.Update(Users, userID, Record{"ACTIVE": false})
}

// Get returns a copy of record id of e in its wire shape, or nil.
func (s *Server) Get(e Entity, id string) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := strconv.ParseInt(id, 10, 64)
	if r, ok := s.tables[e].rows[n]; ok {
		return Record(maps.Clone(r.fields))
	}
	return nil
}

// All returns copies of every record of e in id order.
func (s *Server) All(e Entity) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[e]
	out := make([]Record, 0, len(t.ids))
	for _, id := range t.ids {
		out = append(out, Record(maps.Clone(t.rows[id].fields)))
	}
	return out
}

// Count is the number of records in e.
func (s *Server) Count(e Entity) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tables[e].ids)
}

// AddPipeline adds a deal category (pipeline) with id, name and sort and
// its stages, given as "STAGE:NAME:SEMANTICS" triples (semantics "", "S" or
// "F"); each stage's STATUS_ID becomes "C{id}:STAGE". It replaces a
// category with the same id.
func (s *Server) AddPipeline(id int, name string, sort int, stages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cat := Record{"id": id, "name": name, "sort": sort, "entityTypeId": 2, "isDefault": "N", "originId": "", "originatorId": ""}
	replaced := false
	for i, c := range s.categories {
		if c["id"] == id {
			s.categories[i] = cat
			replaced = true
		}
	}
	if !replaced {
		s.categories = append(s.categories, cat)
	}
	entity := "DEAL_STAGE_" + strconv.Itoa(id)
	for i, st := range stages {
		parts := strings.SplitN(st, ":", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		extra := map[string]string{"": "process", "S": "success", "F": "failure"}[parts[2]]
		s.addStatusLocked(entity, strconv.Itoa(id), "C"+strconv.Itoa(id)+":"+parts[0], parts[1], parts[2], extra, (i+1)*10)
	}
}

func (s *Server) addStatusLocked(entity, category, statusID, name, sem, extra string, sort int) {
	var semantics any
	if sem != "" {
		semantics = sem
	}
	s.addLocked(Statuses, Record{
		"ENTITY_ID": entity, "STATUS_ID": statusID, "NAME": name, "NAME_INIT": name,
		"SORT": strconv.Itoa(sort), "SYSTEM": "Y", "CATEGORY_ID": category, "COLOR": "#39A8EF",
		"SEMANTICS": semantics, "EXTRA": map[string]any{"SEMANTICS": extra, "COLOR": "#39A8EF"},
	})
}

// ---- counters ----

// Calls is how many times method ran, as a request of its own or as a
// batch sub-call.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Rejected is how many requests the leaky bucket refused with 503
// QUERY_LIMIT_EXCEEDED.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// LastParams returns the parameters of the last call of method (a batch
// sub-call included), decoded from JSON or from the PHP query string.
func (s *Server) LastParams(method string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastParams[method]
}

// ResetCounts zeroes the request log, Calls and Rejected.
func (s *Server) ResetCounts() {
	s.Faults.ResetCounts()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.rejected = map[string]int{}, 0
}

// ConsumeBucket pours n requests of "another client" (another app on the
// same portal) into the leaky bucket, so the fake's own clients meet 503s
// until it drains.
func (s *Server) ConsumeBucket(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drainLocked()
	s.level += float64(n)
	if s.level > s.capacity {
		s.level = s.capacity
	}
}

func (s *Server) drainLocked() {
	now := s.realNow()
	if !s.levelAt.IsZero() {
		s.level -= now.Sub(s.levelAt).Seconds() * s.rate
		if s.level < 0 {
			s.level = 0
		}
	}
	s.levelAt = now
}

// ---- HTTP ----

type apiError struct {
	status int
	code   string
	desc   string
}

func (e *apiError) Error() string { return e.code + ": " + e.desc }

func errMethodNotFound(m string) *apiError {
	return &apiError{http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	key := s.Record(r)
	s.mu.Lock()
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 {
		time.Sleep(lat)
	}
	s.ServeNext(w, r, key, http.HandlerFunc(s.serveAPI))
}

// serveAPI answers a request that no fault intercepted.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := methodOf(r.URL.Path)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if r.URL.Path == "/oauth/token/" || r.URL.Path == "/oauth/token" {
		s.serveToken(w, r)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rate > 0 {
		s.drainLocked()
		if s.level+1 > s.capacity {
			s.rejected++
			s.writeErrorLocked(w, &apiError{http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests"})
			return
		}
		s.level++
	}
	params, err := readParams(r, body)
	if err != nil {
		s.writeErrorLocked(w, &apiError{http.StatusBadRequest, "INVALID_REQUEST", err.Error()})
		return
	}
	if aerr := s.authLocked(r.URL.Path, params); aerr != nil {
		s.writeErrorLocked(w, aerr)
		return
	}
	delete(params, "auth")
	if method == "batch" {
		if s.q.missing["batch"] {
			s.writeErrorLocked(w, errMethodNotFound(method))
			return
		}
		res, aerr := s.batchLocked(params, body)
		if aerr != nil {
			s.writeErrorLocked(w, aerr)
			return
		}
		env := map[string]any{"result": res, "time": s.timeBlockLocked(method)}
		if s.q.edit != nil {
			s.q.edit(method, env)
		}
		s.writeJSONLocked(w, http.StatusOK, env)
		return
	}
	out, aerr := s.callLocked(method, params)
	if aerr != nil {
		s.writeErrorLocked(w, aerr)
		return
	}
	env := map[string]any{"result": out.result, "time": s.timeBlockLocked(method)}
	if out.paged {
		env["total"] = out.total
		if out.hasNext {
			env["next"] = out.next
		}
	}
	if s.q.edit != nil {
		s.q.edit(method, env)
	}
	s.writeJSONLocked(w, http.StatusOK, env)
}

// methodOf extracts the REST method from /rest/{method}[.json] or
// /rest/{user}/{code}/{method}[.json].
func methodOf(path string) string {
	if strings.HasPrefix(path, "/oauth/token") {
		return "oauth/token"
	}
	p := strings.Trim(strings.TrimPrefix(path, "/rest/"), "/")
	parts := strings.Split(p, "/")
	m := parts[len(parts)-1]
	return strings.ToLower(strings.TrimSuffix(m, ".json"))
}

func readParams(r *http.Request, body []byte) (map[string]any, error) {
	params := map[string]any{}
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
	case b[0] == '{':
		d := json.NewDecoder(bytes.NewReader(b))
		if err := d.Decode(&params); err != nil {
			return nil, fmt.Errorf("bad JSON body: %v", err)
		}
	default:
		p, err := parsePHPQuery(string(b))
		if err != nil {
			return nil, err
		}
		params = p
	}
	if r.URL.RawQuery != "" {
		q, err := parsePHPQuery(r.URL.RawQuery)
		if err != nil {
			return nil, err
		}
		for k, v := range q {
			if _, ok := params[k]; !ok {
				params[k] = v
			}
		}
	}
	return params, nil
}

func (s *Server) authLocked(path string, params map[string]any) *apiError {
	p := strings.Trim(strings.TrimPrefix(path, "/rest/"), "/")
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 3:
		if parts[0] != s.webhookUser || parts[1] != s.webhookCode {
			return &apiError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
		}
	case len(parts) == 1 && s.oauth != nil:
		tok := pString(params, "auth")
		exp, ok := s.oauth.access[tok]
		if tok == "" || !ok {
			return &apiError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
		}
		if !s.now().Before(exp) {
			return &apiError{http.StatusUnauthorized, "expired_token", "The access token provided has expired."}
		}
	default:
		return &apiError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
	}
	return nil
}

func (s *Server) scopeOKLocked(method string) *apiError {
	var need []string
	switch {
	case strings.HasPrefix(method, "crm."):
		need = []string{"crm"}
	case strings.HasPrefix(method, "user."):
		need = []string{"user", "user_basic", "user_brief"}
	}
	if need == nil {
		return nil
	}
	for _, sc := range s.scopes {
		if slices.Contains(need, sc) {
			return nil
		}
	}
	return &apiError{http.StatusForbidden, "insufficient_scope", "The request requires higher privileges than provided by the webhook token"}
}

// briefOnlyLocked reports whether the only user scope is user_brief, which
// gives no contact details.
func (s *Server) briefOnlyLocked() bool {
	return slices.Contains(s.scopes, "user_brief") && !slices.Contains(s.scopes, "user_basic") && !slices.Contains(s.scopes, "user")
}

func (s *Server) writeJSONLocked(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) writeErrorLocked(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"error": e.code, "error_description": e.desc}
	if e.code == "OPERATION_TIME_LIMIT" {
		body["time"] = s.timeBlockLocked("")
	}
	s.writeJSONLocked(w, e.status, body)
}

// timeBlockLocked is the "time" object of every answer. operating_reset_at
// is a Unix number, except on crm.activity.list, whose documented sample
// has an ISO string.
func (s *Server) timeBlockLocked(method string) map[string]any {
	now := s.now()
	start := float64(now.UnixNano()) / 1e9
	reset := s.operating
	if reset.IsZero() {
		reset = now.Add(10 * time.Minute)
	}
	var resetAt any = reset.Unix()
	if method == "crm.activity.list" {
		resetAt = formatTime(reset, s.loc)
	}
	return map[string]any{
		"start": start, "finish": start + 0.01, "duration": 0.01, "processing": 0.005,
		"date_start": formatTime(now, s.loc), "date_finish": formatTime(now, s.loc),
		"operating_reset_at": resetAt, "operating": 0,
	}
}

// callResult is one method's answer.
type callResult struct {
	result  any
	paged   bool
	total   int
	next    int
	hasNext bool
}

func (s *Server) callLocked(method string, params map[string]any) (callResult, *apiError) {
	s.calls[method]++
	s.lastParams[method] = params
	if e := s.scopeOKLocked(method); e != nil {
		return callResult{}, e
	}
	if s.q.missing[method] {
		return callResult{}, errMethodNotFound(method)
	}
	if s.denied[method] {
		return callResult{}, &apiError{http.StatusBadRequest, "", "Access denied."}
	}
	switch method {
	case "crm.deal.list":
		return s.listLocked(s.tables[Deals], params)
	case "crm.contact.list":
		return s.listLocked(s.tables[Contacts], params)
	case "crm.company.list":
		return s.listLocked(s.tables[Companies], params)
	case "crm.activity.list":
		return s.listLocked(s.tables[Activities], params)
	case "crm.status.list":
		return s.listLocked(s.tables[Statuses], params)
	case "crm.item.list":
		return s.itemListLocked(params)
	case "user.get":
		return s.userGetLocked(params)
	case "crm.category.list":
		return s.categoryListLocked(params)
	case "scope":
		return callResult{result: append([]string(nil), s.scopes...)}, nil
	case "server.time":
		return callResult{result: formatTime(s.now(), s.loc)}, nil
	case "batch":
		return callResult{}, &apiError{http.StatusBadRequest, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"}
	}
	return callResult{}, errMethodNotFound(method)
}

const pageSize = 50

var multiFields = map[string]bool{"EMAIL": true, "PHONE": true, "WEB": true, "IM": true}

func (s *Server) listLocked(t *table, params map[string]any) (callResult, *apiError) {
	if f := lookupCI(params, "filter"); f != nil {
		if _, ok := f.(map[string]any); !ok {
			return callResult{}, &apiError{http.StatusBadRequest, "", "Parameter 'filter' must be array."}
		}
	}
	conds := parseFilter(pMap(params, "filter"))
	desc := false
	for k, v := range pMap(params, "order") {
		if strings.EqualFold(k, "ID") && strings.EqualFold(scalar(v), "DESC") {
			desc = true
		}
	}
	sel := pList(params, "select")
	start := pInt(params, "start", 0)
	if (s.q.ignoreFast && start < 0) || (s.q.ignoreStart && start > 0) {
		start = 0
	}
	if s.q.ignoreIDScan {
		kept := conds[:0]
		for _, c := range conds {
			if !(c.field == "ID" && c.op == ">") {
				kept = append(kept, c)
			}
		}
		conds = kept
	}

	// The ID scan: ">ID" on an ascending order starts with a binary search.
	lo := 0
	if !desc {
		for _, c := range conds {
			if c.field == "ID" && c.op == ">" && len(c.vals) == 1 {
				n, err := strconv.ParseInt(strings.TrimSpace(c.vals[0]), 10, 64)
				if err != nil {
					n = 0
				}
				lo = sort.Search(len(t.ids), func(i int) bool { return t.ids[i] > n })
			}
		}
	}
	matches := func(r *row) bool {
		for _, c := range conds {
			if t.mod != "" && c.field == t.mod && c.op != "=" && c.op != "!" && c.op != "%" && len(c.vals) > 0 {
				wt, ok := parseTime(c.vals[0], s.loc)
				if !ok {
					return false
				}
				cmp := r.mod.Compare(wt)
				if !((c.op == ">" && cmp > 0) || (c.op == ">=" && cmp >= 0) || (c.op == "<" && cmp < 0) || (c.op == "<=" && cmp <= 0)) {
					return false
				}
				continue
			}
			if !c.match(r, s.loc) {
				return false
			}
		}
		return true
	}
	n := len(t.ids)
	idAt := func(i int) int64 {
		if desc {
			return t.ids[n-1-i]
		}
		return t.ids[i]
	}
	rows := make([]any, 0, pageSize)
	out := callResult{paged: true}
	if start < 0 {
		for i := lo; i < n && len(rows) < pageSize; i++ {
			if r := t.rows[idAt(i)]; matches(r) {
				rows = append(rows, project(r.fields, sel))
			}
		}
		out.result = s.hideLocked(rows)
		return out, nil
	}
	count := 0
	for i := lo; i < n; i++ {
		r := t.rows[idAt(i)]
		if !matches(r) {
			continue
		}
		if count >= start && len(rows) < pageSize {
			rows = append(rows, project(r.fields, sel))
		}
		count++
	}
	rows = s.hideLocked(rows)
	out.result, out.total = rows, count
	if start+pageSize < count {
		out.next, out.hasNext = start+pageSize, true
	}
	return out, nil
}

// project applies select: no select or "*" means every field but the
// multi-fields (EMAIL, PHONE, ...) and user fields, which must be named
// ("UF_*" names all user fields). A named field the record lacks is null,
// except multi-fields, which are left out.
func project(f Record, sel []string) map[string]any {
	out := map[string]any{"ID": f["ID"]}
	if len(sel) == 0 {
		sel = []string{"*"}
	}
	for _, name := range sel {
		switch {
		case name == "*":
			for k, v := range f {
				if !multiFields[k] && !strings.HasPrefix(k, "UF_") {
					out[k] = v
				}
			}
		case name == "UF_*":
			for k, v := range f {
				if strings.HasPrefix(k, "UF_") {
					out[k] = v
				}
			}
		default:
			v, ok := f[name]
			if !ok && multiFields[name] {
				continue
			}
			out[name] = v
		}
	}
	return out
}

func (s *Server) userGetLocked(params map[string]any) (callResult, *apiError) {
	t := s.tables[Users]
	conds := parseFilter(pMap(params, "FILTER"))
	for k, v := range params {
		// user.get also takes filter fields at the top level (ACTIVE).
		if strings.EqualFold(k, "ACTIVE") || strings.EqualFold(k, "ID") {
			conds = append(conds, cond{op: "=", field: strings.ToUpper(k), vals: []string{scalar(v)}})
		}
	}
	desc := strings.EqualFold(pString(params, "ORDER"), "DESC")
	start := pInt(params, "start", 0)
	if start < 0 {
		start = 0
	}
	var all []*row
	for _, id := range t.ids {
		r := t.rows[id]
		ok := true
		for _, c := range conds {
			if !c.match(r, s.loc) {
				ok = false
				break
			}
		}
		if ok {
			all = append(all, r)
		}
	}
	if desc {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	brief := s.briefOnlyLocked()
	rows := make([]any, 0, pageSize)
	for i := start; i < len(all) && len(rows) < pageSize; i++ {
		u := maps.Clone(all[i].fields)
		if brief {
			for _, k := range []string{"EMAIL", "PERSONAL_PHONE", "PERSONAL_MOBILE", "WORK_PHONE"} {
				delete(u, k)
			}
		}
		rows = append(rows, u)
	}
	out := callResult{result: rows, paged: true, total: len(all)}
	if start+pageSize < len(all) {
		out.next, out.hasNext = start+pageSize, true
	}
	return out, nil
}

func (s *Server) categoryListLocked(params map[string]any) (callResult, *apiError) {
	if pInt(params, "entityTypeId", 0) != 2 {
		return callResult{result: map[string]any{"categories": []any{}}, paged: true}, nil
	}
	cats := append([]Record(nil), s.categories...)
	sort.SliceStable(cats, func(i, j int) bool { return cats[i]["sort"].(int) < cats[j]["sort"].(int) })
	start := pInt(params, "start", 0)
	if start < 0 {
		start = 0
	}
	page := []any{}
	for i := start; i < len(cats) && len(page) < pageSize; i++ {
		page = append(page, map[string]any(cats[i]))
	}
	out := callResult{result: map[string]any{"categories": page}, paged: true, total: len(cats)}
	if start+pageSize < len(cats) {
		out.next, out.hasNext = start+pageSize, true
	}
	return out, nil
}
