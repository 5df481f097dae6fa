package kpi

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// docsTable reads the table under "## Default targets and weights" in
// docs/kpis.md into Defs, in the page's order.
func docsTable(t *testing.T, path string) []Def {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Def
	section := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line == "## Default targets and weights"
			continue
		}
		if !section || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 8 {
			t.Fatalf("%s: row %q has %d cells, want 8 (KPI, label, unit, better, target, weight, paced, why)", path, line, len(cells))
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		num := func(s string) float64 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: row %q: %q is not a number", path, line, s)
			}
			return f
		}
		if b := cells[3]; b != "higher" && b != "lower" {
			t.Fatalf("%s: row %q: better is %q, want higher or lower", path, line, b)
		}
		if p := cells[6]; p != "yes" && p != "no" {
			t.Fatalf("%s: row %q: paced is %q, want yes or no", path, line, p)
		}
		out = append(out, Def{
			Key: strings.Trim(cells[0], "`"), Label: cells[1], Unit: strings.Trim(cells[2], "`"),
			LowerIsBetter: cells[3] == "lower", Target: num(cells[4]), Weight: num(cells[5]), Paced: cells[6] == "yes",
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocsAgree fails when docs/kpis.md's table of KPIs and Table differ
// in any key, label, unit, direction, default target or weight, pacing, or
// order.
func TestDocsAgree(t *testing.T) {
	got := docsTable(t, "../../docs/kpis.md")
	// The docs' table has no column for the leaderboard's short heading
	// or for how the details read; the JSON's details are in its own section.
	if diff := cmp.Diff(Table, got, cmpopts.IgnoreFields(Def{}, "Short", "Details", "Note", "Sample", "FigureLabel")); diff != "" {
		t.Errorf("docs/kpis.md's default targets and weights disagree with kpi.Table (-code +docs):\n%s", diff)
	}
}

// TestReadmeAgrees fails when the README's table of KPIs disagrees with
// Table in a key, label, default target or weight, or in order.
func TestReadmeAgrees(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## The KPIs\n")
	section, _, _ = strings.Cut(section, "\n## ")
	lead := regexp.MustCompile(`^[0-9][0-9,.]*`)
	var got, want []Def
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Fatalf("README: row %q has %d cells, want 5 (key, KPI, default target, weight, definition)", line, len(cells))
		}
		num := func(s string) float64 {
			f, err := strconv.ParseFloat(strings.ReplaceAll(lead.FindString(strings.TrimSpace(s)), ",", ""), 64)
			if err != nil {
				t.Fatalf("README: row %q: %q does not start with a number", line, s)
			}
			return f
		}
		got = append(got, Def{Key: strings.Trim(strings.TrimSpace(cells[0]), "`"), Label: strings.TrimSpace(cells[1]),
			Target: num(cells[2]), Weight: num(cells[3])})
	}
	for _, d := range Table {
		want = append(want, Def{Key: d.Key, Label: d.Label, Target: d.Target, Weight: d.Weight})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README's KPI table disagrees with kpi.Table (-code +README):\n%s", diff)
	}
}

// TestConfigDocsAgree fails when docs/config.md's list of KPI keys is not
// Keys.
func TestConfigDocsAgree(t *testing.T) {
	b, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)KPI keys: (.*?) \\(see KPIS.md\\)").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/config.md has no \"KPI keys: ... (see KPIS.md)\" list")
	}
	var got []string
	for _, k := range strings.Split(string(m[1]), ",") {
		got = append(got, strings.Trim(strings.TrimSpace(k), "`"))
	}
	if diff := cmp.Diff(Keys, got); diff != "" {
		t.Errorf("docs/config.md's KPI keys disagree with kpi.Keys (-code +docs):\n%s", diff)
	}
}

