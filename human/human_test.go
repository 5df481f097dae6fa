package human

import (
	"math"
	"testing"
	"time"
	_ "time/tzdata" // the zones, whatever the machine has installed
)

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Microsecond, "0ms"},
		{340 * time.Millisecond, "340ms"},
		{999*time.Millisecond + 700*time.Microsecond, "1s"},
		{time.Second, "1s"},
		{2540 * time.Millisecond, "2.5s"},
		{9960 * time.Millisecond, "10s"},
		{42 * time.Second, "42s"},
		{59*time.Second + 600*time.Millisecond, "1m"},
		{5*time.Minute + 3*time.Second, "5m 3s"},
		{5*time.Minute + 3*time.Second + 400*time.Millisecond, "5m 3s"},
		{59*time.Minute + 59*time.Second + 600*time.Millisecond, "1h"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 20*time.Second, "3h"},
		{3*time.Hour + 40*time.Second, "3h 1m"},
		{23*time.Hour + 59*time.Minute + 40*time.Second, "1d"},
		{26 * time.Hour, "1d 2h"},
		{26*time.Hour + 31*time.Minute, "1d 3h"},
		{40 * 24 * time.Hour, "40d"},
		{-(5*time.Minute + 3*time.Second), "-5m 3s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestTime(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	samara, err := time.LoadLocation("Europe/Samara") // tzdata names no abbreviation for it
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 6, 0, 30, 0, time.UTC)
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{
		{msk, "2026-11-28 09:00 MSK"},
		{time.UTC, "2026-11-28 06:00 UTC"},
		{nil, "2026-11-28 06:00 UTC"},
		{samara, "2026-11-28 10:00 +04"},
	} {
		if got := Time(at, tt.loc); got != tt.want {
			t.Errorf("Time(%s, %v) = %q, want %q", at, tt.loc, got, tt.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{Number(1234567.891, 1), "1,234,567.9"},
		{Number(-1234.5, 0), "-1,234"},
		{Number(-1234, 0), "-1,234"},
		{Number(-0.04, 1), "0.0"},
		{Number(999, 0), "999"},
		{Number(math.NaN(), 1), "n/a"},
		{Number(math.Inf(-1), 0), "n/a"},
		{Percent(87.5), "87.5%"},
		{Percent(87.46), "87.5%"},
		{PercentCut(87.46), "87.4%"},
		{PercentCut(99.96), "99.9%"},
		{PercentCut(87.49999999999999), "87.5%"},
		{PercentCut(100), "100.0%"},
		{PercentCut(-12.34), "-12.4%"},
		{PercentCut(2e15), "2,000,000,000,000,000.0%"},
		{Money(13333.33, "RUB"), "13,333 RUB"},
		{Money(1234567.5, ""), "1,234,568"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    float64
		want string
	}{
		{0, "0 deals"}, {1, "1 deal"}, {7, "7 deals"}, {2.5, "2.5 deals"}, {1234, "1,234 deals"}, {-1, "-1 deals"},
	} {
		if got := Count(tc.n, "deal", "deals"); got != tc.want {
			t.Errorf("Count(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if Decimals(3) != 0 || Decimals(3.25) != 1 {
		t.Errorf("Decimals(3), Decimals(3.25) = %d, %d; want 0, 1", Decimals(3), Decimals(3.25))
	}
}
