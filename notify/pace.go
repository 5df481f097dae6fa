package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// Mid-period nudges (crmkpi notify --behind-pace): in the current period,
// a DM to each manager projected under target on at least one KPI, and
// nothing to anyone else, channels included. A manager gets at most one a
// day: the outbox keys each by the day, so a rerun the same day updates it
// (or leaves it alone when nothing moved) and the next day's is a new
// message, which Slack notifies of, where an update would pass unseen.

// PaceMessage renders one manager's mid-period nudge at now: how much of
// the period's working days has gone, the KPIs behind pace with where they
// stand and where they are heading, then those on pace.
func PaceMessage(sc scoring.Scorecard, in RenderInput, now time.Time) Message {
	label := in.label()
	name := displayName(sc)
	prefix, suffix := "⏱ ", " — on pace? — "+label
	header := prefix + escTrunc(name, max(maxHeaderText-len([]rune(prefix))-len([]rune(suffix)), 10)) + suffix
	header = truncRunes(header, maxHeaderText)

	elapsed, total := scoring.WorkingDays(in.Period, in.Period.Start.Location(), now)
	var behind, onPace []string
	for _, key := range kpi.Keys {
		v := viewKPI(key, sc.KPIs[key], in.Currency)
		if v.Pace == "" {
			continue
		}
		l := fmt.Sprintf("• *%s*: %s", v.Label, v.Pace)
		if v.Behind {
			behind = append(behind, l+" "+emojiRed)
		} else {
			onPace = append(onPace, l+" "+emojiGreen)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s working days of %s gone.", number(elapsed, decimals(elapsed)), number(total, 0), label)
	if len(behind) > 0 {
		fmt.Fprintf(&b, "\n*Behind pace* (projected under target at the end of the period):\n%s", strings.Join(behind, "\n"))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(header), slack.HeaderBlockOptionBlockID("header")),
		slack.NewSectionBlock(mrkdwn(truncRunes(b.String(), maxSectionText)), nil, nil, slack.SectionBlockOptionBlockID("behind")),
	}
	if len(onPace) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncRunes("*On pace:*\n"+strings.Join(onPace, "\n"), maxSectionText)), nil, nil,
			slack.SectionBlockOptionBlockID("on-pace")))
	}
	blocks = append(blocks, slack.NewContextBlock("context", mrkdwn(freshness(in)),
		mrkdwn("Pace: the value so far × working days in the period / working days gone (Mon–Fri)")))
	text := fmt.Sprintf("%s, %s: behind pace on %s", escTrunc(name, nameInList), label, count(float64(len(behind)), "KPI", "KPIs"))
	return finish(Message{Text: truncRunes(text, maxFallbackText), Blocks: blocks})
}

// planPace lists the nudges of a report at now: one DM to each manager
// behind pace on a KPI, keyed by the day.
func planPace(r *scoring.Report, in RenderInput, now time.Time) []delivery {
	if Empty(r) {
		return nil
	}
	day := now.In(in.Period.Start.Location()).Format(time.DateOnly)
	var out []delivery
	for i := range r.Managers {
		sc := &r.Managers[i]
		if len(sc.BehindPace()) == 0 {
			continue
		}
		out = append(out, delivery{recipient: "pace:" + day + ":" + sc.Manager, manager: sc, msg: PaceMessage(*sc, in, now)})
	}
	return out
}
