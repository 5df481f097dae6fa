package notify

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Retry policy: HTTP 429 only. Slack did not process a refused request, so
// a retry cannot post twice, while a retry after a 5xx or a broken
// connection could (reference slack-and-kpis.md §1.7).
const (
	maxRateLimitRetries = 5
	// defaultRetryAfter is the wait after a 429 without Retry-After.
	defaultRetryAfter = 30 * time.Second
)

// RetryConfig is the retry policy of every Slack client crmkpi makes:
// slack-go's own 429 handler, alone, which waits as long as Retry-After
// says (at least a second; defaultRetryAfter when the header is missing),
// at most maxRateLimitRetries times, then returns the
// *slack.RateLimitedError. The wait ends early when the call's context
// does.
func RetryConfig() slack.RetryConfig {
	cfg := slack.RetryConfig{MaxRetries: maxRateLimitRetries, RetryAfterDuration: defaultRetryAfter}
	cfg.Handlers = []slack.RetryHandler{slack.NewRateLimitErrorRetryHandler(cfg)}
	return cfg
}

// NewClient returns a slack-go client for token that retries as
// RetryConfig says and sends the token only in the Authorization header.
// slack-go puts it in the form body of every form-encoded call
// (chat.postMessage, conversations.open, ...), where a proxy or server
// that logs request bodies would keep it; Slack's Web API takes the bearer
// header for every method instead. apiURL "" means Slack's own.
func NewClient(token, apiURL string, opts ...slack.Option) *slack.Client {
	return newClient(token, apiURL, RetryConfig(), opts...)
}

func newClient(token, apiURL string, retry slack.RetryConfig, opts ...slack.Option) *slack.Client {
	tr := &headerAuth{token: token, next: http.DefaultTransport}
	all := []slack.Option{slack.OptionHTTPClient(&http.Client{Transport: tr})}
	if apiURL != "" {
		all = append(all, slack.OptionAPIURL(apiURL))
	}
	all = append(all, opts...)
	// After the HTTP client options: the retry wraps the client it finds.
	all = append(all, slack.OptionRetryConfig(retry))
	return slack.New(token, all...)
}

// headerAuth moves a form body's token parameter into the Authorization
// header.
type headerAuth struct {
	token string
	next  http.RoundTripper
}

func (h *headerAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return h.next.RoundTrip(req)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil || !form.Has("token") {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		return h.next.RoundTrip(r)
	}
	tok := form.Get("token")
	form.Del("token")
	body := form.Encode()
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(strings.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Header.Get("Authorization") == "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return h.next.RoundTrip(r)
}
