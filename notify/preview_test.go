package notify

import (
	"bytes"
	"testing"
)

// TestPreview renders a channel message of a dry run as the demo prints it:
// the first message alone, bold marks gone, links and dates by their text,
// fields as "name: value", circles coloured, entities decoded.
func TestPreview(t *testing.T) {
	doc := `{"messages":[{"recipient":"channel:#kpi","channel":"#kpi","text":"x","blocks":[
		{"type":"header","text":{"type":"plain_text","text":"All teams — October 2026"}},
		{"type":"section","fields":[{"type":"mrkdwn","text":"*Revenue*\n1,200 RUB"},{"type":"mrkdwn","text":"*Won deals*\n3"}]},
		{"type":"divider"},
		{"type":"section","text":{"type":"mrkdwn","text":"*Leaderboard*\n1. :large_green_circle: *101.0%* <https://kpi.example.com/managers/a|Anna> (R&amp;D)\n2. :large_red_circle: *50.0%* Boris"}},
		{"type":"context","elements":[{"type":"image","image_url":"https://x/i.png","alt_text":"i"},{"type":"mrkdwn","text":"Data as of <!date^1796351253^{date_short_pretty}|2026-12-04 02:27 UTC>"}]}]},
		{"recipient":"anna@example.com","channel":"U1","text":"dm","blocks":[{"type":"header","text":{"type":"plain_text","text":"DM"}}]}]}`
	var b bytes.Buffer
	if err := Preview(&b, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	want := `Slack message to #kpi:
  All teams — October 2026
  Revenue: 1,200 RUB · Won deals: 3
  ─────
  Leaderboard
  1. 🟢 101.0% Anna (R&D)
  2. 🔴 50.0% Boris
  Data as of 2026-12-04 02:27 UTC
`
	if b.String() != want {
		t.Errorf("preview:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := Preview(&b, []byte(`{"messages":[]}`)); err != nil || b.String() != "(no Slack message: nothing to post)\n" {
		t.Errorf("empty preview = %q, %v", b.String(), err)
	}
}
