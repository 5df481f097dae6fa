package connectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// ClientOptions configure a Client. Only Connector is required.
type ClientOptions struct {
	// Connector is the connector's name, used in logs.
	Connector string
	// BaseURL resolves requests whose URL is a path.
	BaseURL string
	// RateLimit is the steady request rate (requests per second) that every
	// request of this client shares, retries included; 0 means unlimited.
	RateLimit float64
	// Burst is how many requests may go at once above the steady rate;
	// default 1.
	Burst int
	// Timeout bounds each attempt, headers and body; default 60s.
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried; default 8.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff used when the
	// server does not say how long to wait; defaults 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest server-requested wait the client sits
	// through; a longer one fails at once with a *RateLimitError, so a run
	// never hangs for an hour on one answer. Default 5 minutes.
	MaxRetryAfter time.Duration
	// Secrets are redacted from every error and log line: tokens, webhook
	// paths, refresh tokens, and any piece of them 8 characters or longer.
	// Empty strings are ignored.
	Secrets []string
	// Authorize adds credentials to each attempt (and may refresh a token
	// first). Called on every attempt, so a refreshed token is used by the
	// retry that follows a 401.
	Authorize func(ctx context.Context, req *http.Request) error
	// Classify gives the vendor's reading of a response before the generic
	// one (status codes); return a Verdict with Handled=false to fall
	// through. It is called for every response, 2xx included.
	Classify func(status int, header http.Header, body []byte) Verdict
	// Transport is the HTTP transport; default a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives debug lines for retries; default discards.
	Logger *slog.Logger
}

// Verdict is a reading of one HTTP response.
type Verdict struct {
	// Handled says the classifier decided; otherwise the generic rules apply.
	Handled bool
	// Retry asks for another attempt, after Wait when Wait > 0 (the
	// server's own wish), else after exponential backoff with jitter.
	Retry bool
	Wait  time.Duration
	// Err is the error to return when the response is final (Retry false),
	// or when retries run out.
	Err error
}

// Request is one logical API call; the client may send it several times.
type Request struct {
	Method string // default GET
	// URL is absolute or a path (with query) relative to BaseURL.
	URL    string
	Query  url.Values
	Header http.Header
	// JSON, when non-nil, is marshalled as the body with
	// Content-Type: application/json.
	JSON any
	// Body and ContentType send a raw body instead.
	Body        []byte
	ContentType string
	// Idempotent allows retrying a request that may have reached the
	// server (connection reset, 5xx). GET and HEAD always are; a POST that
	// only reads (search, batch read) should say so.
	Idempotent bool
	// Limiters are waited on, besides the client's own, before each
	// attempt (HubSpot's separate search limit).
	Limiters []*rate.Limiter
	// Decode, when set, is called on a 2xx body inside the retry loop: an
	// error makes the attempt count as a malformed answer and be retried,
	// as a truncated or garbled body should be.
	Decode func(status int, body []byte) error
}

// Response is a final 2xx answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ClientStats counts what a client did since it was made.
type ClientStats struct {
	Requests    int64 // HTTP attempts sent
	Retries     int64 // attempts beyond the first
	RateLimited int64 // 429 (and vendor rate-limit) answers
	ServerError int64 // 5xx answers
}

// Client is the one HTTP client every connector uses: a shared rate limiter,
// retries with backoff and jitter that honour the server's wishes, typed
// errors, and redaction of secrets. It is safe for concurrent use.
type Client struct {
	opts    ClientOptions
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter
	log     *slog.Logger

	redactor *Redactor

	requests, retries, rateLimited, serverError atomic.Int64
}

// maxBody bounds one response body; no CRM page comes near it, and a
// misbehaving proxy must not exhaust memory.
const maxBody = 256 << 20

// NewClient returns a client with opts' defaults filled in.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Burst <= 0 {
		opts.Burst = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 8
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = 5 * time.Minute
	}
	c := &Client{opts: opts, log: opts.Logger, redactor: NewRedactor(opts.Secrets...)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("base URL %q is not an http(s) URL", c.Redact(opts.BaseURL))
		}
		c.base = u
	}
	if opts.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), opts.Burst)
	}
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.http = &http.Client{Transport: &limitedTransport{c: c, next: tr}, Timeout: opts.Timeout}
	return c, nil
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{
		Requests:    c.requests.Load(),
		Retries:     c.retries.Load(),
		RateLimited: c.rateLimited.Load(),
		ServerError: c.serverError.Load(),
	}
}

// Redact hides every secret of this client, every piece of one 8
// characters or longer, and every credential-shaped value in s (see
// Redactor).
func (c *Client) Redact(s string) string { return c.redactor.Redact(s) }

