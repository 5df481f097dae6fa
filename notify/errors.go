package notify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
)

// APIError is a failed Slack call with what to do about it. It wraps the
// slack-go error, so errors.As still finds slack.SlackErrorResponse or
// *slack.RateLimitedError behind it. It never holds the token.
type APIError struct {
	Method string // e.g. "chat.postMessage"
	Target string // the channel or user the call was about, if any
	Code   string // Slack's error code, e.g. "channel_not_found"; "" for transport errors
	Hint   string // what to check, for people
	Err    error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	if e.Target != "" {
		b.WriteString(" " + e.Target)
	}
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// authCodes are the errors that mean the token itself is unusable: no
// further call can succeed, so Deliver stops calling Slack.
var authCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "token_revoked": true,
	"token_expired": true, "account_inactive": true, "no_permission": true,
}

// Fatal reports whether the token is unusable (invalid_auth and the like),
// so that no further call can succeed.
func (e *APIError) Fatal() bool { return authCodes[e.Code] }

// apiError wraps err from a Slack call with a hint for people.
func apiError(method, target string, err error) error {
	if err == nil {
		return nil
	}
	e := &APIError{Method: method, Target: target, Err: err}
	var se slack.SlackErrorResponse
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	switch {
	case errors.As(err, &se):
		e.Code = se.Err
		e.Hint = hint(se)
	case errors.As(err, &rl):
		e.Code = "rate_limited"
		e.Hint = "still rate limited after retrying; run notify again later"
	case errors.As(err, &sc):
		if sc.Code >= http.StatusInternalServerError {
			// Not retried: Slack may have posted before failing, and a
			// retry could post twice.
			e.Hint = "Slack had a server error; not retried, to avoid posting twice; check the channel before running notify again"
		}
	}
	return e
}

func hint(se slack.SlackErrorResponse) string {
	switch se.Err {
	case "channel_not_found":
		return "the channel does not exist or the bot cannot see it; check notify.slack.channel (for a private channel, invite the bot)"
	case "not_in_channel":
		return "the bot is not a member of the channel; invite it with /invite, or grant the chat:write.public scope"
	case "is_archived":
		return "the channel is archived; unarchive it or configure another channel"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return "Slack rejected the bot token; check notify.slack.token"
	case "missing_scope":
		if se.Needed != "" {
			return "the Slack app lacks the " + se.Needed + " scope; add it and reinstall the app"
		}
		return "the Slack app lacks a scope; add it and reinstall the app"
	case "messages_tab_disabled":
		return "the app's Messages tab is turned off, so it cannot send DMs"
	case "cannot_dm_bot", "user_not_found", "user_disabled":
		return "this Slack user cannot receive a DM"
	case "invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long":
		var msgs []string
		for _, e := range se.Errors {
			if e.Message != nil {
				msgs = append(msgs, *e.Message)
			}
		}
		s := "Slack rejected the message layout (a crmkpi bug; please report it)"
		if len(msgs) > 0 {
			s += ": " + strings.Join(msgs, "; ")
		}
		return s
	case "ratelimited", "rate_limited":
		return "rate limited; run notify again later"
	}
	return ""
}

// DeliveryError is returned by Deliver when some messages were not
// delivered; the others were.
type DeliveryError struct {
	Failed []Failure
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "slack delivery failed for %d %s", len(e.Failed), plural(float64(len(e.Failed)), "recipient", "recipients"))
	for i, f := range e.Failed {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: %s", f.Recipient, f.Error)
	}
	return b.String()
}
