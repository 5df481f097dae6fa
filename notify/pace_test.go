package notify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// paceNow is Wednesday 14 October 2026, noon in Moscow: 9.5 of October's
// 22 working days gone.
var paceNow = time.Date(2026, 10, 14, 9, 0, 0, 0, time.UTC)

// paceReport is sampleReport in its current period: Anna has won 5 of 8
// deals and is on pace for 9; Boris has won 2 of 8, on pace for 4.6, and
// has 3 of 2 new deals, on pace for 6.9; Carl has no pace (no data).
func paceReport() *scoring.Report {
	r := sampleReport()
	for i := range r.Managers {
		sc := &r.Managers[i]
		switch sc.Manager {
		case "anna@example.com":
			sc.KPIs[kpi.ClosedWon].Value, sc.KPIs[kpi.ClosedWon].Pace = f(5), f(5*22/9.5)
		case "boris@example.com":
			sc.KPIs[kpi.ClosedWon].Value, sc.KPIs[kpi.ClosedWon].Pace = f(2), f(2*22/9.5)
			sc.KPIs[kpi.NewDeals].Pace = f(3 * 22 / 9.5)
		}
		for key, k := range sc.KPIs {
			d, _ := kpi.Lookup(key)
			k.Label, k.Unit, k.LowerIsBetter = d.Label, d.Unit, d.LowerIsBetter
		}
	}
	return r
}

// TestPaceShown: the terminal table and the DM show "5 of 8, on pace for
// 12" beside a paced KPI, and nothing where there is no pace.
func TestPaceShown(t *testing.T) {
	r := paceReport()
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5 of 8, on pace for 12; win rate", "2 of 8, on pace for 5; win rate", "3 of 2, on pace for 7 "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if n := strings.Count(b.String(), "on pace for"); n != 3 {
		t.Errorf("table shows %d paces, want 3:\n%s", n, b.String())
	}
	dm := ManagerMessage(r.Managers[1], sampleInput(r))
	raw, _ := json.Marshal(dm.Blocks)
	if !strings.Contains(string(raw), "5 of 8, on pace for 12") {
		t.Errorf("Anna's DM lacks her pace: %s", raw)
	}
}

// TestPaceMessage renders Boris's nudge: the working days gone, the KPI
// behind pace, then the one on pace, his name escaped for Slack.
func TestPaceMessage(t *testing.T) {
	r := paceReport()
	m := PaceMessage(r.Managers[0], sampleInput(r), paceNow)
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, bl := range m.Blocks {
		switch b := bl.(type) {
		case *slack.HeaderBlock:
			texts = append(texts, b.Text.Text)
		case *slack.SectionBlock:
			texts = append(texts, b.Text.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				texts = append(texts, e.(*slack.TextBlockObject).Text)
			}
		}
	}
	want := []string{
		"⏱ Boris &lt;AT&amp;T&gt; Ivanov — on pace? — October 2026",
		"9.5 of 22 working days of October 2026 gone.\n*Behind pace* (projected under target at the end of the period):\n" +
			"• *Successfully closed deals*: 2 of 8, on pace for 5 :large_red_circle:",
		"*On pace:*\n• *Deals concluded (new business)*: 3 of 2, on pace for 7 :large_green_circle:",
		"Data as of <!date^1793523600^{date_short_pretty} {time}|2026-11-01 09:00 UTC>",
		"Pace: the value so far × working days in the period / working days gone (Mon–Fri)",
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("nudge mismatch (-want +got):\n%s", diff)
	}
	if m.Text != "Boris &lt;AT&amp;T&gt; Ivanov, October 2026: behind pace on 1 KPI" {
		t.Errorf("fallback text = %q", m.Text)
	}
}

// TestDeliverBehindPace sends the nudges: a DM to Boris alone (Anna is on
// pace, Carl has no pace), nothing to the channels; the same day again
// changes nothing, the next day posts a new message.
func TestDeliverBehindPace(t *testing.T) {
	fs := newFakeSlack(t)
	var logs bytes.Buffer
	var waits []time.Duration
	n := testNotifier(fs, &logs, &waits)
	n.BehindPace = true
	now := paceNow
	n.Now = func() time.Time { return now }
	r := paceReport()
	in := sampleInput(r)

	sum, err := n.Deliver(t.Context(), r, in)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if diff := cmp.Diff(&Summary{Posted: 1}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	posts := fs.callsTo("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("channel") != "D0BORIS" || !strings.Contains(posts[0].Form.Get("text"), "behind pace on 1 KPI") {
		t.Fatalf("posts = %v, want Boris's nudge alone", posts)
	}
	if sum, err := n.Deliver(t.Context(), r, in); err != nil || sum.Unchanged != 1 || sum.Posted != 0 {
		t.Errorf("the same day again: %+v, %v; want it unchanged", sum, err)
	}
	now = now.Add(24 * time.Hour)
	if sum, err := n.Deliver(t.Context(), r, in); err != nil || sum.Posted != 1 {
		t.Errorf("the next day: %+v, %v; want a new post", sum, err)
	}

	var out bytes.Buffer
	if err := n.DryRun(&out, r, in); err != nil {
		t.Fatal(err)
	}
	var dry struct {
		Messages []struct{ Recipient, Channel string } `json:"messages"`
	}
	if err := json.Unmarshal(out.Bytes(), &dry); err != nil {
		t.Fatal(err)
	}
	if len(dry.Messages) != 1 || dry.Messages[0].Recipient != "pace:2026-10-15:boris@example.com" || dry.Messages[0].Channel != "boris@example.com" {
		t.Errorf("dry run = %+v, want Boris's nudge of 15 October alone", dry.Messages)
	}
	n.Manager = "anna@example.com"
	out.Reset()
	if err := n.DryRun(&out, r, in); err != nil || !strings.Contains(out.String(), `"messages": []`) {
		t.Errorf("dry run of Anna, on pace: %s, %v; want no message", out.String(), err)
	}
}
