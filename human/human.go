// Package human formats what crmkpi prints for people: durations such as
// "1d 2h" and "5m 3s", and times in the configured zone with the zone
// named, such as "2026-11-28 09:00 MSK". Every command, the sync summary
// and the Slack messages use it, so a duration reads the same everywhere.
// Machine output (JSON, metrics) keeps RFC 3339 times and seconds.
package human

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// units are the units of Duration, largest first.
var units = []struct {
	d    time.Duration
	name string
}{
	{24 * time.Hour, "d"},
	{time.Hour, "h"},
	{time.Minute, "m"},
	{time.Second, "s"},
}

// Duration is d in its two largest units, rounded to the smaller: "1d 2h",
// "3h", "5m 3s", "42s". Under ten seconds it keeps a tenth ("2.5s"), under
// one second it counts milliseconds ("340ms"), so a quick sync does not
// read "0s". A negative d is printed with a minus sign.
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	switch {
	case d == 0:
		return "0s"
	case d.Round(time.Millisecond) < time.Second:
		return strconv.FormatInt(int64(d.Round(time.Millisecond)/time.Millisecond), 10) + "ms"
	case d.Round(100*time.Millisecond) < 10*time.Second:
		s := strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', 1, 64)
		return strings.TrimSuffix(s, ".0") + "s"
	}
	for i, u := range units[:len(units)-1] {
		if d < u.d {
			continue
		}
		next := units[i+1]
		r := d.Round(next.d)
		if r >= u.d && i > 0 && r >= units[i-1].d {
			// Rounding carried into the larger unit: 23h 59m 40s is 1d.
			return Duration(r)
		}
		big, small := r/u.d, (r%u.d)/next.d
		if small == 0 {
			return fmt.Sprintf("%d%s", big, u.name)
		}
		return fmt.Sprintf("%d%s %d%s", big, u.name, small, next.name)
	}
	s := d.Round(time.Second)
	if s >= time.Minute {
		return Duration(s)
	}
	return fmt.Sprintf("%ds", s/time.Second)
}

// TimeLayout is the layout of Time: minutes and the zone's abbreviation.
const TimeLayout = "2006-01-02 15:04 MST"

// Time is t in loc with the zone named: "2026-11-28 09:00 MSK". Zones
// without an abbreviation show their offset, "2026-11-28 09:00 +04".
func Time(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(TimeLayout)
}

// Number formats v with the given decimals and thousands separators:
// 1234567.891, 1 → "1,234,567.9". Negative zero prints as zero.
func Number(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return out
}

// Percent is v with one decimal and a percent sign: "87.5%".
func Percent(v float64) string { return Number(v, 1) + "%" }

// PercentCut is Percent for a number that has a status beside it (a score,
// an attainment): cut, not rounded, to one decimal. Statuses are decided on
// the unrounded number, and 99.96 must read "99.9%" beside amber, never
// "100.0%". The 1e-9 keeps a value computed as 87.49999999999999 at 87.5.
func PercentCut(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e15 {
		return Percent(v)
	}
	return Percent(math.Floor(v*10+1e-9) / 10)
}

// Money is an amount in whole units of the reporting currency, named when
// there is one: "1,234,567 RUB". Whole units are enough for a scorecard.
func Money(v float64, currency string) string {
	s := Number(v, 0)
	if currency != "" {
		s += " " + currency
	}
	return s
}

// Decimals is how many decimals a figure of a count or a mean shows: none
// for a whole number ("7"), one otherwise ("3.5").
func Decimals(v float64) int {
	if v == math.Trunc(v) {
		return 0
	}
	return 1
}

// Plural is one for exactly 1, else many.
func Plural(n float64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count is a counted quantity with its noun: "1 deal", "7 deals",
// "2.5 tasks".
func Count(n float64, one, many string) string {
	return Number(n, Decimals(n)) + " " + Plural(n, one, many)
}
