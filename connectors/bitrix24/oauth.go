package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// tokenSource holds the OAuth access token and refreshes it when a call
// has answered 401 expired_token, never on a timer (the vendor blocks apps
// that refresh too eagerly).
type tokenSource struct {
	c     *Client
	oauth *OAuth
	http  *connectors.Client // the token endpoint, on its own host and limits

	mu      sync.Mutex
	loaded  bool
	token   connectors.Token
	expired string // the access token a call reported expired
}

func newTokenSource(c *Client, secrets []string) (*tokenSource, error) {
	ts := &tokenSource{c: c, oauth: c.opts.OAuth, token: connectors.Token{AccessToken: c.opts.Token}}
	if ts.oauth != nil {
		if ts.oauth.TokenURL == "" {
			ts.oauth.TokenURL = DefaultTokenURL
		}
		hc, err := connectors.NewClient(connectors.ClientOptions{
			Connector: c.opts.Name, Timeout: c.opts.Timeout, MaxRetries: c.opts.MaxRetries,
			MinBackoff: c.opts.MinBackoff, MaxBackoff: c.opts.MaxBackoff, Secrets: secrets,
			Transport: c.opts.Transport, Logger: c.log,
		})
		if err != nil {
			return nil, err
		}
		ts.http = hc
		ts.token.RefreshToken = ts.oauth.RefreshToken
	}
	c.addSecret(ts.token.AccessToken)
	return ts, nil
}

func (ts *tokenSource) canRefresh() bool { return ts.oauth != nil }

// markExpired records that the current access token has expired; the next
// attempt's authorize refreshes it once, however many calls saw the 401.
func (ts *tokenSource) markExpired() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.expired = ts.token.AccessToken
}

// authorize adds "auth" to the JSON body of req.
func (ts *tokenSource) authorize(ctx context.Context, req *http.Request) error {
	tok, err := ts.access(ctx)
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return fmt.Errorf("read request body: %w", err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				return fmt.Errorf("request body is not a JSON object: %w", err)
			}
		}
	}
	if body == nil {
		body = map[string]json.RawMessage{}
	}
	enc, _ := json.Marshal(tok)
	body["auth"] = enc
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	req.Header.Set("Content-Type", "application/json")
	return nil
}

// access returns the access token, loading it from the store first and
// refreshing it when it is missing or was reported expired.
func (ts *tokenSource) access(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.loaded {
		ts.loaded = true
		if st := ts.c.opts.TokenStore; st != nil {
			t, ok, err := st.LoadToken(ctx, ts.c.opts.Name)
			if err != nil {
				return "", fmt.Errorf("load token: %w", err)
			}
			if ok {
				ts.token = t
				ts.c.addSecret(t.AccessToken)
				ts.c.addSecret(t.RefreshToken)
			}
		}
	}
	if ts.token.AccessToken != "" && ts.token.AccessToken != ts.expired {
		return ts.token.AccessToken, nil
	}
	if ts.oauth == nil {
		return "", &connectors.AuthError{Status: http.StatusUnauthorized, Detail: "access token expired and no OAuth refresh is configured"}
	}
	if err := ts.refreshLocked(ctx); err != nil {
		return "", err
	}
	return ts.token.AccessToken, nil
}

// tokenAnswer is oauth.bitrix.info's answer.
type tokenAnswer struct {
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	Expires      json.RawMessage `json:"expires"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Error        string          `json:"error"`
	Description  string          `json:"error_description"`
}

func (ts *tokenSource) refreshLocked(ctx context.Context) error {
	if ts.token.RefreshToken == "" {
		return &connectors.AuthError{Status: http.StatusUnauthorized, Detail: "no refresh token"}
	}
	q := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {ts.oauth.ClientID},
		"client_secret": {ts.oauth.ClientSecret},
		"refresh_token": {ts.token.RefreshToken},
	}
	// The query carries the client secret and the refresh token; the shared
	// client never puts a URL in an error, and both are in Secrets.
	var ans tokenAnswer
	resp, err := ts.http.DoJSON(ctx, &connectors.Request{URL: ts.oauth.TokenURL, Query: q}, &ans)
	if err != nil {
		var re *connectors.ResponseError
		if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 {
			return &connectors.AuthError{Status: re.Status, Detail: "token refresh refused: " + re.Snippet}
		}
		var ae *connectors.AuthError
		if errors.As(err, &ae) {
			ae.Detail = "token refresh refused: " + ae.Detail
			return ae
		}
		return fmt.Errorf("refresh token: %w", err)
	}
	if ans.AccessToken == "" || ans.RefreshToken == "" {
		detail := strings.TrimSpace(ans.Error + " " + ans.Description)
		if detail == "" {
			detail = "answer without tokens"
		}
		return &connectors.AuthError{Status: resp.Status, Detail: "token refresh refused: " + detail}
	}
	t := connectors.Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken}
	if exp, ok := rawString(ans.Expires); ok && exp != "" {
		if sec, err := parseInt(exp); err == nil {
			t.Expiry = time.Unix(sec, 0).UTC()
		}
	}
	if t.Expiry.IsZero() {
		t.Expiry = ts.c.opts.Now().Add(time.Hour).UTC()
	}
	ts.c.addSecret(t.AccessToken)
	ts.c.addSecret(t.RefreshToken)
	// Saved before use: the old refresh token is dead now, so losing the
	// new one would lock the connector out.
	if st := ts.c.opts.TokenStore; st != nil {
		if err := st.SaveToken(ctx, ts.c.opts.Name, t); err != nil {
			return fmt.Errorf("save refreshed token: %w", err)
		}
	}
	ts.token = t
	ts.expired = ""
	return nil
}
