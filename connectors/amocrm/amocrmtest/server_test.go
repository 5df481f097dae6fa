package amocrmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, s *Server, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// The wire shapes, checked against the reference rather than the connector.
func TestWireShapes(t *testing.T) {
	s := NewServer(WithRateLimit(0, 0), WithBanAfter(2), WithRetryAfter(300))
	defer s.Close()
	for i := range 4 {
		s.Put(Leads, Object{"id": 10 + i, "name": "L", "updated_at": 100 + i, "_embedded": Object{"contacts": []any{Object{"id": 1, "is_main": true}}}})
	}
	tok := s.Token()
	code, h, b := get(t, s, "/api/v4/leads?limit=2&page=2", tok)
	var env struct {
		Page  int `json:"_page"`
		Links struct {
			Self, Next *struct{ Href string }
		} `json:"_links"`
		Embedded struct {
			Leads []map[string]any `json:"leads"`
		} `json:"_embedded"`
	}
	if err := json.Unmarshal(b, &env); err != nil || code != 200 || !strings.Contains(h.Get("Content-Type"), "hal+json") {
		t.Fatalf("GET leads: %d %s %v", code, b, err)
	}
	if env.Page != 2 || env.Links.Next == nil || !strings.Contains(env.Links.Next.Href, "page=3") || len(env.Embedded.Leads) != 2 {
		t.Errorf("envelope = %s", b)
	}
	if l := env.Embedded.Leads[0]; l["custom_fields_values"] != nil || l["_embedded"].(map[string]any)["contacts"] != nil {
		t.Errorf("lead without with=contacts = %v", l)
	}
	if code, _, b := get(t, s, "/api/v4/leads?limit=2&page=3", tok); code != 204 || len(b) != 0 {
		t.Errorf("page after the last = %d %q, want 204 and no body", code, b)
	}
	if code, _, b := get(t, s, "/api/v4/leads?limit=251", tok); code != 422 || !bytes.Contains(b, []byte("Limit 250 per page")) {
		t.Errorf("limit 251 = %d %s", code, b)
	}
	// The documented maxima (reference/amocrm.md §3): 250 for tasks and
	// notes, 100 for events.
	for path, max := range map[string]int{"/api/v4/tasks": 250, "/api/v4/leads/notes": 250,
		"/api/v4/contacts/notes": 250, "/api/v4/companies/notes": 250, "/api/v4/events": 100} {
		want := []byte(fmt.Sprintf("Limit %d per page", max))
		if code, _, b := get(t, s, fmt.Sprintf("%s?limit=%d", path, max+1), tok); code != 422 || !bytes.Contains(b, want) {
			t.Errorf("%s limit %d = %d %s", path, max+1, code, b)
		}
		if code, _, b := get(t, s, fmt.Sprintf("%s?limit=%d", path, max), tok); code != 200 && code != 204 {
			t.Errorf("%s limit %d = %d %s", path, max, code, b)
		}
	}
	if code, h, b := get(t, s, "/api/v4/leads", "wrong"); code != 401 || h.Get("Content-Type") != "application/problem+json" || !bytes.Contains(b, []byte(`"status":401`)) {
		t.Errorf("bad token = %d %s", code, b)
	}
	s.Fail(2, FaultTooManyRequests)
	code, _, b = get(t, s, "/api/v4/leads", tok)
	if code != 429 || !bytes.Contains(b, []byte(`"retry_after":300`)) {
		t.Errorf("429 = %d %s", code, b)
	}
	get(t, s, "/api/v4/leads", tok)
	if code, h, _ := get(t, s, "/api/v4/account", tok); code != 403 || !strings.Contains(h.Get("Content-Type"), "html") || !s.Banned() {
		t.Errorf("after 2 429s: %d %s, want the HTML 403 ban", code, h.Get("Content-Type"))
	}
}

