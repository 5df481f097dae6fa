package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// TestExplainDemo runs the demo, then `crmkpi explain --format json` for
// every KPI of every manager with a scorecard, and wants each value to be
// score --format json's bit for bit (JSON numbers in full precision), the
// counted records linked to their CRM through the links the sync stored
// (HubSpot's from the fake's portal, amoCRM's and Bitrix24's from their
// hosts), and the table and CSV forms of one explanation.
func TestExplainDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"CRMKPI_DEMO_NOW": demoNow}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	runOK(t, lookup, "demo", "--dir", dir, "--managers", "4", "--seed", "7")
	cfg := filepath.Join(dir, "crmkpi.yaml")

	var report struct {
		Managers []struct {
			Manager string
			KPIs    map[string]struct {
				Value  *float64
				Reason *string
			}
		}
	}
	if err := json.Unmarshal([]byte(runOK(t, lookup, "score", "--config", cfg, "--period", demoPeriod, "--format", "json")), &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Managers) == 0 {
		t.Fatal("the demo scored nobody")
	}
	hosts := map[string]bool{}
	for _, sc := range report.Managers {
		for _, key := range kpi.Keys {
			out := runOK(t, lookup, "explain", "--config", cfg, "--manager", sc.Manager, "--kpi", key, "--period", demoPeriod, "--format", "json")
			var e struct {
				Manager, KPI, Formula string
				Value                 *float64
				Reason                *string
				Records               []struct {
					Kind, Connector, ID, Link string
					Counts                    bool
				}
			}
			if err := json.Unmarshal([]byte(out), &e); err != nil {
				t.Fatalf("explain %s %s: %v\n%s", sc.Manager, key, err, out)
			}
			want := sc.KPIs[key]
			if !sameJSON(e.Value, want.Value) || !sameStr(e.Reason, want.Reason) || e.Manager != sc.Manager || e.KPI != key || e.Formula == "" {
				t.Errorf("explain %s %s: value %v (%v), formula %q; score says %v (%v)", sc.Manager, key, deref(e.Value), derefS(e.Reason),
					e.Formula, deref(want.Value), derefS(want.Reason))
			}
			for _, r := range e.Records {
				if r.Counts && r.Kind == "deal" {
					if r.Link == "" || !strings.Contains(r.Link, r.ID) {
						t.Errorf("explain %s %s: deal %s/%s has link %q", sc.Manager, key, r.Connector, r.ID, r.Link)
					}
					hosts[strings.SplitN(strings.TrimPrefix(r.Link, "https://"), "/", 2)[0]+" "+r.Connector] = true
				}
			}
		}
	}
	if len(hosts) < 2 {
		t.Errorf("deal links from %v, want more than one CRM", hosts)
	}
	for h := range hosts {
		if strings.Contains(h, "/rest/") {
			t.Errorf("a link carries a webhook path: %s", h)
		}
	}

	m := report.Managers[0].Manager
	table := runOK(t, lookup, "explain", "--config", cfg, "--manager", strings.ToUpper(m), "--kpi", kpi.ClosedWon, "--period", demoPeriod)
	if !strings.Contains(table, "Successfully closed deals — October 2026") || !strings.Contains(table, "How: ") {
		t.Errorf("explain table:\n%s", table)
	}
	rows, err := csv.NewReader(strings.NewReader(runOK(t, lookup, "explain", "--config", cfg, "--manager", m, "--kpi", kpi.CostPerClient,
		"--period", demoPeriod, "--format", "csv"))).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "counts" {
		t.Errorf("explain csv: %v, %v", rows, err)
	}
}

// TestExplainUsage: missing or bad flags, an unknown KPI or manager exit
// 2 with the reason; notify --behind-pace refuses a period not current.
func TestExplainUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "crmkpi.yaml", "warehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", "--config", cfg, "--kpi", "closed_won"}, "--manager is required"},
		{[]string{"explain", "--config", cfg, "--manager", "a@b.c"}, "--kpi is required"},
		{[]string{"explain", "--config", cfg, "--manager", "a@b.c", "--kpi", "closed_won", "--format", "xml"}, "want table, json or csv"},
		{[]string{"explain", "--config", cfg, "--manager", "a@b.c", "--kpi", "wins"}, `--kpi: unknown KPI "wins"`},
		{[]string{"explain", "--config", cfg, "--manager", "a@b.c", "--kpi", "closed_won"}, `--manager: no manager "a@b.c"`},
		{[]string{"explain", "--config", cfg, "--manager", "a@b.c", "--kpi", "closed_won", "--period", "2099-01"}, "--period"},
		{[]string{"notify", "--config", cfg, "--behind-pace", "--period", "previous", "--dry-run"}, "--behind-pace is for the current period"},
	} {
		code, _, stderr := runCmd(t, nil, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("crmkpi %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
	code, out, stderr := runCmd(t, nil, "notify", "--config", cfg, "--behind-pace", "--dry-run")
	if code != exitOK || !strings.Contains(out, `"messages": []`) {
		t.Errorf("notify --behind-pace --dry-run on an empty warehouse: exit %d, %q, %q; want no message", code, out, stderr)
	}
}

func sameJSON(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func derefS(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

// The demo world explain is tested on: fixed in time, scored for October.
const (
	demoNow    = "2026-11-15T09:00:00Z"
	demoPeriod = "2026-10"
)

// runOK runs crmkpi in-process with the environment lookup gives and
// wants exit 0; it returns stdout.
func runOK(t *testing.T, lookup func(string) (string, bool), args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, nil, &out, &errOut, lookup); code != exitOK {
		t.Fatalf("crmkpi %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}