// AddSecret adds a secret learned at run time (a refreshed OAuth access
// token, a rotated refresh token) to those redacted from errors and logs.
func (c *Client) AddSecret(secrets ...string) { c.redactor.Add(secrets...) }

// Wrap locates err at obj and page of this client's connector. Nil stays nil;
// an error that is already an *Error is returned as is. Text the connector
// put into err itself (a piece of a body in a decoding error) is redacted
// too: the message is rewritten while errors.As still finds the cause.
func (c *Client) Wrap(obj Object, page int, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if msg := err.Error(); c.Redact(msg) != msg {
		err = &redactedError{msg: c.Redact(msg), err: err}
	}
	return &Error{Connector: c.opts.Connector, Object: obj, Page: page, Err: err}
}

// redactedError is err with its message redacted. Its chain keeps the
// typed errors, whose own text fields the client redacted already.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// attempt is the state of one logical request across its attempts.
type attempt struct {
	req     *Request
	verdict Verdict
	body    []byte
	n       int
}

type attemptKey struct{}

// Do sends r, retrying as its verdicts allow, and returns the final 2xx
// response or a typed error (*AuthError, *RateLimitError, *ResponseError,
// *MalformedError, or a redacted transport error). Errors never contain a
// secret.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	u, err := c.resolve(r)
	if err != nil {
		return nil, err
	}
	var body any
	contentType := r.ContentType
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body, contentType = b, "application/json"
	case r.Body != nil:
		body = r.Body
	}
	st := &attempt{req: r}
	actx := context.WithValue(ctx, attemptKey{}, st)
	rreq, err := retryablehttp.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return nil, errors.New(c.Redact(err.Error()))
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			rreq.Header.Add(k, v)
		}
	}
	if contentType != "" {
		rreq.Header.Set("Content-Type", contentType)
	}
	if rreq.Header.Get("Accept") == "" {
		rreq.Header.Set("Accept", "application/json")
	}
	idempotent := r.Idempotent || method == http.MethodGet || method == http.MethodHead

	rc := &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryWaitMin: c.opts.MinBackoff,
		RetryWaitMax: c.opts.MaxBackoff,
		RetryMax:     c.opts.MaxRetries,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return c.check(ctx, st, idempotent, resp, err)
		},
		Backoff: func(min, max time.Duration, n int, _ *http.Response) time.Duration {
			c.retries.Add(1)
			if st.verdict.Wait > 0 {
				return st.verdict.Wait
			}
			return backoff(min, max, n)
		},
		ErrorHandler: func(resp *http.Response, err error, tries int) (*http.Response, error) {
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			if err == nil {
				err = st.verdict.Err
			}
			if err == nil {
				err = errors.New("request failed")
			}
			return nil, err
		},
	}
	resp, err := rc.Do(rreq)
	if err != nil {
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && st.verdict.Err != nil {
				// Say why the attempts before the deadline failed: a
				// refused connection retried until the deadline is a
				// refused connection, not a timeout.
				return nil, &DeadlineError{Err: ctx.Err(), Last: st.verdict.Err}
			}
			return nil, ctx.Err()
		}
		return nil, c.redactErr(err)
	}
	resp.Body.Close()
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: st.body}, nil
}

// DoJSON sends r and decodes a 2xx body into out inside the retry loop, so
// a truncated or garbled page is retried rather than returned.
func (c *Client) DoJSON(ctx context.Context, r *Request, out any) (*Response, error) {
	if r.Decode == nil && out != nil {
		r.Decode = func(status int, body []byte) error {
			if status == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			return json.Unmarshal(body, out)
		}
	}
	return c.Do(ctx, r)
}

