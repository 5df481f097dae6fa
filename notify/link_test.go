package notify

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPageLinks checks that with web.base_url the DM and the leaderboard
// link each manager to their scorecard page for the message's period,
// with the key escaped for a URL and for Slack, and that without it
// nothing links (the other golden files).
func TestPageLinks(t *testing.T) {
	r := sampleReport()
	in := sampleInput(r)
	in.BaseURL = "https://kpi.example.com/"
	goldenJSON(t, "dm_anna_web.json", payload(ManagerMessage(r.Managers[1], in)))
	team := TeamMessage(r, "", in)[0]
	if err := Validate(team); err != nil {
		t.Errorf("Validate: %v", err)
	}
	goldenJSON(t, "team_all_web.json", payload(team))

	raw, _ := json.Marshal(team.Blocks)
	for _, want := range []string{
		`\u003chttps://kpi.example.com/managers/anna@example.com?period=2026-10|Anna Petrova\u003e`,
		`\u003chttps://kpi.example.com/managers/hubspot-eu:901?period=2026-10|Carl\u003e`,
		`\u003chttps://kpi.example.com/managers/boris@example.com?period=2026-10|Boris \u0026lt;AT\u0026amp;T\u0026gt; Ivanov\u003e`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("leaderboard lacks %s:\n%s", want, raw)
		}
	}
	for key, want := range map[string]string{
		"anna@example.com":   "https://kpi.example.com/managers/anna@example.com?period=2026-10",
		`amo:9/0"1?x=<b>#&|`: "https://kpi.example.com/managers/amo:9%2F0%221%3Fx=%3Cb%3E%23%26%7C?period=2026-10",
	} {
		if got := in.pageURL(key); got != want {
			t.Errorf("pageURL(%q) = %s, want %s", key, got, want)
		}
	}

	in.BaseURL = ""
	for _, m := range append(TeamMessage(r, "", in), ManagerMessage(r.Managers[1], in)) {
		raw, _ := json.Marshal(m.Blocks)
		if strings.Contains(string(raw), "/managers/") {
			t.Errorf("without web.base_url a message links to a page:\n%s", raw)
		}
	}
}
