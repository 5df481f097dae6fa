package bitrix24

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

func TestClassify(t *testing.T) {
	now := time.Date(2024, 9, 2, 15, 48, 35, 0, time.UTC)
	c := &Client{opts: Options{Now: func() time.Time { return now }}}
	type want struct {
		handled bool
		retry   bool
		wait    time.Duration
		kind    string // auth, rate, fatal, response, ""
		msg     string
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   want
	}{
		{"query limit", 503, `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`,
			want{true, true, 0, "rate", "rate limited (HTTP 503): QUERY_LIMIT_EXCEEDED: Too many requests"}},
		{"query limit lower case", 503, `{"error":"query_limit_exceeded","error_description":"Too many requests"}`,
			want{true, true, 0, "rate", "rate limited (HTTP 503): query_limit_exceeded: Too many requests"}},
		{"operation limit, Unix reset", 429, `{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit.","time":{"operating_reset_at":1725292135}}`,
			want{true, true, 20 * time.Second, "rate", "rate limited (HTTP 429): OPERATION_TIME_LIMIT: Method is blocked due to operation time limit. (retry after 20s)"}},
		{"operation limit, ISO reset", 429, `{"error":"Operation_Time_Limit","error_description":"Method is blocked due to operation time limit.","time":{"operating_reset_at":"2024-09-02T18:49:05+03:00"}}`,
			want{true, true, 30 * time.Second, "rate", "rate limited (HTTP 429): Operation_Time_Limit: Method is blocked due to operation time limit. (retry after 30s)"}},
		{"operation limit, reset in milliseconds", 429, `{"error":"OPERATION_TIME_LIMIT","error_description":"blocked","time":{"operating_reset_at":1725292125000}}`,
			want{true, true, 10 * time.Second, "rate", "rate limited (HTTP 429): OPERATION_TIME_LIMIT: blocked (retry after 10s)"}},
		{"operation limit, no reset", 429, `{"error":"OPERATION_TIME_LIMIT","error_description":"blocked"}`,
			want{true, true, time.Minute, "rate", "rate limited (HTTP 429): OPERATION_TIME_LIMIT: blocked (retry after 1m0s)"}},
		{"overload", 503, `{"error":"OVERLOAD_LIMIT","error_description":"REST API is blocked due to overload."}`,
			want{true, false, 0, "fatal", "rate limited (HTTP 503): OVERLOAD_LIMIT: REST API is blocked due to overload."}},
		{"no auth", 401, `{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 401): NO_AUTH_FOUND: Wrong authorization data"}},
		{"webhook expired", 401, `{"error":"expired_token","error_description":"The access token provided has expired."}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 401): expired_token: The access token provided has expired."}},
		{"access denied", 403, `{"error":"ACCESS_DENIED","error_description":"REST API is available only on commercial plans."}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 403): ACCESS_DENIED: REST API is available only on commercial plans."}},
		{"scope", 403, `{"error":"insufficient_scope","error_description":"The request requires higher privileges"}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 403): insufficient_scope: The request requires higher privileges"}},
		{"read permission", 400, `{"error":"","error_description":"Access denied."}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 400): Access denied."}},
		{"read permission, other spelling", 400, `{"error":"","error_description":" access denied "}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 400):  access denied "}},
		{"credentials", 403, `{"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 403): INVALID_CREDENTIALS: Invalid request credentials"}},
		{"user access", 403, `{"error":"user_access_error","error_description":"The user does not have access to the application"}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 403): user_access_error: The user does not have access to the application"}},
		{"portal deleted", 500, `{"error":"PORTAL_DELETED","error_description":"Portal was deleted"}`,
			want{true, false, 0, "auth", "authentication failed (HTTP 500): PORTAL_DELETED: Portal was deleted"}},
		{"empty code", 400, `{"error":"","error_description":"Parameter 'filter' must be array."}`,
			want{true, false, 0, "response", "HTTP 400: Parameter 'filter' must be array."}},
		{"internal", 500, `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`,
			want{true, true, 0, "response", "HTTP 500: INTERNAL_SERVER_ERROR: Internal server error"}},
		{"method not found", 404, `{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}`,
			want{true, false, 0, "response", "HTTP 404: ERROR_METHOD_NOT_FOUND: Method not found!"}},
		// Not JSON: the shared client's rules (5xx retried) apply.
		{"html", 502, `<html><body>502 Bad Gateway</body></html>`, want{}},
		{"ok", 200, `{"result":[]}`, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := c.classify(tc.status, http.Header{}, []byte(tc.body))
			kind := ""
			var ae *connectors.AuthError
			var re *connectors.RateLimitError
			var rs *connectors.ResponseError
			switch {
			case errors.As(v.Err, &ae):
				kind = "auth"
			case errors.As(v.Err, &re) && re.Fatal:
				kind = "fatal"
			case errors.As(v.Err, &re):
				kind = "rate"
			case errors.As(v.Err, &rs):
				kind = "response"
			}
			msg := ""
			if v.Err != nil {
				msg = v.Err.Error()
			}
			got := want{v.Handled, v.Retry, v.Wait, kind, msg}
			if got != tc.want {
				t.Errorf("classify(%d, %s) = %+v, want %+v", tc.status, tc.body, got, tc.want)
			}
		})
	}
}

