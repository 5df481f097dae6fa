package web

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// How numbers read on the pages. They follow the Slack scorecard's rules
// (notify/format.go): a score or attainment beside a status colour is cut,
// not rounded, so 99.96 reads "99.9%" beside amber; every other figure is
// rounded. The full-precision number is kept in a data-value attribute
// beside each, the one `crmkpi score --format json` gives.

// valid reports whether p points at a usable number.
func valid(p *float64) bool { return p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) }

// number is human.Number: the web pages and Slack write numbers alike.
var number = human.Number

// decimals, count, pct, pctCut and money are human's, for the same reason.
var (
	decimals = human.Decimals
	count    = human.Count
	pct      = human.Percent
	pctCut   = human.PercentCut
	money    = human.Money
)

// raw is the full-precision form of a number for data-value attributes
// and CSV cells: what encoding/json writes, without exponents for the
// sizes KPIs have.
func raw(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// def returns the definition of a KPI: the label, unit and direction the
// scorecard carries, else kpi.Table's, else the key itself.
func def(key string, k *scoring.KPI) kpi.Def {
	d, ok := kpi.Lookup(key)
	if !ok {
		d = kpi.Def{Key: key, Label: key}
	}
	if k != nil && k.Label != "" {
		d.Label, d.Unit, d.LowerIsBetter = k.Label, k.Unit, k.LowerIsBetter
	}
	return d
}

// valueText writes a KPI value in its unit: "42.5 NPS", "85.7%",
// "7 deals", "3.5 h", "5 tasks", "13,333 RUB".
func valueText(unit string, v float64, currency string) string {
	if n, isCount := kpi.Nouns[unit]; isCount {
		return count(v, n[0], n[1])
	}
	switch unit {
	case kpi.UnitNPS:
		return number(v, 1) + " NPS"
	case kpi.UnitPercent:
		return pct(v)
	case kpi.UnitHours:
		return number(v, 1) + " h"
	case kpi.UnitCurrency:
		return money(v, currency)
	}
	return number(v, decimals(v))
}

// targetText is the target with its direction: "≥ 8 deals", "≤ 4.0 h".
func targetText(d kpi.Def, target float64, currency string) string {
	rel := "≥ "
	if d.LowerIsBetter {
		rel = "≤ "
	}
	return rel + valueText(d.Unit, target, currency)
}

// compact is a chart's axis label: "1.2M", "13k", "7", "3.5".
func compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	}
	return number(v, decimals(math.Round(v*10)/10))
}

// amountText is a deal amount in its own currency, with cents when it has
// them: "150,000 USD", "99.50 EUR".
func amountText(v float64, currency string) string {
	d := 0
	if math.Round(v) != v {
		d = 2
	}
	s := number(v, d)
	if currency != "" {
		s += " " + currency
	}
	return s
}

// figureText is what a record adds to a KPI that is not an amount: hours
// to an answer, an activity's cost, an NPS answer (0-10, a plain number).
func figureText(unit string, v float64, currency string) string {
	switch unit {
	case kpi.UnitHours:
		return number(v, 1) + " h"
	case kpi.UnitCurrency:
		return money(v, currency)
	}
	return number(v, decimals(math.Round(v*10)/10))
}

// Status of a score or attainment, decided on the unrounded number with
// the thresholds of KPIS.md.
var statusFor = scoring.StatusOf

// statusWord is the status for people: colour is never the only signal.
func statusWord(status string) string {
	switch status {
	case scoring.StatusGreen:
		return "on target"
	case scoring.StatusAmber:
		return "near target"
	case scoring.StatusRed:
		return "below target"
	}
	return "no data"
}

// trend compares a value with the one of the period before, in the KPI's
// direction: for response time and cost per client a fall is better.
type trend struct {
	Class string // "better", "worse", "same"; "" without a previous value
	Arrow string // ▲ better, ▼ worse, ▶ same
	Word  string
	Title string // "better than 2026-09: 5.3 h → 3.5 h"
}

func trendOf(cur, prev *float64, lowerIsBetter bool, prevLabel string, format func(float64) string) trend {
	if !valid(cur) || !valid(prev) {
		return trend{}
	}
	d := *cur - *prev
	if lowerIsBetter {
		d = -d
	}
	t := trend{Class: "same", Arrow: "▶", Word: "same"}
	switch {
	case d > 0:
		t = trend{Class: "better", Arrow: "▲", Word: "better"}
	case d < 0:
		t = trend{Class: "worse", Arrow: "▼", Word: "worse"}
	}
	rel := t.Word + " than"
	if t.Class == "same" {
		rel = "the same as"
	}
	t.Title = fmt.Sprintf("%s %s: %s → %s", rel, prevLabel, format(*prev), format(*cur))
	return t
}

// timeText is human.Time, a time in the configured zone as every command
// writes it: "2026-10-14 16:05 MSK".
var timeText = human.Time

// ago says how long before now t was: "just now", "25 min ago", "3 h
// ago", "4 days ago".
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