func TestOAuthGrace(t *testing.T) {
	clk := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(WithRateLimit(0, 0), WithOAuth("id", "sec"), WithClock(func() time.Time { return clk }))
	defer s.Close()
	refresh := func(rt string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]string{"client_id": "id", "client_secret": "sec", "grant_type": "refresh_token", "refresh_token": rt})
		resp, err := http.Post(s.URL+"/oauth2/access_token", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	seed := s.OAuthRefreshToken()
	code, p1 := refresh(seed)
	if code != 200 || p1["expires_in"].(float64) != 86400 {
		t.Fatalf("refresh = %d %v", code, p1)
	}
	// The new pair is unused: the seed still works (and replaces it).
	code, p2 := refresh(seed)
	if code != 200 {
		t.Fatalf("second refresh with the old token = %d %v", code, p2)
	}
	if c, _, _ := get(t, s, "/api/v4/account", p1["access_token"].(string)); c != 401 {
		t.Errorf("replaced pair still works: %d", c)
	}
	if c, _, _ := get(t, s, "/api/v4/account", p2["access_token"].(string)); c != 200 {
		t.Errorf("new access token = %d", c)
	}
	// p2 has been used: the seed is dead now.
	if code, _ := refresh(seed); code != 400 {
		t.Errorf("old token after the new one was used = %d, want 400", code)
	}
}

// GET /api/v4/account lists _embedded.task_types only when asked with
// with=task_types, as a list of {id, name, color, icon_id, code} (SDK
// AccountModel, TaskTypesCollection).
func TestAccountTaskTypes(t *testing.T) {
	s := NewServer(WithRateLimit(0, 0))
	defer s.Close()
	s.SetTaskTypes([]Object{TaskType(1, "Связаться"), TaskType(2, "Встреча"), TaskType(TaskTypeProposal, "Отправить КП")})
	var acc struct {
		Currency string `json:"currency"`
		Embedded *struct {
			TaskTypes []map[string]any `json:"task_types"`
		} `json:"_embedded"`
	}
	_, _, b := get(t, s, "/api/v4/account", s.Token())
	if err := json.Unmarshal(b, &acc); err != nil || acc.Currency != "RUB" || acc.Embedded != nil {
		t.Errorf("account without with = %s", b)
	}
	_, _, b = get(t, s, "/api/v4/account?with=datetime_settings,task_types", s.Token())
	acc.Embedded = nil
	if err := json.Unmarshal(b, &acc); err != nil || acc.Embedded == nil {
		t.Fatalf("account with=task_types = %s", b)
	}
	want := `[{"code":null,"color":null,"icon_id":null,"id":1,"name":"Связаться"},{"code":null,"color":null,"icon_id":null,"id":2,"name":"Встреча"},{"code":null,"color":null,"icon_id":null,"id":2797514,"name":"Отправить КП"}]`
	if got, _ := json.Marshal(acc.Embedded.TaskTypes); string(got) != want {
		t.Errorf("task_types = %s, want %s", got, want)
	}
}

// filter[type] takes a comma list (Kommo events-list: "comma-separated";
// SDK EventsFilter implodes the types with ","); the array forms a PHP
// server parses are accepted too.
func TestEventsTypeFilter(t *testing.T) {
	s := NewServer(WithRateLimit(0, 0))
	defer s.Close()
	for i, typ := range []string{"incoming_chat_message", "lead_deleted", "lead_status_changed", "outgoing_chat_message"} {
		s.AddEvent(Object{"type": typ, "entity_type": "lead", "entity_id": 1 + i, "created_at": 1700000000 + i})
	}
	for _, tc := range []struct{ query, want string }{
		{"filter[type]=incoming_chat_message,outgoing_chat_message,lead_deleted", "incoming_chat_message lead_deleted outgoing_chat_message"},
		{"filter[type]=lead_deleted", "lead_deleted"},
		{"filter[type][]=lead_deleted&filter[type][]=lead_status_changed", "lead_deleted lead_status_changed"},
		{"filter[type][0]=incoming_chat_message", "incoming_chat_message"},
		{"", "incoming_chat_message lead_deleted lead_status_changed outgoing_chat_message"},
	} {
		_, _, b := get(t, s, "/api/v4/events?"+strings.ReplaceAll(strings.ReplaceAll(tc.query, "[", "%5B"), "]", "%5D"), s.Token())
		var env struct {
			Embedded struct {
				Events []struct{ Type string } `json:"events"`
			} `json:"_embedded"`
		}
		json.Unmarshal(b, &env)
		var got []string
		for _, e := range env.Embedded.Events {
			got = append(got, e.Type)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.query, got, tc.want)
		}
	}
}
