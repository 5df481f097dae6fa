package notify

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/internal/golden"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// goldenJSON compares v, marshalled, with testdata/name as decoded JSON, so
// key order and spacing don't matter; -update rewrites the file.
func goldenJSON(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep <!date^…> and &amp; readable in the file
	if err := enc.Encode(v); err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	want := golden.File(t, path, got)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden file %s: %v", path, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func goldenText(t *testing.T, name, got string) {
	t.Helper()
	golden.Text(t, filepath.Join("testdata", name), got)
}

// payload is a message as Slack receives it.
func payload(m Message) map[string]any {
	return map[string]any{"text": m.Text, "blocks": m.Blocks}
}

func TestManagerMessageGolden(t *testing.T) {
	r := sampleReport()
	in := sampleInput(r)
	for _, sc := range r.Managers {
		name := "dm_" + strings.NewReplacer("@example.com", "", ":", "_").Replace(sc.Manager) + ".json"
		t.Run(name, func(t *testing.T) {
			m := ManagerMessage(sc, in)
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			goldenJSON(t, name, payload(m))
		})
	}
}

func TestTeamMessageGolden(t *testing.T) {
	r := sampleReport()
	in := sampleInput(r)
	for _, team := range []string{"", "enterprise", "nobody"} {
		name := "team_" + cmpOr(team, "all") + ".json"
		t.Run(name, func(t *testing.T) {
			msgs := TeamMessage(r, team, in)
			if len(msgs) != 1 {
				t.Fatalf("TeamMessage(%q) gave %d messages, want 1", team, len(msgs))
			}
			if err := Validate(msgs[0]); err != nil {
				t.Errorf("Validate: %v", err)
			}
			goldenJSON(t, name, payload(msgs[0]))
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestManagerMessageContent(t *testing.T) {
	r := sampleReport()
	in := sampleInput(r)
	raw, _ := json.Marshal(ManagerMessage(r.Managers[0], in).Blocks) // Boris
	got := string(raw)
	for _, want := range []string{
		`Boris \u0026lt;AT\u0026amp;T\u0026gt; Ivanov — October 2026`, // escaped name in the header
		`smb \u0026amp; mid`, // escaped team
		`:large_yellow_circle: amber`,
		`n/a — no survey answers in the period`,
		`▲ +2 deals vs previous`,
		`win rate 41.2%`,
		`13,333 RUB`,
		`\u003c!date^1793523600^{date_short_pretty} {time}|2026-11-01 09:00 UTC\u003e`,
		"Last 3 periods: `▁▃█`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("DM blocks lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<AT&T>") || strings.Contains(got, `\u003cAT`) {
		t.Errorf("DM blocks hold an unescaped CRM name")
	}

	in.HasLastSync = false
	raw, _ = json.Marshal(ManagerMessage(r.Managers[0], in).Blocks)
	if !strings.Contains(string(raw), "Data freshness unknown") {
		t.Errorf("DM without a last sync doesn't say its freshness is unknown")
	}
}

func TestWriteTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	goldenText(t, "table.txt", b.String())
}

func TestDryRunGolden(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	all := &Notifier{Channel: "C0SALES", TeamChannels: map[string]string{"enterprise": "C0ENT"}, DirectMessages: true}
	if err := all.DryRun(&b, r, sampleInput(r)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages []struct {
			Recipient, Channel, Text string
			Blocks                   []json.RawMessage
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("DryRun output is not JSON: %v\n%s", err, b.String())
	}
	var got []string
	for _, m := range doc.Messages {
		got = append(got, m.Recipient+" → "+m.Channel)
		if m.Text == "" || len(m.Blocks) == 0 {
			t.Errorf("message for %s has no text or blocks", m.Recipient)
		}
	}
	// What Deliver sends, in its order: the channel, the team channels,
	// the DMs.
	want := []string{"channel:C0SALES → C0SALES", "team:enterprise → C0ENT", "boris@example.com → boris@example.com",
		"anna@example.com → U0ANNA", "hubspot-eu:901 → carl@example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DryRun recipients (-want +got):\n%s", diff)
	}
	var v any
	_ = json.Unmarshal(b.Bytes(), &v)
	goldenJSON(t, "dryrun.json", v)

	// Without DMs, only the summaries; with Manager, that manager's DM
	// alone, even when DMs are off.
	for _, tt := range []struct {
		n    *Notifier
		want []string
	}{
		{&Notifier{Channel: "C0SALES", TeamChannels: map[string]string{"enterprise": "C0ENT"}}, []string{"channel:C0SALES → C0SALES", "team:enterprise → C0ENT"}},
		{&Notifier{Channel: "C0SALES", Manager: "anna@example.com"}, []string{"anna@example.com → U0ANNA"}},
	} {
		b.Reset()
		if err := tt.n.DryRun(&b, r, sampleInput(r)); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, m := range doc.Messages {
			got = append(got, m.Recipient+" → "+m.Channel)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DryRun of %+v: recipients (-want +got):\n%s", tt.n, diff)
		}
	}
	if err := (&Notifier{Manager: "nobody@example.com"}).DryRun(&b, r, sampleInput(r)); err == nil {
		t.Errorf("DryRun for a manager without a scorecard: no error")
	}
}

// TestScoreCutNotRounded: a score of 99.96 is amber (scoring decides on
// the unrounded score), so every message shows it as 99.9%, never as a
// 100.0% beside amber; its attainments are cut the same way.
func TestScoreCutNotRounded(t *testing.T) {
	r := sampleReport()
	sc := &r.Managers[1] // Anna
	sc.Score, sc.Status = f(99.96), scoring.StatusAmber
	sc.KPIs[kpi.ClosedWon].Attainment = f(99.99)
	in := sampleInput(r)

	var table bytes.Buffer
	if err := WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	dm, _ := json.Marshal(payload(ManagerMessage(*sc, in)))
	team, _ := json.Marshal(payload(TeamMessage(r, "", in)[0]))
	for what, got := range map[string]string{"table": table.String(), "DM": string(dm), "leaderboard": string(team)} {
		if strings.Contains(got, "100.0%") {
			t.Errorf("%s shows 100.0%% for a score of 99.96 or an attainment of 99.99:\n%s", what, got)
		}
	}
	for what, want := range map[string]string{
		"table":       "Anna Petrova (enterprise) — October 2026 — score 99.9% amber",
		"DM":          "*Overall score: 99.9%* :large_yellow_circle: amber",
		"leaderboard": "1. :large_yellow_circle: *99.9%* Anna Petrova",
	} {
		got := map[string]string{"table": table.String(), "DM": string(dm), "leaderboard": string(team)}[what]
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, got)
		}
	}
	if got := viewKPI(kpi.ClosedWon, sc.KPIs[kpi.ClosedWon], "RUB"); got.Attainment != "99.9%" || got.Status != scoring.StatusAmber {
		t.Errorf("closed_won attainment 99.99 shows %q %s, want 99.9%% amber", got.Attainment, got.Status)
	}
}

// TestUnitFormats fails when a unit of kpi.Table has no format of its own,
// so that its values would print as plain numbers.
func TestUnitFormats(t *testing.T) {
	for _, d := range kpi.Table {
		if _, ok := unitFormats[d.Unit]; !ok {
			t.Errorf("%s: unit %q has no entry in unitFormats", d.Key, d.Unit)
		}
	}
	if got := unitFormats[kpi.UnitTasks].diff(-1, ""); got != "-1 task" {
		t.Errorf("tasks diff(-1) = %q, want \"-1 task\"", got)
	}
}
