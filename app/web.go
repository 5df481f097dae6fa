package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/web"
)

// DefaultWebListen is where `crmkpi web` listens without --listen: on
// loopback, where the pages need no web.auth.
const DefaultWebListen = "127.0.0.1:8080"

// WebHandler is the scorecard pages of package web over a's warehouse, for
// serving on listen. It refuses (web.InsecureListenError) an address off
// loopback without web.auth.
func (a *App) WebHandler(listen string) (http.Handler, error) {
	return web.Handler(a.WebSource(), web.Options{
		Kind: period.Kind(a.Config.Scoring.Period), Location: a.Config.Location,
		Listen: listen, Auth: a.Config.Web.Auth, Now: a.Now, Logger: a.logger(),
	})
}

// Web is `crmkpi web`: the pages alone on ln until ctx ends.
func (a *App) Web(ctx context.Context, ln net.Listener) error {
	h, err := a.WebHandler(ln.Addr().String())
	if err != nil {
		return &ConfigError{err}
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.logger().Info("serving the scorecard pages", "url", "http://"+ln.Addr().String()+"/")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("stop HTTP server: %w", err)
	}
	return nil
}

// WebSource is a's warehouse as the pages read it.
func (a *App) WebSource() web.Source { return &webSource{a: a, reports: map[string]cachedReport{}} }

// webSource computes the scorecards the pages show, as score does (but
// stores nothing: the pages only read), and keeps each period's report
// until the warehouse has a newer successful sync, so that a manager page
// with its twelve periods of history costs one scoring per period, once.
type webSource struct {
	a       *App
	mu      sync.Mutex
	reports map[string]cachedReport
}

type cachedReport struct {
	r *scoring.Report
	// synced is the warehouse's newest successful sync when r was made.
	synced time.Time
	at     time.Time
}

// reportTTL bounds how long a report of the running period is kept: its
// pace and its "so far" move with the clock, not only with syncs.
const reportTTL = time.Minute

func (s *webSource) Report(ctx context.Context, p period.Period) (*scoring.Report, error) {
	synced, _, err := s.a.Store.LastSuccess(ctx)
	if err != nil {
		return nil, err
	}
	now := s.a.now()
	key := p.Key()
	s.mu.Lock()
	c, ok := s.reports[key]
	s.mu.Unlock()
	if ok && c.synced.Equal(synced) && (!now.Before(p.End) || now.Sub(c.at) < reportTTL) {
		return c.r, nil
	}
	r, err := scoring.Compute(ctx, s.a.Store, scoringOptions(s.a.Config), p)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", p.Label(), err)
	}
	s.mu.Lock()
	s.reports[key] = cachedReport{r: r, synced: synced, at: now}
	s.mu.Unlock()
	return r, nil
}

func (s *webSource) History(ctx context.Context, manager string, p period.Period, n int) ([]*scoring.Scorecard, error) {
	out := make([]*scoring.Scorecard, n)
	q := p
	for i := n - 1; i >= 0; i-- {
		q = q.Previous()
		r, err := s.Report(ctx, q)
		if err != nil {
			return nil, err
		}
		for j := range r.Managers {
			if r.Managers[j].Manager == manager {
				out[i] = &r.Managers[j]
			}
		}
	}
	return out, nil
}

func (s *webSource) Explain(ctx context.Context, p period.Period, manager, kpi string) (*scoring.Explanation, error) {
	return s.a.Explain(ctx, p, manager, kpi)
}

func (s *webSource) Freshness(ctx context.Context) ([]web.Freshness, error) {
	states, err := s.a.Judge(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	st, err := s.a.Store.RunStatus(ctx)
	if err != nil {
		return nil, err
	}
	last := map[string]time.Time{}
	for _, o := range st {
		if o.LastSuccess != nil && o.LastSuccess.After(last[o.Connector]) {
			last[o.Connector] = *o.LastSuccess
		}
	}
	state := map[string]string{}
	for _, c := range states {
		state[c.Connector] = c.State
	}
	var out []web.Freshness
	for _, c := range s.a.Config.Connectors {
		f := web.Freshness{Connector: c.Name, LastSuccess: last[c.Name], State: state[c.Name]}
		if f.State == "" {
			f.State = web.StateStale // never synced
		}
		out = append(out, f)
	}
	return out, nil
}
