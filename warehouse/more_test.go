package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

func TestLock(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		other := warehousetest.Reopen(t, s) // a second process
		lease, err := s.TryLock(ctx, "hub", "sync-a")
		if err != nil {
			t.Fatalf("first TryLock: %v", err)
		}
		if lease.Token != 1 || lease.Previous != "" {
			t.Errorf("first lease: token %d, previous %q; want 1, \"\"", lease.Token, lease.Previous)
		}
		for name, st := range map[string]*warehouse.Store{"same store": s, "other store": other} {
			_, err := st.TryLock(ctx, "hub", "sync-b")
			le, ok := errors.AsType[*warehouse.LockedError](err)
			if !ok {
				t.Errorf("%s: second TryLock = %v, want a *LockedError", name, err)
				continue
			}
			if le.Connector != "hub" || !strings.Contains(le.Holder, "sync-a") {
				t.Errorf("%s: second TryLock = %+v, want it to name hub and sync-a", name, le)
			}
		}
		// Another connector's lock is independent.
		l2, err := other.TryLock(ctx, "amo", "sync-b")
		if err != nil {
			t.Fatalf("TryLock of another connector: %v", err)
		}
		if err := l2.Release(); err != nil {
			t.Fatal(err)
		}
		if err := lease.Release(); err != nil {
			t.Fatalf("release: %v", err)
		}
		if err := lease.Release(); err != nil {
			t.Errorf("second release: %v", err)
		}
		lease, err = other.TryLock(ctx, "hub", "sync-b")
		if err != nil {
			t.Fatalf("TryLock after release: %v", err)
		}
		if lease.Token != 2 || lease.Previous != "sync-a" {
			t.Errorf("second lease: token %d, previous %q; want 2, sync-a", lease.Token, lease.Previous)
		}
		if err := lease.Release(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStaleLockFile(t *testing.T) {
	s := warehousetest.NewSQLite(t)
	ctx := context.Background()
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true to get a dead pid: %v", err)
	}
	for _, tc := range []struct {
		name string
		pid  int
		host string
		want bool
	}{
		{"dead pid", dead.Process.Pid, host, true},
		{"our pid from an earlier process", os.Getpid(), host, true},
		{"live pid", os.Getppid(), host, false},
		{"other host", dead.Process.Pid, "elsewhere", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"holder": "old", "pid": tc.pid, "host": tc.host})
			path := s.Path() + ".lock.hub"
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path)
			lease, err := s.TryLock(ctx, "hub", "new")
			le, locked := errors.AsType[*warehouse.LockedError](err)
			if (err != nil && !locked) || !locked != tc.want {
				t.Fatalf("TryLock = %v; want taken %v", err, tc.want)
			}
			if !locked {
				if err := lease.Release(); err != nil {
					t.Fatal(err)
				}
			} else if !strings.Contains(le.Holder, "old") {
				t.Errorf("held by %q, want it to name old", le.Holder)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		if _, ok, err := s.LoadToken(ctx, "amo"); err != nil || ok {
			t.Errorf("LoadToken before SaveToken = %v, %v; want false, nil", ok, err)
		}
		for _, tok := range []connectors.Token{
			{AccessToken: "a1", RefreshToken: "r1", Expiry: at(1, 0)},
			{AccessToken: "a2", RefreshToken: "r2", Expiry: at(2, 0)},
		} {
			if err := s.SaveToken(ctx, "amo", tok); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.LoadToken(ctx, "amo")
			if err != nil || !ok {
				t.Fatalf("LoadToken = %v, %v", ok, err)
			}
			if diff := cmp.Diff(tok, got); diff != "" {
				t.Errorf("LoadToken (-want +got):\n%s", diff)
			}
		}
	})
}

