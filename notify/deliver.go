package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/warehouse"
)

// Outbox stores one row per posted message, keyed by period and recipient,
// so a second delivery for the same period updates instead of posting again.
// The warehouse implements it.
type Outbox interface {
	// SlackMessage returns the row for (periodKey, recipient) and whether
	// there is one.
	SlackMessage(ctx context.Context, periodKey, recipient string) (warehouse.SlackMessage, bool, error)
	// SaveSlackMessage inserts or replaces the row with m's key.
	SaveSlackMessage(ctx context.Context, m warehouse.SlackMessage) error
}

// Notifier delivers scorecards to Slack: the team summary to Channel, each
// team's summary to its channel in TeamChannels, and, with DirectMessages,
// each manager's scorecard by DM. Its fields are set once; a Notifier is not
// safe for concurrent Deliver calls.
type Notifier struct {
	Client         *slack.Client
	Channel        string            // ID or #name for the all-teams summary; "" for none
	TeamChannels   map[string]string // team → channel for per-team summaries
	DirectMessages bool
	// Manager, a manager key, limits DryRun to that manager's DM: a
	// preview of one scorecard (notify --dry-run --manager KEY).
	Manager string
	// BehindPace sends, instead of the scorecards, only the mid-period
	// nudges (PaceMessage): a DM to each manager projected under target
	// on at least one KPI, whatever DirectMessages says, and nothing to
	// channels (notify --behind-pace).
	BehindPace bool
	Outbox     Outbox
	Logger     *slog.Logger     // nil discards
	Now        func() time.Time // nil is time.Now
}

// Summary is what one Deliver did.
type Summary struct {
	Posted, Updated, Unchanged int
	Failed                     []Failure
	// NoSlackUser lists the managers (by key) that have no Slack user: no
	// slack_id in the config and no Slack account with their e-mail.
	NoSlackUser []string
	// EmptyTeams lists the teams of TeamChannels with no scorecard in the
	// period, whose channels got nothing.
	EmptyTeams []string
}

// Empty reports whether r has no scorecard. Nothing is posted for such a
// period, not even a summary: a leaderboard of nobody says nothing true.
func Empty(r *scoring.Report) bool { return r == nil || len(r.Managers) == 0 }

// Failure is one recipient whose message was not delivered.
type Failure struct {
	Recipient string `json:"recipient"`
	Error     string `json:"error"`
}

// metadataEventType tags every posted message (Slack message metadata), so a
// message whose outbox row was lost can be found in the channel history.
const metadataEventType = "crmkpi_scorecard"

// delivery is one message to one recipient.
type delivery struct {
	recipient string             // outbox key
	channel   string             // for channel posts
	manager   *scoring.Scorecard // for DMs
	msg       Message
}

// plan lists every message of a report, channel summaries first; none for
// an empty report, and none for a team with no scorecard (those teams are
// returned in empty).
func plan(r *scoring.Report, in RenderInput, channel string, teamChannels map[string]string, dms bool) (out []delivery, empty []string) {
	if Empty(r) {
		return nil, nil
	}
	add := func(key, ch string, msgs []Message) {
		for i, m := range msgs {
			k := key
			if i > 0 { // a long leaderboard's later parts
				k = fmt.Sprintf("%s/%d", key, i+1)
			}
			out = append(out, delivery{recipient: k, channel: ch, msg: m})
		}
	}
	if channel != "" {
		add("channel:"+channel, channel, TeamMessage(r, "", in))
	}
	teams := make([]string, 0, len(teamChannels))
	for t := range teamChannels {
		teams = append(teams, t)
	}
	slices.Sort(teams)
	for _, t := range teams {
		if !slices.ContainsFunc(r.Managers, func(sc scoring.Scorecard) bool { return sc.Team == t }) {
			empty = append(empty, t)
			continue
		}
		add("team:"+t, teamChannels[t], TeamMessage(r, t, in))
	}
	if dms {
		for i := range r.Managers {
			sc := &r.Managers[i]
			out = append(out, delivery{recipient: sc.Manager, manager: sc, msg: ManagerMessage(*sc, in)})
		}
	}
	return out, empty
}

