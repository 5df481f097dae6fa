package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/notify"
	syncer "github.com/crmkpi/crmkpi/sync"
)

// ServeOptions are those of `crmkpi serve`.
type ServeOptions struct {
	// Listen is the address of /healthz and /metrics; "" means the
	// config's listen.
	Listen string
	// Collectors are registered beside the Go, process, HTTP and sync
	// metrics: crmkpi_build_info, which the command line knows.
	Collectors []prometheus.Collector
}

// Server is `crmkpi serve` assembled: a scheduled sync task per connector
// ("sync NAME") and notify's ("notify", with a Slack token and schedule),
// the Slack alerts on each change of a connector's health, and the HTTP
// handler of /healthz and /metrics.
type Server struct {
	app *App
	// Started is when the server was made: an object that has never
	// finished a run has its stale_after from here to catch up.
	Started   time.Time
	Scheduler *syncer.Scheduler
	// Handler serves /healthz and /metrics; the web pages are added to it
	// beside them.
	Handler *http.ServeMux
	listen  string
	alert   func(context.Context)
}

// NewServer builds the connectors, the metrics, the tasks and the handler
// of serve on a. A connector that cannot be built is a *ConfigError.
func (a *App) NewServer(o ServeOptions) (*Server, error) {
	log := a.logger()
	built, err := buildConnectors(a.Config.Connectors, a.Store, log)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(o.Collectors...)
	stats := map[string]func() connectors.ClientStats{}
	for _, b := range built {
		if b.stats != nil {
			stats[b.conn.Name()] = b.stats
		}
	}
	reg.MustRegister(syncer.NewHTTPCollector(stats))
	eng := &syncer.Engine{Store: redactedRuns{a.Store, a.redactor()}, Logger: log, Metrics: syncer.NewMetrics(reg),
		Progress: &syncer.LogProgress{Logger: log, Interval: 30 * time.Second}, Now: a.Now}

	srv := &Server{app: a, Started: a.now(), listen: o.Listen}
	if srv.listen == "" {
		srv.listen = a.Config.Listen
	}
	srv.alert = srv.alerts()
	sched := &syncer.Scheduler{Location: a.Config.Location, Logger: log}
	for i, b := range built {
		job := syncer.Job{Connector: b.conn, Objects: b.objects, ReconcileEvery: b.reconcileEvery, MinListingShare: a.Config.Connectors[i].MinListingShare / 100}
		sched.Tasks = append(sched.Tasks, syncer.Task{
			Name:     "sync " + b.conn.Name(),
			Schedule: a.Config.Connectors[i].Schedule,
			Run: func(ctx context.Context) error {
				sum, err := eng.Run(ctx, []syncer.Job{job})
				if err != nil {
					return err
				}
				srv.alert(ctx)
				return sum.Err()
			},
		})
	}
	if sc := a.Config.Notify.Slack; sc.Schedule != "" && sc.Token.Value() != "" {
		sched.Tasks = append(sched.Tasks, syncer.Task{
			Name:     "notify",
			Schedule: sc.Schedule,
			Run: func(ctx context.Context) error {
				p, err := ParsePeriod(a.Config, "previous", a.now())
				if err != nil {
					return err
				}
				r, err := a.Score(ctx, p)
				if err != nil {
					return err
				}
				return a.Notify(ctx, r, NotifyOptions{})
			},
		})
	}
	srv.Scheduler = sched

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", srv.healthz)
	// The scorecard pages beside them, unless serve listens off loopback
	// without web.auth: then the syncs still run (a cluster's probes and
	// Prometheus need no pages), and the log says how to turn them on.
	if pages, err := a.WebHandler(srv.listen); err != nil {
		log.Warn("scorecard pages off", "reason", err.Error())
	} else {
		mux.Handle("/", pages)
	}
	srv.Handler = mux
	return srv, nil
}

// Serve is `crmkpi serve`: NewServer, then Run on its listen address.
func (a *App) Serve(ctx context.Context, o ServeOptions) error {
	srv, err := a.NewServer(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", srv.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.listen, err)
	}
	return srv.Run(ctx, ln)
}

