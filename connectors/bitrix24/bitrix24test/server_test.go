package bitrix24test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC)

func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithClock(func() time.Time { return t0 }), WithRateLimit(0, 0)}, opts...)
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, url string, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return resp.StatusCode, m
}

func seedDeals(s *Server, n int) {
	for i := 1; i <= n; i++ {
		s.Add(Deals, Record{"TITLE": fmt.Sprint("Deal ", i), "OPPORTUNITY": float64(i) * 100, "COMPANY_ID": 0, "CONTACT_ID": nil})
	}
}

func TestListPaging(t *testing.T) {
	s := newTestServer(t)
	seedDeals(s, 120)
	for _, tc := range []struct {
		start     int
		rows      int
		total     float64
		next      any
		firstID   string
		firstOpp  string
		firstDate string
	}{
		{0, 50, 120, 50.0, "1", "100.00", "2024-09-02T17:48:35+03:00"},
		{50, 50, 120, 100.0, "51", "5100.00", "2024-09-02T17:48:35+03:00"},
		{100, 20, 120, nil, "101", "10100.00", "2024-09-02T17:48:35+03:00"},
		{-1, 50, 0, nil, "1", "100.00", "2024-09-02T17:48:35+03:00"},
	} {
		status, m := post(t, s.WebhookURL()+"crm.deal.list.json", fmt.Sprintf(`{"order":{"ID":"ASC"},"select":["ID","OPPORTUNITY","DATE_MODIFY","CONTACT_ID"],"start":%d}`, tc.start))
		rows := m["result"].([]any)
		first := rows[0].(map[string]any)
		got := []any{status, len(rows), m["total"], m["next"], first["ID"], first["OPPORTUNITY"], first["DATE_MODIFY"], first["CONTACT_ID"]}
		want := []any{200, tc.rows, tc.total, tc.next, tc.firstID, tc.firstOpp, tc.firstDate, nil}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("start=%d (-want +got):\n%s", tc.start, diff)
		}
		if _, ok := m["time"].(map[string]any)["operating_reset_at"]; !ok {
			t.Errorf("no operating_reset_at in time block")
		}
	}
	// The fast method: ">ID", start=-1.
	_, m := post(t, s.WebhookURL()+"crm.deal.list", `{"order":{"ID":"ASC"},"filter":{">ID":110},"select":["ID"],"start":-1}`)
	if got := len(m["result"].([]any)); got != 10 || m["total"] != 0.0 {
		t.Errorf(">ID 110: %d rows, total %v; want 10, 0", got, m["total"])
	}
}

