package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/internal/golden"
	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/web"
	"github.com/crmkpi/crmkpi/web/webtest"
)

func handler(t *testing.T, src web.Source, o web.Options) http.Handler {
	t.Helper()
	h, err := web.Handler(src, o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Result().Header, rec.Body.String()}
}

// page is the address of a manager's page or explanation in October.
func page(manager string, kpiKey ...string) string {
	u := "/managers/" + url.PathEscape(manager)
	if len(kpiKey) > 0 {
		u += "/kpis/" + kpiKey[0]
	}
	return u + "?period=2026-10"
}

// fixturePages are every page of the fixture with CRM text on it.
func fixturePages() []string {
	out := []string{"/", "/?period=2026-10"}
	for _, m := range []string{webtest.Anna, webtest.Boris, webtest.Dana, webtest.Carl} {
		out = append(out, page(m))
	}
	return append(out, page(webtest.Anna, kpi.Satisfaction), page(webtest.Anna, kpi.ClosedWon),
		page(webtest.Boris, kpi.Satisfaction), page(webtest.Carl, kpi.Satisfaction))
}

// TestEscaping renders every page of the fixture, whose CRM strings are
// markup (a deal and a contact named <script>…, a manager named "><img…,
// a key full of URL and HTML characters, a javascript: record link), and
// checks that none reaches the page as markup: not in text, attributes,
// SVG titles or links.
func TestEscaping(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	raw := []string{webtest.ScriptName, webtest.ImgName, webtest.Carl, webtest.BadLink, "<b>", "onerror=alert(1)>"}
	for _, u := range fixturePages() {
		a := get(t, h, "GET", u)
		if a.code != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200:\n%s", u, a.code, a.body)
		}
		for _, s := range raw {
			if strings.Contains(a.body, s) {
				t.Errorf("GET %s: the page holds %q unescaped", u, s)
			}
		}
	}

	// Each context, where the fixture puts a CRM string in it.
	board := get(t, h, "GET", "/").body
	boris := get(t, h, "GET", page(webtest.Boris)).body
	carl := get(t, h, "GET", page(webtest.Carl)).body
	won := get(t, h, "GET", page(webtest.Anna, kpi.ClosedWon)).body
	sat := get(t, h, "GET", page(webtest.Anna, kpi.Satisfaction)).body
	for _, c := range []struct{ what, body, want string }{
		{"manager name as text", board, `>Boris &#34;&gt;&lt;img src=x onerror=alert(1)&gt; Ivanov</a>`},
		{"manager name in the page title", boris, `<title>Boris &#34;&gt;&lt;img src=x onerror=alert(1)&gt; Ivanov · October 2026 · crmkpi</title>`},
		{"manager name in an SVG title", boris, `<title id="chart-score-title">Boris &#34;&gt;&lt;img src=x onerror=alert(1)&gt; Ivanov: overall score, last 12 periods</title>`},
		{"team as text", board, `<span class="team">smb &amp; mid</span>`},
		{"key in an attribute", board, `data-manager="amo:9/0&#34;1?x=&lt;b&gt;#&amp;"`},
		{"key in a link", board, `href="/managers/amo:9%2F0%221%3Fx=%3Cb%3E%23&amp;?period=2026-10"`},
		{"key in a form action", carl, `action="/managers/amo:9%2F0%221%3Fx=%3Cb%3E%23&amp;"`},
		{"key as text", carl, `<p class="team">Team smb &amp; mid · amo:9/0&#34;1?x=&lt;b&gt;#&amp;</p>`},
		{"deal name as text", won, `<th scope="row" data-label="Record">&lt;script&gt;alert(1)&lt;/script&gt; <small>`},
		{"contact name as text", sat, `&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"client as text", sat, `<td data-label="Client">=HYPERLINK(&#34;https://evil.example/&#34;,&#34;click&#34;)</td>`},
		{"a javascript: link is not a link", sat, `<tr class="counts" data-id="5102">`},
	} {
		if !strings.Contains(c.body, c.want) {
			t.Errorf("%s: want %s", c.what, c.want)
		}
	}
	// The javascript: record has no link at all; every other one has its own.
	if n, want := strings.Count(sat, `class="crm"`), 11; n != want {
		t.Errorf("satisfaction explanation has %d CRM links, want %d (12 records, one javascript:)", n, want)
	}
	if !strings.Contains(sat, `href="https://app.hubspot.com/contacts/4711/record/0-1/5101"`) {
		t.Error("the first record's CRM link is missing")
	}
}

// TestCSV checks the download against a golden file, and that every cell
// a spreadsheet would run as a formula is defused while numbers are not.
func TestCSV(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	for _, k := range []string{kpi.ClosedWon, kpi.Satisfaction} {
		a := download(t, h, k, "csv", "text/csv; charset=utf-8")
		if got, want := a.header.Get("Content-Disposition"), `attachment; filename="crmkpi-anna_example.com-`+k+`-2026-10.csv"`; got != want {
			t.Errorf("Content-Disposition = %s, want %s", got, want)
		}
		golden.Text(t, filepath.Join("testdata", k+".csv"), a.body)

		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(a.body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		ex, _ := src.Explain(t.Context(), webtest.October, webtest.Anna, k)
		if len(rows) != len(ex.Records)+1 {
			t.Fatalf("CSV of %s: %d rows, want a header and %d records", k, len(rows), len(ex.Records))
		}
		for i, row := range rows[1:] {
			for j, cell := range row {
				if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) || strings.HasPrefix(cell, "-") && !numeric(cell) {
					t.Errorf("CSV of %s, record %d, column %s: %q would run as a formula", k, i+1, rows[0][j], cell)
				}
			}
		}
	}
	a := get(t, h, "GET", page(webtest.Anna, kpi.Satisfaction)+"&format=csv")
	for _, want := range []string{`'=HYPERLINK(""https://evil.example/"",""click"")`, `'@risk Holdings`, `'-Minus Ltd`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("satisfaction CSV does not hold %s", want)
		}
	}
}

