package hubspottest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// maxURI is where the fake, like HubSpot's front end, answers 414.
const maxURI = 8192

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crm/v3/objects/{type}", s.handleList)
	mux.HandleFunc("POST /crm/v3/objects/{type}/search", s.handleSearch)
	mux.HandleFunc("GET /crm/v3/owners", s.handleOwners)
	mux.HandleFunc("GET /crm/v3/owners/", s.handleOwners)
	mux.HandleFunc("GET /crm/v3/pipelines/{type}", s.handlePipelines)
	mux.HandleFunc("POST /crm/v4/associations/{from}/{to}/batch/read", s.handleAssoc)
	mux.HandleFunc("GET /account-info/v3/details", s.handleAccount)
	mux.HandleFunc("POST /oauth/v1/token", s.handleToken)
	mux.HandleFunc("GET /oauth/v1/access-tokens/{token}", s.handleTokenInfo)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(mux, w, r)
	})
}

func endpointKey(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasPrefix(p, "/oauth/v1/access-tokens/") {
		p = "/oauth/v1/access-tokens"
	}
	return r.Method + " " + p
}

// scopeFor is the scope an endpoint needs; "" needs only a valid token.
func scopeFor(r *http.Request) []string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/crm/v3/owners"):
		return []string{ScopeOwners}
	case strings.HasPrefix(p, "/crm/v3/pipelines/"):
		return []string{objectScope(strings.TrimPrefix(p, "/crm/v3/pipelines/"))}
	case strings.HasPrefix(p, "/crm/v3/objects/"):
		t, _, _ := strings.Cut(strings.TrimPrefix(p, "/crm/v3/objects/"), "/")
		return []string{objectScope(t)}
	case strings.HasPrefix(p, "/account-info/"):
		return []string{ScopeOAuth}
	case strings.HasPrefix(p, "/crm/v4/associations/"):
		parts := strings.Split(strings.TrimPrefix(p, "/crm/v4/associations/"), "/")
		if len(parts) >= 2 {
			return []string{objectScope(parts[0]), objectScope(parts[1])}
		}
	}
	return nil
}

func objectScope(t string) string {
	switch t {
	case Companies:
		return ScopeCompanies
	case Deals:
		return ScopeDeals
	}
	return ScopeContacts // contacts and the engagements
}

func (s *Server) serve(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	s.ServeNext(w, r, s.Record(r), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RequestURI()) > maxURI {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusRequestURITooLong)
			w.Write([]byte("<html><body><h1>414 Request-URI Too Large</h1></body></html>"))
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/oauth/") {
			if !s.authorize(w, r) {
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
}

// nativeFault answers a FaultStatus with HubSpot's body for its status:
// the ten-secondly 429, the 401 of a bad token, or an error of category
// Code (default INTERNAL_ERROR).
func (s *Server) nativeFault(w http.ResponseWriter, r *http.Request, f connectortest.Fault, next http.Handler) {
	switch {
	case f.Status == http.StatusTooManyRequests:
		s.write429(w, cmp.Or(f.Code, "TEN_SECONDLY_ROLLING"), cmp.Or(f.Message, "You have reached your ten_secondly_rolling limit."))
	case f.Status == http.StatusUnauthorized:
		s.write401(w, cmp.Or(f.Code, "INVALID_AUTHENTICATION"))
	default:
		writeError(w, f.Status, cmp.Or(f.Code, "INTERNAL_ERROR"), cmp.Or(f.Message, "internal error"), nil)
	}
}

func (s *Server) write429(w http.ResponseWriter, policy, message string) {
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status": "error", "message": message, "errorType": "RATE_LIMIT",
		"correlationId": correlationID(), "policyName": policy, "requestId": correlationID(),
	})
}

func (s *Server) write401(w http.ResponseWriter, category string) {
	w.Header().Set("x-hubspot-auth-failure", "401 Unauthorized")
	msg := "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
	if category == "EXPIRED_AUTHENTICATION" {
		msg = "The OAuth token used to make this call expired 1 second(s) ago."
	}
	writeError(w, http.StatusUnauthorized, category, msg, nil)
}

