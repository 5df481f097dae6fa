package web

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

type recordRow struct {
	Kind, Connector, ID string
	Name, Client        string
	Time                string
	Stage               string
	Amount, Reporting   string
	Figure              string
	Counts              bool
	Why                 string
	Link                string // "" when it is not an http(s) address
}

type explainPage struct {
	page
	Key, Name       string
	KPI, Label      string
	Value           cell
	NA              bool
	Reason          string
	Formula         string
	Mismatch        string // set when the explanation disagrees with the scorecard
	Records         []recordRow
	Counted, Left   int
	HasStage        bool
	HasAmount       bool
	HasFigure       bool
	FigureLabel     string
	Currency        string
	ManagerURL      string
	CSVURL, JSONURL string
}

// crmLink keeps a record's CRM address only when it is http(s):
// html/template would defuse a javascript: one, but a dead "#ZgotmplZ"
// link helps nobody.
func crmLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

func sameValue(a, b *float64) bool {
	if valid(a) != valid(b) {
		return false
	}
	return !valid(a) || *a == *b
}

func (s *server) explanation(w http.ResponseWriter, r *http.Request) {
	p, ok := s.period(w, r)
	if !ok {
		return
	}
	key, kpiKey := r.PathValue("key"), r.PathValue("kpi")
	format := r.URL.Query().Get("format")
	switch format {
	case "", "html", "csv", "json":
	default:
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Unknown format %q: want html, csv or json.", format), nil)
		return
	}
	if _, known := kpi.Lookup(kpiKey); !known {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no KPI %q.", kpiKey), nil)
		return
	}
	rep, sc, ok := s.scorecard(w, r, p, key)
	if !ok {
		return
	}
	ex, err := s.src.Explain(r.Context(), p, key, kpiKey)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	switch format {
	case "csv":
		var buf bytes.Buffer
		if err := writeCSV(&buf, ex, s.opt.Location); err != nil {
			s.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(key, kpiKey, p.Spec())+`.csv"`)
		w.Write(buf.Bytes())
		return
	case "json":
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ex); err != nil {
			s.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(buf.Bytes())
		return
	}

	k := sc.KPIs[kpiKey]
	d := def(kpiKey, k)
	currency := cmp.Or(ex.Currency, rep.Currency)
	name := displayName(sc)
	ep := explainPage{page: s.page(d.Label, p, nil), Key: key, Name: name, KPI: kpiKey, Label: d.Label,
		Formula: ex.Formula, Currency: currency, ManagerURL: managerURL(key, p),
		CSVURL: explainURL(key, kpiKey, p, "csv"), JSONURL: explainURL(key, kpiKey, p, "json")}
	ep.Title = name + " · " + d.Label + " · " + p.Label()
	ep.FigureLabel = figureLabel(kpiKey)
	ep.Crumbs = append(ep.Crumbs, crumb{Text: name, URL: ep.ManagerURL})
	if valid(ex.Value) {
		ep.Value = cell{Text: valueText(d.Unit, *ex.Value, currency), Value: raw(*ex.Value)}
	} else {
		ep.NA, ep.Value = true, cell{Text: "n/a"}
		ep.Reason = "no data"
		if ex.Reason != nil {
			ep.Reason = *ex.Reason
		}
	}
	var scored *float64
	if k != nil {
		scored = k.Value
	}
	if !sameValue(ex.Value, scored) {
		shown := "n/a"
		if valid(scored) {
			shown = valueText(d.Unit, *scored, currency)
		}
		ep.Mismatch = fmt.Sprintf("The scorecard says %s; these records give %s. Please tell your sales ops.", shown, ep.Value.Text)
		s.log.WarnContext(r.Context(), "explanation differs from scorecard", "manager", key, "kpi", kpiKey, "period", p.Spec())
	}
	for _, rec := range ex.Records {
		row := recordRow{Kind: rec.Kind, Connector: rec.Connector, ID: rec.ID, Name: rec.Name, Client: rec.Client,
			Stage: rec.Stage, Counts: rec.Counts, Why: rec.Why, Link: crmLink(rec.Link)}
		if rec.Time != nil {
			row.Time = timeText(*rec.Time, s.opt.Location)
		}
		if valid(rec.Amount) {
			row.Amount = amountText(*rec.Amount, rec.Currency)
			ep.HasAmount = true
		}
		if valid(rec.Reporting) {
			row.Reporting = money(*rec.Reporting, currency)
			ep.HasAmount = true
		} else if valid(rec.Amount) {
			row.Reporting = "no rate"
		}
		if valid(rec.Figure) {
			row.Figure = figureText(d.Unit, *rec.Figure, currency)
			ep.HasFigure = true
		}
		ep.HasStage = ep.HasStage || rec.Stage != ""
		if rec.Counts {
			ep.Counted++
		} else {
			ep.Left++
		}
		ep.Records = append(ep.Records, row)
	}
	s.render(w, r, "explanation", http.StatusOK, ep)
}

// figureLabel heads the column of ExplainedRecord.Figure, whose meaning
// depends on the KPI (kpi.Def.FigureLabel).
func figureLabel(key string) string {
	if d, _ := kpi.Lookup(key); d.FigureLabel != "" {
		return d.FigureLabel
	}
	return "Figure"
}

// fileName is a download's name: the key, KPI and period with anything
// but letters, digits, "." and "-" made "_", so no quote or path ends up
// in the header.
func fileName(parts ...string) string {
	s := "crmkpi-" + strings.Join(parts, "-")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// csvHeader names the columns of the CSV download.
var csvHeader = []string{"kind", "connector", "id", "name", "client", "time", "stage",
	"amount", "currency", "amount_reporting", "reporting_currency", "figure", "counts", "why", "link"}

// textCell defuses a CRM string that a spreadsheet would run as a formula
// (OWASP "CSV injection"): one starting with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe, which spreadsheets show as
// text. Numbers are written by this package and are left alone.
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func numCell(v *float64) string {
	if !valid(v) {
		return ""
	}
	return raw(*v)
}

// writeCSV writes one row per record of e: amounts and figures at full
// precision, times in RFC 3339 in loc. It starts with a UTF-8 byte order
// mark, without which Excel reads Cyrillic names as mojibake.
func writeCSV(w io.Writer, e *scoring.Explanation, loc *time.Location) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, r := range e.Records {
		var t string
		if r.Time != nil {
			t = r.Time.In(loc).Format(time.RFC3339)
		}
		reporting := ""
		if valid(r.Reporting) {
			reporting = e.Currency
		}
		cw.Write([]string{textCell(r.Kind), textCell(r.Connector), textCell(r.ID), textCell(r.Name), textCell(r.Client), t,
			textCell(r.Stage), numCell(r.Amount), textCell(r.Currency), numCell(r.Reporting), reporting, numCell(r.Figure),
			strconv.FormatBool(r.Counts), textCell(r.Why), textCell(crmLink(r.Link))})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write explanation CSV: %w", err)
	}
	return nil
}
