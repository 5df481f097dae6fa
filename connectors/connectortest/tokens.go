package connectortest

import (
	"context"
	"sync"

	"github.com/crmkpi/crmkpi/connectors"
)

// TokenStore is a connectors.TokenStore in memory that keeps every token
// saved, so that a test can count the refreshes that reached the store and
// read the pairs they rotated. It is safe for concurrent use; set its
// fields before the connector that uses it runs, or between its calls.
type TokenStore struct {
	// AfterSave, when set, runs after each successful save, outside the
	// lock: a test crashes the process there.
	AfterSave func()
	// FailSave, when set, is what SaveToken returns, saving nothing.
	FailSave error

	mu    sync.Mutex
	saved map[string][]connectors.Token
}

var _ connectors.TokenStore = (*TokenStore)(nil)

// LoadToken returns the token saved last for connector.
func (s *TokenStore) LoadToken(_ context.Context, connector string) (connectors.Token, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.saved[connector]
	if len(ts) == 0 {
		return connectors.Token{}, false, nil
	}
	return ts[len(ts)-1], true, nil
}

// SaveToken keeps t as connector's token, unless FailSave is set.
func (s *TokenStore) SaveToken(_ context.Context, connector string, t connectors.Token) error {
	s.mu.Lock()
	if s.FailSave != nil {
		s.mu.Unlock()
		return s.FailSave
	}
	if s.saved == nil {
		s.saved = map[string][]connectors.Token{}
	}
	s.saved[connector] = append(s.saved[connector], t)
	f := s.AfterSave
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

// Saved returns the tokens saved for connector, oldest first.
func (s *TokenStore) Saved(connector string) []connectors.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]connectors.Token(nil), s.saved[connector]...)
}
