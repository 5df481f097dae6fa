package notify

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/scoring"
)

// Status emoji, as Slack shortcodes. Colour is never the only signal: the
// number and the status word are always printed beside them.
const (
	emojiGreen = ":large_green_circle:"
	emojiAmber = ":large_yellow_circle:"
	emojiRed   = ":large_red_circle:"
	emojiNone  = ":white_circle:"
)

// escaper escapes the three characters Slack treats as control characters
// in any text. slack-go never escapes text inside blocks, so every string
// from a CRM goes through it. A NUL byte becomes U+FFFD, as the PostgreSQL
// warehouse stores it, so a message reads the same whatever the warehouse
// and no NUL reaches Slack.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\x00", "\uFFFD")

// esc escapes a CRM-sourced string for Slack text.
func esc(s string) string { return escaper.Replace(s) }

// escTrunc escapes s and truncates the result to at most limit runes,
// ending in "…" when it cut. It never cuts an entity such as &amp; in half,
// so the result stays well-formed.
func escTrunc(s string, limit int) string {
	e := esc(s)
	if utf8.RuneCountInString(e) <= limit {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := string(r)
		switch r {
		case '&':
			piece = "&amp;"
		case '<':
			piece = "&lt;"
		case '>':
			piece = "&gt;"
		case 0:
			piece = "\uFFFD"
		}
		w := utf8.RuneCountInString(piece)
		if n+w > limit-1 { // keep room for the ellipsis
			break
		}
		b.WriteString(piece)
		n += w
	}
	return strings.TrimRightFunc(b.String(), isSpace) + "…"
}

// truncRunes cuts s (already escaped, or containing no CRM text) to limit
// runes with a trailing "…".
func truncRunes(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	rs := []rune(s)
	out := string(rs[:limit-1])
	// Don't leave half an entity behind.
	if i := strings.LastIndexByte(out, '&'); i >= 0 && !strings.Contains(out[i:], ";") {
		out = out[:i]
	}
	return out + "…"
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

// statusOf returns the status of a score: sc.Status when scoring set one,
// else derived from the score with the thresholds of KPIS.md.
func statusOf(status string, score *float64) string {
	switch status {
	case scoring.StatusGreen, scoring.StatusAmber, scoring.StatusRed:
		return status
	}
	return statusFor(score)
}

// statusFor is scoring's one status rule.
var statusFor = scoring.StatusOf

func statusEmoji(status string) string {
	switch status {
	case scoring.StatusGreen:
		return emojiGreen
	case scoring.StatusAmber:
		return emojiAmber
	case scoring.StatusRed:
		return emojiRed
	}
	return emojiNone
}

// statusWord is the status for people; "no data" rather than an empty string.
func statusWord(status string) string {
	switch status {
	case scoring.StatusGreen:
		return "green"
	case scoring.StatusAmber:
		return "amber"
	case scoring.StatusRed:
		return "red"
	}
	return "no data"
}

// number is human.Number: the web pages and Slack write numbers alike.
var number = human.Number

// signed is number with an explicit "+" for positive values, for differences.
func signed(v float64, decimals int) string {
	s := number(v, decimals)
	if s != "n/a" && !strings.HasPrefix(s, "-") && strings.Trim(s, "0.,") != "" {
		s = "+" + s
	}
	return s
}

// pct, pctCut and money are human's, for the same reason.
var (
	pct    = human.Percent
	pctCut = human.PercentCut
	money  = human.Money
)

// sparkTicks are the eight levels of a sparkline, lowest first.
var sparkTicks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values as block characters scaled between their minimum
// and maximum; NaN (no data) is drawn as "·". It returns "" when no value
// has data.
func sparkline(values []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		return ""
	}
	var b strings.Builder
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			b.WriteRune('·')
		case hi == lo:
			b.WriteRune(sparkTicks[len(sparkTicks)/2-1])
		default:
			i := int(math.Round((v - lo) / (hi - lo) * float64(len(sparkTicks)-1)))
			b.WriteRune(sparkTicks[i])
		}
	}
	return b.String()
}

// trendArrow is ▲ for a rise, ▼ for a fall and ▶ for no change.
func trendArrow(diff float64) string {
	switch {
	case diff > 0:
		return "▲"
	case diff < 0:
		return "▼"
	}
	return "▶"
}

// detail reads a numeric detail. Details come from scoring as Go numbers or,
// after a JSON round trip, as float64, so every numeric kind is accepted.
func detail(d map[string]any, key string) (float64, bool) {
	v, ok := d[key]
	if !ok || v == nil {
		return 0, false
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	case *float64:
		if x == nil {
			return 0, false
		}
		f = *x
	case interface{ Float64() (float64, error) }: // json.Number
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// truthy reads a boolean detail such as "manual".
func truthy(d map[string]any, key string) bool {
	switch x := d[key].(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	f, ok := detail(d, key)
	return ok && f != 0
}

// plural is human.Plural: "deal" or "deals".
var plural = human.Plural

// valid reports whether p points at a usable number.
func valid(p *float64) bool { return p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) }
