package amocrmtest

import (
	"bytes"
	"encoding/json"
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
	if code, h, b := get(t, s, "/api/v4/leads", "wrong"); code != 401 || h.Get("Content-Type") != "application/problem+json" || !bytes.Contains(b, []byte(`"status":401`)) {
		t.Errorf("bad token = %d %s", code, b)
	}
	s.Fail(FaultTooManyRequests, 2)
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
