package notify

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/crmkpi/crmkpi/scoring"
)

// WriteExplanation writes an explanation for a terminal (crmkpi explain
// --format table): a title with the manager, KPI and period, the value
// (or n/a and why) with the arithmetic that gives it, then one row per
// record: whether it counts, what it is, its client, time (in the
// configured zone, as the explanation carries it), stage, amount in its
// currency and in the reporting one, its figure, why, and its link. CRM
// text loses its control characters, as in WriteTable.
func WriteExplanation(w io.Writer, e *scoring.Explanation) error {
	value := "n/a"
	if valid(e.Value) {
		_, f := kpiDef(e.KPI)
		value = f.value(*e.Value, e.Currency)
	}
	if e.Value == nil && e.Reason != nil {
		value += " (" + printable(*e.Reason) + ")"
	}
	if _, err := fmt.Fprintf(w, "%s — %s — %s\nValue: %s\nHow: %s\n", printable(e.Name), e.Label, e.Period.Label(), value, printable(e.Formula)); err != nil {
		return err
	}
	if len(e.Records) == 0 {
		_, err := fmt.Fprintln(w, "No records.")
		return err
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header("", "Record", "Client", "Time", "Stage", "Amount", e.Currency, "Figure", "Why", "Link")
	for _, r := range e.Records {
		mark := "✗"
		if r.Counts {
			mark = "✓"
		}
		name := r.Name
		if name == "" {
			name = r.Kind + " " + r.ID
		}
		amount := ""
		if r.Amount != nil {
			amount = strings.TrimSpace(number(*r.Amount, decimals(*r.Amount)) + " " + r.Currency)
		}
		reporting := ""
		if r.Reporting != nil {
			reporting = number(*r.Reporting, 0)
		} else if r.Amount != nil {
			reporting = "—"
		}
		figure := ""
		if r.Figure != nil {
			figure = number(*r.Figure, decimals(*r.Figure))
		}
		if err := t.Append(mark, printable(name), printable(r.Client), when(r.Time), printable(r.Stage), printable(amount), reporting,
			figure, printable(r.Why), printable(r.Link)); err != nil {
			return fmt.Errorf("write explanation row %s: %w", r.ID, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("write explanation: %w", err)
	}
	return nil
}

func when(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02 15:04")
}

// explanationCSVHeader is the header row of WriteExplanationCSV.
var explanationCSVHeader = []string{"counts", "kind", "connector", "id", "name", "client", "time", "stage",
	"amount", "currency", "amount_reporting", "figure", "owner", "why", "link"}

// WriteExplanationCSV writes an explanation's records as CSV (crmkpi
// explain --format csv, the pages' download): a header row, then one row
// per record with the JSON's fields, times in RFC 3339 in the configured
// zone, numbers in full precision. A CRM string that a spreadsheet would
// run as a formula (one starting with =, +, -, @, a tab or a carriage
// return) is written with a leading apostrophe, so opening the file runs
// nothing.
func WriteExplanationCSV(w io.Writer, e *scoring.Explanation) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(explanationCSVHeader); err != nil {
		return fmt.Errorf("write explanation csv: %w", err)
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, r := range e.Records {
		t := ""
		if r.Time != nil {
			t = r.Time.Format(time.RFC3339)
		}
		row := []string{strconv.FormatBool(r.Counts), r.Kind, inert(r.Connector), inert(r.ID), inert(r.Name), inert(r.Client), t,
			inert(r.Stage), num(r.Amount), inert(r.Currency), num(r.Reporting), num(r.Figure), inert(r.Owner), inert(r.Why), inert(r.Link)}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write explanation csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write explanation csv: %w", err)
	}
	return nil
}

// inert defuses a string a spreadsheet would take for a formula.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