// download fetches Anna's October explanation of k as format (csv, json),
// and stops the test unless it is served as contentType.
func download(t *testing.T, h http.Handler, k, format, contentType string) answer {
	t.Helper()
	a := get(t, h, "GET", page(webtest.Anna, k)+"&format="+format)
	if a.code != http.StatusOK || a.header.Get("Content-Type") != contentType {
		t.Fatalf("%s of %s: %d %s", strings.ToUpper(format), k, a.code, a.header.Get("Content-Type"))
	}
	return a
}

func numeric(s string) bool { return regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`).MatchString(s) }

// TestJSON checks that ?format=json is the explanation itself.
func TestJSON(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	for _, k := range []string{kpi.ClosedWon, kpi.Satisfaction} {
		a := download(t, h, k, "json", "application/json; charset=utf-8")
		var got scoring.Explanation
		if err := json.Unmarshal([]byte(a.body), &got); err != nil {
			t.Fatal(err)
		}
		want, _ := src.Explain(t.Context(), webtest.October, webtest.Anna, k)
		if diff := cmp.Diff(want, &got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("JSON of %s mismatch (-want +got):\n%s", k, diff)
		}
		if strings.Contains(a.body, "<script>") {
			t.Errorf("JSON of %s holds <script> unescaped", k)
		}
	}
}

// TestReadOnly checks that only GET and HEAD are served, on every route.
func TestReadOnly(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	for _, u := range []string{"/", page(webtest.Anna), page(webtest.Anna, kpi.ClosedWon), "/static/crmkpi.css", "/nowhere"} {
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			a := get(t, h, m, u)
			if a.code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 405", m, u, a.code)
			}
			if got := a.header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q, want \"GET, HEAD\"", m, u, got)
			}
		}
		g, hd := get(t, h, "GET", u), get(t, h, "HEAD", u)
		if hd.code != g.code || hd.header.Get("Content-Type") != g.header.Get("Content-Type") {
			t.Errorf("HEAD %s = %d %s, want GET's %d %s", u, hd.code, hd.header.Get("Content-Type"), g.code, g.header.Get("Content-Type"))
		}
	}
	// Over a real connection, HEAD answers without a body.
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := srv.Client().Head(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 and none", res.StatusCode, len(body))
	}
}

// TestHeaders checks what every answer carries: a policy that runs no
// script, no caching, no framing, no referrer.
func TestHeaders(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	for _, u := range []string{"/", page(webtest.Anna), "/nowhere"} {
		a := get(t, h, "GET", u)
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
			"Cache-Control":           "no-store",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := a.header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", u, k, got, want)
			}
		}
	}
	if a := get(t, h, "GET", "/static/crmkpi.css"); a.code != 200 || a.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(a.body, "@media (max-width: 600px)") {
		t.Errorf("GET /static/crmkpi.css = %d %s", a.code, a.header.Get("Content-Type"))
	}
	if a := get(t, h, "GET", "/"); !strings.Contains(a.body, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
		t.Error("the leaderboard has no viewport meta: unreadable on a phone")
	}
}

// TestAuth checks both kinds of web.auth: the right credentials pass,
// anything else is 401 with a challenge and without the secret.
func TestAuth(t *testing.T) {
	src := webtest.Fixture()
	basic := func(user, pass string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	const token, password = "SECRET-tok-1234567890", "SECRET-pw-äöü"
	tests := []struct {
		name  string
		auth  config.WebAuth
		authz string // Authorization header
		want  int
	}{
		{"token: none", config.WebAuth{Token: token}, "", 401},
		{"token: bearer", config.WebAuth{Token: token}, "Bearer " + token, 200},
		{"token: bearer, any case", config.WebAuth{Token: token}, "bearer " + token, 200},
		{"token: wrong bearer", config.WebAuth{Token: token}, "Bearer " + token + "x", 401},
		{"token: a prefix", config.WebAuth{Token: token}, "Bearer " + token[:10], 401},
		{"token: as a browser's password", config.WebAuth{Token: token}, basic("anyone", token), 200},
		{"token: wrong password", config.WebAuth{Token: token}, basic("anyone", "nope"), 401},
		{"basic: right", config.WebAuth{Basic: config.BasicAuth{User: "sales", Password: password}}, basic("sales", password), 200},
		{"basic: wrong user", config.WebAuth{Basic: config.BasicAuth{User: "sales", Password: password}}, basic("ops", password), 401},
		{"basic: wrong password", config.WebAuth{Basic: config.BasicAuth{User: "sales", Password: password}}, basic("sales", "x"), 401},
		{"basic: none", config.WebAuth{Basic: config.BasicAuth{User: "sales", Password: password}}, "", 401},
		{"basic: a bearer", config.WebAuth{Basic: config.BasicAuth{User: "sales", Password: password}}, "Bearer " + password, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := src.Options()
			o.Listen, o.Auth = "0.0.0.0:9090", tt.auth
			h := handler(t, src, o)
			for _, u := range []string{"/", page(webtest.Anna), page(webtest.Anna, kpi.ClosedWon) + "&format=csv", "/static/crmkpi.css", "/nowhere"} {
				var a answer
				if tt.authz == "" {
					a = get(t, h, "GET", u)
				} else {
					a = get(t, h, "GET", u, "Authorization", tt.authz)
				}
				if tt.want == 401 && a.code != 401 || tt.want == 200 && a.code == 401 {
					t.Fatalf("GET %s = %d, want %d", u, a.code, tt.want)
				}
				if a.code != 401 {
					continue
				}
				ch := a.header.Values("WWW-Authenticate")
				if !strings.Contains(strings.Join(ch, ", "), `Basic realm="crmkpi", charset="UTF-8"`) {
					t.Errorf("GET %s: WWW-Authenticate %q, want a Basic challenge", u, ch)
				}
				if strings.Contains(a.body, "SECRET") || strings.Contains(a.body, "Anna") {
					t.Errorf("GET %s: the 401 page shows a secret or a scorecard:\n%s", u, a.body)
				}
			}
		})
	}
}

// TestListenNeedsAuth checks that the pages refuse to be served off
// loopback without web.auth, and are served on loopback or with auth.
func TestListenNeedsAuth(t *testing.T) {
	src := webtest.Fixture()
	for _, listen := range []string{":9090", "0.0.0.0:9090", "[::]:9090", "192.168.1.5:9090", "kpi.example.com:443", "", "garbage"} {
		o := src.Options()
		o.Listen = listen
		h, err := web.Handler(src, o)
		if ie, ok := errors.AsType[*web.InsecureListenError](err); !ok || ie.Listen != listen || h != nil {
			t.Errorf("Handler(Listen %q, no auth) = %v, %v; want nil, *InsecureListenError", listen, h, err)
		}
		if err != nil && !strings.Contains(err.Error(), "web.auth") {
			t.Errorf("Handler(Listen %q) error %q does not say what to set", listen, err)
		}
		o.Auth = config.WebAuth{Token: "t"}
		if _, err := web.Handler(src, o); err != nil {
			t.Errorf("Handler(Listen %q, token) = %v, want it served", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:8080", "127.0.0.2:80", "[::1]:8080", "localhost:8080", "LOCALHOST:1"} {
		o := src.Options()
		o.Listen = listen
		if _, err := web.Handler(src, o); err != nil {
			t.Errorf("Handler(Listen %q, no auth) = %v, want it served on loopback", listen, err)
		}
	}
}

// TestPeriods checks the selector's periods of every kind, the default,
// and a bad or future one.
func TestPeriods(t *testing.T) {
	src := webtest.Fixture()
	checkPages(t, handler(t, src, src.Options()), []pageCase{
		{"/", 200, `<h1>Leaderboard <span class="period">October 2026</span></h1>`},
		{"/?period=2026-10", 200, `<a href="/?period=2026-10" title="2026-10: 2026-10-01 – 2026-10-31" aria-current="page" class="selected">Oct 2026</a>`},
		{"/?period=2026-W43", 200, `<h1>Leaderboard <span class="period">2026-W43</span></h1>`},
		{"/?period=2026-w43", 200, `aria-current="page" class="selected">W43</a>`},
		{"/?period=2026-Q3", 200, `<p class="empty">No scorecards for 2026-Q3.</p>`},
		{"/?period=current", 200, `<span class="period">November 2026</span>`},
		{"/?period=2026-09", 200, `<span class="period">September 2026</span>`},
		{"/?period=2026-13", 400, `No such period: period &#34;2026-13&#34;: bad month`},
		{"/?period=2027-01", 400, `No such period: period &#34;2027-01&#34; has not started`},
		{"/?period=%3Cscript%3E", 400, `period &#34;&lt;script&gt;&#34;: unknown format`},
		{page(webtest.Anna), 200, `<h1>Anna Petrova <span class="period">October 2026</span></h1>`},
		{"/managers/anna@example.com?period=2026-W43", 404, `No scorecard for anna@example.com in 2026-W43.`},
	})
}

