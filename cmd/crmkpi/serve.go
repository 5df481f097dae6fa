package main

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

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
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
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stats := map[string]func() connectors.ClientStats{}
	for _, b := range built {
		if b.stats != nil {
			stats[b.conn.Name()] = b.stats
		}
	}
	reg.MustRegister(syncer.NewHTTPCollector(stats))
	eng := &syncer.Engine{Store: s, Logger: log, Metrics: syncer.NewMetrics(reg), Progress: &syncer.LogProgress{Logger: log, Interval: 30 * time.Second}}

	sched := &syncer.Scheduler{Location: cfg.Location, Logger: log}
	for i, b := range built {
		job := syncer.Job{Connector: b.conn, ReconcileEvery: b.reconcileEvery, MinListingShare: cfg.Connectors[i].MinListingShare / 100}
		sched.Tasks = append(sched.Tasks, syncer.Task{
			Name:     "sync " + b.conn.Name(),
			Schedule: cfg.Connectors[i].Schedule,
			Run: func(ctx context.Context) error {
				sum, err := eng.Run(ctx, []syncer.Job{job})
				if err != nil {
					return err
				}
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

	started := time.Now()
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

// healthHandler answers 200 while the warehouse answers and every
// connector's data is fresh: its last successful run is younger than its
// stale_after (a connector never synced gets stale_after from the start of
// serve to catch up).
func healthHandler(cfg *config.Config, s *warehouse.Store, started time.Time) http.HandlerFunc {
	limits := staleLimits(cfg)
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := map[string]any{"status": "ok"}
		code := http.StatusOK
		st, err := s.RunStatus(ctx)
		if err == nil {
			err = s.Ping(ctx)
		}
		if err != nil {
			code = http.StatusServiceUnavailable
			body["status"] = "warehouse unavailable"
		} else {
			var stale []string
			now := time.Now()
			for _, h := range syncer.Assess(st, limits, now) {
				if !h.Stale {
					continue
				}
				if h.LastSuccess == nil && now.Sub(started) <= limits[h.Connector] {
					continue // still catching up after start
				}
				stale = append(stale, h.Connector+"/"+h.Object)
			}
			if len(stale) > 0 {
				code = http.StatusServiceUnavailable
				body["status"] = "stale"
				body["stale"] = stale
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body)
	}
}
