package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmkpi/crmkpi/app"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "serve", "serve [--config FILE] [--listen ADDR]")
	listen := fs.String("listen", "", "address for /healthz, /metrics and the scorecard pages (default: listen from the config, :9090)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openConfigured(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, app.ServeOptions{Listen: *listen, Collectors: []prometheus.Collector{buildInfoGauge(readBuildInfo())}})
}