func TestBatch(t *testing.T) {
	s := newTestServer(t)
	seedDeals(s, 120)
	// A chain over $result references, in sending order (c10 after c9).
	cmd := `{"halt":1,"cmd":{"b":"crm.deal.list?order[ID]=ASC&filter[>ID]=0&select[]=ID&start=-1",` +
		`"a":"crm.deal.list?order%5BID%5D=ASC&filter%5B%3EID%5D=%24result%5Bb%5D%5B49%5D%5BID%5D&select%5B0%5D=ID&start=-1",` +
		`"c":"crm.deal.list?order[ID]=ASC&filter[>ID]=$result[a][49][ID]&select[0]=ID&start=-1"}}`
	status, m := post(t, s.WebhookURL()+"batch", cmd)
	res := m["result"].(map[string]any)
	sub := res["result"].(map[string]any)
	firsts := []any{}
	for _, k := range []string{"b", "a", "c"} {
		rows := sub[k].([]any)
		firsts = append(firsts, rows[0].(map[string]any)["ID"], len(rows))
	}
	if diff := cmp.Diff([]any{"1", 50, "51", 50, "101", 20}, firsts); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if status != 200 || !cmp.Equal(res["result_error"], []any{}) || !cmp.Equal(res["result_next"], []any{}) {
		t.Errorf("status %d, result_error %v, result_next %v; want 200, [], []", status, res["result_error"], res["result_next"])
	}
	if s.Requests("batch") != 1 || s.Calls("crm.deal.list") != 3 || s.TotalRequests() != 1 {
		t.Errorf("counts: batch %d, calls %d, total %d", s.Requests("batch"), s.Calls("crm.deal.list"), s.TotalRequests())
	}

	// halt=1 stops at the first failing call; errors are keyed by command.
	_, m = post(t, s.WebhookURL()+"batch", `{"halt":1,"cmd":{"x":"crm.nope.list","y":"crm.deal.list"}}`)
	res = m["result"].(map[string]any)
	want := map[string]any{"x": map[string]any{"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}}
	if diff := cmp.Diff(want, res["result_error"]); diff != "" || !cmp.Equal(res["result"], []any{}) {
		t.Errorf("halt: result %v, errors (-want +got):\n%s", res["result"], diff)
	}

	// 51 calls are refused.
	var b bytes.Buffer
	b.WriteString(`{"cmd":{`)
	for i := 0; i < 51; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"c%d":"scope"`, i)
	}
	b.WriteString(`}}`)
	status, m = post(t, s.WebhookURL()+"batch", b.String())
	if status != 400 || m["error"] != "ERROR_BATCH_LENGTH_EXCEEDED" {
		t.Errorf("51 calls: %d %v", status, m)
	}
}

func TestErrorsAndAuth(t *testing.T) {
	s := newTestServer(t, WithRateLimit(0.1, 3), WithScopes("crm"))
	seedDeals(s, 1)
	status, m := post(t, s.URL+"/rest/1/wrong/crm.deal.list", `{}`)
	if diff := cmp.Diff(map[string]any{"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}, m); diff != "" || status != 401 {
		t.Errorf("wrong code: %d (-want +got):\n%s", status, diff)
	}
	status, m = post(t, s.WebhookURL()+"user.get", `{}`)
	if status != 403 || m["error"] != "insufficient_scope" {
		t.Errorf("missing scope: %d %v", status, m)
	}
	status, m = post(t, s.WebhookURL()+"crm.deal.list", `{"filter":"x"}`)
	if status != 400 || m["error"] != "" || m["error_description"] != "Parameter 'filter' must be array." {
		t.Errorf("bad filter: %d %v", status, m)
	}
	// The bucket (3) is full now: the next request is refused.
	status, m = post(t, s.WebhookURL()+"scope", `{}`)
	if diff := cmp.Diff(map[string]any{"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}, m); diff != "" || status != 503 {
		t.Errorf("bucket: %d (-want +got):\n%s", status, diff)
	}
	if s.Rejected() != 1 {
		t.Errorf("Rejected = %d, want 1", s.Rejected())
	}
}

func TestSelectMultiFields(t *testing.T) {
	s := newTestServer(t)
	s.Add(Contacts, Record{"NAME": "A", "EMAIL": []any{map[string]any{"ID": 5, "VALUE": "a@x", "VALUE_TYPE": "WORK"}}, "UF_CRM_NPS": 9})
	_, m := post(t, s.WebhookURL()+"crm.contact.list", `{"select":["*"]}`)
	row := m["result"].([]any)[0].(map[string]any)
	if _, ok := row["EMAIL"]; ok {
		t.Errorf("* selected EMAIL: %v", row)
	}
	if _, ok := row["UF_CRM_NPS"]; ok {
		t.Errorf("* selected a user field: %v", row)
	}
	_, m = post(t, s.WebhookURL()+"crm.contact.list", `{"select":["ID","EMAIL","UF_CRM_NPS"]}`)
	row = m["result"].([]any)[0].(map[string]any)
	want := map[string]any{"ID": "1", "EMAIL": []any{map[string]any{"ID": "5", "VALUE": "a@x", "VALUE_TYPE": "WORK"}}, "UF_CRM_NPS": "9"}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("named select (-want +got):\n%s", diff)
	}
}

// TestDealDates: CLOSEDATE is a date (the portal-local midnight) that the
// seeder plans; MOVED_TIME is stamped by the portal when the deal is
// created and whenever its stage changes, never by an edit of another
// field.
func TestDealDates(t *testing.T) {
	now := t0
	s := newTestServer(t, WithClock(func() time.Time { return now }))
	id := s.Add(Deals, Record{"TITLE": "A", "STAGE_ID": "NEW", "CLOSEDATE": time.Date(2024, 9, 20, 22, 30, 0, 0, time.UTC),
		"BEGINDATE": t0})
	get := func() map[string]any {
		t.Helper()
		_, m := post(t, s.WebhookURL()+"crm.deal.list", `{"select":["ID","CLOSEDATE","BEGINDATE","MOVED_TIME","DATE_MODIFY"]}`)
		return m["result"].([]any)[0].(map[string]any)
	}
	// 22:30 UTC is the next day in Moscow.
	want := map[string]any{"ID": id, "CLOSEDATE": "2024-09-21T00:00:00+03:00", "BEGINDATE": "2024-09-02T00:00:00+03:00",
		"MOVED_TIME": "2024-09-02T17:48:35+03:00", "DATE_MODIFY": "2024-09-02T17:48:35+03:00"}
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Errorf("new deal (-want +got):\n%s", diff)
	}
	now = t0.Add(time.Hour)
	s.Update(Deals, id, Record{"TITLE": "B"})
	want["DATE_MODIFY"] = "2024-09-02T18:48:35+03:00"
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Errorf("renamed deal (-want +got):\n%s", diff)
	}
	now = t0.Add(2 * time.Hour)
	s.Update(Deals, id, Record{"STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S"})
	want["DATE_MODIFY"], want["MOVED_TIME"] = "2024-09-02T19:48:35+03:00", "2024-09-02T19:48:35+03:00"
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Errorf("won deal (-want +got):\n%s", diff)
	}
}

// TestScopesAndPermissions: user_basic and user_brief are user scopes too;
// user_brief has no e-mail; a user without read permission gets the
// documented 400 "Access denied.", alone and inside a batch.
func TestScopesAndPermissions(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		email  bool
	}{{[]string{"crm", "user_basic"}, true}, {[]string{"crm", "user"}, true}, {[]string{"crm", "user_brief"}, false}} {
		s := newTestServer(t, WithScopes(tc.scopes...))
		s.Add(Users, Record{"ID": 1, "ACTIVE": true, "NAME": "Vadim", "EMAIL": "v@example.com"})
		status, m := post(t, s.WebhookURL()+"user.get", `{}`)
		_, hasEmail := m["result"].([]any)[0].(map[string]any)["EMAIL"]
		if status != 200 || hasEmail != tc.email {
			t.Errorf("scopes %v: user.get %d, EMAIL present %v; want 200, %v", tc.scopes, status, hasEmail, tc.email)
		}
	}
	if got := NewServer().scopes; !cmp.Equal(got, []string{"crm", "user_basic"}) {
		t.Errorf("default scopes %v, want crm and user_basic", got)
	}

	s := newTestServer(t, WithAccessDenied("crm.deal.list"))
	seedDeals(s, 1)
	status, m := post(t, s.WebhookURL()+"crm.deal.list", `{}`)
	if diff := cmp.Diff(map[string]any{"error": "", "error_description": "Access denied."}, m); diff != "" || status != 400 {
		t.Errorf("denied: %d (-want +got):\n%s", status, diff)
	}
	_, m = post(t, s.WebhookURL()+"batch", `{"halt":0,"cmd":{"a":"crm.deal.list?start=-1","b":"crm.contact.list"}}`)
	res := m["result"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"a": map[string]any{"error": "", "error_description": "Access denied."}}, res["result_error"]); diff != "" {
		t.Errorf("denied in batch (-want +got):\n%s", diff)
	}
}

// TestSeed: the world is the same for the same config, and holds what a
// real portal has and a naive client gets wrong.
func TestSeed(t *testing.T) {
	a, b := newTestServer(t), newTestServer(t)
	a.Seed(SeedConfig{Seed: 3})
	b.Seed(SeedConfig{Seed: 3})
	for _, e := range []Entity{Users, Companies, Contacts, Deals, Activities, Statuses} {
		if diff := cmp.Diff(a.All(e), b.All(e)); diff != "" {
			t.Fatalf("%s differ between two seeds of one config (-a +b):\n%s", e, diff)
		}
	}
	counts := map[string]int{}
	for _, u := range a.All(Users) {
		if u["ACTIVE"] == false {
			counts["deactivated user"]++
		}
	}
	end := t0
	for _, d := range a.All(Deals) {
		closeDate, _ := time.Parse(time.RFC3339, d["CLOSEDATE"].(string))
		moved, _ := time.Parse(time.RFC3339, d["MOVED_TIME"].(string))
		if h, m, sec := closeDate.In(a.Location()).Clock(); h+m+sec != 0 {
			t.Errorf("deal %s CLOSEDATE %s is not a local midnight", d["ID"], d["CLOSEDATE"])
		}
		if moved.After(end) {
			t.Errorf("deal %s moved at %s, after the end", d["ID"], d["MOVED_TIME"])
		}
		if d["CLOSED"] == "Y" {
			counts["closed deal"]++
			if closeDate.After(moved) {
				counts["closed deal planned after its close"]++
			}
			if closeDate.After(end) {
				counts["closed deal planned in the future"]++
			}
		}
	}
	for _, r := range a.All(Activities) {
		settings, _ := r["SETTINGS"].(map[string]any)
		switch {
		case r["TYPE_ID"] == "2" && settings["MISSED_CALL"] == true && r["COMPLETED"] == "N" && r["DIRECTION"] == "1":
			counts["missed call"]++
		case r["TYPE_ID"] == "2" && r["COMPLETED"] == "N" && r["DIRECTION"] == "2":
			counts["planned call"]++
		case r["TYPE_ID"] == "2" && r["COMPLETED"] == "Y":
			counts["call held"]++
		}
	}
	for _, k := range []string{"deactivated user", "closed deal", "closed deal planned after its close", "closed deal planned in the future",
		"missed call", "planned call", "call held"} {
		if counts[k] == 0 {
			t.Errorf("seeded world has no %s (%v)", k, counts)
		}
	}
	if counts["deactivated user"] != 1 {
		t.Errorf("%d deactivated users, want 1", counts["deactivated user"])
	}
}
