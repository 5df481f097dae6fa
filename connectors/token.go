package connectors

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// TokenSource holds one connector's OAuth token pair for every request of
// the connector. On first use it loads the stored pair, which wins over
// the configured seed (it is the seed's rotated successor). It refreshes
// once under its lock however many concurrent requests find the token
// stale, so a single-use refresh token is never spent twice, and it saves
// each new pair before anyone uses it, so a crash between the refresh and
// the save cannot lock the account out. The vendor supplies the refresh
// itself and its rule of when a token is stale.
type TokenSource struct {
	// Connector keys the stored pair.
	Connector string
	// Store persists the pair; nil keeps it in memory only.
	Store TokenStore
	// Seed is the configured pair (usually a refresh token alone).
	Seed Token
	// Fresh reports whether t may be used now without a refresh; nil
	// means until the server refuses it (Refused).
	Fresh func(t Token) bool
	// Refresh exchanges t's refresh token at the vendor's token endpoint
	// and returns the new pair; nil means the token cannot be refreshed.
	Refresh func(ctx context.Context, t Token) (Token, error)
	// Learn is told every token met (loaded or refreshed), for redaction.
	Learn func(secrets ...string)
	// RefusalMeansExpired says a refusal always means the token expired
	// (Bitrix24's expired_token), so every refused token is refreshed.
	// Otherwise (HubSpot's 401s, not a reliable expiry signal) a token
	// that answered a refusal is not refreshed again when it is refused
	// too, which would only loop.
	RefusalMeansExpired bool
	// SaveGrace, when set, lets the save of a refreshed pair outlive the
	// caller's cancellation by this long: the pair exists once refreshed,
	// and the store is the only place it survives the process.
	SaveGrace time.Duration

	mu     Lock // held across a refresh
	loaded bool
	tok    Token
	stale  string // an access token the server refused
	forced bool   // the current token answers such a refusal
}

// Access returns a usable access token, loading and refreshing as needed.
func (s *TokenSource) Access(ctx context.Context) (string, error) {
	if err := s.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	if !s.loaded {
		s.tok = s.Seed
		if s.Store != nil {
			t, ok, err := s.Store.LoadToken(ctx, s.Connector)
			if err != nil {
				return "", fmt.Errorf("load the stored OAuth token: %w", err)
			}
			if ok && t.RefreshToken != "" {
				s.tok = t
				s.learn(t)
			}
		}
		s.loaded = true
	}
	if s.tok.AccessToken != "" && s.tok.AccessToken != s.stale && (s.Fresh == nil || s.Fresh(s.tok)) {
		return s.tok.AccessToken, nil
	}
	if s.Refresh == nil {
		return "", &AuthError{Status: http.StatusUnauthorized, Detail: "access token expired and no OAuth refresh is configured"}
	}
	t, err := s.Refresh(ctx, s.tok)
	if err != nil {
		return "", err
	}
	s.learn(t)
	if s.Store != nil {
		sctx := ctx
		if s.SaveGrace > 0 {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.SaveGrace)
			defer cancel()
		}
		if err := s.Store.SaveToken(sctx, s.Connector, t); err != nil {
			return "", fmt.Errorf("save the refreshed OAuth token before using it: %w", err)
		}
	}
	s.forced = s.stale != ""
	s.tok, s.stale = t, ""
	return s.tok.AccessToken, nil
}

// Current returns the access token in use, "" when none.
func (s *TokenSource) Current() string {
	s.mu.Lock(context.Background())
	defer s.mu.Unlock()
	return s.tok.AccessToken
}

// Refused records that the server refused the access token used ("" for
// the current one): the next Access refreshes it, once, whoever asks. It
// reports whether a retry can help: false when the token cannot be
// refreshed, or (unless RefusalMeansExpired) when the refused token was
// itself the answer to a refusal, which another refresh would not fix.
func (s *TokenSource) Refused(used string) bool {
	s.mu.Lock(context.Background())
	defer s.mu.Unlock()
	if used == "" {
		used = s.tok.AccessToken
	}
	if used != s.tok.AccessToken {
		return true // already replaced: the retry uses the new token
	}
	if s.Refresh == nil || (s.forced && !s.RefusalMeansExpired) {
		return false
	}
	s.stale = used
	return true
}

func (s *TokenSource) learn(t Token) {
	if s.Learn != nil {
		s.Learn(t.AccessToken, t.RefreshToken)
	}
}

// Lock is a mutex for locks held across a request (a token refresh, a
// read that concurrent pulls share): its Lock gives up when the caller's
// context ends, so a cancelled pull does not wait out another's slow
// answer. Its waiters block on a channel, which a testing/synctest bubble
// counts as durably blocked (a sync.Mutex's are not, and would stop the
// bubble's clock). The zero value is unlocked.
type Lock struct {
	once sync.Once
	ch   chan struct{}
}

func (l *Lock) init() { l.once.Do(func() { l.ch = make(chan struct{}, 1) }) }

// Lock takes the lock, or returns ctx's error.
func (l *Lock) Lock(ctx context.Context) error {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() { <-l.ch }
