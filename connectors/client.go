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

	"github.com/crmkpi/crmkpi/redact"
)

// ClientOptions configure a Client. Only Connector is required; zero
// HTTPOptions fields take DefaultHTTP's values.
type ClientOptions struct {
	HTTPOptions
	// Connector is the connector's name, used in logs.
	Connector string
	// BaseURL resolves requests whose URL is a path.
	BaseURL string
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
	// Limit returns the limiters an attempt of req waits on after the
	// client's own rate (RateLimit, Burst; none when RateLimit is 0), in
	// order: HubSpot's account window and, for searches, its search limit.
	Limit func(req *http.Request) []Limiter
	// Transport is the HTTP transport; default a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives debug lines for retries; default discards. It should
	// already name the connector (see Logger).
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
	// Attempts is how many attempts the request took, retries included.
	Attempts int
}

// ClientStats counts what a client did since it was made.
type ClientStats struct {
	Requests    int64 // HTTP attempts sent
	Retries     int64 // attempts beyond the first
	RateLimited int64 // 429 (and vendor rate-limit) answers
	ServerError int64 // 5xx answers
}

// Client is the one HTTP client every connector uses: one go-retryablehttp
// client built once, whose policies are the client's methods (checkRetry
// reads, classifies and judges each answer; backoff honours the server's
// wishes; a request hook counts retries), a transport that waits on the
// rate limiters and adds credentials before every attempt, typed errors,
// and redaction of secrets. It is safe for concurrent use.
type Client struct {
	opts ClientOptions
	base *url.URL
	rc   *retryablehttp.Client
	rate Limiter // nil when RateLimit is 0
	log  *slog.Logger

	redactor *redact.Redactor

	requests, retries, rateLimited, serverError atomic.Int64
}

// maxBody bounds one response body; no CRM page comes near it, and a
// misbehaving proxy must not exhaust memory.
const maxBody = 256 << 20

// NewClient returns a client with opts' zero HTTPOptions taken from
// DefaultHTTP.
func NewClient(opts ClientOptions) (*Client, error) {
	opts.HTTPOptions = opts.HTTPOptions.Or(DefaultHTTP)
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	c := &Client{opts: opts, log: opts.Logger, redactor: redact.New(opts.Secrets...)}
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
		c.rate = Rate(opts.RateLimit, opts.Burst)
	}
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:     &http.Client{Transport: &transport{c: c, next: tr}, Timeout: opts.Timeout},
		RetryWaitMin:   opts.MinBackoff,
		RetryWaitMax:   opts.MaxBackoff,
		RetryMax:       opts.MaxRetries,
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   c.giveUp,
		RequestLogHook: c.beforeAttempt,
	}
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

// exchange is one logical request as the retry policies see it. The
// go-retryablehttp client is built once per connector, and its policies
// are handed nothing of a request but its context (CheckRetry gets no
// request: hashicorp/go-retryablehttp#104, #169), so the context of each
// request Do sends is its exchange: checkRetry finds the request's
// idempotency and records its attempts and last failure by asserting the
// type, not through a context value. Everything else a policy needs is in
// the answer: the body and the verdict travel on the response (answer).
// The fields are only touched from the goroutine running Do.
type exchange struct {
	context.Context
	idempotent bool
	attempts   int
	last       error // the last failed attempt's error, redacted
}

// answer is a response body read whole by checkRetry, with the verdict on
// it, for the policies that run after (backoff, the response handler,
// giveUp) and for Do.
type answer struct {
	*bytes.Reader
	body    []byte
	verdict Verdict
}

func (a *answer) Close() error { return nil }

// answerOf returns the answer checkRetry put on resp, or nil.
func answerOf(resp *http.Response) *answer {
	if resp == nil {
		return nil
	}
	a, _ := resp.Body.(*answer)
	return a
}

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
	ex := &exchange{Context: ctx, idempotent: r.Idempotent || method == http.MethodGet || method == http.MethodHead}
	rreq, err := retryablehttp.NewRequestWithContext(ex, method, u, body)
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
	if r.Decode != nil {
		// The library's per-request hook: it runs on an answer the policy
		// took as final, and its error goes back to checkRetry, so a
		// truncated or garbled page is retried like a failed attempt.
		decode := r.Decode
		rreq.SetResponseHandler(func(resp *http.Response) error {
			a := answerOf(resp)
			if a == nil || a.verdict.Err != nil {
				return nil // a final failure: nothing to decode
			}
			if err := decode(resp.StatusCode, a.body); err != nil {
				return &decodeError{&MalformedError{Detail: "decode " + contentKind(resp.Header, a.body), Err: errors.New(c.Redact(err.Error()))}}
			}
			return nil
		})
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && ex.last != nil {
				// Say why the attempts before the deadline failed: a
				// refused connection retried until the deadline is a
				// refused connection, not a timeout.
				return nil, &DeadlineError{Err: ctx.Err(), Last: ex.last}
			}
			return nil, ctx.Err()
		}
		return nil, err
	}
	resp.Body.Close()
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Attempts: ex.attempts}
	if a := answerOf(resp); a != nil {
		out.Body = a.body
	}
	return out, nil
}