// plan is what the notifier sends of r: the scorecards (plan), or with
// BehindPace the nudges (planPace).
func (n *Notifier) plan(r *scoring.Report, in RenderInput) ([]delivery, []string) {
	if n.BehindPace {
		return planPace(r, in, n.now()), nil
	}
	return plan(r, in, n.Channel, n.TeamChannels, n.DirectMessages)
}

// normalize fills in from the report what the caller left out.
func normalize(r *scoring.Report, in RenderInput) RenderInput {
	if in.Period.Start.IsZero() {
		in.Period = r.Period
	}
	if in.Currency == "" {
		in.Currency = r.Currency
	}
	return in
}

// Deliver posts the report's messages, or updates the ones already posted
// for this period (skipping those whose content is unchanged). A failure for
// one recipient does not stop the others; managers without a Slack user are
// listed in Summary.NoSlackUser and are not failures. For an Empty report it
// posts nothing, and a team channel whose team has no scorecard gets nothing
// (Summary.EmptyTeams). When any message
// failed, Deliver returns the summary and a *DeliveryError listing them.
// After an error that makes every further call fail (an invalid token, a
// cancelled ctx) it stops calling Slack and lists the rest as failed.
func (n *Notifier) Deliver(ctx context.Context, r *scoring.Report, in RenderInput) (*Summary, error) {
	switch {
	case r == nil:
		return nil, errors.New("deliver: no report")
	case n.Client == nil:
		return nil, errors.New("deliver: no Slack client configured")
	case n.Outbox == nil:
		// Without it a rerun would post everything again.
		return nil, errors.New("deliver: no outbox configured")
	}
	in = normalize(r, in)
	key := in.Period.Key()
	run := &deliveryRun{n: n, log: n.logger().With("period", key), users: map[string]userResult{}}
	sum := &Summary{}
	var stop error
	ds, empty := n.plan(r, in)
	sum.EmptyTeams = empty
	for _, d := range ds {
		if stop == nil {
			stop = ctx.Err()
		}
		if stop != nil {
			sum.Failed = append(sum.Failed, Failure{d.recipient, "not attempted: " + stop.Error()})
			continue
		}
		err := run.deliver(ctx, key, d, sum)
		if err == nil {
			continue
		}
		sum.Failed = append(sum.Failed, Failure{d.recipient, err.Error()})
		var ae *APIError
		if errors.As(err, &ae) && ae.Fatal() {
			stop = err
		}
	}
	if len(sum.Failed) > 0 {
		return sum, &DeliveryError{Failed: sum.Failed}
	}
	return sum, nil
}

// errNoSlackUser marks a manager without a Slack account.
var errNoSlackUser = errors.New("no Slack user")

type userResult struct {
	id  string
	err error
}

// deliveryRun is the state of one Deliver: the per-run user cache.
type deliveryRun struct {
	n     *Notifier
	log   *slog.Logger
	users map[string]userResult // lower-case e-mail → lookup result
	// lookupErr, once set, is the error of every further e-mail lookup
	// (a missing users:read.email scope fails them all alike).
	lookupErr error
}

