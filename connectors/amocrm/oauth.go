package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// newTokens sets up the OAuth token source. Refresh tokens are single-use
// and rotate on every refresh; the access token is replaced a minute
// before it expires, and once when a request is refused with 401 (a token
// revoked before its expiry; see getJSON).
func (c *Client) newTokens() {
	c.tokenURL = c.opts.OAuth.TokenURL
	if c.tokenURL == "" {
		c.tokenURL = strings.TrimSuffix(c.opts.BaseURL, "/") + "/oauth2/access_token"
	}
	c.tokens = &connectors.TokenSource{
		Connector: c.name,
		Store:     c.opts.TokenStore,
		Seed:      connectors.Token{RefreshToken: c.opts.OAuth.RefreshToken},
		Fresh: func(t connectors.Token) bool {
			return t.Expiry.IsZero() || c.now().Before(t.Expiry.Add(-time.Minute))
		},
		Refresh: c.refresh,
		Learn:   c.http.AddSecret,
		// Save even if the run is being cancelled: the pair exists now,
		// and the store is the only place it can survive.
		SaveGrace: 30 * time.Second,
	}
}

// isTokenEndpoint tells the token request, which carries the client's
// credentials in its body and must not wait for the token it fetches.
func (c *Client) isTokenEndpoint(req *http.Request) bool {
	u, err := url.Parse(c.tokenURL)
	return err == nil && req.URL.Host == u.Host && req.URL.Path == u.Path
}

// refresh exchanges t's refresh token. Kommo keeps the old refresh token
// valid until the new pair is first used, so a crash anywhere before the
// token source's save costs nothing: the next run refreshes again with the
// old token. The same rule makes the POST safe to repeat.
func (c *Client) refresh(ctx context.Context, t connectors.Token) (connectors.Token, error) {
	if t.RefreshToken == "" {
		return connectors.Token{}, &connectors.AuthError{Status: http.StatusUnauthorized, Detail: "no OAuth refresh token configured"}
	}
	o := c.opts.OAuth
	body := map[string]string{
		"client_id": o.ClientID, "client_secret": o.ClientSecret, "grant_type": "refresh_token",
		"refresh_token": t.RefreshToken, "redirect_uri": o.RedirectURI,
	}
	var out struct {
		TokenType    str `json:"token_type"`
		ExpiresIn    num `json:"expires_in"`
		AccessToken  str `json:"access_token"`
		RefreshToken str `json:"refresh_token"`
	}
	_, err := c.http.DoJSON(ctx, &connectors.Request{Method: http.MethodPost, URL: c.tokenURL, JSON: body, Idempotent: true}, &out)
	if status, detail, refused := refusal(err); refused {
		return connectors.Token{}, &connectors.AuthError{Status: status,
			Detail: "OAuth refresh refused (re-authorise the integration and put its refresh token in the config): " + detail}
	}
	if err != nil {
		return connectors.Token{}, fmt.Errorf("refresh OAuth token: %w", err)
	}
	if out.AccessToken == "" || out.RefreshToken == "" {
		return connectors.Token{}, &connectors.MalformedError{Detail: "OAuth token response without access_token or refresh_token"}
	}
	exp := time.Duration(out.ExpiresIn) * time.Second
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	return connectors.Token{AccessToken: string(out.AccessToken), RefreshToken: string(out.RefreshToken), Expiry: c.now().Add(exp).UTC()}, nil
}

// refusal reads the token endpoint's refusal of a refresh (400 or 401):
// the integration must be re-authorised. detail is amoCRM's explanation.
func refusal(err error) (status int, detail string, ok bool) {
	var re *connectors.ResponseError
	var ae *connectors.AuthError
	switch {
	case errors.As(err, &re) && re.Status == http.StatusBadRequest:
		if p, ok := parseProblem([]byte(re.Snippet)); ok {
			return re.Status, p.text(), true
		}
		return re.Status, re.Snippet, true
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		return ae.Status, strings.TrimPrefix(strings.TrimPrefix(ae.Detail, wrongCredentials), ": "), true
	}
	return 0, "", false
}
