package notify

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// WriteTable writes the report for a terminal, as `crmkpi score` and the
// demo print it: per manager a title line with the overall score and status,
// then every KPI with value, target, attainment, trend and note (the
// "n/a" reason where there is one). It shows what the Slack DM shows.
//
// It uses tablewriter v1 rather than text/tabwriter because the trend
// arrows and names in other scripts need display-width aware alignment,
// which tabwriter (counting runes) gets wrong.
func WriteTable(w io.Writer, r *scoring.Report) error {
	if r == nil || len(r.Managers) == 0 {
		_, err := fmt.Fprintln(w, "No scorecards for this period.")
		return err
	}
	label := r.Period.Label()
	for i, sc := range r.Managers {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		score := "n/a (no KPI had enough data)"
		if valid(sc.Score) {
			st := statusOf(sc.Status, sc.Score)
			score = fmt.Sprintf("%s %s", pctCut(*sc.Score), statusWord(st))
		}
		title := printable(displayName(sc))
		if sc.Team != "" {
			title += " (" + printable(sc.Team) + ")"
		}
		if _, err := fmt.Fprintf(w, "%s — %s — score %s\n", title, label, score); err != nil {
			return err
		}
		t := tablewriter.NewTable(w,
			tablewriter.WithHeaderAutoFormat(tw.Off), // keep "Attainment", not "ATTAINMENT"
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
			tablewriter.WithRowAlignment(tw.AlignLeft),
		)
		t.Header("KPI", "Value", "Target", "Attainment", "Trend", "Note")
		for _, key := range kpi.Keys {
			v := viewKPI(key, sc.KPIs[key], r.Currency)
			value, note := v.Value, v.Note
			if v.Pace != "" {
				note = strings.TrimSuffix(v.Pace+"; "+note, "; ")
			}
			if v.NA {
				value, note = "n/a", printable(v.Reason)
			}
			trend := v.Trend
			if trend == "" {
				trend = "—"
			}
			if err := t.Append(v.Label, value, v.Target, v.Attainment, trend, note); err != nil {
				return fmt.Errorf("write table row %s: %w", key, err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("write table for %s: %w", sc.Manager, err)
		}
	}
	return nil
}

// printable drops control characters from CRM text before it reaches a
// terminal, so a name can't carry escape sequences or break the table.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
