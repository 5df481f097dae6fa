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
