package bitrix24test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"
)

type oauthState struct {
	clientID, secret string
	refresh          map[string]bool
	access           map[string]time.Time
	issued           int
}

// IssueAccessToken mints an access token valid for one hour of the clock,
// for tests that start with a token in hand. OAuth must be enabled.
func (s *Server) IssueAccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := randomToken()
	s.oauth.access[tok] = s.now().Add(time.Hour)
	return tok
}

// ExpireAccessTokens makes every issued access token expired, so the next
// call with one gets 401 expired_token.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.oauth.access {
		s.oauth.access[k] = time.Time{}
	}
}

// RevokeRefreshTokens makes every refresh token invalid (invalid_grant), as
// when the app is uninstalled or the token passes its 180 days.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.refresh = map[string]bool{}
}

// TokensIssued is how many refreshes the token endpoint granted.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauth.issued
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serveToken is oauth.bitrix.info's /oauth/token/: a GET (or form POST)
// with grant_type=refresh_token, client_id, client_secret, refresh_token.
// The refresh token rotates on every use.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth == nil {
		s.writeJSONLocked(w, http.StatusNotFound, map[string]any{"error": "not_found"})
		return
	}
	r.ParseForm()
	q := r.Form
	switch {
	case q.Get("grant_type") != "refresh_token":
		s.writeJSONLocked(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "grant_type is not supported"})
		return
	case q.Get("client_id") != s.oauth.clientID || q.Get("client_secret") != s.oauth.secret:
		s.writeJSONLocked(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Invalid client"})
		return
	case !s.oauth.refresh[q.Get("refresh_token")]:
		s.writeJSONLocked(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "Invalid grant"})
		return
	}
	delete(s.oauth.refresh, q.Get("refresh_token"))
	access, refresh := randomToken(), randomToken()
	exp := s.now().Add(time.Hour)
	s.oauth.access[access] = exp
	s.oauth.refresh[refresh] = true
	s.oauth.issued++
	scope := ""
	for i, sc := range s.scopes {
		if i > 0 {
			scope += ","
		}
		scope += sc
	}
	s.writeJSONLocked(w, http.StatusOK, map[string]any{
		"access_token": access, "refresh_token": refresh, "expires": exp.Unix(), "expires_in": 3600,
		"client_endpoint": s.URL + "/rest/", "server_endpoint": "https://oauth.bitrix.info/rest/",
		"domain": r.Host, "member_id": "fakememberid", "scope": scope, "status": "L", "user_id": 1,
	})
}
