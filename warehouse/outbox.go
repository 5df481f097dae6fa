package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SlackMessage returns the outbox row of the message posted to recipient
// for periodKey; ok is false when none was posted.
func (s *Store) SlackMessage(ctx context.Context, periodKey, recipient string) (SlackMessage, bool, error) {
	var r struct {
		Channel   string   `db:"channel"`
		TS        string   `db:"ts"`
		Hash      string   `db:"hash"`
		UpdatedAt nullTime `db:"updated_at"`
	}
	err := s.db.GetContext(ctx, &r, s.db.Rebind("SELECT channel, ts, hash, updated_at FROM slack_messages WHERE period_key = ? AND recipient = ?"),
		periodKey, recipient)
	if errors.Is(err, sql.ErrNoRows) {
		return SlackMessage{}, false, nil
	}
	if err != nil {
		return SlackMessage{}, false, fmt.Errorf("read slack message %s %s: %w", periodKey, recipient, err)
	}
	return SlackMessage{PeriodKey: periodKey, Recipient: recipient, Channel: r.Channel, TS: r.TS, Hash: r.Hash, UpdatedAt: r.UpdatedAt.T}, true, nil
}

// SaveSlackMessage records (or replaces) the outbox row of m.PeriodKey and
// m.Recipient.
func (s *Store) SaveSlackMessage(ctx context.Context, m SlackMessage) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind("INSERT INTO slack_messages (period_key, recipient, channel, ts, hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)\n"+
		"ON CONFLICT (period_key, recipient) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, hash = excluded.hash, updated_at = excluded.updated_at"),
		m.PeriodKey, m.Recipient, m.Channel, m.TS, m.Hash, s.d.timeArg(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save slack message %s %s: %w", m.PeriodKey, m.Recipient, err)
	}
	return nil
}
