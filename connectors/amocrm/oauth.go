package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// tokenSource holds the OAuth token pair. Refreshes are serialised by mu:
// refresh tokens are single-use, and two refreshes racing would leave one
// caller with a token the server has already replaced.
type tokenSource struct {
	c     *Client
	cfg   OAuth
	store connectors.TokenStore
	http  *connectors.Client
	url   string

	mu     sync.Mutex
	loaded bool
	tok    connectors.Token
}

// learn adds tokens met at run time (stored or refreshed) to the secrets
// both HTTP clients redact.
func (t *tokenSource) learn(secrets ...string) {
	t.c.http.AddSecret(secrets...)
	t.http.AddSecret(secrets...)
}

func newTokenSource(c *Client, secrets []string) (*tokenSource, error) {
	t := &tokenSource{c: c, cfg: *c.opts.OAuth, store: c.opts.TokenStore}
	t.url = t.cfg.TokenURL
	if t.url == "" {
		t.url = strings.TrimSuffix(c.opts.BaseURL, "/") + "/oauth2/access_token"
	}
	var err error
	t.http, err = connectors.NewClient(connectors.ClientOptions{
		Connector:     c.opts.Name,
		RateLimit:     c.opts.RateLimit,
		Timeout:       c.opts.Timeout,
		MaxRetries:    c.opts.MaxRetries,
		MinBackoff:    c.opts.MinBackoff,
		MaxBackoff:    c.opts.MaxBackoff,
		MaxRetryAfter: c.opts.MaxRetryAfter,
		Secrets:       secrets,
		Authorize: func(ctx context.Context, _ *http.Request) error {
			if c.banned.Load() {
				return c.banError()
			}
			if n, ok := ctx.Value(counterKey{}).(*int64); ok {
				atomic.AddInt64(n, 1)
			}
			return nil
		},
		Classify:  t.classify,
		Transport: c.opts.Transport,
		Logger:    c.log,
	})
	if err != nil {
		return nil, fmt.Errorf("amocrm: %w", err)
	}
	return t, nil
}

// classify reads the token endpoint's answers: a refused refresh (400/401)
// means the integration must be re-authorised.
func (t *tokenSource) classify(status int, h http.Header, body []byte) connectors.Verdict {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized:
		p, _ := parseProblem(body)
		return connectors.Verdict{Handled: true, Err: &connectors.AuthError{Status: status,
			Detail: "OAuth refresh refused (re-authorise the integration and put its refresh token in the config): " + p.text()}}
	}
	return t.c.classify(status, h, body)
}

// current returns the access token in use, "" when none.
func (t *tokenSource) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tok.AccessToken
}

// invalidate drops the access token if it is still used, so the next
// request refreshes.
func (t *tokenSource) invalidate(used string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.AccessToken == used {
		t.tok.AccessToken = ""
	}
}

// access returns a valid access token, loading the stored pair on first use
// (it wins over the config's seed) and refreshing when the token is missing
// or expires within a minute.
func (t *tokenSource) access(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.loaded {
		stored, ok, err := t.store.LoadToken(ctx, t.c.name)
		if err != nil {
			return "", fmt.Errorf("load OAuth token: %w", err)
		}
		if ok && stored.RefreshToken != "" {
			t.tok = stored
			t.learn(stored.AccessToken, stored.RefreshToken)
		} else {
			t.tok = connectors.Token{RefreshToken: t.cfg.RefreshToken}
		}
		t.loaded = true
	}
	if t.tok.AccessToken != "" && (t.tok.Expiry.IsZero() || t.c.now().Before(t.tok.Expiry.Add(-time.Minute))) {
		return t.tok.AccessToken, nil
	}
	if err := t.refresh(ctx); err != nil {
		return "", err
	}
	return t.tok.AccessToken, nil
}

// refresh exchanges the refresh token and saves the new pair before anyone
// uses it. Kommo keeps the old refresh token valid until the new pair is
// first used, so a crash anywhere before the save costs nothing: the next
// run refreshes again with the old token. Once saved, the new pair is what
// the next run loads.
func (t *tokenSource) refresh(ctx context.Context) error {
	if t.tok.RefreshToken == "" {
		return &connectors.AuthError{Status: http.StatusUnauthorized, Detail: "no OAuth refresh token configured"}
	}
	body := map[string]string{
		"client_id": t.cfg.ClientID, "client_secret": t.cfg.ClientSecret, "grant_type": "refresh_token",
		"refresh_token": t.tok.RefreshToken, "redirect_uri": t.cfg.RedirectURI,
	}
	var out struct {
		TokenType    str `json:"token_type"`
		ExpiresIn    num `json:"expires_in"`
		AccessToken  str `json:"access_token"`
		RefreshToken str `json:"refresh_token"`
	}
	// The grace rule above also makes the POST safe to repeat.
	_, err := t.http.DoJSON(ctx, &connectors.Request{Method: http.MethodPost, URL: t.url, JSON: body, Idempotent: true}, &out)
	if err != nil {
		return fmt.Errorf("refresh OAuth token: %w", err)
	}
	if out.AccessToken == "" || out.RefreshToken == "" {
		return &connectors.MalformedError{Detail: "OAuth token response without access_token or refresh_token"}
	}
	now := t.c.now()
	exp := time.Duration(out.ExpiresIn) * time.Second
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	nt := connectors.Token{AccessToken: string(out.AccessToken), RefreshToken: string(out.RefreshToken), Expiry: now.Add(exp).UTC()}
	t.learn(nt.AccessToken, nt.RefreshToken)
	// Save even if the run is being cancelled: the pair exists now, and
	// the store is the only place it can survive.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := t.store.SaveToken(sctx, t.c.name, nt); err != nil {
		return fmt.Errorf("save the refreshed OAuth token (not used; the previous refresh token stays valid until it is): %w", err)
	}
	t.tok = nt
	return nil
}