// authorize checks the bearer token, the daily and rolling limits and the
// endpoint's scopes, answering as HubSpot does when one fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ti := s.tokens[tok]
	now := s.now()
	switch {
	case !ok || ti == nil || ti.revoked:
		s.mu.Unlock()
		s.write401(w, "INVALID_AUTHENTICATION")
		return false
	case !ti.expiry.IsZero() && !now.Before(ti.expiry):
		s.mu.Unlock()
		s.write401(w, "EXPIRED_AUTHENTICATION")
		return false
	}
	if s.dailyLimit > 0 && s.dailyUsed >= s.dailyLimit {
		s.mu.Unlock()
		s.write429(w, "DAILY", "You have reached your daily limit.")
		return false
	}
	wall := time.Now()
	isSearch := strings.HasSuffix(r.URL.Path, "/search")
	if isSearch {
		if ok, _ := s.search.allow(wall); !ok {
			s.rateLimited++
			s.mu.Unlock()
			if s.retryAfter != "" {
				w.Header().Set("Retry-After", s.retryAfter)
			}
			s.write429(w, "SECONDLY", "You have reached your secondly limit.")
			return false
		}
	}
	allowed, remaining := s.general.allow(wall)
	if !allowed {
		s.rateLimited++
		s.mu.Unlock()
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		s.write429(w, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
		return false
	}
	s.dailyUsed++
	scopes := ti.scopes
	if s.general != nil && s.general.max > 0 && !isSearch {
		h := w.Header()
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.general.max))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.general.period.Milliseconds(), 10))
	}
	s.mu.Unlock()
	for _, need := range scopeFor(r) {
		if !slices.Contains(scopes, need) {
			writeError(w, http.StatusForbidden, "MISSING_SCOPES",
				"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
				map[string]any{"errors": []any{map[string]any{
					"message": "One or more of the following scopes are required.",
					"context": map[string]any{"requiredGranularScopes": []string{need}},
				}}})
			return false
		}
	}
	return true
}

// --- objects ---

type paging struct {
	Next struct {
		After string `json:"after"`
		Link  string `json:"link,omitempty"`
	} `json:"next"`
}

// defaultProps are what HubSpot returns when no properties are asked for.
func defaultProps(t string) []string {
	switch t {
	case Deals:
		return []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}
	case Contacts:
		return []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
	case Companies:
		return []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}
	}
	return []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
}

func renderObject(r *Record, props []string) map[string]any {
	p := make(map[string]any, len(props))
	for _, name := range props {
		if v := r.Properties[name]; v != "" {
			p[name] = v
		} else {
			p[name] = nil
		}
	}
	o := map[string]any{
		"id": r.ID, "properties": p,
		"createdAt": FormatTime(r.CreatedAt), "updatedAt": FormatTime(r.UpdatedAt),
		"archived": r.Archived,
	}
	if r.Archived {
		o["archivedAt"] = FormatTime(r.ArchivedAt)
	}
	return o
}

// render is renderObject with the properties HubSpot computes from
// associations: a contact's associatedcompanyid is its primary company
// (contact→company typeId 1; the lowest id if several), else what the
// record holds. s.mu is held.
func (s *Server) render(t string, rec *Record, props []string) map[string]any {
	o := renderObject(rec, props)
	if t != Contacts || !slices.Contains(props, "associatedcompanyid") {
		return o
	}
	id, _ := strconv.ParseUint(rec.ID, 10, 64)
	var primary uint64
	for co, types := range s.assoc[Contacts+"/"+Companies][id] {
		isPrimary := slices.ContainsFunc(types, func(at AssociationType) bool {
			return at.Category == "HUBSPOT_DEFINED" && at.TypeID == Primary(Contacts).TypeID
		})
		if isPrimary && (primary == 0 || co < primary) {
			primary = co
		}
	}
	if primary != 0 {
		o["properties"].(map[string]any)["associatedcompanyid"] = strconv.FormatUint(primary, 10)
	}
	return o
}

