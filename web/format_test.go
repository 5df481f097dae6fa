package web

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

func f(v float64) *float64 { return &v }

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{valueText(kpi.UnitNPS, 42.45, ""), "42.5 NPS"},
		{valueText(kpi.UnitPercent, 92.85714285714286, ""), "92.9%"},
		{valueText(kpi.UnitDeals, 1, ""), "1 deal"},
		{valueText(kpi.UnitDeals, 7, ""), "7 deals"},
		{valueText(kpi.UnitHours, 3.25, ""), "3.2 h"},
		{valueText(kpi.UnitTasks, 2.5, ""), "2.5 tasks"},
		{valueText(kpi.UnitCurrency, 13333.33, "RUB"), "13,333 RUB"},
		{valueText("widgets", 7, ""), "7"},
		{targetText(kpi.Def{Unit: kpi.UnitDeals}, 8, ""), "≥ 8 deals"},
		{targetText(kpi.Def{Unit: kpi.UnitHours, LowerIsBetter: true}, 4, ""), "≤ 4.0 h"},
		{amountText(99500.5, "RUB"), "99,500.50 RUB"},
		{amountText(12000, "USD"), "12,000 USD"},
		{figureText(kpi.UnitNPS, 9, ""), "9"},
		{figureText(kpi.UnitHours, 168, ""), "168.0 h"},
		{figureText(kpi.UnitCurrency, 300, "RUB"), "300 RUB"},
		{compact(1234567), "1.2M"},
		{compact(13333), "13k"},
		{compact(5000), "5,000"},
		{compact(3.25), "3.2"},
		{compact(7), "7"},
		{raw(107.9797619047619), "107.9797619047619"},
		{raw(1e21), "1000000000000000000000"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestTrend checks that the arrow says better or worse in the KPI's
// direction, never up or down.
func TestTrend(t *testing.T) {
	h := func(v float64) string { return number(v, 1) + " h" }
	for _, c := range []struct {
		cur, prev *float64
		lower     bool
		want      trend
	}{
		{f(9), f(7), false, trend{"better", "▲", "better", "better than Sep: 7.0 h → 9.0 h"}},
		{f(5), f(7), false, trend{"worse", "▼", "worse", "worse than Sep: 7.0 h → 5.0 h"}},
		{f(3.2), f(4.5), true, trend{"better", "▲", "better", "better than Sep: 4.5 h → 3.2 h"}},
		{f(5), f(4.5), true, trend{"worse", "▼", "worse", "worse than Sep: 4.5 h → 5.0 h"}},
		{f(4), f(4), true, trend{"same", "▶", "same", "the same as Sep: 4.0 h → 4.0 h"}},
		{f(4), nil, false, trend{}},
		{nil, f(4), false, trend{}},
	} {
		if diff := cmp.Diff(c.want, trendOf(c.cur, c.prev, c.lower, "Sep", h)); diff != "" {
			t.Errorf("trendOf(%v, %v, lower %v) (-want +got):\n%s", deref(c.cur), deref(c.prev), c.lower, diff)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "just now"}, {25 * time.Minute, "25 min ago"}, {3 * time.Hour, "3 h ago"},
		{47 * time.Hour, "47 h ago"}, {50 * time.Hour, "2 days ago"}, {-time.Hour, "just now"},
	} {
		if got := ago(now.Add(-c.d), now); got != c.want {
			t.Errorf("ago(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestChart checks the geometry of a chart by hand: values 2, NaN, 4, 6
// and a target of 5 on a 0..3 x range. The y range is 2..6 padded by 8%
// (0.32) each side, 1.68..6.32, over plot rows 10..100.
func TestChart(t *testing.T) {
	nan := math.NaN()
	c := drawChart("c", "title", series{
		values: []float64{2, nan, 4, 6}, labels: []string{"a", "b", "c", "d"},
		target: 5, hasTarget: true, format: func(v float64) string { return number(v, 0) },
	})
	// x: 40, 128, 216, 304. y(v) = 10 + (6.32 - v) / 4.64 * 90.
	y := func(v float64) string { return coord(10 + (6.32-v)/4.64*90) }
	want := chart{ID: "c", Title: "title", W: 320, H: 128,
		Lines: []string{"216," + y(4) + " 304," + y(6)},
		Points: []chartPoint{
			{X: "40", Y: y(2), Title: "a: 2"},
			{X: "216", Y: y(4), Title: "c: 4"},
			{X: "304", Y: y(6), Title: "d: 6", Current: true},
		},
		Target:  &chartLine{Y: y(5), X1: "40", X2: "304", Label: "target 5"},
		YLabels: []chartLabel{{X: "36", Y: "14", Text: "6", Anchor: "end"}, {X: "36", Y: "100", Text: "2", Anchor: "end"}},
		XLabels: []chartLabel{{X: "40", Y: "118", Text: "a", Anchor: "start"}, {X: "304", Y: "118", Text: "d", Anchor: "end"}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("drawChart (-want +got):\n%s", diff)
	}
	if y(6) != "16.2" || y(2) != "93.8" {
		t.Errorf("hand-computed y: y(6) = %s, y(2) = %s; want 16.2, 93.8", y(6), y(2))
	}
	if e := drawChart("e", "t", series{values: []float64{nan, nan}, labels: []string{"a", "b"}}); !e.Empty || e.Points != nil {
		t.Errorf("a chart without data = %+v, want Empty", e)
	}
	// One value, no target: it sits mid-range.
	one := drawChart("o", "t", series{values: []float64{nan, 7}, labels: []string{"a", "b"}, format: func(float64) string { return "" }})
	if len(one.Points) != 1 || one.Points[0].Y != "55" || len(one.Lines) != 0 {
		t.Errorf("a chart of one value = %+v", one)
	}
}

func TestLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:1": true, "127.9.9.9:1": true, "[::1]:1": true, "localhost:1": true,
		":1": false, "0.0.0.0:1": false, "[::]:1": false, "10.0.0.1:1": false, "localhost.example.com:1": false,
		"127.0.0.1": false, "": false,
	} {
		if got := loopback(listen); got != want {
			t.Errorf("loopback(%q) = %v, want %v", listen, got, want)
		}
	}
}
