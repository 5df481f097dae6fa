package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/period"
)

// Options configure the pages.
type Options struct {
	// Kind is the configured period kind (scoring.period): a page without
	// ?period= shows the previous period of this kind. "" means month.
	Kind period.Kind
	// Location is the configured time zone of period boundaries and of
	// every time shown; nil means UTC.
	Location *time.Location
	// Listen is the address the handler is served on. Unless Auth is set
	// it must be a loopback address (CheckListen).
	Listen string
	// Auth is the config's web.auth; its zero value lets every request in.
	Auth config.WebAuth
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets the errors behind 500 pages; nil discards them.
	Logger *slog.Logger
}

// HistoryPeriods is how many periods a manager page's charts show, the
// one it is about included.
const HistoryPeriods = 12

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/crmkpi.css
var styleSheet []byte

// pages are parsed once; each page is the layout with its own content.
var pages = func() map[string]*template.Template {
	base := template.Must(template.New("").ParseFS(templateFS, "templates/layout.html", "templates/chart.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"leaderboard", "manager", "explanation", "error"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return out
}()

// contentSecurityPolicy forbids every script, frame and foreign resource:
// should a CRM string ever get past escaping, the browser would still not
// run it. Charts are inline SVG styled by attributes, the style sheet is
// /static/crmkpi.css.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

type server struct {
	src Source
	opt Options
	log *slog.Logger
}

// Handler returns the pages over src, to mount at the root of a mux
// beside /metrics and /healthz (crmkpi serve) or to serve alone (crmkpi
// web). Every route answers GET and HEAD; any other method is 405. It
// returns an *InsecureListenError when o.Listen is not loopback and
// o.Auth is not set: the server must not start.
func Handler(src Source, o Options) (http.Handler, error) {
	if err := CheckListen(o.Listen, o.Auth); err != nil {
		return nil, err
	}
	if o.Kind == "" {
		o.Kind = period.Month
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{src: src, opt: o, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.leaderboard)
	mux.HandleFunc("GET /managers/{key}", s.manager)
	mux.HandleFunc("GET /managers/{key}/kpis/{kpi}", s.explanation)
	mux.HandleFunc("GET /static/crmkpi.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(styleSheet)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.", nil)
	})
	unauthorized := func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusUnauthorized, "Sign in to see the scorecards.", nil)
	}
	return headers(newGuard(o.Auth).wrap(mux, unauthorized)), nil
}

// headers sets what every answer carries, errors and 401s included.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// CRM links leave the site; the page's address, with a
		// manager's key in it, stays behind.
		h.Set("Referrer-Policy", "no-referrer")
		// Pay figures: no shared or disk cache keeps them.
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// page is what the layout shows around every page.
type page struct {
	Title   string
	Heading string
	// Period is the period shown, "" on pages without one.
	Period     string
	PeriodSpec string
	// Selector picks another period, nil where there is none.
	Selector *selector
	// Crumbs lead back: the leaderboard, the manager.
	Crumbs []crumb
}

type crumb struct{ Text, URL string }

// render executes a page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, name string, status int, data any) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorPage struct {
	page
	Status  int
	Message string
}

// fail answers with an error page. err, when set, goes to the log only:
// it may name a table, a host or a query no reader should see.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		s.log.ErrorContext(r.Context(), "serve page", "path", r.URL.Path, "status", status, "err", err)
	}
	p := errorPage{page: page{Title: http.StatusText(status), Heading: http.StatusText(status)}, Status: status, Message: msg}
	if status != http.StatusUnauthorized {
		p.Crumbs = []crumb{{Text: "Leaderboard", URL: "/"}}
	}
	s.render(w, r, "error", status, p)
}

func (s *server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, http.StatusInternalServerError, "The scorecards could not be read. The server log says why.", err)
}

// period reads ?period=SPEC, the previous period of the configured kind
// when absent. A bad SPEC answers 400 with period.Parse's message, which
// quotes it (escaped like any text).
func (s *server) period(w http.ResponseWriter, r *http.Request) (period.Period, bool) {
	p, err := period.Parse(r.URL.Query().Get("period"), s.opt.Kind, s.opt.Location, s.opt.Now())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "No such period: "+err.Error()+".", nil)
		return period.Period{}, false
	}
	return p, true
}

// Addresses of the pages. Keys and KPI keys are path-escaped, so an id
// with a "/" or "?" stays one segment.

func boardURL(p period.Period) string { return "/?period=" + url.QueryEscape(p.Spec()) }

func managerURL(key string, p period.Period) string {
	return "/managers/" + url.PathEscape(key) + "?period=" + url.QueryEscape(p.Spec())
}

func explainURL(key, kpiKey string, p period.Period, format string) string {
	u := "/managers/" + url.PathEscape(key) + "/kpis/" + url.PathEscape(kpiKey) + "?period=" + url.QueryEscape(p.Spec())
	if format != "" {
		u += "&format=" + format
	}
	return u
}