// pageCase is a GET and what its answer must hold.
type pageCase struct {
	target string
	code   int
	want   string
}

// checkPages GETs each case's target from h and checks the status and that
// the body holds want.
func checkPages(t *testing.T, h http.Handler, cases []pageCase) {
	t.Helper()
	for _, c := range cases {
		a := get(t, h, "GET", c.target)
		if a.code != c.code || !strings.Contains(a.body, c.want) {
			t.Errorf("GET %s = %d, want %d with %q; got:\n%s", c.target, a.code, c.code, c.want, a.body)
		}
	}
}

// TestNotFound checks the 404s and the bad format.
func TestNotFound(t *testing.T) {
	src := webtest.Fixture()
	checkPages(t, handler(t, src, src.Options()), []pageCase{
		{"/nowhere", 404, "There is no page at this address."},
		{"/managers/", 404, "There is no page at this address."},
		{page("nobody@example.com"), 404, "No scorecard for nobody@example.com in October 2026."},
		{page("nobody@example.com", kpi.ClosedWon), 404, "No scorecard for nobody@example.com in October 2026."},
		{page(webtest.Anna, "revenue"), 404, "There is no KPI &#34;revenue&#34;."},
		{page(webtest.Anna, kpi.ClosedWon) + "&format=xlsx", 400, "Unknown format &#34;xlsx&#34;: want html, csv or json."},
	})
}

