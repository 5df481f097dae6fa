package scoring

import (
	"math"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// Pace, mid-period: in the period that contains Options.Now, the KPIs
// that add up over the period get the value they are on pace for at its
// end, linear by elapsed working days, as "5 of 8, on pace for 9" says.
//
//   - Working days are Monday to Friday in the reporting time zone; public
//     holidays are not known and count as working days.
//   - W is the period's working days; E those elapsed at now: each past
//     working day 1, today, when a working day, the share of its hours
//     gone. The pace is value × W / E: on the last weekend of a month E
//     is W and the pace is the value.
//   - No pace before one whole working day has elapsed (the first working
//     day: nothing to project yet), outside the current period, nor for a
//     figure entered by hand.
//
// Paced are the counts (closed_won, new_deals, team_contribution) and
// key_client_growth, whose revenue of the period so far is projected the
// same way and compared with the whole previous period's. The ratios
// (satisfaction, retention, penetration, response time, cost per client)
// do not grow with the days: their value so far is their best estimate,
// and they get no pace. Which KPIs are paced is kpi.Def.Paced.

// Paced reports whether KPI key gets a pace in the current period.
func Paced(key string) bool { d, ok := kpi.Lookup(key); return ok && d.Paced }

// paceFactor is W / E for period p at now (see above); ok is false when p
// does not contain now or less than one working day of it has elapsed.
func paceFactor(p Period, loc *time.Location, now time.Time) (float64, bool) {
	if now.Before(p.Start) || !now.Before(p.End) {
		return 0, false
	}
	e, w := WorkingDays(p, loc, now)
	if w == 0 || e < 1 {
		return 0, false
	}
	return w / e, true
}

// WorkingDays returns the working days of p and those elapsed at now, by
// the rule above (elapsed 0 outside p before it starts, all of them after
// it ends), for people: "day 10 of 22".
func WorkingDays(p Period, loc *time.Location, now time.Time) (elapsed, total float64) {
	if loc == nil {
		loc = p.Start.Location()
	}
	start := p.Start.In(loc)
	for d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); d.Before(p.End); {
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			total++
			switch {
			case !now.Before(next):
				elapsed++
			case !now.Before(d):
				elapsed += float64(now.Sub(d)) / float64(next.Sub(d))
			}
		}
		d = next
	}
	return elapsed, total
}

// pace is the projected value of KPI key for s's figures, v its value.
func pace(key string, v kpiValue, s *stats, factor float64) *float64 {
	if !Paced(key) || v.value == nil || v.manual {
		return nil
	}
	p := *v.value * factor
	if f := measures[key].pace; f != nil {
		p = f(*v.value, s, factor)
	}
	// Absurd CRM amounts saturate the sums (fsum); projected, they would
	// overflow, and no JSON can carry an infinity.
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return nil
	}
	return &p
}

// BehindPace lists, in kpi.Keys order, the KPIs of sc projected under
// their target at the period's end: those whose pace is below target.
func (sc *Scorecard) BehindPace() []string {
	var out []string
	for _, key := range kpi.Keys {
		k := sc.KPIs[key]
		if k == nil || k.Pace == nil {
			continue
		}
		if k.LowerIsBetter && *k.Pace > k.Target || !k.LowerIsBetter && *k.Pace < k.Target {
			out = append(out, key)
		}
	}
	return out
}
