package notify

import (
	"fmt"
	"math"
	"strings"

	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// How a KPI reads for people: its label, unit and direction come from
// kpi.Table, the one list of KPIs, and so do the notes its details make;
// this file only knows how each unit is written.

// unitFormat writes values of one unit, and differences between two.
type unitFormat struct {
	value, diff func(v float64, currency string) string
}

// unitFormats has an entry for every unit of kpi.Table: the counts of
// kpi.Nouns and these.
var unitFormats = withCounts(map[string]unitFormat{
	kpi.UnitNPS: {
		value: func(v float64, _ string) string { return number(v, 1) + " NPS" },
		diff:  func(d float64, _ string) string { return signed(d, 1) + " NPS" },
	},
	kpi.UnitPercent: {
		value: func(v float64, _ string) string { return pct(v) },
		diff:  func(d float64, _ string) string { return signed(d, 1) + " pp" },
	},
	kpi.UnitHours: {
		value: func(v float64, _ string) string { return number(v, 1) + " h" },
		diff:  func(d float64, _ string) string { return signed(d, 1) + " h" },
	},
	kpi.UnitCurrency: {
		value: func(v float64, cur string) string { return money(v, cur) },
		diff: func(d float64, cur string) string {
			s := signed(d, 0)
			if cur != "" {
				s += " " + cur
			}
			return s
		},
	},
})

// withCounts adds a format for each count unit of kpi.Nouns to formats.
func withCounts(formats map[string]unitFormat) map[string]unitFormat {
	for unit, n := range kpi.Nouns {
		one, many := n[0], n[1]
		formats[unit] = unitFormat{
			value: func(v float64, _ string) string { return count(v, one, many) },
			diff:  func(d float64, _ string) string { return signedCount(d, one, many) },
		}
	}
	return formats
}

// plainFormat writes a number of a unit this package does not know.
var plainFormat = unitFormat{
	value: func(v float64, _ string) string { return number(v, decimals(v)) },
	diff:  func(d float64, _ string) string { return signed(d, decimals(d)) },
}

// details lets kpi.Def's notes read a scorecard KPI's details.
type details map[string]any

func (d details) Number(key string) (float64, bool) { return detail(d, key) }
func (d details) Flag(key string) bool              { return truthy(d, key) }

// writer writes the numbers of kpi.Def's notes as the rest of Slack and the
// terminal table write theirs.
type writer struct{ currency string }

func (writer) Count(n float64, one, many string) string { return count(n, one, many) }
func (writer) Number(v float64, decimals int) string    { return number(v, decimals) }
func (w writer) Money(v float64) string                 { return money(v, w.currency) }
func (writer) Percent(v float64) string                 { return pct(v) }

// kpiLabel is the label of KPI key.
func kpiLabel(key string) string {
	d, _ := kpiDef(key)
	return d.Label
}

// kpiDef is the definition of key, or a plain one naming it for a KPI
// kpi.Table does not have, so that it still shows.
func kpiDef(key string) (kpi.Def, unitFormat) {
	d, ok := kpi.Lookup(key)
	if !ok {
		return kpi.Def{Key: key, Label: key}, plainFormat
	}
	f, ok := unitFormats[d.Unit]
	if !ok {
		f = plainFormat
	}
	return d, f
}

// decimals and count are human's: Slack, the terminal and the web pages
// write counts alike.
var (
	decimals = human.Decimals
	count    = human.Count
)

// signedCount is a difference of counts with its noun: "+2 deals", "-1 deal".
func signedCount(d float64, one, many string) string {
	return signed(d, decimals(d)) + " " + plural(math.Abs(d), one, many)
}

// kpiView is one KPI ready to print; the Slack and terminal renderers share it.
// Its strings hold no CRM text except Reason, which the caller escapes.
type kpiView struct {
	Key, Label string
	Status     string // of the attainment
	Value      string // "" when NA
	NA         bool
	Reason     string // why NA, unescaped
	Target     string // "≥ 8 deals", "≤ 4.0 h"
	Attainment string // "87.5%" or "—"
	Trend      string // "▲ +2", "▶ 0.0 pp" or "" without a previous value
	Previous   string // "5 deals", "" when none
	Note       string
	// Pace is, in the current period, "5 of 8, on pace for 9"; "" when
	// the KPI has no pace.
	Pace string
	// Behind is set when the pace is under the target.
	Behind bool
}

func viewKPI(key string, k *scoring.KPI, currency string) kpiView {
	def, f := kpiDef(key)
	v := kpiView{Key: key, Label: def.Label, Attainment: "—"}
	if k == nil {
		v.NA, v.Reason = true, "not computed"
		return v
	}
	rel := "≥ "
	if def.LowerIsBetter {
		rel = "≤ "
	}
	v.Target = rel + f.value(k.Target, currency)
	if valid(k.Attainment) {
		v.Attainment = pctCut(*k.Attainment)
		v.Status = statusFor(k.Attainment)
	}
	if valid(k.Previous) {
		v.Previous = f.value(*k.Previous, currency)
	}
	if !valid(k.Value) {
		v.NA = true
		if k.Reason != nil && strings.TrimSpace(*k.Reason) != "" {
			v.Reason = *k.Reason
		} else {
			v.Reason = "no data"
		}
		v.Status = scoring.StatusNone
	} else {
		v.Value = f.value(*k.Value, currency)
		if valid(k.Previous) {
			d := *k.Value - *k.Previous
			v.Trend = trendArrow(d) + " " + f.diff(d, currency)
		}
	}
	if def.Note != nil && k.Details != nil {
		v.Note = def.Note(details(k.Details), writer{currency})
	}
	if valid(k.Pace) && valid(k.Value) {
		v.Pace = paceText(def, *k.Value, k.Target, *k.Pace, currency)
		v.Behind = def.LowerIsBetter && *k.Pace > k.Target || !def.LowerIsBetter && *k.Pace < k.Target
	}
	return v
}

// paceText is "5 of 8, on pace for 9": the value so far, the target, and
// the projection at the period's end, counts projected to whole ones.
func paceText(def kpi.Def, value, target, pace float64, currency string) string {
	if _, isCount := kpi.Nouns[def.Unit]; isCount {
		return fmt.Sprintf("%s of %s, on pace for %s", number(value, decimals(value)), number(target, decimals(target)), number(math.Round(pace), 0))
	}
	_, f := kpiDef(def.Key)
	return fmt.Sprintf("%s of %s, on pace for %s", f.value(value, currency), f.value(target, currency), f.value(pace, currency))
}

// samples lists the sample sizes of a scorecard for its context line.
func samples(sc scoring.Scorecard, currency string) []string {
	var out []string
	for _, def := range kpi.Table {
		k := sc.KPIs[def.Key]
		if def.Sample == nil || k == nil || k.Details == nil {
			continue
		}
		if s := def.Sample(details(k.Details), writer{currency}); s != "" {
			out = append(out, s)
		}
	}
	return out
}