func (dr *deliveryRun) deliver(ctx context.Context, key string, d delivery, sum *Summary) error {
	n := dr.n
	if err := Validate(d.msg); err != nil {
		return fmt.Errorf("render message: %w", err)
	}
	hash := payloadHash(d.msg)
	row, found, err := n.Outbox.SlackMessage(ctx, key, d.recipient)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	if found && row.TS != "" && row.Channel != "" {
		if row.Hash == hash {
			sum.Unchanged++
			return nil
		}
		_, _, _, err := n.Client.UpdateMessageContext(ctx, row.Channel, row.TS,
			slack.MsgOptionText(d.msg.Text, false), slack.MsgOptionBlocks(d.msg.Blocks...))
		var se slack.SlackErrorResponse
		switch {
		case errors.As(err, &se) && se.Err == "message_not_found":
			// Someone deleted the message in Slack: post it again below.
			dr.log.InfoContext(ctx, "slack message gone, posting again", "recipient", d.recipient, "channel", row.Channel)
		case err != nil:
			return apiError("chat.update", row.Channel, err)
		default:
			row.Hash, row.UpdatedAt = hash, n.now()
			if err := n.Outbox.SaveSlackMessage(ctx, row); err != nil {
				// Harmless: the next run updates the same message again.
				return fmt.Errorf("updated %s but could not record it: %w", row.Channel, err)
			}
			sum.Updated++
			dr.log.InfoContext(ctx, "slack message updated", "recipient", d.recipient, "channel", row.Channel)
			return nil
		}
	}

	channel := d.channel
	if d.manager != nil {
		channel, err = dr.dmChannel(ctx, d.manager)
		if errors.Is(err, errNoSlackUser) {
			sum.NoSlackUser = append(sum.NoSlackUser, d.recipient)
			return nil
		}
		if err != nil {
			return err
		}
	}
	ch, ts, err := n.Client.PostMessageContext(ctx, channel,
		slack.MsgOptionText(d.msg.Text, false),
		slack.MsgOptionBlocks(d.msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    metadataEventType,
			EventPayload: map[string]any{"period": key, "recipient": d.recipient},
		}))
	if err != nil {
		return apiError("chat.postMessage", channel, err)
	}
	if ch == "" { // Slack always answers with the channel id; be safe
		ch = channel
	}
	// Record the ts at once, so nothing between here and the next run can
	// make it post the same message again.
	if err := n.Outbox.SaveSlackMessage(ctx, warehouse.SlackMessage{
		PeriodKey: key, Recipient: d.recipient, Channel: ch, TS: ts, Hash: hash, UpdatedAt: n.now(),
	}); err != nil {
		return fmt.Errorf("posted to %s (ts %s) but could not record it, so the next run will post it again: %w", ch, ts, err)
	}
	sum.Posted++
	dr.log.InfoContext(ctx, "slack message posted", "recipient", d.recipient, "channel", ch)
	return nil
}

// dmChannel finds the manager's Slack user (the configured slack_id, else
// by e-mail) and opens the DM, returning its D… id; chat.update needs it.
func (dr *deliveryRun) dmChannel(ctx context.Context, sc *scoring.Scorecard) (string, error) {
	id := sc.SlackID
	if id == "" {
		var err error
		if id, err = dr.lookup(ctx, sc.Email); err != nil {
			return "", err
		}
	}
	ch, _, _, err := dr.n.Client.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{id}})
	if err != nil {
		return "", apiError("conversations.open", id, err)
	}
	if ch == nil || ch.ID == "" {
		return "", &APIError{Method: "conversations.open", Target: id, Err: errors.New("no channel in the answer")}
	}
	return ch.ID, nil
}

// lookup finds a Slack user id by e-mail, once per e-mail and run.
func (dr *deliveryRun) lookup(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", errNoSlackUser
	}
	if dr.lookupErr != nil {
		return "", dr.lookupErr
	}
	if r, ok := dr.users[email]; ok {
		return r.id, r.err
	}
	u, err := dr.n.Client.GetUserByEmailContext(ctx, email)
	var se slack.SlackErrorResponse
	var res userResult
	switch {
	case errors.As(err, &se) && se.Err == "users_not_found":
		res.err = errNoSlackUser
	case err != nil:
		res.err = apiError("users.lookupByEmail", "", err) // no e-mail in errors: it's personal data
		if se.Err == "missing_scope" || authCodes[se.Err] {
			dr.lookupErr = res.err
		}
	case u == nil || u.ID == "" || u.Deleted:
		res.err = errNoSlackUser
	default:
		res.id = u.ID
	}
	if ctx.Err() == nil { // don't cache a cancellation
		dr.users[email] = res
	}
	return res.id, res.err
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Notifier) logger() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// payloadHash identifies a message's content, to skip unchanged updates.
func payloadHash(m Message) string {
	raw, _ := json.Marshal(struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{m.Text, m.Blocks})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
