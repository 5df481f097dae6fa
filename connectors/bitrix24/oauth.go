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
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// newTokens sets up the token source of an OAuth connector (BaseURL with
// Token and/or OAuth). The access token is refreshed only when a call has
// answered 401 expired_token, never on a timer: the vendor blocks apps
// that refresh too eagerly. Without OAuth the token cannot be refreshed.
func (c *Client) newTokens() {
	ts := &connectors.TokenSource{
		Connector: c.opts.Name,
		Store:     c.opts.TokenStore,
		Seed:      connectors.Token{AccessToken: c.opts.Token},
		Learn:     c.http.AddSecret,
	}
	if o := c.opts.OAuth; o != nil {
		if o.TokenURL == "" {
			o.TokenURL = DefaultTokenURL
		}
		ts.Seed.RefreshToken = o.RefreshToken
		ts.Refresh = c.refresh
		ts.RefusalMeansExpired = true
	}
	c.http.AddSecret(c.opts.Token)
	c.tokens = ts
}

// authorize adds "auth" to the JSON body of req, except to the token
// endpoint's request, whose credentials are in its query.
func (c *Client) authorize(ctx context.Context, req *http.Request) error {
	if c.tokens == nil || c.isTokenEndpoint(req) {
		return nil
	}
	tok, err := c.tokens.Access(ctx)
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

func (c *Client) isTokenEndpoint(req *http.Request) bool {
	if c.opts.OAuth == nil {
		return false
	}
	u, err := url.Parse(c.opts.OAuth.TokenURL)
	return err == nil && req.URL.Host == u.Host && req.URL.Path == u.Path
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

// refresh exchanges t's refresh token. The old refresh token is dead once
// this answers, which is why the token source saves the new pair before
// anyone uses it.
func (c *Client) refresh(ctx context.Context, t connectors.Token) (connectors.Token, error) {
	if t.RefreshToken == "" {
		return connectors.Token{}, &connectors.AuthError{Status: http.StatusUnauthorized, Detail: "no refresh token"}
	}
	o := c.opts.OAuth
	q := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {o.ClientID},
		"client_secret": {o.ClientSecret},
		"refresh_token": {t.RefreshToken},
	}
	// The query carries the client secret and the refresh token; the shared
	// client never puts a URL in an error, and both are in Secrets.
	var ans tokenAnswer
	resp, err := c.http.DoJSON(ctx, &connectors.Request{URL: o.TokenURL, Query: q}, &ans)
	if err != nil {
		var re *connectors.ResponseError
		if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 {
			return connectors.Token{}, &connectors.AuthError{Status: re.Status, Detail: "token refresh refused: " + re.Snippet}
		}
		var ae *connectors.AuthError
		if errors.As(err, &ae) {
			ae.Detail = "token refresh refused: " + ae.Detail
			return connectors.Token{}, ae
		}
		return connectors.Token{}, fmt.Errorf("refresh token: %w", err)
	}
	if ans.AccessToken == "" || ans.RefreshToken == "" {
		detail := strings.TrimSpace(ans.Error + " " + ans.Description)
		if detail == "" {
			detail = "answer without tokens"
		}
		return connectors.Token{}, &connectors.AuthError{Status: resp.Status, Detail: "token refresh refused: " + detail}
	}
	nt := connectors.Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken}
	if exp, ok := rawString(ans.Expires); ok && exp != "" {
		if sec, err := parseInt(exp); err == nil {
			nt.Expiry = time.Unix(sec, 0).UTC()
		}
	}
	if nt.Expiry.IsZero() {
		nt.Expiry = c.opts.Now().Add(time.Hour).UTC()
	}
	return nt, nil
}