// TestSourceErrors checks that a failing source gives a 500 page without
// the error, which goes to the log; and that failing freshness alone
// still shows the scores, saying it could not read the sync state.
func TestSourceErrors(t *testing.T) {
	src := webtest.Fixture()
	src.Err = errors.New("warehouse: dial tcp 10.0.0.7:5432: SECRET-host refused")
	var log bytes.Buffer
	o := src.Options()
	o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	h := handler(t, src, o)
	for _, u := range []string{"/", page(webtest.Anna), page(webtest.Anna, kpi.ClosedWon), page(webtest.Anna, kpi.ClosedWon) + "&format=csv"} {
		a := get(t, h, "GET", u)
		if a.code != 500 || strings.Contains(a.body, "SECRET") || !strings.Contains(a.body, "The scorecards could not be read.") {
			t.Errorf("GET %s with a failing source = %d:\n%s", u, a.code, a.body)
		}
	}
	if !strings.Contains(log.String(), "SECRET-host refused") {
		t.Errorf("the log does not have the source's error:\n%s", log.String())
	}

	src = webtest.Fixture()
	a := get(t, handler(t, noFreshness{src}, src.Options()), "GET", "/")
	if a.code != 200 || !strings.Contains(a.body, "The sync state could not be read") || !strings.Contains(a.body, "Anna Petrova") {
		t.Errorf("GET / without freshness = %d:\n%s", a.code, a.body)
	}
	// An explanation the source does not have is an error, not a blank.
	if a := get(t, handler(t, src, src.Options()), "GET", page(webtest.Dana, kpi.ClosedWon)); a.code != 500 {
		t.Errorf("GET an explanation the source lacks = %d, want 500", a.code)
	}
}

