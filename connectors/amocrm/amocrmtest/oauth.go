package amocrmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// pair is one issued access/refresh token pair. Kommo's rule, as the
// reference documents it: a refresh rotates the refresh token, but the old
// one keeps working until the new pair is first used.
type pair struct {
	access, refresh string
	expiry          time.Time
	used            bool  // the pair's access or refresh token has been used
	parent          *pair // the pair whose refresh token produced this one
	child           *pair // the latest pair produced from this one
	revoked         bool
}

type oauthState struct {
	clientID, secret string
	seq              int
	byRefresh        map[string]*pair
	byAccess         map[string]*pair
	seed             *pair
	refreshes        int
}

func (o *oauthState) issue(now time.Time, ttl time.Duration, parent *pair) *pair {
	o.seq++
	p := &pair{
		access:  fmt.Sprintf("fake-access-%d-%d", o.seq, now.UnixNano()),
		refresh: fmt.Sprintf("fake-refresh-%d-%d", o.seq, now.UnixNano()),
		expiry:  now.Add(ttl),
		parent:  parent,
	}
	if parent == nil && ttl == 0 {
		p.access = "" // the seed pair has no usable access token
	}
	o.byRefresh[p.refresh] = p
	if p.access != "" {
		o.byAccess[p.access] = p
	}
	return p
}

// markUsed records the first use of p, which ends its parent's grace.
func (o *oauthState) markUsed(p *pair) {
	p.used = true
	if p.parent != nil && p.parent.child == p {
		p.parent.revoked = true
	}
}

func (o *oauthState) useAccess(tok string, now time.Time) bool {
	p, ok := o.byAccess[tok]
	if !ok || p.revoked || !now.Before(p.expiry) {
		return false
	}
	o.markUsed(p)
	return true
}

// refresh exchanges a refresh token, or says why not.
func (o *oauthState) refresh(tok string, now time.Time, ttl time.Duration) (*pair, string) {
	p, ok := o.byRefresh[tok]
	if !ok || p.revoked {
		return nil, "Token has been revoked"
	}
	if p.child != nil {
		if p.child.used {
			return nil, "Token has been revoked"
		}
		// A retry with the old token before the new pair was used: the
		// unused pair is replaced.
		p.child.revoked = true
	}
	o.markUsed(p)
	c := o.issue(now, ttl, p)
	p.child = c
	o.refreshes++
	return c, ""
}

// OAuthRefreshToken returns the refresh token the integration was
// authorised with (the config's seed).
func (s *Server) OAuthRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth == nil {
		return ""
	}
	return s.oauth.seed.refresh
}

// OAuthRefreshes returns how many refreshes the token endpoint granted.
func (s *Server) OAuthRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth == nil {
		return 0
	}
	return s.oauth.refreshes
}

// ValidRefreshToken reports whether tok would be accepted by the token
// endpoint now.
func (s *Server) ValidRefreshToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth == nil {
		return false
	}
	p, ok := s.oauth.byRefresh[tok]
	return ok && !p.revoked && (p.child == nil || !p.child.used)
}

// token serves POST /oauth2/access_token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		problem(w, 405, "Method Not Allowed", "Method not allowed", nil)
		return
	}
	var req struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
		RedirectURI  string `json:"redirect_uri"`
	}
	b, _ := io.ReadAll(r.Body)
	bad := func(hint string) {
		problem(w, 400, "Некорректный запрос", "В запросе отсутствует ряд параметров или параметры невалидны",
			Object{"hint": hint, "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"})
	}
	if err := json.Unmarshal(b, &req); err != nil {
		bad("Invalid JSON")
		return
	}
	s.mu.Lock()
	o := s.oauth
	if o == nil {
		s.mu.Unlock()
		problem(w, 404, "Not Found", "Not found", nil)
		return
	}
	if req.ClientID != o.clientID || req.ClientSecret != o.secret {
		s.mu.Unlock()
		problem(w, 401, "Unauthorized", "Client authentication failed", Object{"hint": "Client authentication failed"})
		return
	}
	if req.GrantType != "refresh_token" || req.RefreshToken == "" {
		s.mu.Unlock()
		bad("Unsupported grant type")
		return
	}
	now := s.now()
	p, why := o.refresh(req.RefreshToken, now, s.accessTTL)
	s.mu.Unlock()
	if p == nil {
		bad(why)
		return
	}
	out, _ := json.Marshal(Object{
		"token_type": "Bearer", "expires_in": int64(s.accessTTL / time.Second), "server_time": now.Unix(),
		"access_token": p.access, "refresh_token": p.refresh,
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}
