package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Preview writes the first message of a DryRun document as text for a
// terminal: `crmkpi demo` prints it, as DESIGN.md says it prints the Slack
// message preview, beside the file of every message's Block Kit JSON. Slack
// markup is reduced to what reads in a terminal: bold marks dropped, links
// and dates shown by their text, status circles as coloured ones.
func Preview(w io.Writer, doc []byte) error {
	var d struct {
		Messages []struct {
			Channel string `json:"channel"`
			Blocks  []struct {
				Type     string          `json:"type"`
				Text     *previewText    `json:"text"`
				Fields   []previewText   `json:"fields"`
				Elements json.RawMessage `json:"elements"`
			} `json:"blocks"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("slack preview: %w", err)
	}
	if len(d.Messages) == 0 {
		_, err := fmt.Fprintln(w, "(no Slack message: nothing to post)")
		return err
	}
	m := d.Messages[0]
	var b strings.Builder
	fmt.Fprintf(&b, "Slack message to %s:\n", m.Channel)
	for _, bl := range m.Blocks {
		switch bl.Type {
		case "divider":
			b.WriteString("  ─────\n")
		case "context":
			var els []previewText
			_ = json.Unmarshal(bl.Elements, &els) // image elements have no text
			var parts []string
			for _, e := range els {
				if e.Text != "" {
					parts = append(parts, plainMrkdwn(e.Text))
				}
			}
			writeIndented(&b, strings.Join(parts, "  "))
		default:
			if bl.Text != nil {
				writeIndented(&b, plainMrkdwn(bl.Text.Text))
			}
			var fields []string
			for _, f := range bl.Fields {
				name, value, _ := strings.Cut(plainMrkdwn(f.Text), "\n")
				fields = append(fields, strings.TrimSpace(name+": "+strings.ReplaceAll(value, "\n", " ")))
			}
			if len(fields) > 0 {
				writeIndented(&b, strings.Join(fields, " · "))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type previewText struct {
	Text string `json:"text"`
}

func writeIndented(b *strings.Builder, s string) {
	for line := range strings.SplitSeq(s, "\n") {
		b.WriteString("  " + line + "\n")
	}
}

// slackLink is <target|label> or <target> in mrkdwn, dates (<!date^…|fallback>) included.
var slackLink = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

var previewEmoji = strings.NewReplacer(emojiGreen, "🟢", emojiAmber, "🟡", emojiRed, "🔴", emojiNone, "⚪", "*", "")

func plainMrkdwn(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		p := slackLink.FindStringSubmatch(m)
		if p[2] != "" {
			return p[2]
		}
		return p[1]
	})
	s = previewEmoji.Replace(s)
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
