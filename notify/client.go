package notify

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// NewClient returns a slack-go client for token that sends the token only
// in the Authorization header. slack-go puts it in the form body of every
// form-encoded call (chat.postMessage, conversations.open, ...), where a
// proxy or server that logs request bodies would keep it; Slack's Web API
// takes the bearer header for every method instead. apiURL "" means
// Slack's own.
func NewClient(token, apiURL string, opts ...slack.Option) *slack.Client {
	tr := &headerAuth{token: token, next: http.DefaultTransport}
	all := []slack.Option{slack.OptionHTTPClient(&http.Client{Transport: tr})}
	if apiURL != "" {
		all = append(all, slack.OptionAPIURL(apiURL))
	}
	return slack.New(token, append(all, opts...)...)
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
