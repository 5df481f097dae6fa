package notify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// Message is one Slack message: Block Kit blocks and the plain fallback
// text that notifications and screen readers show. Text is never empty.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// RenderInput is what a message needs beyond the scorecards themselves.
type RenderInput struct {
	Period scoring.Period
	// PeriodLabel names the period for people ("October 2026"); when empty
	// it is derived from Period.
	PeriodLabel string
	// Currency is the reporting currency code, e.g. "RUB".
	Currency string
	// History maps a manager key to the overall scores of up to six
	// previous periods, oldest first; NaN or a missing key means no data.
	History map[string][]float64
	// LastSync is the finish time of the last successful sync; it is shown
	// only when HasLastSync is set.
	LastSync    time.Time
	HasLastSync bool
	// BaseURL is the config's web.base_url: when set, each manager's name
	// on the leaderboard and their DM link to the manager's scorecard page.
	BaseURL string
}

// pageURL is the scorecard page of manager key for the message's period,
// or "" without a BaseURL. The key is path-escaped, and its "&" too,
// which Slack would read as the start of an entity.
func (in RenderInput) pageURL(key string) string {
	if in.BaseURL == "" || key == "" {
		return ""
	}
	u := strings.TrimRight(in.BaseURL, "/") + "/managers/" + strings.ReplaceAll(url.PathEscape(key), "&", "%26")
	if !in.Period.Start.IsZero() {
		u += "?period=" + url.QueryEscape(in.Period.Spec())
	}
	return u
}

// link is mrkdwn text (already escaped) linking to u, or the text alone.
func link(u, text string) string {
	if u == "" {
		return text
	}
	return "<" + u + "|" + text + ">"
}

func (in RenderInput) label() string {
	if in.PeriodLabel != "" {
		return in.PeriodLabel
	}
	return in.Period.Label()
}

const (
	sparkPeriods = 6 // periods in the score sparkline, the current one included
	// nameInList caps a name in a list line, so 500 managers with long names
	// still fit in a few messages; the DM header shows more.
	nameInList = 80
)

// ManagerMessage renders one manager's scorecard as a direct message: a
// header with the name and period, the overall score with its status, trend
// and sparkline, every KPI, and a context line with data freshness and
// sample sizes.
func ManagerMessage(sc scoring.Scorecard, in RenderInput) Message {
	label := in.label()
	name := displayName(sc)

	// Header: the name takes whatever room the fixed parts leave.
	prefix, suffix := "📊 ", " — "+label
	room := maxHeaderText - utf8.RuneCountInString(prefix) - utf8.RuneCountInString(suffix)
	var header string
	if room >= 10 {
		header = prefix + escTrunc(name, room) + suffix
	} else { // an absurdly long label: cut the whole line
		header = truncRunes(prefix+escTrunc(name, 60)+" — "+label, maxHeaderText)
	}

	status := statusOf(sc.Status, sc.Score)
	var score strings.Builder
	if valid(sc.Score) {
		fmt.Fprintf(&score, "*Overall score: %s* %s %s · target 100%%", pctCut(*sc.Score), statusEmoji(status), statusWord(status))
	} else {
		fmt.Fprintf(&score, "*Overall score: n/a* %s no KPI had enough data this period", emojiNone)
	}
	hist := in.History[sc.Manager]
	if prev := lastValid(hist); valid(sc.Score) && prev != nil {
		d := *sc.Score - *prev
		fmt.Fprintf(&score, "\n%s %s pts vs previous period (%s)", trendArrow(d), signed(d, 1), pct(*prev))
	}
	if line := sparkLine(hist, sc.Score); line != "" {
		score.WriteString("\n" + line)
	}
	if sc.Team != "" {
		score.WriteString("\nTeam: " + escTrunc(sc.Team, nameInList))
	}
	if u := in.pageURL(sc.Manager); u != "" {
		score.WriteString("\n" + link(u, "Open your scorecard page") + ": every number with the records behind it")
	}

	fields := make([]*slack.TextBlockObject, 0, len(kpi.Keys))
	for _, key := range kpi.Keys {
		fields = append(fields, mrkdwn(truncRunes(kpiField(viewKPI(key, sc.KPIs[key], in.Currency)), maxFieldText)))
	}

	ctx := []slack.MixedElement{mrkdwn(freshness(in))}
	if s := samples(sc, in.Currency); len(s) > 0 {
		ctx = append(ctx, mrkdwn("Based on "+strings.Join(s, " · ")))
	}
	if !in.Period.Start.IsZero() && !in.Period.End.IsZero() {
		ctx = append(ctx, mrkdwn(fmt.Sprintf("Period %s – %s", in.Period.Start.Format(time.DateOnly),
			in.Period.End.AddDate(0, 0, -1).Format(time.DateOnly))))
	}

	text := fmt.Sprintf("Scorecard for %s, %s: ", escTrunc(name, nameInList), label)
	if valid(sc.Score) {
		text += fmt.Sprintf("overall %s (%s)", pctCut(*sc.Score), statusWord(status))
	} else {
		text += "no overall score (not enough data)"
	}

	return finish(Message{
		Text: truncRunes(text, maxFallbackText),
		Blocks: []slack.Block{
			slack.NewHeaderBlock(plain(header), slack.HeaderBlockOptionBlockID("header")),
			slack.NewSectionBlock(mrkdwn(score.String()), nil, nil, slack.SectionBlockOptionBlockID("score")),
			slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("kpis")),
			slack.NewDividerBlock(),
			slack.NewContextBlock("context", ctx...),
		},
	})
}