func (c *Client) resolve(r *Request) (string, error) {
	var u *url.URL
	var err error
	if c.base != nil && !strings.HasPrefix(r.URL, "http://") && !strings.HasPrefix(r.URL, "https://") {
		ref, perr := url.Parse(r.URL)
		if perr != nil {
			return "", fmt.Errorf("bad request path %q", c.Redact(r.URL))
		}
		// Join rather than ResolveReference so a base with a path (the
		// Bitrix24 webhook) keeps it.
		b := *c.base
		b.Path = strings.TrimSuffix(b.Path, "/") + "/" + strings.TrimPrefix(ref.Path, "/")
		b.RawPath = ""
		b.RawQuery = ref.RawQuery
		u = &b
	} else {
		u, err = url.Parse(r.URL)
		if err != nil {
			return "", fmt.Errorf("bad request URL %q", c.Redact(r.URL))
		}
	}
	if len(r.Query) > 0 {
		q := u.Query()
		for k, vs := range r.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// check reads the response once, classifies it and records the verdict.
func (c *Client) check(ctx context.Context, st *attempt, idempotent bool, resp *http.Response, err error) (bool, error) {
	st.n++
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if typed := typedCause(err); typed != nil {
			// Authorize failed (a refresh refused): retrying cannot help.
			st.verdict = Verdict{Err: c.redactTyped(typed)}
			return false, st.verdict.Err
		}
		st.verdict = Verdict{Retry: idempotent, Err: c.redactErr(err)}
		c.log.DebugContext(ctx, "request failed", "connector", c.opts.Connector, "attempt", st.n, "error", st.verdict.Err.Error())
		if !idempotent {
			return false, st.verdict.Err
		}
		return true, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		// The connection broke mid-body: the server did answer, but we
		// have no whole page. Reading is safe to repeat.
		st.verdict = Verdict{Retry: idempotent, Err: c.redactErr(fmt.Errorf("read response body: %w", rerr))}
		if !idempotent {
			return false, st.verdict.Err
		}
		return true, nil
	}
	st.body = body
	v := c.classify(resp.StatusCode, resp.Header, body)
	if v.Retry && !idempotent && resp.StatusCode != http.StatusTooManyRequests {
		// A non-idempotent request may have had its effect; only refusals
		// that say nothing happened (429) are safe to repeat.
		v.Retry = false
	}
	if v.Err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 && st.req.Decode != nil {
		if derr := st.req.Decode(resp.StatusCode, body); derr != nil {
			v = Verdict{Retry: true, Err: &MalformedError{Detail: "decode " + contentKind(resp.Header, body), Err: errors.New(c.Redact(derr.Error()))}}
		}
	}
	if v.Retry && v.Wait > c.opts.MaxRetryAfter {
		v = Verdict{Err: &RateLimitError{Status: resp.StatusCode, RetryAfter: v.Wait, Detail: "the server asks to wait longer than this run waits"}}
	}
	st.verdict = v
	if v.Retry {
		c.log.DebugContext(ctx, "retrying request", "connector", c.opts.Connector, "attempt", st.n, "status", resp.StatusCode, "wait", v.Wait)
		return true, nil
	}
	if v.Err != nil {
		return false, v.Err
	}
	return false, nil
}

// classify applies the vendor's classifier, then the generic status rules.
func (c *Client) classify(status int, h http.Header, body []byte) Verdict {
	switch {
	case status == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
	case status >= 500:
		c.serverError.Add(1)
	}
	if c.opts.Classify != nil {
		if v := c.opts.Classify(status, h, body); v.Handled {
			if v.Err != nil {
				v.Err = c.redactTyped(v.Err)
			}
			if _, ok := v.Err.(*RateLimitError); ok && status != http.StatusTooManyRequests {
				c.rateLimited.Add(1)
			}
			return v
		}
	}
	switch {
	case status >= 200 && status < 300:
		return Verdict{}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Verdict{Err: &AuthError{Status: status, Detail: c.Snippet(h, body)}}
	case status == http.StatusTooManyRequests:
		wait, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
		return Verdict{Retry: true, Wait: wait, Err: &RateLimitError{Status: status, RetryAfter: wait, Detail: c.Snippet(h, body)}}
	case status == http.StatusRequestTimeout || status >= 500:
		wait, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
		return Verdict{Retry: true, Wait: wait, Err: &ResponseError{Status: status, Snippet: c.Snippet(h, body)}}
	default:
		return Verdict{Err: &ResponseError{Status: status, Snippet: c.Snippet(h, body)}}
	}
}

// Snippet summarises a body for an error message: the start of a JSON or
// text body, or just "HTML page" for the HTML that proxies and blocked
// accounts send, redacted.
func (c *Client) Snippet(h http.Header, body []byte) string {
	if contentKind(h, body) == "HTML page" {
		return "HTML page instead of JSON"
	}
	return c.redactor.Cut(strings.TrimSpace(string(body)), snippetLen)
}

// snippetLen bounds the part of an error body kept in an error.
const snippetLen = 300

func contentKind(h http.Header, body []byte) string {
	ct := strings.ToLower(h.Get("Content-Type"))
	b := bytes.TrimSpace(body)
	if strings.Contains(ct, "html") || bytes.HasPrefix(b, []byte("<")) {
		return "HTML page"
	}
	if len(b) == 0 {
		return "empty body"
	}
	return "JSON body"
}

// redactErr rebuilds transport errors without the URL, whose path may be a
// secret (Bitrix24 webhooks), and strips secrets from any message.
func (c *Client) redactErr(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if typed := typedCause(ue.Err); typed != nil {
			return c.redactTyped(typed)
		}
		msg := ue.Err.Error()
		if errors.Is(ue.Err, context.DeadlineExceeded) || ue.Timeout() {
			msg = "timeout: " + msg
		}
		return &TransportError{Op: ue.Op, Msg: c.Redact(msg), Reason: TransportReason(ue.Err), err: ue.Err}
	}
	return c.redactTyped(err)
}

