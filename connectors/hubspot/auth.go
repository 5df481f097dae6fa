package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// refreshEarly is how long before expiry an access token is replaced, so a
// slow page never goes out with a token about to lapse.
const refreshEarly = 5 * time.Minute

// newTokens sets up the OAuth token source: the access token lives 30
// minutes and is replaced refreshEarly before it expires, and once more
// when a 401 refuses it before then (HubSpot says a 401 is not a reliable
// expiry signal, so expiry is tracked too).
func (c *Client) newTokens() error {
	o := c.opts.OAuth
	tokenURL := o.TokenURL
	if tokenURL == "" {
		tokenURL = c.opts.BaseURL + "/oauth/v1/token"
	}
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" {
		return errors.New("hubspot: oauth token_url is not an http(s) URL")
	}
	c.tokenURL = u
	c.tokens = &connectors.TokenSource{
		Connector: c.opts.Name,
		Store:     c.opts.TokenStore,
		Seed:      connectors.Token{RefreshToken: o.RefreshToken},
		Fresh:     func(t connectors.Token) bool { return c.opts.Now().Add(refreshEarly).Before(t.Expiry) },
		Refresh:   c.refresh,
		Learn:     c.http.AddSecret,
	}
	return nil
}

// authorize adds the bearer token, except to the requests that carry
// credentials of their own (the token endpoint, the token-info lookup):
// those must not wait for the token they are fetching.
func (c *Client) authorize(ctx context.Context, req *http.Request) error {
	if c.ownCredentials(req) {
		return nil
	}
	tok := c.opts.Token
	if c.tokens != nil {
		var err error
		if tok, err = c.tokens.Access(ctx); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (c *Client) ownCredentials(req *http.Request) bool {
	if c.tokenURL == nil {
		return false
	}
	return (req.URL.Host == c.tokenURL.Host && req.URL.Path == c.tokenURL.Path) ||
		strings.HasPrefix(req.URL.Path, "/oauth/v1/access-tokens/")
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// refresh exchanges t's refresh token; HubSpot may or may not rotate it.
func (c *Client) refresh(ctx context.Context, t connectors.Token) (connectors.Token, error) {
	o := c.opts.OAuth
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {o.ClientID},
		"client_secret": {o.ClientSecret},
		"refresh_token": {t.RefreshToken},
	}
	var tr tokenResponse
	_, err := c.http.DoJSON(ctx, &connectors.Request{
		Method: http.MethodPost, URL: c.tokenURL.String(),
		Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded",
		Decode: func(_ int, b []byte) error {
			if err := json.Unmarshal(b, &tr); err != nil {
				return err
			}
			if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
				return errors.New("token answer without access_token or expires_in")
			}
			return nil
		},
	}, nil)
	if err != nil {
		var re *connectors.ResponseError
		if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 {
			// invalid_grant and friends: the refresh token is revoked or
			// the client credentials are wrong; no retry can help.
			return connectors.Token{}, &connectors.AuthError{Status: re.Status, Detail: "OAuth refresh refused: " + c.http.Redact(re.Snippet)}
		}
		return connectors.Token{}, err
	}
	nt := connectors.Token{AccessToken: tr.AccessToken, RefreshToken: t.RefreshToken, Expiry: c.opts.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)}
	if tr.RefreshToken != "" {
		nt.RefreshToken = tr.RefreshToken
	}
	return nt, nil
}
