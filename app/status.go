package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/human"
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

// Status is what `crmkpi status` shows sales ops: per configured
// connector and object its last run and health, the locks syncs hold or
// skipped on, and when each connector's schedule runs next.
type Status struct {
	// Objects are sorted by connector and object; a connector that never
	// ran has one, object "*".
	Objects []syncer.Health
	// Leases are those of configured connectors.
	Leases []warehouse.LeaseStatus
	// Next is each connector's next scheduled run, by name.
	Next map[string]time.Time
	// Schedules are the connectors' cron schedules, by name.
	Schedules map[string]string
	// Connectors are the configured names, in config order.
	Connectors []string
	Now        time.Time
	Location   *time.Location
}

// Healthy reports whether no connector is failing or stale.
func (s *Status) Healthy() bool { return syncer.Healthy(s.Objects) }

// Status reads the run history and the locks and judges every configured
// connector at a.Now.
func (a *App) Status(ctx context.Context) (*Status, error) {
	st, err := a.Store.RunStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("read sync runs: %w", err)
	}
	leases, err := a.Store.Leases(ctx)
	if err != nil {
		return nil, fmt.Errorf("read sync leases: %w", err)
	}
	now := a.now()
	limits := staleLimits(a.Config)
	out := &Status{Objects: syncer.Assess(syncer.Synced(st, a.Config.Syncs), limits, now), Next: map[string]time.Time{}, Schedules: map[string]string{},
		Now: now, Location: a.Config.Location}
	for _, l := range leases {
		if _, ok := limits[l.Connector]; ok {
			out.Leases = append(out.Leases, l)
		}
	}
	for _, c := range a.Config.Connectors {
		out.Connectors = append(out.Connectors, c.Name)
		out.Schedules[c.Name] = c.Schedule
		if c.Schedule == "" {
			continue
		}
		next, err := syncer.Next(c.Schedule, a.Config.Location, now)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", c.Name, err)
		}
		out.Next[c.Name] = next
	}
	return out, nil
}

// WriteJSON writes s as JSON for scripts: RFC 3339 times, durations in
// seconds.
func (s *Status) WriteJSON(w io.Writer) error {
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
		// Error is null, not "", without one: jq's select(.error) and
		// a script's `if row["error"]` then pick the failing rows alone.
		Error   *string    `json:"error"`
		NextRun *time.Time `json:"next_run"`
	}
	rows := []row{}
	for _, h := range s.Objects {
		r := row{Connector: h.Connector, Object: h.Object, Status: h.Status, Records: h.Records,
			FinishedAt: h.FinishedAt, LastSuccess: h.LastSuccess, NewestData: h.NewestData,
			Failing: h.Failing, Stale: h.Stale}
		if h.Error != "" {
			msg := h.Error
			r.Error = &msg
		}
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
		if next, ok := s.Next[h.Connector]; ok {
			r.NextRun = &next
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
	for _, l := range s.Leases {
		locks = append(locks, lock{Connector: l.Connector, Holder: l.Holder, Token: l.Token, Held: l.ReleasedAt == nil,
			AcquiredAt: l.AcquiredAt, HeartbeatAt: l.HeartbeatAt, ReleasedAt: l.ReleasedAt,
			SkippedAt: l.SkippedAt, SkippedBy: l.SkippedBy, SkippedHolder: l.SkippedHolder})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"healthy": s.Healthy(), "objects": rows, "locks": locks})
}

// WriteTable writes s for people: a row per connector and object, times
// in the configured zone with the zone named, durations as "5m 3s"; then
// each connector's schedule and next run; then the locks held and the
// syncs skipped since the connector's last run.
func (s *Status) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTOR\tOBJECT\tLAST RUN\tSTATUS\tRECORDS\tDURATION\tDATA AGE\tHEALTH\tLAST ERROR")
	for _, h := range s.Objects {
		last, dur, age := "never", "-", "-"
		if !h.StartedAt.IsZero() {
			last = human.Time(h.StartedAt, s.Location)
		}
		if h.FinishedAt != nil {
			dur = human.Duration(h.FinishedAt.Sub(h.StartedAt))
		}
		if h.DataAge != nil {
			age = human.Duration(*h.DataAge)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Connectors) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONNECTOR\tSCHEDULE\tNEXT RUN")
		for _, c := range s.Connectors {
			next := "-"
			if t, ok := s.Next[c]; ok {
				next = human.Time(t, s.Location) + " (in " + human.Duration(t.Sub(s.Now)) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c, s.Schedules[c], next)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if lines := s.lockLines(); len(lines) > 0 {
		fmt.Fprintf(w, "\n%s", strings.Join(lines, ""))
	}
	return nil
}

// lockLines says which configured connectors a sync holds now, and which
// were skipped since their last run because another sync held them.
func (s *Status) lockLines() []string {
	lastStart := map[string]time.Time{}
	for _, h := range s.Objects {
		if h.StartedAt.After(lastStart[h.Connector]) {
			lastStart[h.Connector] = h.StartedAt
		}
	}
	var out []string
	for _, l := range s.Leases {
		if l.ReleasedAt == nil {
			out = append(out, fmt.Sprintf("%s: locked by %s since %s (last heartbeat %s ago)\n", l.Connector, l.Holder,
				human.Time(l.AcquiredAt, s.Location), human.Duration(max(0, s.Now.Sub(l.HeartbeatAt)))))
		}
		if l.SkippedAt != nil && l.SkippedAt.After(lastStart[l.Connector]) {
			out = append(out, fmt.Sprintf("%s: SKIPPED at %s (sync by %s): locked by %s\n", l.Connector,
				human.Time(*l.SkippedAt, s.Location), l.SkippedBy, l.SkippedHolder))
		}
	}
	return out
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