// redactTyped keeps typed errors typed while scrubbing their text fields.
func (c *Client) redactTyped(err error) error {
	switch e := err.(type) {
	case *AuthError:
		e.Detail = c.Redact(e.Detail)
		return e
	case *RateLimitError:
		e.Detail = c.Redact(e.Detail)
		return e
	case *ResponseError:
		e.Snippet = c.Redact(e.Snippet)
		return e
	case *MalformedError:
		e.Detail = c.Redact(e.Detail)
		if e.Err != nil {
			e.Err = errors.New(c.Redact(e.Err.Error()))
		}
		return e
	case *TransportError:
		return e
	}
	msg := c.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// typedCause finds one of our typed errors inside err, or nil.
func typedCause(err error) error {
	var a *AuthError
	var r *RateLimitError
	var re *ResponseError
	var m *MalformedError
	switch {
	case errors.As(err, &a):
		return a
	case errors.As(err, &r):
		return r
	case errors.As(err, &re):
		return re
	case errors.As(err, &m):
		return m
	}
	return nil
}

// DeadlineError is the caller's deadline passing while a request was being
// retried. It is context.DeadlineExceeded (errors.Is) and carries the last
// attempt's failure (errors.As finds a *TransportError, *ResponseError...
// in Last), redacted.
type DeadlineError struct {
	Err  error // ctx.Err()
	Last error
}

func (e *DeadlineError) Error() string {
	return e.Err.Error() + " (last attempt: " + e.Last.Error() + ")"
}

// Unwrap returns both the deadline and the last attempt's failure.
func (e *DeadlineError) Unwrap() []error { return []error{e.Err, e.Last} }

// TransportError is a network failure (refused, reset, timeout) with the
// request URL left out, since it may carry a secret. It does not unwrap:
// a timeout of one attempt is not the caller's deadline.
type TransportError struct {
	Op  string
	Msg string
	// Reason names the cause for people: "connection refused", "no such
	// host", "DNS lookup failed", "TLS handshake", "timeout", "connection
	// reset", "connection closed"; "" when none of these.
	Reason string
	err    error
}

func (e *TransportError) Error() string { return e.Op + " request: " + e.Msg }

// Timeout reports whether the failure was a timeout.
func (e *TransportError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// TransportReason names the cause of a network failure for people (see
// TransportError.Reason); "" when it is none of those.
func TransportReason(err error) string {
	var dns *net.DNSError
	var tlsHeader tls.RecordHeaderError
	var tlsVerify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert x509.CertificateInvalidError
	var tlsAlert tls.AlertError
	var t interface{ Timeout() bool }
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		if dns.IsTimeout {
			return "timeout"
		}
		return "DNS lookup failed"
	case errors.As(err, &tlsHeader), errors.As(err, &tlsVerify), errors.As(err, &unknownCA),
		errors.As(err, &badHost), errors.As(err, &badCert), errors.As(err, &tlsAlert):
		return "TLS handshake"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &t) && t.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed"
	}
	return ""
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// ok is false for an empty or unreadable value; negative waits become 0.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs != secs || secs < 0 { // NaN or negative
			return 0, true
		}
		if secs > 86400*7 {
			secs = 86400 * 7
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// backoff is exponential with "equal jitter": half the step is fixed, half
// random, so concurrent retries spread out without ever waiting zero.
func backoff(min, max time.Duration, n int) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// limitedTransport waits on the rate limiters before every attempt and
// adds credentials, so retries are limited and authorised like first tries.
type limitedTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if t.c.limiter != nil {
		if err := t.c.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	if st, ok := ctx.Value(attemptKey{}).(*attempt); ok {
		for _, l := range st.req.Limiters {
			if l == nil {
				continue
			}
			if err := l.Wait(ctx); err != nil {
				return nil, err
			}
		}
	}
	if t.c.opts.Authorize != nil {
		// RoundTrip must not modify the caller's request.
		req = req.Clone(ctx)
		if err := t.c.opts.Authorize(ctx, req); err != nil {
			return nil, err
		}
	}
	t.c.requests.Add(1)
	return t.next.RoundTrip(req)
}