// kpiField is the text of one KPI in the DM's two-column fields.
func kpiField(v kpiView) string {
	var b strings.Builder
	b.WriteString("*" + v.Label + "*\n")
	if v.NA {
		fmt.Fprintf(&b, "%s n/a — %s", emojiNone, escTrunc(v.Reason, 200))
		if v.Target != "" {
			b.WriteString("\ntarget " + v.Target)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s *%s* · target %s · %s", statusEmoji(v.Status), v.Value, v.Target, v.Attainment)
	var extra []string
	if v.Trend != "" {
		extra = append(extra, v.Trend+" vs previous")
	} else {
		extra = append(extra, "no previous value")
	}
	if v.Pace != "" {
		extra = append(extra, v.Pace)
	}
	if v.Note != "" {
		extra = append(extra, v.Note)
	}
	b.WriteString("\n" + strings.Join(extra, " · "))
	return b.String()
}

// sparkLine draws the overall score over the last periods, ending with the
// current one, or returns "" when fewer than two periods have a score.
func sparkLine(hist []float64, current *float64) string {
	series := slices.Clone(hist)
	cur := math.NaN()
	if valid(current) {
		cur = *current
	}
	series = append(series, cur)
	if len(series) > sparkPeriods {
		series = series[len(series)-sparkPeriods:]
	}
	n, lo, hi := 0, math.Inf(1), math.Inf(-1)
	for i, v := range series {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			series[i] = math.NaN()
			continue
		}
		n++
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if n < 2 {
		return ""
	}
	return fmt.Sprintf("Last %d periods: `%s` (%s – %s)", len(series), sparkline(series), pct(lo), pct(hi))
}

func lastValid(hist []float64) *float64 {
	if len(hist) == 0 {
		return nil
	}
	v := hist[len(hist)-1]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// freshness tells how old the data is. Slack shows the <!date> token in the
// reader's own time zone; the fallback after "|" is UTC.
func freshness(in RenderInput) string {
	if !in.HasLastSync {
		return ":warning: Data freshness unknown: no successful sync recorded"
	}
	t := in.LastSync.UTC()
	return fmt.Sprintf("Data as of <!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.Format("2006-01-02 15:04 UTC"))
}

func displayName(sc scoring.Scorecard) string {
	return cmp.Or(sc.DisplayName(), "Unknown manager")
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// TeamMessage renders the channel summary of one team ("" for everyone):
// the team's totals, the three KPIs furthest below target, and the
// leaderboard by score. A long leaderboard continues over further messages,
// so every message stays within Slack's limits; the first message always
// carries the totals.
func TeamMessage(r *scoring.Report, team string, in RenderInput) []Message {
	label := in.label()
	currency := in.Currency
	if currency == "" && r != nil {
		currency = r.Currency
	}
	var managers []scoring.Scorecard
	if r != nil {
		for _, sc := range r.Managers {
			if team == "" || sc.Team == team {
				managers = append(managers, sc)
			}
		}
	}
	teamName := "All teams"
	if team != "" {
		teamName = team
	}

	// Leaderboard lines, best first; managers without a score go last.
	slices.SortStableFunc(managers, func(a, b scoring.Scorecard) int { return scoring.CompareBoard(&a, &b) })
	lines := make([]string, 0, len(managers))
	rank := 0
	for i, sc := range managers {
		var line string
		name := link(in.pageURL(sc.Manager), escTrunc(displayName(sc), nameInList))
		if valid(sc.Score) {
			// Competition ranking: equal scores share a rank (1, 2, 2, 4).
			if i == 0 || !valid(managers[i-1].Score) || *managers[i-1].Score != *sc.Score {
				rank = i + 1
			}
			status := statusOf(sc.Status, sc.Score)
			line = fmt.Sprintf("%d. %s *%s* %s", rank, statusEmoji(status), pctCut(*sc.Score), name)
		} else {
			line = fmt.Sprintf("–  %s n/a %s", emojiNone, name)
		}
		if team == "" && sc.Team != "" {
			line += " (" + escTrunc(sc.Team, 40) + ")"
		}
		lines = append(lines, line)
	}
	chunks := packLines(lines)

	var msgs []Message
	for part, chunk := range chunks {
		var blocks []slack.Block
		head := fmt.Sprintf("🏆 %s — %s", escTrunc(teamName, 60), label)
		if len(chunks) > 1 {
			head += fmt.Sprintf(" (%d/%d)", part+1, len(chunks))
		}
		blocks = append(blocks, slack.NewHeaderBlock(plain(truncRunes(head, maxHeaderText)), slack.HeaderBlockOptionBlockID("header")))
		if part == 0 {
			blocks = append(blocks,
				slack.NewSectionBlock(nil, totalsFields(managers, currency), nil, slack.SectionBlockOptionBlockID("totals")),
				slack.NewSectionBlock(mrkdwn(belowTarget(managers)), nil, nil, slack.SectionBlockOptionBlockID("below")),
				slack.NewDividerBlock(),
			)
		}
		for i, sec := range chunk {
			if part == 0 && i == 0 {
				sec = "*Leaderboard*\n" + sec
			}
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(sec), nil, nil, slack.SectionBlockOptionBlockID(fmt.Sprintf("board-%d", i+1))))
		}
		ctx := []slack.MixedElement{mrkdwn(freshness(in))}
		if len(chunks) > 1 {
			ctx = append(ctx, mrkdwn(fmt.Sprintf("Part %d of %d", part+1, len(chunks))))
		}
		blocks = append(blocks, slack.NewContextBlock("context", ctx...))

		text := fmt.Sprintf("Sales KPIs for %s, %s: %d %s", escTrunc(teamName, 60), label, len(managers), plural(float64(len(managers)), "manager", "managers"))
		if len(managers) > 0 && valid(managers[0].Score) {
			text += fmt.Sprintf(", top score %s (%s)", pctCut(*managers[0].Score), escTrunc(displayName(managers[0]), nameInList))
		}
		if len(chunks) > 1 {
			text += fmt.Sprintf(" (part %d of %d)", part+1, len(chunks))
		}
		msgs = append(msgs, finish(Message{Text: truncRunes(text, maxFallbackText), Blocks: blocks}))
	}
	return msgs
}

// Leaderboard packing budgets. Slack rejects a message whose blocks hold
// more than about 12,000 characters (msg_blocks_too_long, undocumented), so
// a message's leaderboard stays well below that; the header, totals and
// context of the first message fit in the rest.
const (
	sectionBudget = 2800 // of maxSectionText, leaving room for "*Leaderboard*\n"
	messageBudget = 8000 // leaderboard characters per message
	boardSections = 40   // leaderboard sections per message, of maxBlocks
)

// packLines groups lines into sections and sections into messages. It
// always returns at least one message with one section.
func packLines(lines []string) [][]string {
	if len(lines) == 0 {
		return [][]string{{"_No scorecards for this period._"}}
	}
	var msgs [][]string
	var cur []string // sections of the current message
	var sec strings.Builder
	used := 0
	flushSection := func() {
		if sec.Len() > 0 {
			cur = append(cur, sec.String())
			sec.Reset()
		}
	}
	for _, l := range lines {
		n := utf8.RuneCountInString(l) + 1
		if used+n > messageBudget || (len(cur) == boardSections-1 && utf8.RuneCountInString(sec.String())+n > sectionBudget) {
			flushSection()
			msgs = append(msgs, cur)
			cur, used = nil, 0
		}
		if sec.Len() > 0 && utf8.RuneCountInString(sec.String())+n > sectionBudget {
			flushSection()
		}
		if sec.Len() > 0 {
			sec.WriteByte('\n')
		}
		sec.WriteString(l)
		used += n
	}
	flushSection()
	return append(msgs, cur)
}

// teamTotals sums a team's figures from the managers' KPIs.
type teamTotals struct {
	revenue, won, newDeals, retained, activeStart float64
	hasRevenue, hasWon, hasNew                    bool
	scored                                        int
	scoreSum                                      float64
}

func totalsOf(managers []scoring.Scorecard) teamTotals {
	var t teamTotals
	for _, sc := range managers {
		if valid(sc.Score) {
			t.scored++
			t.scoreSum += *sc.Score
		}
		if k := sc.KPIs[kpi.ClosedWon]; k != nil {
			if valid(k.Value) {
				t.won += *k.Value
				t.hasWon = true
			}
			if v, ok := detail(k.Details, kpi.DetailRevenue); ok {
				t.revenue += v
				t.hasRevenue = true
			}
		}
		if k := sc.KPIs[kpi.NewDeals]; k != nil && valid(k.Value) {
			t.newDeals += *k.Value
			t.hasNew = true
		}
		if k := sc.KPIs[kpi.Retention]; k != nil {
			a, okA := detail(k.Details, kpi.DetailActiveStart)
			r, okR := detail(k.Details, kpi.DetailRetained)
			if okA && okR {
				t.activeStart += a
				t.retained += r
			}
		}
	}
	return t
}

func totalsFields(managers []scoring.Scorecard, currency string) []*slack.TextBlockObject {
	t := totalsOf(managers)
	na := func(ok bool, s string) string {
		if !ok {
			return "n/a"
		}
		return s
	}
	retention := "n/a — no active clients at start"
	if t.activeStart > 0 {
		retention = fmt.Sprintf("%s (%s of %s)", pct(100*t.retained/t.activeStart), number(t.retained, 0), count(t.activeStart, "client", "clients"))
	}
	avg := "n/a"
	if t.scored > 0 {
		avg = pct(t.scoreSum / float64(t.scored))
	}
	return []*slack.TextBlockObject{
		mrkdwn("*Revenue*\n" + na(t.hasRevenue, money(t.revenue, currency))),
		mrkdwn("*Won deals*\n" + na(t.hasWon, number(t.won, decimals(t.won)))),
		mrkdwn("*New-business deals*\n" + na(t.hasNew, number(t.newDeals, decimals(t.newDeals)))),
		mrkdwn("*Retention*\n" + retention),
		mrkdwn(managersField(len(managers), t.scored, avg)),
	}
}

func managersField(all, scored int, avg string) string {
	if scored == all {
		return fmt.Sprintf("*Managers*\n%d, average score %s", all, avg)
	}
	return fmt.Sprintf("*Managers*\n%d (%d with a score), average score %s", all, scored, avg)
}

// laggard is a KPI with its mean attainment across a team.
type laggard struct {
	key  string
	mean float64
	n    int
}

// laggards returns the KPIs whose mean attainment (over the managers with
// data) is below 100%, lowest first, at most three.
func laggards(managers []scoring.Scorecard) []laggard {
	var out []laggard
	for _, key := range kpi.Keys {
		var sum float64
		n := 0
		for _, sc := range managers {
			if k := sc.KPIs[key]; k != nil && valid(k.Value) && valid(k.Attainment) {
				sum += *k.Attainment
				n++
			}
		}
		if n > 0 && sum/float64(n) < 100 {
			out = append(out, laggard{key, sum / float64(n), n})
		}
	}
	slices.SortStableFunc(out, func(a, b laggard) int { return cmp.Compare(a.mean, b.mean) })
	return out[:min(3, len(out))]
}

func belowTarget(managers []scoring.Scorecard) string {
	ls := laggards(managers)
	if len(ls) == 0 {
		if !anyData(managers) {
			// Nothing to celebrate over an empty team or one without data.
			return "*Furthest below target*\nNo KPI has data for this period."
		}
		return "*Furthest below target*\nEvery KPI with data is at or above target on average. :tada:"
	}
	var b strings.Builder
	b.WriteString("*Furthest below target* (mean attainment)")
	for i, l := range ls {
		m := l.mean
		fmt.Fprintf(&b, "\n%d. %s %s — %s (%s)", i+1, statusEmoji(statusFor(&m)), kpiLabel(l.key), pctCut(l.mean), count(float64(l.n), "manager", "managers"))
	}
	return b.String()
}

// anyData reports whether some manager has some KPI with a value.
func anyData(managers []scoring.Scorecard) bool {
	for _, sc := range managers {
		for _, k := range sc.KPIs {
			if k != nil && valid(k.Value) && valid(k.Attainment) {
				return true
			}
		}
	}
	return false
}

// finish gives every block a block_id that is unique in the message and
// changes whenever the content does: Slack asks for a fresh block_id on
// each update of a message. The same content gets the same ids, so the
// payload hash of an unchanged message stays the same.
func finish(m Message) Message {
	raw, _ := json.Marshal(m.Blocks) // blocks of this package always marshal
	sum := sha256.Sum256(append(raw, m.Text...))
	tag := hex.EncodeToString(sum[:4])
	seen := map[string]bool{}
	for i, b := range m.Blocks {
		id := b.ID()
		if id == "" || seen[id] {
			id = fmt.Sprintf("%s%d", b.BlockType(), i+1)
		}
		seen[id] = true
		id += "-" + tag
		switch x := b.(type) {
		case *slack.HeaderBlock:
			x.BlockID = id
		case *slack.SectionBlock:
			x.BlockID = id
		case *slack.ContextBlock:
			x.BlockID = id
		case *slack.DividerBlock:
			x.BlockID = id
		}
	}
	return m
}