func (s *Server) objectStore(w http.ResponseWriter, t string) *store {
	st, ok := s.objects[t]
	if !ok {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to infer object type from: "+t, nil)
		return nil
	}
	return st
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("type")
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, 400, "VALIDATION_ERROR", "limit must be between 1 and 100", nil)
			return
		}
		limit = n
	}
	var after uint64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, 400, "VALIDATION_ERROR", "Invalid input JSON: after is not a valid cursor", nil)
			return
		}
		after = n
	}
	archived := q.Get("archived") == "true"
	var props []string
	for _, v := range q["properties"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				props = append(props, p)
			}
		}
	}
	if len(props) == 0 {
		props = defaultProps(t)
	}
	// associations is an array in the spec: repeated, or comma-joined as
	// the reference's sample sends it; singular names (the changelog's
	// "contact") name the same type.
	var assocTo []string
	for _, v := range q["associations"] {
		for _, a := range strings.Split(v, ",") {
			if a = pluralType(strings.TrimSpace(a)); a != "" && !slices.Contains(assocTo, a) {
				assocTo = append(assocTo, a)
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.objectStore(w, t)
	if st == nil {
		return
	}
	if s.shortPages > 0 && s.shortPages < limit {
		limit = s.shortPages
	}
	i, _ := slices.BinarySearch(st.ids, after)
	results := make([]map[string]any, 0, limit)
	var next uint64
	for ; i < len(st.ids); i++ {
		rec := st.byID[st.ids[i]]
		if rec.Archived != archived {
			continue
		}
		if len(results) == limit {
			next = st.ids[i]
			break
		}
		o := s.render(t, rec, props)
		if as := s.inlineAssociations(t, st.ids[i], rec.ID, assocTo); len(as) > 0 {
			o["associations"] = as
		}
		results = append(results, o)
	}
	body := map[string]any{"results": results}
	if next != 0 {
		var pg paging
		pg.Next.After = strconv.FormatUint(next, 10)
		pg.Next.Link = fmt.Sprintf("%s/crm/v3/objects/%s?after=%s&limit=%d", s.URL, t, pg.Next.After, limit)
		body["paging"] = pg
	}
	writeJSON(w, 200, body)
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []struct {
			PropertyName string          `json:"propertyName"`
			Operator     string          `json:"operator"`
			Value        json.RawMessage `json:"value"`
		} `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []json.RawMessage `json:"sorts"`
	Properties []string          `json:"properties"`
	Limit      int               `json:"limit"`
	After      json.RawMessage   `json:"after"`
	Query      string            `json:"query"`
}

type filter struct {
	prop, op, value string
	num             float64
	isNum           bool
}

func rawString(m json.RawMessage) string {
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(m))
}

// value reads a property for comparison: numbers as numbers, ISO times as
// epoch milliseconds (HubSpot filters dates in ms).
func (s *Server) compare(rec *Record, f filter, objectType string) (int, bool) {
	var v string
	switch f.prop {
	case "hs_object_id":
		v = rec.ID
	default:
		v = rec.Properties[f.prop]
	}
	if v == "" {
		return 0, false
	}
	if f.isNum {
		var x float64
		if f.prop == modProp(objectType) {
			x = float64(rec.UpdatedAt.UnixMilli())
		} else if n, err := strconv.ParseFloat(v, 64); err == nil {
			x = n
		} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			x = float64(t.UnixMilli())
		} else if t, err := time.Parse("2006-01-02", v); err == nil {
			x = float64(t.UnixMilli())
		} else {
			return strings.Compare(v, f.value), true
		}
		switch {
		case x < f.num:
			return -1, true
		case x > f.num:
			return 1, true
		}
		return 0, true
	}
	return strings.Compare(v, f.value), true
}

func (s *Server) matches(rec *Record, f filter, t string) bool {
	switch f.op {
	case "HAS_PROPERTY":
		return f.prop == "hs_object_id" || rec.Properties[f.prop] != ""
	case "NOT_HAS_PROPERTY":
		return rec.Properties[f.prop] == ""
	}
	c, ok := s.compare(rec, f, t)
	if !ok {
		return f.op == "NEQ"
	}
	switch f.op {
	case "EQ":
		return c == 0
	case "NEQ":
		return c != 0
	case "LT":
		return c < 0
	case "LTE":
		return c <= 0
	case "GT":
		return c > 0
	case "GTE":
		return c >= 0
	}
	return false
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("type")
	var req searchRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		writeError(w, 400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1: "+err.Error(), nil)
		return
	}
	limit := req.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || limit > 200 {
		writeError(w, 400, "VALIDATION_ERROR", "There was a problem with the request.", nil)
		return
	}
	s.mu.Lock()
	capAt, opaque := s.searchCap, s.opaqueSearch
	s.mu.Unlock()
	if capAt <= 0 {
		capAt = SearchCap
	}
	after := 0
	if len(req.After) > 0 {
		v := rawString(req.After)
		if opaque && v != "" && v != "0" {
			b, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, "o"))
			v = string(b)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, 400, "VALIDATION_ERROR", "There was a problem with the request.", nil)
			return
		}
		after = n
	}
	if after >= capAt {
		writeError(w, 400, "VALIDATION_ERROR", "There was a problem with the request.", nil)
		return
	}
	if len(req.FilterGroups) > 5 {
		writeError(w, 400, "VALIDATION_ERROR", "Too many filter groups", nil)
		return
	}
	groups := make([][]filter, len(req.FilterGroups))
	var idFloor uint64 // a lower bound from an AND-ed GT/GTE hs_object_id, for speed
	for i, g := range req.FilterGroups {
		for _, f := range g.Filters {
			ff := filter{prop: f.PropertyName, op: f.Operator, value: rawString(f.Value)}
			if n, err := strconv.ParseFloat(ff.value, 64); err == nil {
				ff.num, ff.isNum = n, true
			}
			groups[i] = append(groups[i], ff)
			if len(req.FilterGroups) == 1 && ff.prop == "hs_object_id" && ff.isNum && (ff.op == "GT" || ff.op == "GTE") {
				idFloor = uint64(ff.num)
			}
		}
	}
	sortProp, desc := "hs_object_id", false
	if len(req.Sorts) > 0 {
		var so struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		}
		if json.Unmarshal(req.Sorts[0], &so) != nil {
			str := rawString(req.Sorts[0])
			so.PropertyName = strings.TrimPrefix(str, "-")
			if strings.HasPrefix(str, "-") {
				so.Direction = "DESCENDING"
			}
		}
		if so.PropertyName != "" {
			sortProp, desc = so.PropertyName, so.Direction == "DESCENDING"
		}
	}
	props := req.Properties
	if len(props) == 0 {
		props = defaultProps(t)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.objectStore(w, t)
	if st == nil {
		return
	}
	pageLimit := limit
	if s.shortPages > 0 && s.shortPages < pageLimit {
		pageLimit = s.shortPages
	}
	start, _ := slices.BinarySearch(st.ids, idFloor)
	var matched []*Record
	for _, id := range st.ids[start:] {
		rec := st.byID[id]
		if rec.Archived {
			continue
		}
		ok := len(groups) == 0
		for _, g := range groups {
			all := true
			for _, f := range g {
				if !s.matches(rec, f, t) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if ok {
			matched = append(matched, rec)
		}
	}
	if sortProp != "hs_object_id" || desc {
		sort.SliceStable(matched, func(i, j int) bool {
			var a, b string
			if sortProp == "hs_object_id" {
				a, b = matched[i].ID, matched[j].ID
			} else {
				a, b = matched[i].Properties[sortProp], matched[j].Properties[sortProp]
			}
			if desc {
				return idLess(b, a)
			}
			return idLess(a, b)
		})
	}
	results := []map[string]any{}
	end := min(after+pageLimit, len(matched))
	for _, rec := range matched[min(after, len(matched)):end] {
		results = append(results, s.render(t, rec, props))
	}
	body := map[string]any{"total": len(matched), "results": results}
	if end < len(matched) {
		var pg paging
		pg.Next.After = strconv.Itoa(end)
		if opaque {
			pg.Next.After = "o" + base64.RawURLEncoding.EncodeToString([]byte(pg.Next.After))
		}
		body["paging"] = pg
	}
	writeJSON(w, 200, body)
}

// --- owners, pipelines, account ---

func (s *Server) handleOwners(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, 400, "VALIDATION_ERROR", "limit must be between 1 and 500", nil)
			return
		}
		limit = n
	}
	archived := q.Get("archived") == "true"
	after := q.Get("after")
	email := q.Get("email")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shortPages > 0 && s.shortPages < limit {
		limit = s.shortPages
	}
	results := []map[string]any{}
	next := ""
	for _, o := range s.owners {
		if o.Archived != archived || (after != "" && idLess(o.ID, after)) || (email != "" && !strings.EqualFold(email, o.Email)) {
			continue
		}
		if len(results) == limit {
			next = o.ID
			break
		}
		m := map[string]any{
			"id": o.ID, "email": o.Email, "firstName": o.FirstName, "lastName": o.LastName,
			"userIdIncludingInactive": o.UserID, "type": o.Type,
			"createdAt": FormatTime(o.CreatedAt), "updatedAt": FormatTime(o.UpdatedAt), "archived": o.Archived,
		}
		if o.UserID != 0 && !o.Archived {
			m["userId"] = o.UserID
		}
		if o.Type == "" {
			m["type"] = "PERSON"
		}
		if len(o.Teams) > 0 {
			var teams []map[string]any
			for _, t := range o.Teams {
				teams = append(teams, map[string]any{"id": t.ID, "name": t.Name, "primary": t.Primary})
			}
			m["teams"] = teams
		}
		results = append(results, m)
	}
	body := map[string]any{"results": results}
	if next != "" {
		var pg paging
		pg.Next.After = next
		pg.Next.Link = fmt.Sprintf("%s/crm/v3/owners/?after=%s&limit=%d", s.URL, next, limit)
		body["paging"] = pg
	}
	writeJSON(w, 200, body)
}

func (s *Server) handlePipelines(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("type") != Deals {
		writeJSON(w, 200, map[string]any{"results": []any{}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []map[string]any{}
	for _, p := range s.pipelines {
		var stages []map[string]any
		for _, st := range p.Stages {
			md := map[string]any{}
			for k, v := range st.Metadata {
				md[k] = v
			}
			stages = append(stages, map[string]any{
				"id": st.ID, "label": st.Label, "displayOrder": st.DisplayOrder, "metadata": md,
				"archived": st.Archived, "createdAt": FormatTime(p.CreatedAt), "updatedAt": FormatTime(p.UpdatedAt),
				"writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
			})
		}
		results = append(results, map[string]any{
			"id": p.ID, "label": p.Label, "displayOrder": p.DisplayOrder, "archived": p.Archived,
			"createdAt": FormatTime(p.CreatedAt), "updatedAt": FormatTime(p.UpdatedAt), "stages": stages,
		})
	}
	writeJSON(w, 200, map[string]any{"results": results})
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	cur := s.currency
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"portalId": 12345678, "accountType": "STANDARD", "timeZone": "Europe/Berlin",
		"companyCurrency": cur, "additionalCurrencies": []string{}, "utcOffset": "+01:00",
		"utcOffsetMilliseconds": 3600000, "uiDomain": "app-eu1.hubspot.com", "dataHostingLocation": "eu1",
	})
}

// --- associations ---

// InlineAssociationLimit is how many associations of one type a record of
// a list page carries before its list is cut: HubSpot's changelog
// "Announcing a change to how v3 CRM APIs return association data" (2020)
// pages inline associations past 100.
const InlineAssociationLimit = 100

// pluralType is the object type a list's associations parameter names:
// the plural the fake keys its data by, for the singular too; "" for a
// type the fake does not hold.
func pluralType(a string) string {
	a = strings.ToLower(a)
	if a == "company" {
		return Companies
	}
	for _, t := range ObjectTypes {
		if a == t || a+"s" == t {
			return t
		}
	}
	return ""
}

func singularType(t string) string {
	if t == Companies {
		return "company"
	}
	return strings.TrimSuffix(t, "s")
}

// v3TypeName is an association type as the v3 inline associations name
// it: deal_to_company for the primary company (v4 typeId 5, contacts 1),
// deal_to_company_unlabeled for the unlabeled one where a primary one
// exists (341, 279), deal_to_contact and the like elsewhere, as portals
// show (reference §6.1: the same association listed twice, once a type).
// How v3 names a USER_DEFINED label is not documented: the fake writes the
// label in snake case.
func v3TypeName(from, to string, at AssociationType) string {
	base := singularType(from) + "_to_" + singularType(to)
	switch {
	case at.Category == "USER_DEFINED":
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, lower(at.Label))
	case to == Companies && (from == Deals || from == Contacts) && at.TypeID == Primary(from).TypeID:
		return base
	case to == Companies && (from == Deals || from == Contacts):
		return base + "_unlabeled"
	}
	return base
}

// inlineAssociations renders a list record's associations of the asked
// types, as CollectionResponseAssociatedId per type keyed by its plural
// name: one entry per association type, ascending target ids, types
// without associations left out. A list past InlineAssociationLimit
// entries is cut with paging.next, whose link names the per-record
// associations endpoint as HubSpot's does (the fake does not serve it).
func (s *Server) inlineAssociations(from string, id uint64, fromID string, to []string) map[string]any {
	out := map[string]any{}
	for _, t := range to {
		links := s.assoc[from+"/"+t][id]
		if len(links) == 0 {
			continue
		}
		ids := make([]uint64, 0, len(links))
		for tid := range links {
			ids = append(ids, tid)
		}
		slices.Sort(ids)
		var res []map[string]any
		cut := false
	entries:
		for _, tid := range ids {
			for _, at := range links[tid] {
				if len(res) == InlineAssociationLimit {
					cut = true
					break entries
				}
				res = append(res, map[string]any{"id": strconv.FormatUint(tid, 10), "type": v3TypeName(from, t, at)})
			}
		}
		col := map[string]any{"results": res}
		if cut {
			var pg paging
			pg.Next.After = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(InlineAssociationLimit)))
			pg.Next.Link = fmt.Sprintf("%s/crm/v3/objects/%s/%s/associations/%s?after=%s", s.URL, from, fromID, t, pg.Next.After)
			col["paging"] = pg
		}
		out[t] = col
	}
	return out
}

func (s *Server) handleAssoc(w http.ResponseWriter, r *http.Request) {
	from, to := r.PathValue("from"), r.PathValue("to")
	var req struct {
		Inputs []struct {
			ID    string `json:"id"`
			After string `json:"after"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, 400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1: "+err.Error(), nil)
		return
	}
	if len(req.Inputs) > 1000 {
		writeError(w, 400, "VALIDATION_ERROR", fmt.Sprintf("Batch input size %d exceeds the limit of 1000", len(req.Inputs)), nil)
		return
	}
	started := FormatTime(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[from]; !ok {
		writeError(w, 400, "VALIDATION_ERROR", "Unable to infer object type from: "+from, nil)
		return
	}
	m := s.assoc[from+"/"+to]
	results := []map[string]any{}
	var errs []map[string]any
	for _, in := range req.Inputs {
		id, err := strconv.ParseUint(in.ID, 10, 64)
		links := m[id]
		if err != nil || len(links) == 0 {
			errs = append(errs, map[string]any{
				"status": "error", "category": "OBJECT_NOT_FOUND", "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
				"message": fmt.Sprintf("No %s is associated with %s %s.", to, strings.TrimSuffix(from, "s"), in.ID),
				"context": map[string][]string{"fromObjectId": {in.ID}, "toObjectType": {to}},
				"errors":  []any{},
				"links":   map[string]any{},
			})
			continue
		}
		ids := make([]uint64, 0, len(links))
		for t := range links {
			ids = append(ids, t)
		}
		slices.Sort(ids)
		off := 0
		if in.After != "" {
			b, err := base64.RawURLEncoding.DecodeString(in.After)
			if err == nil {
				off, _ = strconv.Atoi(string(b))
			}
		}
		end := min(off+s.assocPage, len(ids))
		var tos []map[string]any
		for _, t := range ids[min(off, len(ids)):end] {
			var types []map[string]any
			for _, at := range links[t] {
				var label any
				if at.Label != "" {
					label = at.Label
				}
				types = append(types, map[string]any{"category": at.Category, "typeId": at.TypeID, "label": label})
			}
			tos = append(tos, map[string]any{"toObjectId": t, "associationTypes": types})
		}
		res := map[string]any{"from": map[string]any{"id": in.ID}, "to": tos}
		if end < len(ids) {
			var pg paging
			pg.Next.After = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
			res["paging"] = pg
		}
		results = append(results, res)
	}
	body := map[string]any{"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": FormatTime(s.now())}
	status := 200
	if len(errs) > 0 {
		body["errors"] = errs
		body["numErrors"] = len(errs)
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, body)
}

// --- OAuth ---

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, 400, map[string]any{"status": "BAD_REQUEST", "message": "form-encoded body required", "correlationId": correlationID()})
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Get("grant_type") != "refresh_token" {
		writeJSON(w, 400, map[string]any{"status": "BAD_GRANT_TYPE", "message": "unsupported grant_type", "correlationId": correlationID()})
		return
	}
	if s.clientID == "" || f.Get("client_id") != s.clientID || f.Get("client_secret") != s.clientSecret {
		writeJSON(w, 400, map[string]any{"status": "BAD_CLIENT_ID", "message": "missing or unknown client id", "correlationId": correlationID()})
		return
	}
	rt := f.Get("refresh_token")
	scopes, ok := s.refresh[rt]
	if !ok {
		writeJSON(w, 400, map[string]any{"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token", "correlationId": correlationID()})
		return
	}
	s.issued++
	access := fmt.Sprintf("oat-fake-%d-%08x", s.issued, rand32())
	s.tokens[access] = &tokenInfo{scopes: scopes, expiry: s.now().Add(30 * time.Minute), oauth: true}
	if s.rotate {
		delete(s.refresh, rt)
		rt = fmt.Sprintf("rt-fake-%d-%08x", s.issued, rand32())
		s.refresh[rt] = scopes
	}
	writeJSON(w, 200, map[string]any{
		"token_type": "bearer", "refresh_token": rt, "access_token": access, "expires_in": 1800,
		"hub_id": 12345678, "scopes": scopes,
	})
}

func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	ti := s.tokens[tok]
	if ti == nil || !ti.oauth || ti.revoked || !s.now().Before(ti.expiry) {
		writeJSON(w, 404, map[string]any{"status": "error", "message": "Token not found", "correlationId": correlationID(), "category": "OBJECT_NOT_FOUND"})
		return
	}
	writeJSON(w, 200, map[string]any{
		"token": tok, "user": "admin@example.com", "hub_domain": "example.com", "scopes": ti.scopes,
		"hub_id": 12345678, "app_id": 456789, "expires_in": int(ti.expiry.Sub(s.now()).Seconds()),
		"user_id": 9876543, "token_type": "access",
	})
}
