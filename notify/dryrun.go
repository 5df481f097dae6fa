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

// DryRun writes exactly the messages Deliver would send, in the order it
// sends them, as one JSON document,
// {"messages":[{"recipient","channel","text","blocks"}]}, and sends nothing
// and reads no outbox: the summary for Channel, each team's summary for
// TeamChannels, then with DirectMessages each manager's DM, whose channel
// is the configured Slack user id, or else the e-mail Deliver would look
// the user up by. With Manager set, it is that manager's DM alone, as
// Deliver would send it with DirectMessages on. With BehindPace it is the
// nudges Deliver would send (that manager's alone with Manager, none when
// they are on pace). For an Empty report it is {"messages": []}: nothing
// would be sent.
func (n *Notifier) DryRun(w io.Writer, r *scoring.Report, in RenderInput) error {
	if r == nil {
		return fmt.Errorf("dry run: no report")
	}
	in = normalize(r, in)
	var ds []delivery
	switch {
	case n.Manager != "" && n.BehindPace:
		for _, d := range planPace(r, in, n.now()) {
			if d.manager.Manager == n.Manager {
				ds = append(ds, d)
			}
		}
	case n.Manager != "":
		planned, _ := plan(r, in, "", nil, true)
		for _, d := range planned {
			if d.recipient == n.Manager {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			return fmt.Errorf("dry run: %s has no scorecard for %s", n.Manager, r.Period.Label())
		}
	default:
		ds, _ = n.plan(r, in)
	}

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
