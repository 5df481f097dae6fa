package notify

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/scoring"
)

// dryRunMessage is one message of the --dry-run JSON.
type dryRunMessage struct {
	Recipient string        `json:"recipient"`
	Channel   string        `json:"channel"`
	Text      string        `json:"text"`
	Blocks    []slack.Block `json:"blocks"`
}

// DryRun writes the messages a delivery would send as one JSON document,
// {"messages":[{"recipient","channel","text","blocks"}]}, and sends nothing.
// For an Empty report that is {"messages": []}: nothing would be sent.
// It has no channel configuration, so the all-teams summary appears with
// recipient "channel" and an empty channel; with directMessages, each
// manager's DM follows, its channel being the configured Slack user id, or
// else the e-mail Deliver would look the user up by.
// Use Notifier.DryRun for the configured channels.
func DryRun(w io.Writer, r *scoring.Report, in RenderInput, directMessages bool) error {
	n := &Notifier{DirectMessages: directMessages}
	return n.dryRun(w, r, in, "channel", "")
}

// DryRun is the package's DryRun with the Notifier's channels: the
// summaries for Channel and TeamChannels, and the DMs when DirectMessages is
// set. It sends nothing and doesn't read the outbox.
func (n *Notifier) DryRun(w io.Writer, r *scoring.Report, in RenderInput) error {
	return n.dryRun(w, r, in, "", n.Channel)
}

func (n *Notifier) dryRun(w io.Writer, r *scoring.Report, in RenderInput, allKey, allChannel string) error {
	if r == nil {
		return fmt.Errorf("dry run: no report")
	}
	in = normalize(r, in)
	var ds []delivery
	if allKey != "" && !Empty(r) { // the package function: always show the summary
		for i, m := range TeamMessage(r, "", in) {
			k := allKey
			if i > 0 {
				k = fmt.Sprintf("%s/%d", allKey, i+1)
			}
			ds = append(ds, delivery{recipient: k, msg: m})
		}
	}
	planned, _ := plan(r, in, allChannel, n.TeamChannels, n.DirectMessages)
	ds = append(ds, planned...)

	out := struct {
		Messages []dryRunMessage `json:"messages"`
	}{Messages: make([]dryRunMessage, 0, len(ds))}
	for _, d := range ds {
		if err := Validate(d.msg); err != nil {
			return fmt.Errorf("dry run: message for %s: %w", d.recipient, err)
		}
		ch := d.channel
		if d.manager != nil {
			ch = d.manager.SlackID
			if ch == "" {
				ch = d.manager.Email
			}
		}
		out.Messages = append(out.Messages, dryRunMessage{d.recipient, ch, d.msg.Text, d.msg.Blocks})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep <!date^…> readable; the output is JSON, not HTML
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("dry run: write: %w", err)
	}
	return nil
}