type noFreshness struct{ *webtest.Source }

func (noFreshness) Freshness(context.Context) ([]web.Freshness, error) {
	return nil, errors.New("sync_runs: no such table")
}

// TestLeaderboard checks the leaderboard's figures for the fixture by
// hand: order and ranks, the cut score and its status on the unrounded
// number, trends in each KPI's direction, and freshness.
func TestLeaderboard(t *testing.T) {
	src := webtest.Fixture()
	body := get(t, handler(t, src, src.Options()), "GET", "/").body
	for _, want := range []string{
		// Anna 107.98 green, better than September's 105.1.
		`<td class="rank" data-label="Rank">1</td>`,
		`<td class="score green" data-label="Score" data-score="107.9797619047619"><span class="dot green" aria-hidden="true"></span><span class="num">107.9%</span> <span class="trend better" title="better than September 2026: 105.1% → 107.9%"><span aria-hidden="true">▲</span> <span class="word">better</span></span><span class="word">on target</span></td>`,
		// Boris 99.959…: amber, cut to 99.9%, never rounded to 100.0%.
		`<td class="score amber" data-label="Score" data-score="99.95903900436232"><span class="dot amber" aria-hidden="true"></span><span class="num">99.9%</span>`,
		// Dana 51.68 red, worse than September's 66.
		`<span class="num">51.6%</span> <span class="trend worse" title="worse than September 2026: 66.0% → 51.6%">`,
		// Carl: no score, no rank, last.
		`<td class="rank" data-label="Rank">–</td>`,
		// Response time fell from 4.5 h to 3.2 h: better, as lower is better.
		`<td class="att green" data-label="Response time" data-kpi="response_time" data-attainment="125"><a href="/managers/anna@example.com/kpis/response_time?period=2026-10" title="Communication effectiveness: 3.2 h, target ≤ 4.0 h"><span class="num">125.0%</span></a> <span class="trend better" title="better than September 2026: 4.5 h → 3.2 h">`,
		// Cost per client rose from 5,100 to 5,600 RUB: worse.
		`<span class="num">89.2%</span></a> <span class="trend worse" title="worse than September 2026: 5,100 RUB → 5,600 RUB">`,
		// Penetration fell from 36% to 33.6%: worse, as higher is better.
		`<span class="trend worse" title="worse than September 2026: 36.0% → 33.6%">`,
		// An n/a KPI says why.
		`title="Customer satisfaction: n/a, no survey answers in the period"><span class="num">n/a</span></a>`,
		`<li class="conn failing" data-connector="b24"><span class="dot failing" aria-hidden="true"></span><strong>b24</strong> <span class="state">failing</span> · last success 2026-11-14 22:10 MSK (11 h ago)</li>`,
		`<li class="conn ok" data-connector="hubspot-eu"><span class="dot ok" aria-hidden="true"></span><strong>hubspot-eu</strong> <span class="state">ok</span> · last success 2026-11-15 09:30 MSK (30 min ago)</li>`,
		`<strong>amo</strong> <span class="state">stale</span> · last success 2026-11-13 08:00 MSK (2 days ago)</li>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("leaderboard lacks\n%s", want)
		}
	}
	order := regexp.MustCompile(`<tr class="row" data-manager="([^"]*)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	if diff := cmp.Diff([]string{webtest.Anna, webtest.Boris, webtest.Dana, "amo:9/0&#34;1?x=&lt;b&gt;#&amp;"}, got); diff != "" {
		t.Errorf("leaderboard order (-want +got):\n%s", diff)
	}
}

