package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/warehouse"
)

// Connector health states an Alerter is told about; the sync package's
// StateOK, StateFailing and StateStale.
const (
	AlertOK      = "ok"
	AlertFailing = "failing"
	AlertStale   = "stale"
)

// AlertState is the health of one connector.
type AlertState struct {
	Connector string
	State     string   // AlertOK, AlertFailing or AlertStale
	Objects   []string // the failing or stale objects
	Error     string   // the newest error of a failing object
}

// alertRecipient is the outbox recipient of alert rows; their period key
// is "alert:" and the connector, and their hash column holds the state
// last posted.
const alertRecipient = "alerts"

// maxAlertError bounds the error quoted in an alert.
const maxAlertError = 500

// Alerter posts to Channel when a connector turns failing or stale, and
// once when it recovers: one message per change of state, however often
// Update is called. The state last posted for each connector is kept in
// the Outbox, so a restart of serve neither repeats a message nor misses a
// change. A connector seen first in good health is remembered silently. A
// message that could not be posted is tried again at the next Update.
// Every text is redacted by Redactor before it is cut and sent. An
// Alerter is safe for concurrent use.
type Alerter struct {
	Client   *slack.Client
	Channel  string
	Outbox   Outbox
	Redactor *redact.Redactor // nil hides credential shapes only
	Logger   *slog.Logger     // nil discards
	Now      func() time.Time // nil is time.Now

	mu gosync.Mutex
}

// Update compares states with the states last posted and posts the
// changes. It returns the failures to read, post or save, joined.
func (a *Alerter) Update(ctx context.Context, states []AlertState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	var errs []error
	for _, s := range states {
		key := "alert:" + s.Connector
		prev, seen, err := a.Outbox.SlackMessage(ctx, key, alertRecipient)
		if err != nil {
			errs = append(errs, fmt.Errorf("read alert state of %s: %w", s.Connector, err))
			continue
		}
		last := AlertOK
		if seen {
			last = prev.Hash
		}
		if s.State == last {
			if !seen {
				// First seen healthy: nothing to say, but remember it so
				// a later change is one.
				if err := a.save(ctx, key, warehouse.SlackMessage{}, s.State, now()); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		text := a.text(s)
		ch, ts, err := a.Client.PostMessageContext(ctx, a.Channel, slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl())
		if err != nil {
			errs = append(errs, apiError("chat.postMessage", a.Channel, err))
			continue
		}
		log.InfoContext(ctx, "alert posted", "connector", s.Connector, "state", s.State, "was", last)
		if err := a.save(ctx, key, warehouse.SlackMessage{Channel: ch, TS: ts}, s.State, now()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *Alerter) save(ctx context.Context, key string, m warehouse.SlackMessage, state string, at time.Time) error {
	m.PeriodKey, m.Recipient, m.Hash, m.UpdatedAt = key, alertRecipient, state, at
	if err := a.Outbox.SaveSlackMessage(ctx, m); err != nil {
		return fmt.Errorf("save alert state of %s: %w", strings.TrimPrefix(key, "alert:"), err)
	}
	return nil
}

// text is the message for s, its CRM-sourced parts redacted and escaped.
func (a *Alerter) text(s AlertState) string {
	objs := esc(strings.Join(s.Objects, ", "))
	name := esc(s.Connector)
	switch s.State {
	case AlertFailing:
		msg := fmt.Sprintf("%s crmkpi: connector *%s* is failing (%s)", emojiRed, name, objs)
		if s.Error != "" {
			msg += ": " + esc(a.Redactor.Cut(s.Error, maxAlertError))
		}
		return msg + ". `crmkpi status` shows every object."
	case AlertStale:
		return fmt.Sprintf("%s crmkpi: connector *%s* is stale: no successful sync of %s within its stale_after. `crmkpi status` shows every object.", emojiAmber, name, objs)
	}
	return fmt.Sprintf("%s crmkpi: connector *%s* recovered: every object synced.", emojiGreen, name)
}
