package web

import (
	"math"
	"strconv"
	"strings"
)

// A trend chart is drawn here as numbers for an inline SVG template
// (templates/chart.html): no script, no library, and the same picture in
// every browser, a phone's too, and offline.

// Chart geometry, in the SVG's own units; the SVG scales to its box.
const (
	chartW, chartH     = 320, 128
	plotLeft, plotRght = 40, 304
	plotTop, plotBot   = 10, 100
	labelY             = 118
)

// chart is one series of up to a dozen periods.
type chart struct {
	ID    string // unique in the page, for aria-labelledby
	Title string // said by screen readers and shown as a tooltip
	W, H  int
	// Lines are the polyline "x,y x,y" of each run of periods with data.
	Lines   []string
	Points  []chartPoint
	Target  *chartLine
	YLabels []chartLabel
	XLabels []chartLabel
	// Empty is set when no period has data; the chart then says so.
	Empty bool
}

type chartPoint struct {
	X, Y    string
	Title   string // "2026-10: 7 deals"
	Current bool   // the period the page shows
}

type chartLine struct {
	Y, X1, X2 string
	Label     string
}

type chartLabel struct {
	X, Y   string
	Text   string
	Anchor string // text-anchor
}

// series is one chart's data: values[i] belongs to labels[i], NaN where
// there is none; the last is the current period.
type series struct {
	values    []float64
	labels    []string
	target    float64 // drawn when hasTarget
	hasTarget bool
	format    func(float64) string // a point's tooltip
}

func coord(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func drawChart(id, title string, s series) chart {
	c := chart{ID: id, Title: title, W: chartW, H: chartH}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range s.values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		c.Empty = true
		return c
	}
	if s.hasTarget {
		lo, hi = math.Min(lo, s.target), math.Max(hi, s.target)
	}
	if hi == lo {
		pad := math.Max(math.Abs(hi)*0.1, 1)
		lo, hi = lo-pad, hi+pad
	}
	// A little air above and below, so no point sits on the frame.
	pad := (hi - lo) * 0.08
	lo, hi = lo-pad, hi+pad
	n := len(s.values)
	x := func(i int) float64 {
		if n == 1 {
			return (plotLeft + plotRght) / 2
		}
		return plotLeft + float64(i)*(plotRght-plotLeft)/float64(n-1)
	}
	y := func(v float64) float64 { return plotTop + (hi-v)/(hi-lo)*(plotBot-plotTop) }

	var run []string
	flush := func() {
		if len(run) > 1 {
			c.Lines = append(c.Lines, strings.Join(run, " "))
		}
		run = nil
	}
	for i, v := range s.values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			flush()
			continue
		}
		px, py := coord(x(i)), coord(y(v))
		run = append(run, px+","+py)
		c.Points = append(c.Points, chartPoint{X: px, Y: py, Title: s.labels[i] + ": " + s.format(v), Current: i == n-1})
	}
	flush()
	if s.hasTarget {
		c.Target = &chartLine{Y: coord(y(s.target)), X1: coord(plotLeft), X2: coord(plotRght), Label: "target " + compact(s.target)}
	}
	c.YLabels = []chartLabel{
		{X: coord(plotLeft - 4), Y: coord(plotTop + 4), Text: compact(hi - pad), Anchor: "end"},
		{X: coord(plotLeft - 4), Y: coord(plotBot), Text: compact(lo + pad), Anchor: "end"},
	}
	c.XLabels = []chartLabel{{X: coord(x(0)), Y: coord(labelY), Text: s.labels[0], Anchor: "start"}}
	if n > 1 {
		c.XLabels = append(c.XLabels, chartLabel{X: coord(x(n - 1)), Y: coord(labelY), Text: s.labels[n-1], Anchor: "end"})
	}
	return c
}
