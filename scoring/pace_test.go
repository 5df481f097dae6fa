package scoring

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// TestPaceFactor checks the working-day rule on October 2026 in Moscow:
// 22 working days (Thursday 1 and Friday 2, then four weeks of five).
func TestPaceFactor(t *testing.T) {
	p := fixturePeriod()
	for _, tt := range []struct {
		name   string
		now    time.Time
		factor float64 // 0: no pace
	}{
		{"before the period", mskTime(2026, 9, 30, 12, 0), 0},
		{"the first working day, at noon: too early", mskTime(2026, 10, 1, 12, 0), 0},
		{"the first working day, just before midnight", mskTime(2026, 10, 1, 23, 59), 0},
		{"one whole working day", mskTime(2026, 10, 2, 0, 0), 22},
		{"the first Saturday: two days", mskTime(2026, 10, 3, 10, 0), 11},
		{"Wednesday 14th at noon: 9.5 days", mskTime(2026, 10, 14, 12, 0), 22 / 9.5},
		{"Friday 30th, 18:00: 21.75 days", mskTime(2026, 10, 30, 18, 0), 22 / 21.75},
		{"the last Saturday: no working day left", mskTime(2026, 10, 31, 12, 0), 1},
		{"after the period", mskTime(2026, 11, 1, 0, 0), 0},
	} {
		f, ok := paceFactor(p, fixtureLoc, tt.now)
		if !ok {
			f = 0
		}
		if f != tt.factor {
			t.Errorf("%s: paceFactor at %s = %v, %v; want %v", tt.name, tt.now, f, ok, tt.factor)
		}
	}
	// A week: 5 working days; the Monday of ISO week 43 at 06:00 is a
	// quarter of a day, too early; Tuesday 00:00 is one day.
	w := Period{Kind: Week, Start: mskTime(2026, 10, 19, 0, 0), End: mskTime(2026, 10, 26, 0, 0)}
	if f, ok := paceFactor(w, fixtureLoc, mskTime(2026, 10, 19, 6, 0)); ok {
		t.Errorf("week, Monday 06:00: paceFactor = %v, want none", f)
	}
	if f, ok := paceFactor(w, fixtureLoc, mskTime(2026, 10, 20, 0, 0)); !ok || f != 5 {
		t.Errorf("week, Tuesday 00:00: paceFactor = %v, %v; want 5", f, ok)
	}
	if e, n := WorkingDays(p, fixtureLoc, mskTime(2026, 10, 14, 12, 0)); e != 9.5 || n != 22 {
		t.Errorf("WorkingDays = %v of %v, want 9.5 of 22", e, n)
	}
}

