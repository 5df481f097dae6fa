package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/demo"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// The demo world of the end-to-end tests: small, and fixed in time, so
// that it is the same world every day. demoNow is the first instant of
// November in the demo's Moscow time, the moment the world ends
// (demo.Anchor); TestDemoSameWorldAllMonth runs it again at the month's
// last second.
const (
	demoSeed     = 7
	demoManagers = 4
	demoNow      = "2026-10-31T21:00:00Z"
	demoPeriod   = "2026-10"
)

// demoRun is what one demo left: its result, the table it printed and
// what it told on stderr.
type demoRun struct {
	res                    *DemoResult
	table, preview, stderr string
	lookup                 func(string) (string, bool)
}

// runDemo runs the demo in-process, as `crmkpi demo` does, with vars as
// its whole environment.
func runDemo(t testing.TB, o DemoOptions, vars map[string]string) (demoRun, error) {
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	var out, preview, errOut bytes.Buffer
	r := redact.New()
	env := Env{Logger: NewLogger(&errOut, false, LogLevel(""), r), Redactor: r, Stderr: &errOut}
	o.Lookup, o.Stdout, o.Preview = lookup, &out, &preview
	res, err := Demo(context.Background(), env, o)
	return demoRun{res: res, table: out.String(), preview: preview.String(), stderr: errOut.String(), lookup: lookup}, err
}

// sharedDemo is the demo of demoSeed and demoManagers on SQLite at
// demoNow, run once for the tests that only read what it made.
var sharedDemo struct {
	once sync.Once
	dir  string
	run  demoRun
	err  error
}

// theDemo returns sharedDemo, running it the first time.
func theDemo(t *testing.T) demoRun {
	t.Helper()
	sharedDemo.once.Do(func() {
		sharedDemo.dir, sharedDemo.err = os.MkdirTemp("", "crmkpi-app-test-")
		if sharedDemo.err != nil {
			return
		}
		sharedDemo.run, sharedDemo.err = runDemo(t, DemoOptions{Dir: sharedDemo.dir, Managers: demoManagers, Seed: demoSeed, Now: mustTime(t, demoNow)}, nil)
	})
	if sharedDemo.err != nil {
		t.Fatalf("the demo: %v\nstderr:\n%s", sharedDemo.err, sharedDemo.run.stderr)
	}
	return sharedDemo.run
}

// TestMain removes the shared demo's directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDemo.dir != "" {
		os.RemoveAll(sharedDemo.dir)
	}
	os.Exit(code)
}

// scored is a period scored from a config as `crmkpi score` does: the
// table it prints and its --format json.
type scored struct {
	table, json string
}

