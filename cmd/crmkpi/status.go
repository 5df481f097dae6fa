package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/crmkpi/crmkpi/config"
	syncer "github.com/crmkpi/crmkpi/sync"
)

func staleLimits(cfg *config.Config) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, c := range cfg.Connectors {
		m[c.Name] = c.StaleAfter
	}
	return m
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "status", "status [--config FILE] [--format table|json]")
	format, checkFormat := formatFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(); err != nil {
		return err
	}
	cfg, s, err := openConfigured(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.RunStatus(ctx)
	if err != nil {
		return fmt.Errorf("read sync runs: %w", err)
	}
	now := time.Now()
	hs := syncer.Assess(st, staleLimits(cfg), now)
	if *format == "json" {
		type row struct {
			Connector      string     `json:"connector"`
			Object         string     `json:"object"`
			Status         string     `json:"status"`
			StartedAt      *time.Time `json:"started_at"`
			FinishedAt     *time.Time `json:"finished_at"`
			DurationS      *float64   `json:"duration_seconds"`
			Records        int        `json:"records"`
			LastSuccess    *time.Time `json:"last_success"`
			NewestData     *time.Time `json:"newest_data"`
			DataAgeSeconds *float64   `json:"data_age_seconds"`
			Failing        bool       `json:"failing"`
			Stale          bool       `json:"stale"`
			Error          string     `json:"error"`
		}
		rows := []row{}
		for _, h := range hs {
			r := row{Connector: h.Connector, Object: h.Object, Status: h.Status, Records: h.Records,
				FinishedAt: h.FinishedAt, LastSuccess: h.LastSuccess, NewestData: h.NewestData,
				Failing: h.Failing, Stale: h.Stale, Error: h.Error}
			if !h.StartedAt.IsZero() {
				t := h.StartedAt
				r.StartedAt = &t
				if h.FinishedAt != nil {
					d := h.FinishedAt.Sub(h.StartedAt).Seconds()
					r.DurationS = &d
				}
			}
			if h.DataAge != nil {
				a := h.DataAge.Seconds()
				r.DataAgeSeconds = &a
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"healthy": syncer.Healthy(hs), "objects": rows}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONNECTOR\tOBJECT\tLAST RUN\tSTATUS\tRECORDS\tDURATION\tDATA AGE\tHEALTH\tLAST ERROR")
		for _, h := range hs {
			last, dur, age := "never", "-", "-"
			if !h.StartedAt.IsZero() {
				last = h.StartedAt.Local().Format("2006-01-02 15:04")
			}
			if h.FinishedAt != nil {
				dur = h.FinishedAt.Sub(h.StartedAt).Round(time.Second).String()
			}
			if h.DataAge != nil {
				age = roundAge(*h.DataAge)
			}
			health := "ok"
			switch {
			case h.Failing && h.Stale:
				health = "FAILING, STALE"
			case h.Failing:
				health = "FAILING"
			case h.Stale:
				health = "STALE"
			}
			status := h.Status
			if status == "" {
				status = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", h.Connector, h.Object, last, status, h.Records, dur, age, health, oneLine(h.Error, 80))
		}
		tw.Flush()
	}
	if !syncer.Healthy(hs) {
		return errors.New("some connectors are failing or stale")
	}
	return nil
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func oneLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' {
			r[i] = ' '
		}
	}
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}
