package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/crmkpi/crmkpi/redact"
)

const testSecret = "sekret-webhook-9f8e7d"

func newTestClient(t *testing.T, base string, opts ClientOptions) *Client {
	t.Helper()
	opts.Connector = "test"
	opts.BaseURL = base
	if opts.MinBackoff == 0 {
		opts.MinBackoff = time.Millisecond
		opts.MaxBackoff = 4 * time.Millisecond
	}
	opts.Secrets = append(opts.Secrets, testSecret)
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientRetryAfter429: a 429 is retried after exactly the Retry-After
// the server asked for (on the bubble's clock: no wall time, no slack).
func TestClientRetryAfter429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		var waited time.Duration
		var first time.Time
		c := newBubbleClient(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"status":"error","message":"slow down"}`))
				return
			}
			waited = time.Since(first)
			w.Write([]byte(`{"ok":true}`))
		}, ClientOptions{})
		var out struct{ OK bool }
		if _, err := c.DoJSON(context.Background(), &Request{URL: "/x"}, &out); err != nil {
			t.Fatal(err)
		}
		if !out.OK || n.Load() != 2 {
			t.Fatalf("ok=%v requests=%d, want true, 2", out.OK, n.Load())
		}
		// The server asked for one second; the client comes back then.
		if waited != time.Second {
			t.Errorf("second attempt after %s, want 1s", waited)
		}
		if s := c.Stats(); s.Requests != 2 || s.Retries != 1 || s.RateLimited != 1 {
			t.Errorf("stats = %+v, want 2 requests, 1 retry, 1 rate limited", s)
		}
	})
}

func TestClient5xxRetriedThenSucceeds(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body>bad gateway</body></html>"))
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{})
	if _, err := c.Do(context.Background(), &Request{URL: "/x"}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 4 {
		t.Errorf("requests = %d, want 4", n.Load())
	}
}

func TestClient5xxGivesUp(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html>down</html>"))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: 3}})
	_, err := c.Do(context.Background(), &Request{URL: "/x"})
	var re *ResponseError
	if !errors.As(err, &re) || re.Status != 503 {
		t.Fatalf("err = %v, want *ResponseError 503", err)
	}
	if got, want := err.Error(), "HTTP 503: HTML page instead of JSON"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	if n.Load() != 4 {
		t.Errorf("requests = %d, want 4 (1 + 3 retries)", n.Load())
	}
}

func TestClientAuthNotRetriedNoSecret(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		// A server that echoes the credential back must not leak it.
		w.Write([]byte(`{"message":"bad token ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{Authorize: func(ctx context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+testSecret)
		return nil
	}})
	_, err := c.Do(context.Background(), &Request{URL: "/" + testSecret + "/crm.deal.list"})
	if !IsAuth(err) {
		t.Fatalf("err = %v, want auth error", err)
	}
	if n.Load() != 1 {
		t.Errorf("requests = %d, want 1", n.Load())
	}
	if !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("err = %q: want 'authentication failed' and no secret", err)
	}
}

func TestClientTransportErrorHidesURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	c := newTestClient(t, "http://"+addr+"/rest/1/"+testSecret+"/", ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: 2}})
	_, err = c.Do(context.Background(), &Request{URL: "crm.deal.list"})
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Errorf("error leaks secret: %q", err)
	}
	var te *TransportError
	if !errors.As(err, &te) {
		t.Errorf("err = %T %v, want *TransportError", err, err)
	}
}

func TestClientMalformedBodyRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Write([]byte(`{"results":[{"id":"1"`)) // cut short
			return
		}
		w.Write([]byte(`{"results":[{"id":"1"}]}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{})
	var out struct{ Results []struct{ ID string } }
	if _, err := c.DoJSON(context.Background(), &Request{URL: "/x"}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 1 || out.Results[0].ID != "1" || n.Load() != 2 {
		t.Errorf("results = %+v after %d requests, want one record after 2", out.Results, n.Load())
	}
}

func TestClientMalformedGivesUpTyped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`not json`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: 1}})
	var out map[string]any
	_, err := c.DoJSON(context.Background(), &Request{URL: "/x"}, &out)
	var me *MalformedError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MalformedError", err)
	}
}

func TestClientPostNotRetriedOn5xxUnlessIdempotent(t *testing.T) {
	for _, idem := range []bool{false, true} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: 2}})
		c.Do(context.Background(), &Request{Method: "POST", URL: "/x", JSON: map[string]int{"a": 1}, Idempotent: idem})
		srv.Close()
		want := int32(1)
		if idem {
			want = 3
		}
		if n.Load() != want {
			t.Errorf("idempotent=%v: requests = %d, want %d", idem, n.Load(), want)
		}
	}
}

func TestClientVendorClassifier(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"QUERY_LIMIT_EXCEEDED"}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"banned"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{Classify: func(status int, h http.Header, body []byte) Verdict {
		switch {
		case strings.Contains(string(body), "QUERY_LIMIT_EXCEEDED"):
			return Verdict{Handled: true, Retry: true, Wait: time.Millisecond, Err: &RateLimitError{Status: status}}
		case strings.Contains(string(body), "banned"):
			return Verdict{Handled: true, Err: &RateLimitError{Status: status, Fatal: true, Detail: "banned"}}
		}
		return Verdict{}
	}})
	_, err := c.Do(context.Background(), &Request{URL: "/x"})
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Fatal {
		t.Fatalf("err = %v, want fatal rate limit", err)
	}
	if n.Load() != 2 {
		t.Errorf("requests = %d, want 2", n.Load())
	}
	if s := c.Stats(); s.RateLimited != 2 {
		t.Errorf("rate limited = %d, want 2", s.RateLimited)
	}
}

func TestClientRetryAfterTooLong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{MaxRetryAfter: time.Minute}})
	_, err := c.Do(context.Background(), &Request{URL: "/x"})
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want rate limit with 1h retry-after", err)
	}
}

// TestClientContextCancelDuringBackoff: a cancel while the client waits
// out a Retry-After of 30 s ends the wait at once with context.Canceled.
func TestClientContextCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newBubbleClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}, ClientOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() {
			_, err := c.Do(ctx, &Request{URL: "/x"})
			done <- err
		}()
		time.Sleep(10 * time.Second) // the client is 10 s into its 30 s wait
		if c.Stats().Requests != 1 {
			t.Fatalf("requests = %d before the cancel, want 1", c.Stats().Requests)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("Do returned %s after it started, want 10s: at the cancel", d)
		}
	})
}

func TestClientRateLimiterShared(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{RateLimit: 1000, Burst: 1}})
	if l := c.rate.(bucket).l; l.Limit() != 1000 || l.Burst() != 1 {
		t.Fatalf("limiter = %v/%d", l.Limit(), l.Burst())
	}
	for range 3 {
		if _, err := c.Do(context.Background(), &Request{URL: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	if c.Stats().Requests != 3 {
		t.Errorf("requests = %d", c.Stats().Requests)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"-3", 0, true},
		{"Sat, 28 Nov 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Sat, 28 Nov 2026 09:00:00 GMT", 0, true},
		{"soon", 0, false},
		{"99999999999", 7 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "1.5", "NaN", "-1", "Inf", "Sat, 28 Nov 2026 10:00:30 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, _ := ParseRetryAfter(s, time.Unix(0, 0))
		if d < 0 {
			t.Errorf("ParseRetryAfter(%q) = %v < 0", s, d)
		}
	})
}

func TestClientAddSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"message":"bad access token at-rotated-123"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{})
	c.AddSecret("at-rotated-123", "")
	_, err := c.Do(context.Background(), &Request{URL: "/x"})
	if err == nil || strings.Contains(err.Error(), "at-rotated-123") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v, want the run-time secret redacted", err)
	}
}

// TestClientSnippetHidesEchoCutMidToken moves a token echoed in an error
// body across the snippet's cut at every position: no 8-byte piece of it
// may reach the error, whether the client knows the token or not.
func TestClientSnippetHidesEchoCutMidToken(t *testing.T) {
	const token = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pad, _ := strconv.Atoi(r.URL.Query().Get("pad"))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "%s\r\nAuthorization: %s\r\nAccept: */*\r\n", strings.Repeat("x", pad), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	authorize := func(ctx context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	known := newTestClient(t, srv.URL, ClientOptions{Authorize: authorize, Secrets: []string{token}})
	unknown := newTestClient(t, srv.URL, ClientOptions{Authorize: authorize})
	at := len("\r\nAuthorization: Bearer ")
	for k := 0; k <= len(token); k++ {
		q := url.Values{"pad": {strconv.Itoa(snippetLen - at - k)}}
		for name, c := range map[string]*Client{"known": known, "unknown": unknown} {
			_, err := c.Do(context.Background(), &Request{URL: "/x", Query: q})
			var re *ResponseError
			if !errors.As(err, &re) || re.Status != http.StatusBadRequest {
				t.Fatalf("%s, token cut at %d: err = %v, want HTTP 400", name, k, err)
			}
			if p := redact.Leak(err.Error(), token); p != "" {
				t.Fatalf("%s, token cut at %d: piece %q in %q", name, k, p, err)
			}
		}
	}
}

// TestClientDeadlineNamesLastAttempt: a refused connection retried until
// the caller's deadline is reported as the deadline and the refusal. On
// the bubble's clock the deadline passes in a backoff, after refusals,
// however slowly the machine dials.
func TestClientDeadlineNamesLastAttempt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	synctest.Test(t, func(t *testing.T) {
		c := newTestClient(t, "http://"+addr+"/rest/1/"+testSecret+"/", ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: 1 << 20,
			MinBackoff: 2 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, &Request{URL: "crm.deal.list"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		te, ok := errors.AsType[*TransportError](err)
		if !ok || te.Reason != "connection refused" {
			t.Fatalf("err = %v, want a *TransportError with Reason %q", err, "connection refused")
		}
		if !strings.Contains(err.Error(), "last attempt: ") || strings.Contains(err.Error(), testSecret) {
			t.Errorf("err = %q, want the last attempt named and no secret", err)
		}
	})
}

func TestTransportReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "crm.invalid", IsNotFound: true}}, "no such host"},
		{&net.DNSError{Err: "server misbehaving", Name: "crm.example"}, "DNS lookup failed"},
		{&net.DNSError{Err: "i/o timeout", Name: "crm.example", IsTimeout: true}, "timeout"},
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, "TLS handshake"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "TLS handshake"},
		{x509.HostnameError{Host: "crm.example"}, "TLS handshake"},
		{context.DeadlineExceeded, "timeout"},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection reset"},
		{io.EOF, "connection closed"},
		{errors.New("something else"), ""},
	}
	for _, tt := range tests {
		if got := TransportReason(tt.err); got != tt.want {
			t.Errorf("TransportReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestClientTLSFailureNamed: a server whose certificate is not trusted is a
// TLS handshake failure.
func TestClientTLSFailureNamed(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientOptions{HTTPOptions: HTTPOptions{MaxRetries: -1}})
	_, err := c.Do(context.Background(), &Request{URL: "/x"})
	te, ok := errors.AsType[*TransportError](err)
	if !ok || te.Reason != "TLS handshake" {
		t.Fatalf("err = %v, want a *TransportError with Reason %q", err, "TLS handshake")
	}
}

// TestClientWrapRedacts: text a connector cut from a body into its own
// error is redacted when the error is located, and the cause stays
// reachable.
func TestClientWrapRedacts(t *testing.T) {
	c := newTestClient(t, "http://crm.example", ClientOptions{})
	cause := &MalformedError{Detail: "result is {\"auth\":\"f0e1d2c3b4a5\"", Err: errors.New("not a list")}
	err := c.Wrap(ObjectDeals, 2, fmt.Errorf("page of %s: %w", "sekret-webhook-9f8e7d-and-more", cause))
	want := `test deals page 2: page of [REDACTED]-and-more: malformed response: result is {"auth":"[REDACTED]": not a list`
	if err.Error() != want {
		t.Errorf("Wrap = %q\nwant %q", err, want)
	}
	if m, ok := errors.AsType[*MalformedError](err); !ok || m != cause {
		t.Errorf("errors.As(*MalformedError) = %v, %v; want the cause", m, ok)
	}
}