// TestManagerPage checks a manager's page: the numbers, each a link to
// its explanation, and twelve periods in each chart.
func TestManagerPage(t *testing.T) {
	src := webtest.Fixture()
	body := get(t, handler(t, src, src.Options()), "GET", page(webtest.Anna)).body
	for _, want := range []string{
		`<p class="value"><a class="explain" href="/managers/anna@example.com/kpis/closed_won?period=2026-10" data-value="9">9 deals</a> <span class="trend better" title="better than September 2026: 7 deals → 9 deals">`,
		`<a href="/managers/anna@example.com/kpis/closed_won?period=2026-10" data-target="8">≥ 8 deals</a>`,
		`<a href="/managers/anna@example.com/kpis/closed_won?period=2026-10" data-attainment="112.5">112.5%</a> <span class="word">on target</span>`,
		`<a href="/managers/anna@example.com/kpis/response_time?period=2026-10" data-target="4">≤ 4.0 h</a>`,
		`data-value="5600">5,600 RUB</a> <span class="trend worse"`,
		`<p class="note">Entered by hand in the config.</p>`,
		// The chart's last point is October's value, its tooltip says so.
		`<title>2026-10: 9 deals</title>`,
		`<title>2025-11: 6 deals</title>`,
		`<title id="chart-closed_won-title">Anna Petrova: Successfully closed deals, last 12 periods</title>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("Anna's page lacks\n%s", want)
		}
	}
	closedWon := regexp.MustCompile(`(?s)data-kpi="closed_won">.*?</article>`).FindString(body)
	if n := strings.Count(closedWon, "<circle "); n != 12 {
		t.Errorf("closed_won chart has %d points, want 12", n)
	}
	// Satisfaction has no January: two runs of points, 11 in all.
	sat := regexp.MustCompile(`(?s)data-kpi="satisfaction">.*?</article>`).FindString(body)
	if n, l := strings.Count(sat, "<circle "), strings.Count(sat, "<polyline "); n != 11 || l != 2 {
		t.Errorf("satisfaction chart has %d points in %d lines, want 11 in 2", n, l)
	}
	carl := get(t, handler(t, src, src.Options()), "GET", page(webtest.Carl)).body
	if n := strings.Count(carl, "no data in these periods"); n != 1+len(kpi.Keys) {
		t.Errorf("Carl's page has %d empty charts, want %d (score and every KPI)", n, 1+len(kpi.Keys))
	}
}

// TestExplanationPage checks the explanation: value, formula, one row
// per record with times in the configured zone and amounts, and a
// warning when the explanation disagrees with the scorecard.
func TestExplanationPage(t *testing.T) {
	src := webtest.Fixture()
	h := handler(t, src, src.Options())
	won := get(t, h, "GET", page(webtest.Anna, kpi.ClosedWon)).body
	for _, want := range []string{
		`<p class="value">Value <strong class="num" data-value="9">9 deals</strong></p>`,
		`<p class="formula"><code>9 won deals</code></p>`,
		`<caption>12 records: 9 count, 3 left out. Times in the configured time zone; amounts in the record's currency and in RUB.</caption>`,
		`<td data-label="Time">2026-10-31 23:50 MSK</td>`,
		`<td class="n" data-label="Amount">99,500.50 RUB</td>`,
		`<td class="n" data-label="Amount">8,000 EUR</td><td class="n" data-label="In RUB">no rate</td>`,
		`<td class="n" data-label="Amount">12,000 USD</td><td class="n" data-label="In RUB">1,146,000 RUB</td>`,
		`<td data-label="Stage">Успешно реализовано</td>`,
		`<span class="no">✗ left out</span></td>
<td data-label="Why">deleted in the CRM</td>`,
		`<a class="crm" href="https://example.amocrm.ru/leads/detail/31337" rel="noopener noreferrer" target="_blank">open</a>`,
		`<a href="/managers/anna@example.com/kpis/closed_won?period=2026-10&amp;format=csv" download>CSV</a>`,
	} {
		if !strings.Contains(won, want) {
			t.Errorf("closed_won explanation lacks\n%s", want)
		}
	}
	if strings.Contains(won, `class="warn"`) {
		t.Error("closed_won explanation warns, but it agrees with the scorecard")
	}
	sat := get(t, h, "GET", page(webtest.Anna, kpi.Satisfaction)).body
	if !strings.Contains(sat, `<th scope="col">Answer (0-10)</th>`) || !strings.Contains(sat, `<td class="n" data-label="Answer (0-10)">10</td>`) {
		t.Error("satisfaction explanation does not show the answers")
	}
	na := get(t, h, "GET", page(webtest.Boris, kpi.Satisfaction)).body
	if !strings.Contains(na, `<p class="value na">Value <strong data-value="">n/a</strong></p><p class="reason">no survey answers in the period</p>`) {
		t.Errorf("n/a explanation lacks its reason:\n%s", na)
	}

	// An explanation whose value is not the scorecard's says so.
	src.Explanations[webtest.ExplanationKey(webtest.October, webtest.Anna, kpi.ClosedWon)].Value = ptr(8)
	won = get(t, handler(t, src, src.Options()), "GET", page(webtest.Anna, kpi.ClosedWon)).body
	if !strings.Contains(won, `<p class="warn">The scorecard says 9 deals; these records give 8 deals. Please tell your sales ops.</p>`) {
		t.Error("an explanation that disagrees with the scorecard gives no warning")
	}
}