func TestTable(t *testing.T) {
	units := map[string]bool{UnitNPS: true, UnitPercent: true, UnitHours: true, UnitCurrency: true}
	for u, n := range Nouns {
		if n[0] == "" || n[1] == "" {
			t.Errorf("unit %q: nouns %q, want singular and plural", u, n)
		}
		units[u] = true
	}
	seen := map[string]bool{}
	var weights float64
	for _, d := range Table {
		if d.Key == "" || d.Label == "" || !units[d.Unit] || seen[d.Key] || !(d.Target > 0) || d.Weight < 0 {
			t.Errorf("bad definition %+v: want a new key, a label, a known unit, target > 0, weight >= 0", d)
		}
		seen[d.Key] = true
		weights += d.Weight
		if got, ok := Lookup(d.Key); !ok || got.Key != d.Key || got.Label != d.Label {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", d.Key, got, ok, d)
		}
	}
	if weights != 100 {
		t.Errorf("default weights add up to %v, want 100", weights)
	}
	if _, ok := Lookup("score"); ok {
		t.Error(`Lookup("score") = ok, want no such KPI`)
	}
	if len(Keys) != len(Table) {
		t.Errorf("Keys has %d keys, Table %d", len(Keys), len(Table))
	}
}

// recorder is Details with every detail 1 (or true), noting which keys a
// note reads.
type recorder struct {
	read map[string]bool
	none bool // every detail absent
}

func (r recorder) Number(key string) (float64, bool) { r.read[key] = true; return 1, !r.none }
func (r recorder) Flag(key string) bool              { r.read[key] = true; return !r.none }

// plain writes numbers so that a test can read what a note wrote.
type plain struct{}

func (plain) Count(n float64, one, many string) string {
	if n == 1 {
		return strconv.FormatFloat(n, 'f', -1, 64) + " " + one
	}
	return strconv.FormatFloat(n, 'f', -1, 64) + " " + many
}
func (plain) Number(v float64, decimals int) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
func (plain) Money(v float64) string                { return strconv.FormatFloat(v, 'f', 0, 64) + " RUB" }
func (plain) Percent(v float64) string              { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

// TestNotes fails when a KPI's note or sample reads a detail its Def does
// not list, or writes anything when the details are absent; it pins what
// each writes when every detail is 1.
func TestNotes(t *testing.T) {
	want := map[string][2]string{ // note, sample
		Satisfaction:     {"1 answer (1 promoter, 1 detractor)", "1 NPS answer"},
		Retention:        {"1 of 1 client retained", "1 active client"},
		KeyClientGrowth:  {"1 key client: 1 RUB vs 1 RUB", "1 key client"},
		Penetration:      {"expansion 1 RUB of 1 RUB", ""},
		ClosedWon:        {"win rate 1.0% (1 lost)", "2 closed deals"},
		ResponseTime:     {"1 inbound, 1 unanswered", "1 inbound message"},
		TeamContribution: {"entered by hand", ""},
		NewDeals:         {"", ""},
		CostPerClient:    {"1 RUB over 1 client", "1 client served"},
	}
	for _, d := range Table {
		listed := map[string]bool{}
		for _, k := range d.Details {
			if listed[k] {
				t.Errorf("%s: detail %q listed twice", d.Key, k)
			}
			listed[k] = true
		}
		var got [2]string
		for i, f := range []func(Details, Writer) string{d.Note, d.Sample} {
			if f == nil {
				continue
			}
			full, empty := recorder{read: map[string]bool{}}, recorder{read: map[string]bool{}, none: true}
			got[i] = f(full, plain{})
			if s := f(empty, plain{}); s != "" {
				t.Errorf("%s: note %d without details = %q, want \"\"", d.Key, i, s)
			}
			for k := range full.read {
				if !listed[k] {
					t.Errorf("%s: note %d reads detail %q, which Def.Details does not list", d.Key, i, k)
				}
			}
		}
		if w, ok := want[d.Key]; !ok || got != w {
			t.Errorf("%s: note, sample = %q, want %q", d.Key, got, w)
		}
	}
}