func TestPHPQuery(t *testing.T) {
	got := phpQuery(map[string]any{
		"order":  map[string]any{"ID": "ASC"},
		"filter": map[string]any{">ID": "$result[c00][49][ID]", ">=DATE_MODIFY": "2024-06-01T00:00:00+03:00", "<DATE_MODIFY": "a b&c=d"},
		"select": []string{"ID", "TITLE"},
		"start":  -1,
	})
	// The documented form: brackets, operators and the $result reference
	// literal, so a fake substituting references in the raw text finds
	// them; "=" in a key, "+", "&", spaces escaped.
	want := "filter[<DATE_MODIFY]=a%20b%26c%3Dd&filter[>%3DDATE_MODIFY]=2024-06-01T00:00:00%2B03:00&filter[>ID]=$result[c00][49][ID]" +
		"&order[ID]=ASC&select[]=ID&select[]=TITLE&start=-1"
	if got != want {
		t.Errorf("phpQuery = %s\nwant      %s", got, want)
	}
	// A reader that unescapes first (url.ParseQuery, PHP's parse_str)
	// gets the same values.
	q, err := url.ParseQuery(got)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string][]string{
		"filter[>=DATE_MODIFY]": {"2024-06-01T00:00:00+03:00"},
		"filter[<DATE_MODIFY]":  {"a b&c=d"},
		"filter[>ID]":           {"$result[c00][49][ID]"},
		"select[]":              {"ID", "TITLE"},
		"start":                 {"-1"},
	} {
		if diff := cmp.Diff(v, q[k]); diff != "" {
			t.Errorf("ParseQuery(%s)[%q] (-want +got):\n%s", got, k, diff)
		}
	}
}

// A Retry-After header beside the vendor's body is waited for when it
// asks for longer than the verdict would wait; auth errors stay unretried.
func TestClassifyRetryAfter(t *testing.T) {
	now := time.Date(2024, 9, 2, 15, 48, 35, 0, time.UTC)
	c := &Client{opts: Options{Now: func() time.Time { return now }}}
	for _, tc := range []struct {
		status int
		body   string
		header string
		retry  bool
		wait   time.Duration
		msg    string
	}{
		{503, `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`, "7", true, 7 * time.Second,
			"rate limited (HTTP 503): QUERY_LIMIT_EXCEEDED: Too many requests (retry after 7s)"},
		// The reset is later than the header: the reset wins.
		{429, `{"error":"OPERATION_TIME_LIMIT","error_description":"blocked","time":{"operating_reset_at":1725292135}}`, "5", true, 20 * time.Second,
			"rate limited (HTTP 429): OPERATION_TIME_LIMIT: blocked (retry after 20s)"},
		{500, `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`, "3", true, 3 * time.Second,
			"HTTP 500: INTERNAL_SERVER_ERROR: Internal server error"},
		{401, `{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}`, "3", false, 0,
			"authentication failed (HTTP 401): NO_AUTH_FOUND: Wrong authorization data"},
		{503, `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`, "soon", true, 0,
			"rate limited (HTTP 503): QUERY_LIMIT_EXCEEDED: Too many requests"},
	} {
		h := http.Header{"Retry-After": {tc.header}}
		v := c.classify(tc.status, h, []byte(tc.body))
		if !v.Handled || v.Retry != tc.retry || v.Wait != tc.wait || v.Err == nil || v.Err.Error() != tc.msg {
			t.Errorf("classify(%d, %s, Retry-After %s) = %+v (%v), want retry %v wait %v %q", tc.status, tc.body, tc.header, v, v.Err, tc.retry, tc.wait, tc.msg)
		}
	}
}