// TestPace scores the fixture as of Wednesday 14 October 2026, noon in
// Moscow (9.5 of 22 working days gone, factor 22/9.5): the counts and
// key-client growth get a pace, the ratios and a manual figure none.
func TestPace(t *testing.T) {
	opts := fixtureOptions()
	opts.Now = mskTime(2026, 10, 14, 12, 0)
	r := computeFrom(fixtureData(), opts, fixturePeriod())
	const f = 22 / 9.5
	want := map[string]map[string]*float64{
		"anna@example.com": {
			kpi.ClosedWon: f64(4 * f), kpi.NewDeals: f64(1 * f), kpi.TeamContribution: f64(1 * f),
			// 100 × (230,000 × f − 45,000) / 45,000
			kpi.KeyClientGrowth: f64(100 * (230000*f - 45000) / 45000),
		},
		// Team contribution is entered by hand: no pace.
		"boris@example.com": {kpi.ClosedWon: f64(2 * f), kpi.NewDeals: f64(0), kpi.KeyClientGrowth: f64(100 * (60000*f - 40000) / 40000)},
		"hub:11":            {kpi.ClosedWon: f64(1 * f), kpi.NewDeals: f64(1 * f), kpi.TeamContribution: f64(0)},
		"amo:99":            {kpi.ClosedWon: f64(0), kpi.NewDeals: f64(0), kpi.TeamContribution: f64(0)},
	}
	got := map[string]map[string]*float64{}
	for _, sc := range r.Managers {
		got[sc.Manager] = map[string]*float64{}
		for key, k := range sc.KPIs {
			if k.Pace != nil {
				got[sc.Manager][key] = k.Pace
			}
		}
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("paces mismatch (-want +got):\n%s", diff)
	}
	behind := map[string][]string{}
	for _, sc := range r.Managers {
		behind[sc.Manager] = sc.BehindPace()
	}
	// Anna: targets closed_won 4 (team), new_deals 2, team 2, kcg 100 —
	// all above. Boris: closed_won 4.6 < 8, new_deals 0 < 2; kcg 132.2 ≥
	// 100. Carl: 2.3 < 8, 2.3 ≥ 2, 0 < 2. amo:99: all three zero.
	wantBehind := map[string][]string{
		"anna@example.com":  nil,
		"boris@example.com": {kpi.ClosedWon, kpi.NewDeals},
		"hub:11":            {kpi.ClosedWon, kpi.TeamContribution},
		"amo:99":            {kpi.ClosedWon, kpi.TeamContribution, kpi.NewDeals},
	}
	if diff := cmp.Diff(wantBehind, behind); diff != "" {
		t.Errorf("BehindPace mismatch (-want +got):\n%s", diff)
	}
	// In the JSON of the running period every KPI has "pace": Boris's
	// retention (a ratio) and team contribution (by hand) null.
	boris := paceJSON(t, r, "boris@example.com")
	if v, ok := boris[kpi.Retention]; !ok || v != nil {
		t.Errorf("boris retention pace = %v (present %v), want null", v, ok)
	}
	if v, ok := boris[kpi.TeamContribution]; !ok || v != nil {
		t.Errorf("boris team_contribution pace = %v (present %v), want null", v, ok)
	}
	if v := boris[kpi.ClosedWon]; v != 2*f {
		t.Errorf("boris closed_won pace = %v, want %v", v, 2*f)
	}
	if len(boris) != len(kpi.Keys) {
		t.Errorf("boris has pace on %d KPIs in the running period, want all %d: %v", len(boris), len(kpi.Keys), boris)
	}
	// The fixture as scored the day after P: no pace anywhere, in the
	// JSON not even the key.
	after := computeFrom(fixtureData(), fixtureOptions(), fixturePeriod())
	for _, sc := range after.Managers {
		for key, k := range sc.KPIs {
			if k.Pace != nil {
				t.Errorf("%s %s: pace %v after the period", sc.Manager, key, *k.Pace)
			}
		}
	}
	if got := paceJSON(t, after, "boris@example.com"); len(got) != 0 {
		t.Errorf("boris's JSON after the period has pace keys %v, want none", got)
	}
}

// paceJSON returns, by KPI, the "pace" that manager's KPIs have in the
// JSON of r, for the KPIs that have the key.
func paceJSON(t *testing.T, r *Report, manager string) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Managers []struct {
			Manager string                    `json:"manager"`
			KPIs    map[string]map[string]any `json:"kpis"`
		} `json:"managers"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, m := range got.Managers {
		if m.Manager != manager {
			continue
		}
		for key, k := range m.KPIs {
			if v, ok := k["pace"]; ok {
				out[key] = v
			}
		}
	}
	return out
}

// TestPaceOverflow: key-client revenue saturated at the largest float
// (fsum) would project to infinity; such a pace is left out, as JSON
// cannot carry it.
func TestPaceOverflow(t *testing.T) {
	s := &stats{keyRev: math.MaxFloat64, keyRevPrev: 1}
	if p := pace(kpi.KeyClientGrowth, kpiValue{value: f64(1)}, s, 2); p != nil {
		t.Errorf("pace of a saturated revenue = %v, want none", *p)
	}
	if p := pace(kpi.ClosedWon, kpiValue{value: f64(3)}, s, 2); p == nil || *p != 6 {
		t.Errorf("pace of 3 deals at factor 2 = %v, want 6", p)
	}
}