// Run serves the handler on ln and runs the schedule until ctx ends, then
// waits for running tasks to stop and shuts the HTTP server down. Besides
// each sync, the alerts are judged once a minute: staleness comes with
// time, not with a run.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	log := s.app.logger()
	hs := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second}
	srvErr := make(chan error, 1)
	go func() { srvErr <- hs.Serve(ln) }()
	log.Info("serving", "listen", ln.Addr().String(), "tasks", len(s.Scheduler.Tasks))
	actx, stopAlerts := context.WithCancel(ctx)
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-tick.C:
				s.alert(actx)
			}
		}
	}()
	defer func() { stopAlerts(); <-alertsDone }()

	schedErr := s.Scheduler.Run(ctx) // returns after SIGTERM, once running syncs stopped
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stop HTTP server: %w", err)
	}
	if err := <-srvErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return schedErr
}

// healthz answers 200 while the warehouse answers and no connector is
// failing or stale (syncer.Judge): an object whose newest finished run
// failed is unhealthy at once, its first run included; one without a
// success within its stale_after is unhealthy too, except that an object
// that has never finished a run gets its stale_after from the start of
// serve to catch up. Otherwise 503, with the failing and stale
// connector/object pairs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := map[string]any{"status": "ok"}
	code := http.StatusOK
	cs, err := s.app.Judge(ctx, s.Started)
	if err == nil {
		err = s.app.Store.Ping(ctx)
	}
	if err != nil {
		code = http.StatusServiceUnavailable
		body["status"] = "warehouse unavailable"
	} else {
		var failing, stale []string
		for _, c := range cs {
			for _, o := range c.Failing {
				failing = append(failing, c.Connector+"/"+o)
			}
			for _, o := range c.Stale {
				stale = append(stale, c.Connector+"/"+o)
			}
		}
		if len(failing)+len(stale) > 0 {
			code = http.StatusServiceUnavailable
			body["status"] = syncer.StateStale
			if len(failing) > 0 {
				body["status"] = syncer.StateFailing
				body["failing"] = failing
			}
			if len(stale) > 0 {
				body["stale"] = stale
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// Judge reads the run history and judges every configured connector at
// a.Now by the rule of /healthz and the alerts (syncer.Judge), with since
// the start of serve.
func (a *App) Judge(ctx context.Context, since time.Time) ([]syncer.ConnectorState, error) {
	st, err := a.Store.RunStatus(ctx)
	if err != nil {
		return nil, err
	}
	limits := staleLimits(a.Config)
	now := a.now()
	return syncer.Judge(syncer.Assess(syncer.Synced(st, a.Config.Syncs), limits, now), limits, since, now), nil
}

// alerts returns what serve calls after each sync and once a minute: it
// posts to notify.slack.alerts_channel each connector's change of health
// (Judge, the rule of /healthz). Without an alerts channel it does
// nothing. Failures are logged; the change is posted at the next call.
func (s *Server) alerts() func(context.Context) {
	a := s.app
	sc := a.Config.Notify.Slack
	if sc.AlertsChannel == "" || sc.Token.Value() == "" {
		return func(context.Context) {}
	}
	log := a.logger()
	al := &notify.Alerter{Client: slackClient(a.Config), Channel: sc.AlertsChannel, Outbox: a.Store, Redactor: a.redactor(), Logger: log}
	return func(ctx context.Context) {
		if ctx.Err() != nil {
			return
		}
		cs, err := a.Judge(ctx, s.Started)
		if err == nil {
			states := make([]notify.AlertState, len(cs))
			for i, c := range cs {
				states[i] = notify.AlertState{Connector: c.Connector, State: c.State, Objects: c.Stale, Error: c.Error}
				if c.State == syncer.StateFailing {
					states[i].Objects = c.Failing
				}
			}
			err = al.Update(ctx, states)
		}
		if err != nil {
			log.WarnContext(ctx, "alerts not posted", "error", err)
		}
	}
}