func TestScorecards(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		oct := time.Date(2026, 9, 30, 21, 0, 0, 0, time.UTC) // 2026-10-01 in Moscow
		row := func(manager, kpi string, value *float64, reason string) rows.Scorecard {
			return rows.Scorecard{PeriodKind: "month", PeriodStart: oct, Manager: manager, KPI: kpi,
				Value: value, Target: ptr(8.0), Attainment: ptr(87.5), Reason: reason, ComputedAt: at(2, 0)}
		}
		first := []rows.Scorecard{row("anna", "closed_won", ptr(7.0), ""), row("boris", "nps", nil, "no answers")}
		if err := s.SaveScorecards(ctx, "month", oct, first); err != nil {
			t.Fatal(err)
		}
		sep := []rows.Scorecard{{PeriodKind: "month", PeriodStart: oct.AddDate(0, -1, 0), Manager: "anna", KPI: "score",
			Value: ptr(90.0), ComputedAt: at(1, 0)}}
		if err := s.SaveScorecards(ctx, "month", oct.AddDate(0, -1, 0), sep); err != nil {
			t.Fatal(err)
		}
		got, err := s.Scorecards(ctx, "month", oct)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("Scorecards (-want +got):\n%s", diff)
		}
		// Saving the period again replaces its rows, not others'.
		second := []rows.Scorecard{row("anna", "closed_won", ptr(8.0), "")}
		if err := s.SaveScorecards(ctx, "month", oct, second); err != nil {
			t.Fatal(err)
		}
		got, err = s.Scorecards(ctx, "month", oct)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(second, got); diff != "" {
			t.Errorf("Scorecards after replace (-want +got):\n%s", diff)
		}
		got, err = s.Scorecards(ctx, "month", oct.AddDate(0, -1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sep, got); diff != "" {
			t.Errorf("other period's Scorecards (-want +got):\n%s", diff)
		}
	})
}

func TestSlackOutbox(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		if _, ok, err := s.SlackMessage(ctx, "month:2026-10-01", "anna"); err != nil || ok {
			t.Errorf("SlackMessage before saving = %v, %v; want false, nil", ok, err)
		}
		for _, m := range []warehouse.SlackMessage{
			{PeriodKey: "month:2026-10-01", Recipient: "anna", Channel: "D1", TS: "1700000000.000100", Hash: "h1", UpdatedAt: at(1, 0)},
			{PeriodKey: "month:2026-10-01", Recipient: "anna", Channel: "D1", TS: "1700000000.000100", Hash: "h2", UpdatedAt: at(2, 0)},
		} {
			if err := s.SaveSlackMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.SlackMessage(ctx, m.PeriodKey, m.Recipient)
			if err != nil || !ok {
				t.Fatalf("SlackMessage = %v, %v", ok, err)
			}
			if diff := cmp.Diff(m, got); diff != "" {
				t.Errorf("SlackMessage (-want +got):\n%s", diff)
			}
		}
		if _, ok, err := s.SlackMessage(ctx, "month:2026-10-01", "boris"); err != nil || ok {
			t.Errorf("SlackMessage of another recipient = %v, %v; want false, nil", ok, err)
		}
	})
}

// TestOpenReadOnly checks that crmkpi check's way of opening a SQLite
// warehouse creates no file, and writes nothing to one that exists.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kpi.db")
	if _, err := warehouse.OpenReadOnly(ctx, "sqlite:"+path); !errors.Is(err, warehouse.ErrNoDatabase) {
		t.Fatalf("OpenReadOnly(missing) = %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenReadOnly(missing) left a file: %v", err)
	}
	s, err := warehouse.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := filepath.Glob(path + "*")
	ro, err := warehouse.OpenReadOnly(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ro.Close()
		if after, _ := filepath.Glob(path + "*"); !cmp.Equal(before, after) {
			t.Errorf("files beside the warehouse: before %q, after a read-only open %q", before, after)
		}
	}()
	if v, err := ro.SchemaVersion(ctx); err != nil || v == 0 {
		t.Errorf("SchemaVersion read-only = %d, %v", v, err)
	}
	if err := ro.ApplyPage(ctx, "c", connectors.ObjectUsers, &connectors.Page{Users: []connectors.User{{Meta: connectors.Meta{ID: "1", UpdatedAt: time.Now()}}}}); err == nil {
		t.Errorf("ApplyPage on a read-only warehouse succeeded")
	}
}
