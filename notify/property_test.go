package notify

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crmkpi/crmkpi/scoring"
)

// nameAlphabet mixes Slack's control characters, mrkdwn markers, emoji
// (including a ZWJ sequence and a flag), Cyrillic and spaces.
var nameAlphabet = []string{"a", "Z", "я", "Ж", " ", "<", ">", "&", "*", "_", "~", "`", "|", "😀", "👩‍💻", "🇷🇺", "é", ":", "!", "@", "#", "\n", "&amp;"}

func randomName(rng *rand.Rand, maxRunes int) string {
	n := rng.IntN(maxRunes + 1)
	var b strings.Builder
	for runes := 0; runes < n; {
		piece := nameAlphabet[rng.IntN(len(nameAlphabet))]
		b.WriteString(piece)
		runes += utf8.RuneCountInString(piece)
	}
	return b.String()
}

func randomReport(rng *rand.Rand, managers int) (*scoring.Report, RenderInput) {
	r := sampleReport()
	tmpl := r.Managers[1] // Anna: every KPI with data
	teams := []string{randomName(rng, 300), randomName(rng, 20), "", "enterprise"}
	r.Managers = r.Managers[:0]
	hist := map[string][]float64{}
	for i := range managers {
		sc := tmpl
		sc.Manager = fmt.Sprintf("m%d@example.com", i)
		sc.Name = randomName(rng, 300)
		sc.Team = teams[rng.IntN(len(teams))]
		switch rng.IntN(4) {
		case 0:
			sc.Score, sc.Status = nil, scoring.StatusNone
		default:
			sc.Score = f(rng.Float64() * 150)
			sc.Status = ""
		}
		sc.KPIs = map[string]*scoring.KPI{}
		for k, v := range tmpl.KPIs {
			kv := *v
			if rng.IntN(3) == 0 {
				kv.Value, kv.Attainment = nil, nil
				kv.Reason = s(randomName(rng, 300)) // reasons are escaped too
			} else {
				kv.Value = f((rng.Float64() - 0.3) * 1e7)
				kv.Attainment = f(rng.Float64() * 150)
			}
			sc.KPIs[k] = &kv
		}
		h := make([]float64, rng.IntN(7))
		for j := range h {
			h[j] = rng.Float64() * 150
			if rng.IntN(4) == 0 {
				h[j] = math.NaN()
			}
		}
		hist[sc.Manager] = h
		r.Managers = append(r.Managers, sc)
	}
	in := sampleInput(r)
	in.History = hist
	return r, in
}

// TestMessagesAlwaysValid renders reports of 1 to 500 managers with names of
// 0 to 300 characters full of <, & and > and emoji: every message must pass
// Validate, so Slack never rejects one and no CRM text goes unescaped.
func TestMessagesAlwaysValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 17, 100, 499, 500}
	for range 10 {
		sizes = append(sizes, 1+rng.IntN(500))
	}
	for _, n := range sizes {
		r, in := randomReport(rng, n)
		for _, team := range []string{"", "enterprise", r.Managers[0].Team} {
			msgs := TeamMessage(r, team, in)
			for i, m := range msgs {
				if err := Validate(m); err != nil {
					t.Fatalf("%d managers, team %q, message %d/%d: %v", n, team, i+1, len(msgs), err)
				}
			}
		}
		if n > 50 { // DMs don't depend on the report's size; check some
			r.Managers = r.Managers[:50]
		}
		for _, sc := range r.Managers {
			if err := Validate(ManagerMessage(sc, in)); err != nil {
				t.Fatalf("DM for name %q: %v", sc.Name, err)
			}
		}
	}
}

// TestTeamMessageKeepsEveryone checks that a long leaderboard split over
// several messages still lists each manager exactly once.
func TestTeamMessageKeepsEveryone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r, in := randomReport(rng, 500)
	for i := range r.Managers {
		r.Managers[i].Name = fmt.Sprintf("Manager %03d %s", i, strings.Repeat("&", 70))
	}
	msgs := TeamMessage(r, "", in)
	if len(msgs) < 2 {
		t.Fatalf("500 long names fit in %d message; want a split", len(msgs))
	}
	var all strings.Builder
	for _, m := range msgs {
		raw, err := json.Marshal(m.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(raw)
	}
	for i := range r.Managers {
		if c := strings.Count(all.String(), fmt.Sprintf("Manager %03d ", i)); c != 1 {
			t.Errorf("Manager %03d appears %d times in the leaderboard", i, c)
		}
	}
}
