package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/web"
)

// browserWorld is what the browser test serves: the demo's world, synced
// from its fake CRMs into a SQLite warehouse and read through the
// application layer, as `crmkpi demo --web` and `crmkpi serve` serve it.
// Everything below reads its numbers from the Source; the Source's report
// is checked here to be `crmkpi score`'s, bit for bit.
func browserWorld(t *testing.T) (web.Source, web.Options) {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC) // the demo scores October 2026
	res, err := app.Demo(ctx, app.Env{Now: func() time.Time { return now }},
		app.DemoOptions{Dir: t.TempDir(), Managers: 6, Seed: 3, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.LoadConfig(res.ConfigPath, func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, app.Env{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	src := a.WebSource()
	p, err := app.ParsePeriod(cfg, "previous", now)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := src.Report(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	scored, err := a.Score(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(shown)
	jw, _ := json.Marshal(scored)
	if string(js) != string(jw) {
		t.Fatalf("the pages' report is not score's:\n%s\n%s", js, jw)
	}
	return src, web.Options{Kind: period.Kind(cfg.Scoring.Period), Location: cfg.Location, Listen: "127.0.0.1:0",
		Now: func() time.Time { return now }}
}

// chromium finds Debian's chromium ($CRMKPI_CHROMIUM overrides). Without
// it the test fails under CI and is skipped, saying why, elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CRMKPI_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is not installed (%v); CI must run the browser test: apt-get install chromium", err)
	}
	t.Skipf("chromium is not installed (%v): apt-get install chromium, or set CRMKPI_CHROMIUM, to run the browser test", err)
	return ""
}

type browser struct {
	t   *testing.T
	bin string
}

// run starts headless chromium on url with extra flags and returns its
// stdout. --dump-dom prints the DOM once the page has loaded, so nothing
// here waits or sleeps; the deadline only stops a hung browser.
func (b browser) run(url string, extra ...string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + b.t.TempDir()}, extra...)
	cmd := exec.CommandContext(ctx, b.bin, append(args, url)...)
	cmd.Env = append(os.Environ(), "HOME="+b.t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("chromium %s: %v\n%s", url, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func (b browser) dom(url string) string {
	b.t.Helper()
	d := string(b.run(url, "--dump-dom"))
	if !strings.Contains(d, "</html>") {
		b.t.Fatalf("chromium --dump-dom %s printed no page:\n%s", url, d)
	}
	// Escaping held in the browser too: no CRM string became an element.
	for _, tag := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(d, tag) {
			b.t.Errorf("the DOM of %s has a %s element: a CRM string got through as markup", url, tag)
		}
	}
	return d
}

// screenshot writes url at 1280×1000 to ../docs/img/name, the README's
// pictures. The same world gives the same bytes, so a run leaves the tree
// clean unless a page changed.
func (b browser) screenshot(url, name string) {
	b.t.Helper()
	file := filepath.Join(b.t.TempDir(), name)
	b.run(url, "--screenshot="+file, "--window-size=1280,1000", "--hide-scrollbars")
	png, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("chromium --screenshot %s: no PNG written (%v)", url, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// attr reads a double-quoted attribute as chromium serializes it.
func attr(tag, name string) (string, bool) {
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// number is the data-value of a shown number with the text beside it.
type shown struct {
	value string // full precision, "" for n/a
	text  string
}

// want compares what a page shows with the source's number: the data-value
// must be the number itself, bit for bit, and the text its formatting.
func want(t *testing.T, where string, got shown, v *float64, format func(float64) string) {
	t.Helper()
	if v == nil {
		if got.value != "" || got.text != "n/a" {
			t.Errorf("%s shows %q (data-value %q), want n/a", where, got.text, got.value)
		}
		return
	}
	f, err := strconv.ParseFloat(got.value, 64)
	if err != nil || f != *v {
		t.Errorf("%s: data-value %q, want %v", where, got.value, *v)
	}
	if w := format(*v); got.text != w {
		t.Errorf("%s shows %q, want %q (of %v)", where, got.text, w, *v)
	}
}

var (
	rowRE      = regexp.MustCompile(`(?s)<tr class="row"[^>]*>.*?</tr>`)
	scoreTDRE  = regexp.MustCompile(`(?s)<td class="score ?([a-z]*)"[^>]*>.*?<span class="num">([^<]*)</span>`)
	attTDRE    = regexp.MustCompile(`(?s)<td class="att[^"]*"[^>]*>.*?<span class="num">([^<]*)</span>`)
	openTagRE  = regexp.MustCompile(`^<[^>]*>`)
	managerARE = regexp.MustCompile(`<a class="manager" href="([^"]*)"`)
	cardRE     = regexp.MustCompile(`(?s)<article class="card[^"]*" data-kpi="([^"]*)">.*?</article>`)
	aRE        = regexp.MustCompile(`(?s)(<a [^>]*>)([^<]*)</a>`)
	strongRE   = regexp.MustCompile(`(?s)(<strong [^>]*>)([^<]*)</strong>`)
	explainARE = regexp.MustCompile(`<a class="explain" href="([^"]*)"`)
)

func text(s string) string { return strings.TrimSpace(html.UnescapeString(s)) }

// numberIn returns the data-name attribute and text of the first <a> or
// <strong> element in s that has it.
func numberIn(t *testing.T, where, s, name string) shown {
	t.Helper()
	for _, re := range []*regexp.Regexp{aRE, strongRE} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if v, ok := attr(m[1], name); ok {
				return shown{value: v, text: text(m[2])}
			}
		}
	}
	t.Fatalf("%s: no element with %s", where, name)
	return shown{}
}

// TestBrowser drives the pages in headless Chromium: it loads the
// leaderboard, follows the first manager's link found in the DOM, then
// that page's first KPI explanation link, and checks every score,
// attainment, value and target shown against the Source's report (the
// figures of `crmkpi score --format json`), bit for bit in data-value
// and as formatted in the text. It writes a screenshot of each page to
// docs/img.
func TestBrowser(t *testing.T) {
	b := browser{t: t, bin: chromium(t)}
	src, opt := browserWorld(t)
	h, err := web.Handler(src, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // on 127.0.0.1
	defer srv.Close()

	p, err := period.Parse("", opt.Kind, opt.Location, opt.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := src.Report(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Managers) == 0 {
		t.Fatalf("the world has no scorecards in %s: nothing to check", p.Spec())
	}
	byKey := map[string]*scoring.Scorecard{}
	for i := range rep.Managers {
		byKey[rep.Managers[i].Manager] = &rep.Managers[i]
	}

	// The leaderboard: one row per manager, best score first.
	board := b.dom(srv.URL + "/")
	rows := rowRE.FindAllString(board, -1)
	if len(rows) != len(rep.Managers) {
		t.Fatalf("leaderboard has %d rows, the report %d managers", len(rows), len(rep.Managers))
	}
	var last *float64
	for i, row := range rows {
		key, _ := attr(openTagRE.FindString(row), "data-manager")
		sc := byKey[key]
		if sc == nil {
			t.Fatalf("row %d is manager %q, who is not in the report", i+1, key)
		}
		where := "leaderboard " + key
		td := scoreTDRE.FindStringSubmatch(row)
		if td == nil {
			t.Fatalf("%s: no score cell in\n%s", where, row)
		}
		score, _ := attr(openTagRE.FindString(row[strings.Index(row, `<td class="score`):]), "data-score")
		want(t, where+" score", shown{value: score, text: text(td[2])}, sc.Score, web.PctCut)
		if got, w := td[1], web.StatusFor(sc.Score); got != w {
			t.Errorf("%s: status %q, want %q for the unrounded score %v", where, got, w, deref(sc.Score))
		}
		if i > 0 && sc.Score != nil && (last == nil || *sc.Score > *last) {
			t.Errorf("%s at row %d: its score %v ranks above the row before (%v)", where, i+1, *sc.Score, deref(last))
		}
		last = sc.Score
		cells := attTDRE.FindAllStringSubmatch(row, -1)
		if len(cells) != len(kpi.Keys) {
			t.Fatalf("%s: %d KPI cells, want %d", where, len(cells), len(kpi.Keys))
		}
		for j, c := range cells {
			tag := openTagRE.FindString(c[0])
			k, _ := attr(tag, "data-kpi")
			if k != kpi.Keys[j] {
				t.Fatalf("%s: column %d is %q, want %q", where, j+1, k, kpi.Keys[j])
			}
			a, _ := attr(tag, "data-attainment")
			var att *float64
			if sk := sc.KPIs[k]; sk != nil && sk.Value != nil {
				att = sk.Attainment
			}
			want(t, where+" "+k+" attainment", shown{value: a, text: text(c[1])}, att, web.PctCut)
		}
	}
	fresh, err := src.Freshness(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fresh {
		if !strings.Contains(board, fmt.Sprintf(`data-connector="%s"`, html.EscapeString(f.Connector))) {
			t.Errorf("leaderboard does not show the freshness of connector %s", f.Connector)
		}
	}
	b.screenshot(srv.URL+"/", "leaderboard.png")

	// The first manager's page.
	m := managerARE.FindStringSubmatch(board)
	if m == nil {
		t.Fatal("leaderboard has no manager link")
	}
	managerURL := srv.URL + html.UnescapeString(m[1])
	firstKey, _ := attr(openTagRE.FindString(rows[0]), "data-manager")
	sc := byKey[firstKey]
	page := b.dom(managerURL)
	if !strings.Contains(page, `<section class="summary" data-manager="`+html.EscapeString(firstKey)+`"`) {
		t.Fatalf("%s is not the page of %s, the first row", managerURL, firstKey)
	}
	want(t, firstKey+" overall score", numberIn(t, firstKey, page, "data-score"), sc.Score, web.PctCut)
	cards := cardRE.FindAllStringSubmatch(page, -1)
	if len(cards) != len(kpi.Keys) {
		t.Fatalf("%s: %d KPI cards, want %d", managerURL, len(cards), len(kpi.Keys))
	}
	for i, c := range cards {
		key := c[1]
		if key != kpi.Keys[i] {
			t.Fatalf("%s: card %d is %q, want %q", managerURL, i+1, key, kpi.Keys[i])
		}
		k := sc.KPIs[key]
		where := firstKey + " " + key
		unit := web.KPIDef(key, k).Unit
		format := func(v float64) string { return web.ValueText(unit, v, rep.Currency) }
		want(t, where+" value", numberIn(t, where, c[0], "data-value"), k.Value, format)
		var att *float64
		if k.Value != nil {
			att = k.Attainment
		}
		want(t, where+" attainment", numberIn(t, where, c[0], "data-attainment"), att, web.PctCut)
		tg := numberIn(t, where, c[0], "data-target")
		if f, err := strconv.ParseFloat(tg.value, 64); err != nil || f != k.Target {
			t.Errorf("%s target: data-target %q, want %v", where, tg.value, k.Target)
		}
		if c := strings.Count(c[0], "<svg"); c != 1 {
			t.Errorf("%s: %d charts, want 1", where, c)
		}
	}
	b.screenshot(managerURL, "manager.png")

	// That page's first explanation.
	e := explainARE.FindStringSubmatch(page)
	if e == nil {
		t.Fatalf("%s has no explanation link", managerURL)
	}
	explainURL := srv.URL + html.UnescapeString(e[1])
	kpiKey := kpi.Keys[0]
	ex, err := src.Explain(t.Context(), p, firstKey, kpiKey)
	if err != nil {
		t.Fatal(err)
	}
	page = b.dom(explainURL)
	if !strings.Contains(page, `data-kpi="`+kpiKey+`"`) {
		t.Fatalf("%s is not the explanation of %s", explainURL, kpiKey)
	}
	unit := web.KPIDef(kpiKey, sc.KPIs[kpiKey]).Unit
	format := func(v float64) string { return web.ValueText(unit, v, rep.Currency) }
	got := numberIn(t, explainURL, page, "data-value")
	want(t, firstKey+" "+kpiKey+" explained value", got, sc.KPIs[kpiKey].Value, format)
	want(t, firstKey+" "+kpiKey+" explanation's own value", got, ex.Value, format)
	if n := strings.Count(page, `<tr class="counts"`) + strings.Count(page, `<tr class="out"`); n != len(ex.Records) {
		t.Errorf("%s: %d record rows, want %d", explainURL, n, len(ex.Records))
	}
	b.screenshot(explainURL, "explanation.png")
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