func scoreConfig(t *testing.T, cfgPath, spec string, lookup func(string) (string, bool)) scored {
	t.Helper()
	r := redact.New()
	cfg, err := LoadConfig(cfgPath, lookup, r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, Env{Redactor: r})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p, err := ParsePeriod(cfg, spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Score(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var table, js bytes.Buffer
	if err := notify.WriteTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	return scored{table.String(), js.String()}
}

func TestDemoSQLite(t *testing.T) {
	t.Parallel()
	checkDemo(t, theDemo(t))
}

// TestDemoPostgres runs the demo into a fresh schema of the test database
// ($CRMKPI_TEST_POSTGRES); it skips when the server does not answer (and
// fails then when $CI is "true").
func TestDemoPostgres(t *testing.T) {
	t.Parallel()
	s := warehousetest.NewPostgres(t) // a fresh, migrated schema, dropped at the end
	d, err := runDemo(t, DemoOptions{Dir: t.TempDir(), Managers: demoManagers, Seed: demoSeed, Now: mustTime(t, demoNow)},
		map[string]string{"WAREHOUSE_DSN": synctest.SchemaDSN(warehousetest.PostgresURL(), s.Schema())})
	if err != nil {
		t.Fatalf("the demo: %v\nstderr:\n%s", err, d.stderr)
	}
	checkDemo(t, d)
}

// checkDemo checks what a demo left, then scores its config as `crmkpi
// score --format json` would, and checks the scorecards against figures
// computed here from the world's truth (demo.Generate with the same seed
// and time), not from anything the pipeline stored.
func checkDemo(t *testing.T, d demoRun) {
	dir := d.res.Dir
	for _, f := range []string{"crmkpi.yaml", "slack-preview.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the demo did not write %s: %v", f, err)
		}
	}
	var preview any
	if b, err := os.ReadFile(filepath.Join(dir, "slack-preview.json")); err != nil || json.Unmarshal(b, &preview) != nil {
		t.Errorf("slack-preview.json is not JSON: %v", err)
	}
	for _, want := range []string{filepath.Join(dir, "crmkpi.yaml"), "slack-preview.json", "crmkpi score --config", "crmkpi status --config"} {
		if !strings.Contains(d.stderr, want) {
			t.Errorf("the demo's stderr does not mention %q:\n%s", want, d.stderr)
		}
	}

	now, _ := time.Parse(time.RFC3339, demoNow)
	w := demo.Generate(demo.Options{Seed: demoSeed, Managers: demoManagers, Now: demo.Anchor(now)})
	msk, err := time.LoadLocation(demo.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, msk)
	end := start.AddDate(0, 1, 0)
	want := expectScorecards(w, start, end)

	// The demo's table: a block per seeded manager with scorecard, each
	// with all nine KPIs.
	table := d.table
	blocks := strings.Split(table, "\n\n")
	if len(blocks) != len(want) {
		t.Errorf("the demo printed %d scorecards, want %d:\n%s", len(blocks), len(want), table)
	}
	for _, m := range w.Managers {
		if _, ok := want[m.Key]; !ok {
			continue
		}
		i := slices.IndexFunc(blocks, func(b string) bool {
			return strings.HasPrefix(b, m.Name+" ("+m.Team+") — October 2026 — score ")
		})
		if i < 0 {
			t.Errorf("the demo's table has no scorecard for %s (%s):\n%s", m.Name, m.Key, table)
			continue
		}
		for _, d := range kpi.Table {
			if l := d.Label; !strings.Contains(blocks[i], "│ "+l+" ") {
				t.Errorf("%s's scorecard has no row %q:\n%s", m.Name, l, blocks[i])
			}
		}
	}

	// The same warehouse read back by `crmkpi score`, as a user would.
	cfgPath := filepath.Join(dir, "crmkpi.yaml")
	sc := scoreConfig(t, cfgPath, demoPeriod, d.lookup)
	scoreJSON := sc.json
	var rep struct {
		Period struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"period"`
		Currency string `json:"currency"`
		Managers []struct {
			Manager string `json:"manager"`
			Name    string `json:"name"`
			Team    string `json:"team"`
			KPIs    map[string]struct {
				Value   *float64       `json:"value"`
				Details map[string]any `json:"details"`
			} `json:"kpis"`
		} `json:"managers"`
	}
	if err := json.Unmarshal([]byte(scoreJSON), &rep); err != nil {
		t.Fatalf("score --format json: %v\n%s", err, scoreJSON)
	}
	if !rep.Period.Start.Equal(start) || !rep.Period.End.Equal(end) || rep.Currency != demo.Currency {
		t.Errorf("score period [%s, %s) in %s, want [%s, %s) in %s", rep.Period.Start, rep.Period.End, rep.Currency, start, end, demo.Currency)
	}
	var gotKeys, wantKeys []string
	for _, sc := range rep.Managers {
		gotKeys = append(gotKeys, sc.Manager)
	}
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("managers with scorecards (-want +got):\n%s", diff)
	}
	for _, sc := range rep.Managers {
		e, ok := want[sc.Manager]
		if !ok {
			continue
		}
		m, _ := w.ManagerByKey(sc.Manager)
		if sc.Name != m.Name || sc.Team != m.Team {
			t.Errorf("%s: name %q team %q, want %q %q", sc.Manager, sc.Name, sc.Team, m.Name, m.Team)
		}
		if len(sc.KPIs) != len(kpi.Keys) {
			t.Errorf("%s: %d KPIs, want %d", sc.Manager, len(sc.KPIs), len(kpi.Keys))
		}
		check := func(what string, got any, want float64) {
			t.Helper()
			g, ok := number(got)
			if !ok || math.Abs(g-want) > 0.051 {
				t.Errorf("%s: %s = %v, want %.1f", sc.Manager, what, got, want)
			}
		}
		cw := sc.KPIs["closed_won"]
		check("closed_won", cw.Value, float64(e.won))
		check("closed_won.details.won", cw.Details["won"], float64(e.won))
		check("closed_won.details.lost", cw.Details["lost"], float64(e.lost))
		check("closed_won.details.revenue", cw.Details["revenue"], round1(e.revenue))
		if e.won+e.lost == 0 {
			if cw.Details["win_rate"] != nil {
				t.Errorf("%s: win_rate = %v, want null (no deal closed)", sc.Manager, cw.Details["win_rate"])
			}
		} else {
			check("closed_won.details.win_rate", cw.Details["win_rate"], round1(100*float64(e.won)/float64(e.won+e.lost)))
		}
		check("new_deals", sc.KPIs["new_deals"].Value, float64(e.newDeals))
		pen := sc.KPIs["penetration"]
		check("penetration.details.revenue", pen.Details["revenue"], round1(e.revenue))
		check("penetration.details.expansion_revenue", pen.Details["expansion_revenue"], round1(e.expansion))
		if e.revenue > 0 {
			check("penetration", pen.Value, round1(100*e.expansion/e.revenue))
		} else if pen.Value != nil {
			t.Errorf("%s: penetration = %v, want n/a (no revenue)", sc.Manager, *pen.Value)
		}
		check("team_contribution", sc.KPIs["team_contribution"].Value, float64(e.teamTasks))
		rt := sc.KPIs["response_time"]
		check("response_time.details.inbound", rt.Details["inbound"], float64(len(e.responses)))
		check("response_time.details.unanswered", rt.Details["unanswered"], float64(e.unanswered))
		if len(e.responses) > 0 {
			check("response_time", rt.Value, round1(median(e.responses)))
		} else if rt.Value != nil {
			t.Errorf("%s: response_time = %v, want n/a (no inbound activity)", sc.Manager, *rt.Value)
		}
		if e.served > 0 {
			check("cost_per_client", sc.KPIs["cost_per_client"].Value, round1(e.cost/float64(e.served)))
		} else if v := sc.KPIs["cost_per_client"].Value; v != nil {
			t.Errorf("%s: cost_per_client = %v, want n/a (no client served)", sc.Manager, *v)
		}
		sat := sc.KPIs["satisfaction"]
		check("satisfaction.details.answers", sat.Details["answers"], float64(e.answers))
		if e.answers > 0 {
			check("satisfaction", sat.Value, round1(100*float64(e.promoters-e.detractors)/float64(e.answers)))
		}
	}

	// The demo's table is the same report `crmkpi score` prints.
	if got := sc.table; got != table {
		t.Errorf("crmkpi score prints another table than the demo did (-demo +score):\n%s", cmp.Diff(table, got))
	}
}

// expected holds one manager's figures for the period, computed from the
// world's truth by the rules of KPIS.md.
type expected struct {
	won, lost, newDeals int
	revenue, expansion  float64
	teamTasks           int
	answers             int
	promoters           int
	detractors          int
	// responses are the hours to the first answer of each inbound
	// activity on the manager's clients (168 when unanswered or later).
	responses  []float64
	unanswered int
	// cost is the activity costs and deal expenses of cost_per_client, in
	// the reporting currency; served the distinct clients it is split on.
	cost   float64
	served int
}

// demoCosts are the demo config's scoring.costs, per activity type.
var demoCosts = map[string]float64{demo.Call: 300, demo.Email: 50, demo.Meeting: 2000, demo.Message: 20, demo.Task: 0, demo.Note: 0}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// expectScorecards computes, for [start, end), which managers get a
// scorecard and their figures, straight from w.
func expectScorecards(w *demo.World, start, end time.Time) map[string]*expected {
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	rate := func(cur string) float64 {
		if cur == demo.Currency {
			return 1
		}
		return demo.FXRates[cur]
	}
	// Client owners: the company's responsible user, or for a private
	// client the contact's.
	owner := map[string]string{}
	for _, c := range w.Companies {
		owner[string(c.CRM)+"/company/"+c.ID] = c.Owner
	}
	for _, c := range w.Contacts {
		if c.CompanyID == "" {
			owner[string(c.CRM)+"/contact/"+c.ID] = c.Owner
		}
	}
	var deals []demo.Deal
	for _, d := range w.Deals {
		if !d.Deleted {
			deals = append(deals, d)
		}
	}
	// wonBefore reports whether d's client had a won deal closed before d.
	wonBefore := func(d demo.Deal) bool {
		for _, o := range deals {
			if o.Client() == d.Client() && o.Status == demo.StatusWon && o.ClosedAt.Before(d.ClosedAt) {
				return true
			}
		}
		return false
	}

	out := map[string]*expected{}
	get := func(k string) *expected {
		if out[k] == nil {
			out[k] = &expected{}
		}
		return out[k]
	}
	lookbackStart := start.Add(-365 * 24 * time.Hour)
	for _, d := range deals {
		if in(d.CreatedAt) || in(d.ClosedAt) {
			get(d.Owner)
		}
		if d.Status == demo.StatusWon && !d.ClosedAt.Before(lookbackStart) && d.ClosedAt.Before(start) {
			get(owner[d.Client()]) // a client active at start
		}
		if !in(d.ClosedAt) {
			continue
		}
		e := get(d.Owner)
		switch d.Status {
		case demo.StatusWon:
			e.won++
			rev := d.Amount * rate(d.Currency)
			e.revenue += rev
			if wonBefore(d) {
				e.expansion += rev
			} else {
				e.newDeals++
			}
		case demo.StatusLost:
			e.lost++
		}
	}
	// The client of an activity (KPIS.md): its company; else its deal's
	// client; else its contact's company; else its contact.
	dealOf := map[string]demo.Deal{}
	for _, d := range deals {
		dealOf[string(d.CRM)+"/"+d.ID] = d
	}
	contactCompany := map[string]string{}
	for _, c := range w.Contacts {
		contactCompany[string(c.CRM)+"/"+c.ID] = c.CompanyID
	}
	clientOf := func(a demo.Activity) string {
		switch {
		case a.CompanyID != "":
			return string(a.CRM) + "/company/" + a.CompanyID
		case a.DealID != "":
			if d, ok := dealOf[string(a.CRM)+"/"+a.DealID]; ok {
				return d.Client()
			}
		}
		if a.ContactID == "" {
			return ""
		}
		if co := contactCompany[string(a.CRM)+"/"+a.ContactID]; co != "" {
			return string(a.CRM) + "/company/" + co
		}
		return string(a.CRM) + "/contact/" + a.ContactID
	}
	// An answer: an outbound e-mail or message, an outbound call that
	// connected, or a meeting; never a task, a note or a failed dial.
	answers := func(a demo.Activity) bool {
		switch a.Type {
		case demo.Email, demo.Message:
			return a.Direction == demo.Outbound
		case demo.Call:
			return a.Direction == demo.Outbound && (a.Connected == nil || *a.Connected)
		}
		return a.Type == demo.Meeting
	}
	served := map[string]map[string]bool{}
	serve := func(m, client string) {
		if client == "" {
			return
		}
		if served[m] == nil {
			served[m] = map[string]bool{}
		}
		served[m][client] = true
	}
	for _, a := range w.Activities {
		if a.Owner == "" || !in(a.At) {
			continue
		}
		e := get(a.Owner)
		if a.Type == demo.Task && a.Completed && strings.Contains(a.Subject, demo.TeamTag) {
			e.teamTasks++
		}
		e.cost += demoCosts[a.Type]
		serve(a.Owner, clientOf(a))
	}
	for _, d := range deals {
		if d.Status == demo.StatusWon && in(d.ClosedAt) {
			if d.Expense != nil {
				get(d.Owner).cost += *d.Expense * rate(d.Currency)
			}
			serve(d.Owner, d.Client())
		}
	}
	for m, cs := range served {
		get(m).served = len(cs)
	}
	for _, q := range w.Activities {
		if q.Direction != demo.Inbound || !in(q.At) || (q.Type != demo.Call && q.Type != demo.Email && q.Type != demo.Message) {
			continue
		}
		client := clientOf(q)
		m, ok := owner[client]
		if !ok {
			continue
		}
		h := 168.0
		for _, a := range w.Activities {
			if a.Owner == m && answers(a) && !a.At.Before(q.At) && clientOf(a) == client {
				if d := a.At.Sub(q.At).Hours(); d < h {
					h = d
				}
			}
		}
		e, ok := out[m]
		if !ok {
			continue // questions alone give no scorecard
		}
		if h >= 168 && !slices.ContainsFunc(w.Activities, func(a demo.Activity) bool {
			return a.Owner == m && answers(a) && clientOf(a) == client && a.At.Sub(q.At) == 168*time.Hour
		}) {
			e.unanswered++
		}
		e.responses = append(e.responses, h)
	}
	// A manager deactivated in every CRM, whom the demo's one sync sees
	// inactive from the start, has left at their last own work: a deal
	// created or closed, an activity. A period starting at or after it has
	// no scorecard for them (docs/kpis.md, Managers).
	for _, m := range w.Managers {
		if m.Active {
			continue
		}
		var last time.Time
		later := func(t time.Time) {
			if t.After(last) && !t.After(w.Now) {
				last = t
			}
		}
		for _, d := range deals {
			if d.Owner == m.Key {
				later(d.CreatedAt)
				if d.Status != demo.StatusOpen {
					later(d.ClosedAt)
				}
			}
		}
		for _, a := range w.Activities {
			if a.Owner == m.Key {
				later(a.At)
			}
		}
		if !start.Before(last) {
			delete(out, m.Key)
		}
	}
	for _, c := range w.Contacts {
		if c.NPS == nil || !in(c.NPSAt) {
			continue
		}
		client := string(c.CRM) + "/company/" + c.CompanyID
		if c.CompanyID == "" {
			client = string(c.CRM) + "/contact/" + c.ID
		}
		e, ok := out[owner[client]]
		if !ok {
			// Answers alone give no scorecard; a manager without one
			// has nothing to compare.
			continue
		}
		e.answers++
		switch {
		case *c.NPS >= 9:
			e.promoters++
		case *c.NPS <= 6:
			e.detractors++
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// TestDemoSameWorldAllMonth runs the demo at two clocks in one month (in
// the demo's Moscow time) and wants the same scorecards: the world is
// anchored to the start of the month, not to the moment of the run. The
// first clock is the shared demo's: 1 Nov 00:00 MSK; the second is 30 Nov
// 23:59:59 MSK.
func TestDemoSameWorldAllMonth(t *testing.T) {
	t.Parallel()
	// The late demo runs while the shared one is made for the other tests.
	late, err := runDemo(t, DemoOptions{Dir: t.TempDir(), Managers: demoManagers, Seed: demoSeed, Now: mustTime(t, "2026-11-30T20:59:59Z")}, nil)
	if err != nil {
		t.Fatalf("the demo at the end of the month: %v\n%s", err, late.stderr)
	}
	tables := []string{theDemo(t).table, late.table}
	if tables[0] != tables[1] {
		t.Errorf("the demo's scorecards differ within one month:\n--- at the start:\n%s\n--- at the end:\n%s", tables[0], tables[1])
	}
	if !strings.Contains(tables[0], "October 2026") {
		t.Errorf("the demo in November scores October:\n%s", tables[0])
	}
}

// TestNotifyDryRunIsWhatNotifyPosts: on the demo's warehouse, with a
// channel, team channels and DMs configured, notify --dry-run lists the
// messages in the order notify posts them, and --manager previews one DM,
// whatever its case; a manager without a scorecard is a NoScorecardError.
func TestNotifyDryRunIsWhatNotifyPosts(t *testing.T) {
	t.Parallel()
	d := theDemo(t)
	b, err := os.ReadFile(d.res.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "direct_messages: false", "direct_messages: true\n    team_channels: {enterprise: '#kpi-ent', smb: '#kpi-smb'}", 1)
	if cfg == string(b) {
		t.Fatal("the demo's config has no direct_messages: false to replace")
	}
	cfgPath := writeFile(t, t.TempDir(), "crmkpi.yaml", cfg)
	r := redact.New()
	c, err := LoadConfig(cfgPath, d.lookup, r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), c, Env{Redactor: r})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p, err := ParsePeriod(c, demoPeriod, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Score(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	dryRun := func(manager string) (string, error) {
		var out bytes.Buffer
		err := a.Notify(context.Background(), rep, NotifyOptions{DryRun: true, Manager: manager, Out: &out})
		return out.String(), err
	}
	var doc struct {
		Messages []struct{ Recipient, Channel string }
	}
	out, err := dryRun("")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range doc.Messages {
		got = append(got, m.Recipient+" → "+m.Channel)
	}
	want := []string{"channel:#sales-kpi → #sales-kpi"}
	for _, team := range []string{"enterprise", "smb"} {
		if slices.ContainsFunc(rep.Managers, func(m scoring.Scorecard) bool { return m.Team == team }) {
			want = append(want, "team:"+team+" → #kpi-"+team[:3])
		}
	}
	w := demo.Generate(demo.Options{Seed: demoSeed, Managers: demoManagers, Now: demo.Anchor(mustTime(t, demoNow))})
	for _, sc := range rep.Managers {
		m, _ := w.ManagerByKey(sc.Manager)
		ch := m.SlackID
		if ch == "" {
			ch = m.Email()
		}
		want = append(want, sc.Manager+" → "+ch)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notify --dry-run messages (-want +got):\n%s", diff)
	}

	one := rep.Managers[0].Manager
	out, err = dryRun(strings.ToUpper(one))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Messages) != 1 || doc.Messages[0].Recipient != one {
		t.Errorf("notify --dry-run --manager %s = %+v, want that manager's DM alone", one, doc.Messages)
	}
	if _, err := dryRun("nobody@example.com"); !errors.As(err, new(*NoScorecardError)) {
		t.Errorf("a dry run of nobody@example.com: %v, want a NoScorecardError", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDemoPrintsSlackPreview: after the scorecards the demo prints the
// channel message of its Slack preview as text, the message
// slack-preview.json holds first: its header and the leaderboard, led by
// the top score of the report.
func TestDemoPrintsSlackPreview(t *testing.T) {
	d := theDemo(t)
	doc, err := os.ReadFile(d.res.PreviewPath)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := notify.Preview(&want, doc); err != nil {
		t.Fatal(err)
	}
	if d.preview != "\n"+want.String() {
		t.Errorf("the demo printed the preview\n%s\nwant\n%s", d.preview, want.String())
	}
	top := d.res.Report.Managers[0]
	for _, line := range []string{"Slack message to #sales-kpi:\n", "  🏆 All teams — October 2026\n", "  Leaderboard\n", "  1. 🟢 "} {
		if !strings.Contains(d.preview, line) {
			t.Errorf("the preview lacks %q:\n%s", line, d.preview)
		}
	}
	if !strings.Contains(d.preview, top.Name+" ("+top.Team+")") {
		t.Errorf("the preview lacks the leader %s:\n%s", top.Name, d.preview)
	}
}
