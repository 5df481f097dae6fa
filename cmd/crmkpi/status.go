package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmkpi/crmkpi/config"
	syncer "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
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
	leases, err := s.Leases(ctx)
	if err != nil {
		return fmt.Errorf("read sync leases: %w", err)
	}
	now := time.Now()
	limits := staleLimits(cfg)
	hs := syncer.Assess(syncer.Synced(st, cfg.Syncs), limits, now)
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
		type lock struct {
			Connector     string     `json:"connector"`
			Holder        string     `json:"holder"`
			Token         int64      `json:"token"`
			Held          bool       `json:"held"`
			AcquiredAt    time.Time  `json:"acquired_at"`
			HeartbeatAt   time.Time  `json:"heartbeat_at"`
			ReleasedAt    *time.Time `json:"released_at"`
			SkippedAt     *time.Time `json:"skipped_at"`
			SkippedBy     string     `json:"skipped_by,omitempty"`
			SkippedHolder string     `json:"skipped_holder,omitempty"`
		}
		locks := []lock{}
		for _, l := range leases {
			if _, ok := limits[l.Connector]; !ok {
				continue
			}
			locks = append(locks, lock{Connector: l.Connector, Holder: l.Holder, Token: l.Token, Held: l.ReleasedAt == nil,
				AcquiredAt: l.AcquiredAt, HeartbeatAt: l.HeartbeatAt, ReleasedAt: l.ReleasedAt,
				SkippedAt: l.SkippedAt, SkippedBy: l.SkippedBy, SkippedHolder: l.SkippedHolder})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"healthy": syncer.Healthy(hs), "objects": rows, "locks": locks}); err != nil {
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
		if lines := lockLines(leases, hs, limits); len(lines) > 0 {
			fmt.Fprintf(e.stdout, "\n%s", strings.Join(lines, ""))
		}
	}
	if !syncer.Healthy(hs) {
		return errors.New("some connectors are failing or stale")
	}
	return nil
}

// lockLines says which configured connectors a sync holds now, and which
// were skipped since their last run because another sync held them.
func lockLines(leases []warehouse.LeaseStatus, hs []syncer.Health, limits map[string]time.Duration) []string {
	lastStart := map[string]time.Time{}
	for _, h := range hs {
		if h.StartedAt.After(lastStart[h.Connector]) {
			lastStart[h.Connector] = h.StartedAt
		}
	}
	stamp := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
	var out []string
	for _, l := range leases {
		if _, ok := limits[l.Connector]; !ok {
			continue
		}
		if l.ReleasedAt == nil {
			out = append(out, fmt.Sprintf("%s: locked by %s since %s (last heartbeat %s)\n", l.Connector, l.Holder, stamp(l.AcquiredAt), stamp(l.HeartbeatAt)))
		}
		if l.SkippedAt != nil && l.SkippedAt.After(lastStart[l.Connector]) {
			out = append(out, fmt.Sprintf("%s: SKIPPED at %s (sync by %s): locked by %s\n", l.Connector, stamp(*l.SkippedAt), l.SkippedBy, l.SkippedHolder))
		}
	}
	return out
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
