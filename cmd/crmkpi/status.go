package main

import (
	"context"
	"errors"
)

func runStatus(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "status", "status [--config FILE] [--format table|json]")
	format, checkFormat := formatFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(); err != nil {
		return err
	}
	a, err := openConfigured(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		err = st.WriteJSON(e.stdout)
	} else {
		err = st.WriteTable(e.stdout)
	}
	if err != nil {
		return err
	}
	if !st.Healthy() {
		return errors.New("some connectors are failing or stale")
	}
	return nil
}
