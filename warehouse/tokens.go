package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crmkpi/crmkpi/connectors"
)

var _ connectors.TokenStore = (*Store)(nil)

// LoadToken returns the stored OAuth token of connector; ok is false when
// none is stored. It implements connectors.TokenStore.
func (s *Store) LoadToken(ctx context.Context, connector string) (connectors.Token, bool, error) {
	var raw string
	err := s.db.GetContext(ctx, &raw, s.db.Rebind("SELECT token FROM oauth_tokens WHERE connector = ?"), connector)
	if errors.Is(err, sql.ErrNoRows) {
		return connectors.Token{}, false, nil
	}
	if err != nil {
		return connectors.Token{}, false, fmt.Errorf("load %s token: %w", connector, err)
	}
	var t connectors.Token
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		// The error of json.Unmarshal quotes no input, so no secret leaks.
		return connectors.Token{}, false, fmt.Errorf("load %s token: %w", connector, err)
	}
	t.Expiry = t.Expiry.UTC()
	return t, true, nil
}

// SaveToken stores connector's OAuth token, replacing the previous one. It
// implements connectors.TokenStore. The token is stored as JSON in plain
// text: protect the warehouse as you protect the config's secrets.
func (s *Store) SaveToken(ctx context.Context, connector string, t connectors.Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save %s token: %w", connector, err)
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind("INSERT INTO oauth_tokens (connector, token, updated_at) VALUES (?, ?, ?)\n"+
		"ON CONFLICT (connector) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at"),
		connector, string(b), s.d.timeArg(s.now()))
	if err != nil {
		return fmt.Errorf("save %s token: %w", connector, err)
	}
	return nil
}
