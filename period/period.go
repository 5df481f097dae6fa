// Package period holds the reporting periods of KPIS.md: calendar weeks
// (ISO, Monday start), months and quarters with boundaries at local
// midnight, and the one parser of their SPEC ("2026-10", "2026-W43",
// "2026-Q3", "current", "previous") that `--period` and the config's
// `scoring.manual` keys share, so both accept the same forms and say the
// same thing about a bad one.
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is week, month or quarter.
type Kind string

// Period kinds.
const (
	Week    Kind = "week"
	Month   Kind = "month"
	Quarter Kind = "quarter"
)

// Period is [Start, End) with boundaries at local midnight in the configured
// time zone.
type Period struct {
	Kind  Kind      `json:"kind"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Parse resolves a period SPEC (`crmkpi score --period`) into a Period
// whose boundaries are local midnights in loc:
//
//	2026-10   the month October 2026
//	2026-W43  ISO week 43 of 2026 (Monday to Monday)
//	2026-Q3   July to September 2026
//	current   the period of kind that contains now
//	previous  the one before it; also what an empty spec means
//
// Case does not matter ("2026-q3", "Current"). An explicit spec carries its
// own kind; kind only matters for current and previous, and an empty kind
// means Month (the config default). A period that has not started at now
// is an error: nothing in it can be scored yet. A nil loc means UTC.
// Errors quote the spec.
func Parse(spec string, kind Kind, loc *time.Location, now time.Time) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	if kind == "" {
		kind = Month
	}
	switch strings.ToLower(strings.TrimSpace(spec)) {
	case "", "previous":
		p, err := containing(kind, now.In(loc))
		if err != nil {
			return Period{}, fmt.Errorf("period %q: %w", spec, err)
		}
		return p.Previous(), nil
	case "current":
		p, err := containing(kind, now.In(loc))
		if err != nil {
			return Period{}, fmt.Errorf("period %q: %w", spec, err)
		}
		return p, nil
	}
	p, err := ParseSpec(spec, loc)
	if err != nil {
		return Period{}, err
	}
	if p.Start.After(now) {
		return Period{}, fmt.Errorf("period %q has not started: it starts %s", spec, p.Start.Format("2006-01-02 MST"))
	}
	return p, nil
}

// ParseSpec parses an explicit SPEC (YYYY-MM, YYYY-Www or YYYY-Qn, any
// case) into its period in loc, whether or not it has started: the form of
// the config's `scoring.manual` keys. Errors quote the spec.
func ParseSpec(spec string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	p, err := parseExplicit(strings.ToUpper(strings.TrimSpace(spec)), loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: %w", spec, err)
	}
	return p, nil
}

// parseExplicit parses YYYY-MM, YYYY-Www and YYYY-Qn.
func parseExplicit(s string, loc *time.Location) (Period, error) {
	const want = "want YYYY-MM, YYYY-Www, YYYY-Qn, current or previous"
	if len(s) < 6 || s[4] != '-' {
		return Period{}, fmt.Errorf("unknown format, %s", want)
	}
	year, err := digits(s[:4])
	if err != nil || year < 1 {
		return Period{}, fmt.Errorf("bad year, %s", want)
	}
	rest := s[5:]
	switch {
	case rest[0] == 'W':
		w, err := digits(rest[1:])
		if err != nil || len(rest) != 3 {
			return Period{}, fmt.Errorf("bad week, %s", want)
		}
		start := isoWeekStart(year, w, loc)
		if y, got := start.ISOWeek(); y != year || got != w {
			return Period{}, fmt.Errorf("%d has no ISO week %d", year, w)
		}
		return weekAt(start), nil
	case rest[0] == 'Q':
		q, err := digits(rest[1:])
		if err != nil || len(rest) != 2 || q < 1 || q > 4 {
			return Period{}, fmt.Errorf("bad quarter, %s", want)
		}
		return quarterAt(year, time.Month(3*q-2), loc), nil
	default:
		m, err := digits(rest)
		if err != nil || len(rest) != 2 || m < 1 || m > 12 {
			return Period{}, fmt.Errorf("bad month, %s", want)
		}
		return monthAt(year, time.Month(m), loc), nil
	}
}

// digits parses a non-empty run of ASCII digits; strconv.Atoi alone would
// also take signs.
func digits(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("not a number: %q", s)
		}
	}
	return strconv.Atoi(s)
}

// containing returns the period of kind that contains t (already in the
// reporting location).
func containing(kind Kind, t time.Time) (Period, error) {
	y, m, d := t.Date()
	switch kind {
	case Month:
		return monthAt(y, m, t.Location()), nil
	case Quarter:
		return quarterAt(y, m-(m-1)%3, t.Location()), nil
	case Week:
		// Days since Monday; Sunday is 6.
		back := (int(t.Weekday()) + 6) % 7
		return weekAt(time.Date(y, m, d-back, 0, 0, 0, 0, t.Location())), nil
	}
	return Period{}, fmt.Errorf("unknown period kind %q, want week, month or quarter", kind)
}

// isoWeekStart is the Monday of ISO week w of year: week 1 is the week that
// holds 4 January.
func isoWeekStart(year, w int, loc *time.Location) time.Time {
	jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, loc)
	back := (int(jan4.Weekday()) + 6) % 7
	return time.Date(year, time.January, 4-back+7*(w-1), 0, 0, 0, 0, loc)
}

// Boundaries are always built with time.Date from calendar fields, never by
// adding hours, so a DST change inside a period moves no boundary off
// midnight.

func monthAt(y int, m time.Month, loc *time.Location) Period {
	return Period{Kind: Month, Start: time.Date(y, m, 1, 0, 0, 0, 0, loc), End: time.Date(y, m+1, 1, 0, 0, 0, 0, loc)}
}

func quarterAt(y int, first time.Month, loc *time.Location) Period {
	return Period{Kind: Quarter, Start: time.Date(y, first, 1, 0, 0, 0, 0, loc), End: time.Date(y, first+3, 1, 0, 0, 0, 0, loc)}
}

func weekAt(monday time.Time) Period {
	y, m, d := monday.Date()
	loc := monday.Location()
	return Period{Kind: Week, Start: time.Date(y, m, d, 0, 0, 0, 0, loc), End: time.Date(y, m, d+7, 0, 0, 0, 0, loc)}
}

// Previous is the period of the same kind that ends where p starts.
func (p Period) Previous() Period {
	y, m, d := p.Start.Date()
	loc := p.Start.Location()
	switch p.Kind {
	case Week:
		return weekAt(time.Date(y, m, d-7, 0, 0, 0, 0, loc))
	case Quarter:
		return quarterAt(y, m-3, loc)
	default:
		return monthAt(y, m-1, loc)
	}
}

// Key identifies the period in storage and in the Slack outbox, e.g.
// "month:2026-10-01": the kind and the local start date.
func (p Period) Key() string {
	return string(p.Kind) + ":" + p.Start.Format("2006-01-02")
}

// Spec is the period written as a SPEC, the form `--period` takes and the
// `scoring.manual` config keys use: "2026-10", "2026-W43", "2026-Q3".
func (p Period) Spec() string {
	y, m, _ := p.Start.Date()
	switch p.Kind {
	case Week:
		iy, w := p.Start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", iy, w)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", y, (int(m)-1)/3+1)
	default:
		return fmt.Sprintf("%04d-%02d", y, int(m))
	}
}

// Label is the period as people read it: "October 2026", "2026-W43",
// "2026-Q3".
func (p Period) Label() string {
	if p.Kind == Month {
		return p.Start.Format("January 2006")
	}
	return p.Spec()
}
