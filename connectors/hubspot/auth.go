package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// refreshEarly is how long before expiry an access token is replaced, so a
// slow page never goes out with a token about to lapse.
const refreshEarly = 5 * time.Minute

type noAuthKey struct{}

// withoutAuth marks requests that carry their own credentials (the token
// endpoint) so Authorize leaves them alone and cannot deadlock on itself.
func withoutAuth(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuthKey{}, true)
}

// auth supplies the bearer token: the static token, or an OAuth access
// token refreshed before it expires. Refreshes are serialised by mu, so
// concurrent pulls never spend a refresh token twice.
type auth struct {
	opts Options
	now  func() time.Time
	http *connectors.Client

	mu        sync.Mutex
	loaded    bool
	tok       connectors.Token
	forceNext bool // a 401 asked for a refresh before the next request
	forced    bool // the current token came from such a refresh
}

func (a *auth) authorize(ctx context.Context, req *http.Request) error {
	if ctx.Value(noAuthKey{}) != nil {
		return nil
	}
	tok, err := a.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// token returns a usable access token, refreshing it when needed.
func (a *auth) token(ctx context.Context) (string, error) {
	if a.opts.OAuth == nil {
		return a.opts.Token, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		a.tok.RefreshToken = a.opts.OAuth.RefreshToken
		if st := a.opts.TokenStore; st != nil {
			t, ok, err := st.LoadToken(ctx, a.opts.Name)
			if err != nil {
				return "", errors.New("load stored OAuth token: " + a.redact(err.Error()))
			}
			// A stored refresh token supersedes the configured one: it
			// is the rotated successor.
			if ok && t.RefreshToken != "" {
				a.tok = t
				a.http.AddSecret(t.AccessToken, t.RefreshToken)
			}
		}
		a.loaded = true
	}
	if a.tok.AccessToken != "" && !a.forceNext && a.now().Add(refreshEarly).Before(a.tok.Expiry) {
		return a.tok.AccessToken, nil
	}
	if err := a.refresh(ctx); err != nil {
		return "", err
	}
	return a.tok.AccessToken, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// refresh exchanges the refresh token; a.mu is held.
func (a *auth) refresh(ctx context.Context) error {
	o := a.opts.OAuth
	tokenURL := o.TokenURL
	if tokenURL == "" {
		tokenURL = a.opts.BaseURL + "/oauth/v1/token"
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {o.ClientID},
		"client_secret": {o.ClientSecret},
		"refresh_token": {a.tok.RefreshToken},
	}
	var tr tokenResponse
	_, err := a.http.DoJSON(withoutAuth(ctx), &connectors.Request{
		Method: http.MethodPost, URL: tokenURL,
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
			return &connectors.AuthError{Status: re.Status, Detail: "OAuth refresh refused: " + a.redact(re.Snippet)}
		}
		return err
	}
	t := connectors.Token{AccessToken: tr.AccessToken, RefreshToken: a.tok.RefreshToken, Expiry: a.now().Add(time.Duration(tr.ExpiresIn) * time.Second)}
	if tr.RefreshToken != "" {
		t.RefreshToken = tr.RefreshToken
	}
	a.http.AddSecret(t.AccessToken, t.RefreshToken)
	if st := a.opts.TokenStore; st != nil {
		// Saved before use: if the save fails a rotated refresh token
		// would be lost with the process, so stop here instead.
		if err := st.SaveToken(ctx, a.opts.Name, t); err != nil {
			return errors.New("save refreshed OAuth token: " + a.redact(err.Error()))
		}
	}
	a.tok = t
	a.forced, a.forceNext = a.forceNext, false
	return nil
}

// on401 decides whether a 401 is worth one refresh and retry: only for
// OAuth, and only when the token in use was not itself the answer to a 401.
func (a *auth) on401() bool {
	if a.opts.OAuth == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.forced {
		return false
	}
	a.forceNext = true
	return true
}

func (a *auth) redact(s string) string { return a.http.Redact(s) }
