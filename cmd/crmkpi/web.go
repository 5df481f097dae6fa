package main

import (
	"context"
	"fmt"
	"net"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/web"
)

func runWeb(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "web", "web [--config FILE] [--listen ADDR]")
	listen := fs.String("listen", app.DefaultWebListen, "address of the scorecard pages; off loopback they need web.auth in the config")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	// Refused before anything is opened: pay figures never go out
	// unprotected.
	if err := web.CheckListen(*listen, cfg.Web.Auth); err != nil {
		return usageError{fmt.Errorf("--listen: %w", err)}
	}
	a, err := openApp(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	fmt.Fprintf(e.stderr, "crmkpi web: the scorecard pages are at http://%s/ (Ctrl-C stops)\n", ln.Addr())
	return a.Web(ctx, ln)
}