func ptr(v float64) *float64 { return &v }

// TestHistoryLength checks that a source giving the wrong number of
// periods is an error rather than a chart off by some months.
func TestHistoryLength(t *testing.T) {
	src := webtest.Fixture()
	a := get(t, handler(t, shortHistory{src}, src.Options()), "GET", page(webtest.Anna))
	if a.code != 500 {
		t.Errorf("GET a manager with short history = %d, want 500", a.code)
	}
}

type shortHistory struct{ *webtest.Source }

func (s shortHistory) History(ctx context.Context, m string, p period.Period, n int) ([]*scoring.Scorecard, error) {
	h, err := s.Source.History(ctx, m, p, n)
	return h[1:], err
}

// TestFixture checks that the fixture's scores are its KPIs' weighted
// mean, so the pages are tested on a world scoring could have produced.
func TestFixture(t *testing.T) {
	src := webtest.Fixture()
	r, _ := src.Report(t.Context(), webtest.October)
	for _, sc := range r.Managers {
		var sum, w float64
		for _, k := range sc.KPIs {
			if k.Value != nil {
				sum += k.Weight * *k.Attainment
				w += k.Weight
			}
		}
		if w == 0 {
			if sc.Score != nil {
				t.Errorf("%s has a score without data", sc.Manager)
			}
			continue
		}
		if d := sum/w - *sc.Score; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: score %v, weighted mean %v", sc.Manager, *sc.Score, sum/w)
		}
	}
}
