package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/notify"
	syncer "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "serve", "serve [--config FILE] [--listen ADDR]")
	listen := fs.String("listen", "", "address for /healthz and /metrics (default: listen from the config, :9090)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	if *listen == "" {
		*listen = cfg.Listen
	}
	s, err := openWarehouse(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	log := newLogger(e)

	built, err := buildConnectors(cfg.Connectors, s, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(readBuildInfo()))
	stats := map[string]func() connectors.ClientStats{}
	for _, b := range built {
		if b.stats != nil {
			stats[b.conn.Name()] = b.stats
		}
	}
	reg.MustRegister(syncer.NewHTTPCollector(stats))
	eng := &syncer.Engine{Store: redactedRuns{s, e.redactor}, Logger: log, Metrics: syncer.NewMetrics(reg), Progress: &syncer.LogProgress{Logger: log, Interval: 30 * time.Second}}

	started := time.Now()
	alert := alerts(e, cfg, s, log, started)
	sched := &syncer.Scheduler{Location: cfg.Location, Logger: log}
	for i, b := range built {
		job := syncer.Job{Connector: b.conn, Objects: b.objects, ReconcileEvery: b.reconcileEvery, MinListingShare: cfg.Connectors[i].MinListingShare / 100}
		sched.Tasks = append(sched.Tasks, syncer.Task{
			Name:     "sync " + b.conn.Name(),
			Schedule: cfg.Connectors[i].Schedule,
			Run: func(ctx context.Context) error {
				sum, err := eng.Run(ctx, []syncer.Job{job})
				if err != nil {
					return err
				}
				alert(ctx)
				return sum.Err()
			},
		})
	}
	if sc := cfg.Notify.Slack; sc.Schedule != "" && sc.Token.Value() != "" {
		sched.Tasks = append(sched.Tasks, syncer.Task{
			Name:     "notify",
			Schedule: sc.Schedule,
			Run: func(ctx context.Context) error {
				p, err := parsePeriod(cfg, "previous", time.Now())
				if err != nil {
					return err
				}
				r, err := scorePeriod(ctx, e, cfg, s, p)
				if err != nil {
					return err
				}
				return deliver(ctx, e, cfg, s, r, false)
			},
		})
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", healthHandler(cfg, s, started))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	log.Info("serving", "listen", ln.Addr().String(), "tasks", len(sched.Tasks))
	// Staleness comes with time, not with a run: look once a minute too.
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
				alert(actx)
			}
		}
	}()
	defer func() { stopAlerts(); <-alertsDone }()

	schedErr := sched.Run(ctx) // returns after SIGTERM, once running syncs stopped
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stop HTTP server: %w", err)
	}
	if err := <-srvErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return schedErr
}

// healthHandler answers 200 while the warehouse answers and no connector
// is failing or stale (syncer.Judge): an object whose newest finished run
// failed is unhealthy at once, its first run included; one without a
// success within its stale_after is unhealthy too, except that an object
// that has never finished a run gets its stale_after from the start of
// serve to catch up. Otherwise 503, with the failing and stale
// connector/object pairs.
func healthHandler(cfg *config.Config, s *warehouse.Store, started time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := map[string]any{"status": "ok"}
		code := http.StatusOK
		cs, err := judge(ctx, cfg, s, started)
		if err == nil {
			err = s.Ping(ctx)
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
}

// judge reads the run history and judges every configured connector.
func judge(ctx context.Context, cfg *config.Config, s *warehouse.Store, started time.Time) ([]syncer.ConnectorState, error) {
	st, err := s.RunStatus(ctx)
	if err != nil {
		return nil, err
	}
	limits := staleLimits(cfg)
	now := time.Now()
	return syncer.Judge(syncer.Assess(syncer.Synced(st, cfg.Syncs), limits, now), limits, started, now), nil
}

// alerts returns what serve calls after each sync and once a minute: it
// posts to notify.slack.alerts_channel each connector's change of health
// (syncer.Judge, the rule of /healthz). Without an alerts channel it does
// nothing. Failures are logged; the change is posted at the next call.
func alerts(e *env, cfg *config.Config, s *warehouse.Store, log *slog.Logger, started time.Time) func(context.Context) {
	sc := cfg.Notify.Slack
	if sc.AlertsChannel == "" || sc.Token.Value() == "" {
		return func(context.Context) {}
	}
	a := &notify.Alerter{Client: slackClient(cfg), Channel: sc.AlertsChannel, Outbox: s, Redactor: e.redactor, Logger: log}
	return func(ctx context.Context) {
		if ctx.Err() != nil {
			return
		}
		cs, err := judge(ctx, cfg, s, started)
		if err == nil {
			states := make([]notify.AlertState, len(cs))
			for i, c := range cs {
				states[i] = notify.AlertState{Connector: c.Connector, State: c.State, Objects: c.Stale, Error: c.Error}
				if c.State == syncer.StateFailing {
					states[i].Objects = c.Failing
				}
			}
			err = a.Update(ctx, states)
		}
		if err != nil {
			log.WarnContext(ctx, "alerts not posted", "error", err)
		}
	}
}
