package period

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func TestParse(t *testing.T) {
	msk := mustLoad(t, "Europe/Moscow")
	berlin := mustLoad(t, "Europe/Berlin")
	// 2026-10-20 22:30 UTC is already 21 October in Moscow (UTC+3).
	now := time.Date(2026, 10, 20, 22, 30, 0, 0, time.UTC)
	d := func(loc *time.Location, y int, m time.Month, day int) time.Time {
		return time.Date(y, m, day, 0, 0, 0, 0, loc)
	}
	tests := []struct {
		spec              string
		kind              Kind
		loc               *time.Location
		want              Period
		key, label, pspec string
	}{
		{"2026-10", Week, msk, Period{Month, d(msk, 2026, 10, 1), d(msk, 2026, 11, 1)}, "month:2026-10-01", "October 2026", "2026-10"},
		{"2025-12", Month, msk, Period{Month, d(msk, 2025, 12, 1), d(msk, 2026, 1, 1)}, "month:2025-12-01", "December 2025", "2025-12"},
		// Any case.
		{"2026-q3", Month, msk, Period{Quarter, d(msk, 2026, 7, 1), d(msk, 2026, 10, 1)}, "quarter:2026-07-01", "2026-Q3", "2026-Q3"},
		{"2026-w43", Month, msk, Period{Week, d(msk, 2026, 10, 19), d(msk, 2026, 10, 26)}, "week:2026-10-19", "2026-W43", "2026-W43"},
		{"Previous", Month, msk, Period{Month, d(msk, 2026, 9, 1), d(msk, 2026, 10, 1)}, "month:2026-09-01", "September 2026", "2026-09"},
		{"2026-W43", Month, msk, Period{Week, d(msk, 2026, 10, 19), d(msk, 2026, 10, 26)}, "week:2026-10-19", "2026-W43", "2026-W43"},
		// ISO week 1 of 2026 starts on Monday 29 December 2025.
		{"2026-W01", Month, msk, Period{Week, d(msk, 2025, 12, 29), d(msk, 2026, 1, 5)}, "week:2025-12-29", "2026-W01", "2026-W01"},
		{"2020-W53", Month, msk, Period{Week, d(msk, 2020, 12, 28), d(msk, 2021, 1, 4)}, "week:2020-12-28", "2020-W53", "2020-W53"},
		{"2026-Q3", Month, msk, Period{Quarter, d(msk, 2026, 7, 1), d(msk, 2026, 10, 1)}, "quarter:2026-07-01", "2026-Q3", "2026-Q3"},
		{"2026-Q4", Month, msk, Period{Quarter, d(msk, 2026, 10, 1), d(msk, 2027, 1, 1)}, "quarter:2026-10-01", "2026-Q4", "2026-Q4"},
		{"current", Month, msk, Period{Month, d(msk, 2026, 10, 1), d(msk, 2026, 11, 1)}, "month:2026-10-01", "October 2026", "2026-10"},
		{"", Month, msk, Period{Month, d(msk, 2026, 9, 1), d(msk, 2026, 10, 1)}, "month:2026-09-01", "September 2026", "2026-09"},
		{"previous", "", msk, Period{Month, d(msk, 2026, 9, 1), d(msk, 2026, 10, 1)}, "month:2026-09-01", "September 2026", "2026-09"},
		// 21 October 2026 in Moscow is a Wednesday of W43.
		{"current", Week, msk, Period{Week, d(msk, 2026, 10, 19), d(msk, 2026, 10, 26)}, "week:2026-10-19", "2026-W43", "2026-W43"},
		{"previous", Week, msk, Period{Week, d(msk, 2026, 10, 12), d(msk, 2026, 10, 19)}, "week:2026-10-12", "2026-W42", "2026-W42"},
		// In UTC it is still 20 October.
		{"current", Week, time.UTC, Period{Week, d(time.UTC, 2026, 10, 19), d(time.UTC, 2026, 10, 26)}, "week:2026-10-19", "2026-W43", "2026-W43"},
		{"current", Quarter, msk, Period{Quarter, d(msk, 2026, 10, 1), d(msk, 2027, 1, 1)}, "quarter:2026-10-01", "2026-Q4", "2026-Q4"},
		{"previous", Quarter, msk, Period{Quarter, d(msk, 2026, 7, 1), d(msk, 2026, 10, 1)}, "quarter:2026-07-01", "2026-Q3", "2026-Q3"},
		// Berlin leaves DST on 25 October 2026: the week is 169 hours
		// long and both ends are still local midnights.
		{"2026-W43", Month, berlin, Period{Week, d(berlin, 2026, 10, 19), d(berlin, 2026, 10, 26)}, "week:2026-10-19", "2026-W43", "2026-W43"},
		{"2026-03", Month, berlin, Period{Month, d(berlin, 2026, 3, 1), d(berlin, 2026, 4, 1)}, "month:2026-03-01", "March 2026", "2026-03"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec, tt.kind, tt.loc, now)
		if err != nil {
			t.Errorf("Parse(%q, %q) error: %v", tt.spec, tt.kind, err)
			continue
		}
		if got.Kind != tt.want.Kind || !got.Start.Equal(tt.want.Start) || !got.End.Equal(tt.want.End) {
			t.Errorf("Parse(%q, %q) = %v..%v %s, want %v..%v %s", tt.spec, tt.kind, got.Start, got.End, got.Kind, tt.want.Start, tt.want.End, tt.want.Kind)
		}
		if got.Key() != tt.key || got.Label() != tt.label || got.Spec() != tt.pspec {
			t.Errorf("Parse(%q, %q): Key, Label, Spec = %q, %q, %q; want %q, %q, %q", tt.spec, tt.kind, got.Key(), got.Label(), got.Spec(), tt.key, tt.label, tt.pspec)
		}
		for _, b := range []time.Time{got.Start, got.End} {
			if h, m, s := b.Clock(); h != 0 || m != 0 || s != 0 {
				t.Errorf("Parse(%q): boundary %v is not local midnight", tt.spec, b)
			}
		}
		if prev := got.Previous(); !prev.End.Equal(got.Start) || prev.Kind != got.Kind {
			t.Errorf("Parse(%q).Previous() = %v..%v, want it to end at %v", tt.spec, prev.Start, prev.End, got.Start)
		}
	}
}