// decodeError is the response handler's verdict on a 2xx body it could
// not decode: retry.
type decodeError struct{ err *MalformedError }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

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

// checkRetry is the client's retry policy. It is called with each
// attempt's outcome, and again after the response handler has seen an
// answer taken as final (with its error when it could not decode a 2xx). It reads a
// response's body whole, classifies it, and leaves the verdict on the
// response for the policies that follow.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	ex, _ := ctx.(*exchange)
	if ex == nil {
		ex = &exchange{Context: ctx} // a request not made by Do: nothing is idempotent
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if a := answerOf(resp); a != nil {
		// The pass after the response handler, over an answer judged
		// final already.
		if de, ok := err.(*decodeError); ok {
			ex.last = de.err
			c.log.DebugContext(ctx, "retrying request", "attempt", ex.attempts, "status", resp.StatusCode, "error", de.err.Error())
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return false, a.verdict.Err
	}
	ex.attempts++
	if err != nil {
		if typed := typedCause(err); typed != nil {
			// Authorize failed (a refresh refused): retrying cannot help.
			ex.last = c.redactTyped(typed)
			return false, ex.last
		}
		ex.last = c.redactErr(err)
		c.log.DebugContext(ctx, "request failed", "attempt", ex.attempts, "error", ex.last.Error())
		if !ex.idempotent {
			return false, ex.last
		}
		return true, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if rerr != nil {
		// The connection broke mid-body: the server did answer, but we
		// have no whole page. Reading is safe to repeat.
		v := Verdict{Retry: ex.idempotent, Err: c.redactErr(fmt.Errorf("read response body: %w", rerr))}
		resp.Body = &answer{Reader: bytes.NewReader(nil), verdict: v}
		ex.last = v.Err
		if !v.Retry {
			return false, v.Err
		}
		return true, nil
	}
	v := c.classify(resp.StatusCode, resp.Header, body)
	if v.Retry && !ex.idempotent && resp.StatusCode != http.StatusTooManyRequests {
		// A non-idempotent request may have had its effect; only refusals
		// that say nothing happened (429) are safe to repeat.
		v.Retry = false
	}
	if v.Retry && v.Wait > c.opts.MaxRetryAfter {
		v = Verdict{Err: &RateLimitError{Status: resp.StatusCode, RetryAfter: v.Wait, Detail: "the server asks to wait longer than this run waits"}}
	}
	resp.Body = &answer{Reader: bytes.NewReader(body), body: body, verdict: v}
	if v.Retry {
		ex.last = v.Err
		c.log.DebugContext(ctx, "retrying request", "attempt", ex.attempts, "status", resp.StatusCode, "wait", v.Wait)
		return true, nil
	}
	if v.Err != nil {
		return false, v.Err
	}
	return false, nil
}

// backoff is the client's wait before a retry: the server's wish when the
// answer had one (Retry-After, a vendor's retry_after), else exponential
// with jitter.
func (c *Client) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	if a := answerOf(resp); a != nil && a.verdict.Wait > 0 {
		return a.verdict.Wait
	}
	return backoff(min, max, n)
}

// beforeAttempt is the request hook: it counts retries.
func (c *Client) beforeAttempt(_ retryablehttp.Logger, _ *http.Request, n int) {
	if n > 0 {
		c.retries.Add(1)
	}
}

// giveUp turns the last outcome into the error Do returns, once retries
// are spent or a verdict was final.
func (c *Client) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err == nil {
		if a := answerOf(resp); a != nil {
			err = a.verdict.Err
		}
	}
	var de *decodeError
	switch {
	case err == nil:
		err = errors.New("request failed")
	case errors.As(err, &de):
		err = de.err
	default:
		var ue *url.Error
		if errors.As(err, &ue) {
			// A transport error of the last attempt, as the HTTP client
			// gave it.
			err = c.redactErr(err)
		}
	}
	return nil, err
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

// transport waits on the limiters before every attempt and adds
// credentials, so retries are limited and authorised like first tries.
// Each limiter's slot is given back when the answer's headers (or the
// failure) arrive, which is what a Window counts.
type transport struct {
	c    *Client
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var limits []Limiter
	if t.c.rate != nil {
		limits = append(limits, t.c.rate)
	}
	if t.c.opts.Limit != nil {
		limits = append(limits, t.c.opts.Limit(req)...)
	}
	done := make([]func(), 0, len(limits))
	release := func() {
		for _, d := range done {
			d()
		}
	}
	for _, l := range limits {
		if l == nil {
			continue
		}
		d, err := l.Acquire(ctx)
		if err != nil {
			release()
			return nil, err
		}
		done = append(done, d)
	}
	if t.c.opts.Authorize != nil {
		// RoundTrip must not modify the caller's request.
		req = req.Clone(ctx)
		if err := t.c.opts.Authorize(ctx, req); err != nil {
			release()
			return nil, err
		}
	}
	t.c.requests.Add(1)
	resp, err := t.next.RoundTrip(req)
	release()
	return resp, err
}