// TestNotStarted checks that --period refuses a period that has not
// started, while ParseSpec (the config's manual keys) takes it.
func TestNotStarted(t *testing.T) {
	msk := mustLoad(t, "Europe/Moscow")
	// 31 October 2026 21:30 UTC is already 1 November in Moscow.
	now := time.Date(2026, 10, 31, 21, 30, 0, 0, time.UTC)
	for _, spec := range []string{"2026-11", "2026-W45", "2027-Q1"} {
		if _, err := Parse(spec, Month, time.UTC, now); err == nil || !strings.Contains(err.Error(), "has not started") {
			t.Errorf("Parse(%q) in UTC at %v = %v, want \"has not started\"", spec, now, err)
		}
		if _, err := ParseSpec(spec, time.UTC); err != nil {
			t.Errorf("ParseSpec(%q) = %v, want no error", spec, err)
		}
	}
	if p, err := Parse("2026-11", Month, msk, now); err != nil || p.Spec() != "2026-11" {
		t.Errorf("Parse(2026-11) in Moscow at %v = %v, %v; want November, which has started there", now, p.Spec(), err)
	}
	_, err := Parse("2026-12", Month, msk, now)
	if want := `period "2026-12" has not started: it starts 2026-12-01 MSK`; err == nil || err.Error() != want {
		t.Errorf("Parse(2026-12) = %v, want %s", err, want)
	}
}

func TestPeriodPrevious(t *testing.T) {
	msk := mustLoad(t, "Europe/Moscow")
	tests := []struct{ spec, prev string }{
		{"2026-01", "2025-12"},
		{"2026-Q1", "2025-Q4"},
		{"2026-W01", "2025-W52"},
		{"2021-W01", "2020-W53"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.spec, Month, msk, time.Now())
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.spec, err)
		}
		if got := p.Previous().Spec(); got != tt.prev {
			t.Errorf("Parse(%q).Previous() = %s, want %s", tt.spec, got, tt.prev)
		}
	}
}

func TestParsePeriodErrors(t *testing.T) {
	for _, spec := range []string{"garbage", "2026", "2026-13", "2026-00", "2026-1", "2026-W54", "2025-W53", "2026-W00", "2026-Q5", "2026-Q0", "26-10", "0000-01", "2026-+1", "last", "2026-W4", "2026-10-01"} {
		_, err := Parse(spec, Month, time.UTC, time.Now())
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want one", spec)
			continue
		}
		if !strings.Contains(err.Error(), `"`+spec+`"`) {
			t.Errorf("Parse(%q) error %q does not name the spec", spec, err)
		}
	}
	if _, err := Parse("current", "year", time.UTC, time.Now()); err == nil {
		t.Errorf(`Parse("current", "year") = nil error, want one`)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-10", "2026-W43", "2026-Q3", "current", "previous", "", "2020-W53", "9999-12", "0001-01", "9999-W52"} {
		f.Add(s, "month", int64(1_790_000_000))
	}
	f.Add("current", "week", int64(-62_000_000_000))
	f.Add("previous", "quarter", int64(250_000_000_000))
	msk := mustLoad(f, "Europe/Moscow")
	f.Fuzz(func(t *testing.T, spec, kind string, unix int64) {
		// Keep now within years 1..9999 where time.Date is meaningful.
		unix %= 250_000_000_000
		now := time.Unix(unix, 0)
		for _, loc := range []*time.Location{time.UTC, msk} {
			p, err := Parse(spec, Kind(kind), loc, now)
			if err != nil {
				continue
			}
			if !p.Start.Before(p.End) {
				t.Fatalf("Parse(%q, %q) = %v..%v: start not before end", spec, kind, p.Start, p.End)
			}
			if prev := p.Previous(); !prev.End.Equal(p.Start) {
				t.Fatalf("Parse(%q, %q).Previous() ends %v, want %v", spec, kind, prev.End, p.Start)
			}
			_, _, _ = p.Key(), p.Label(), p.Spec()
		}
	})
}
