package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// hubspotConfig writes a config of one HubSpot connector on hs with extra
// connector keys, and an SQLite warehouse in dir.
func hubspotConfig(t *testing.T, dir, name, hsURL, extra string) string {
	t.Helper()
	return writeFile(t, dir, name, fmt.Sprintf(`warehouse: {dsn: %q}
connectors:
  - name: hs
    type: hubspot
    token: pat-eu1-good
    base_url: %q
    rate_limit: 1000
    burst: 100
%s`, "sqlite:"+filepath.Join(dir, "w.db"), hsURL, extra))
}

func seededHubSpot(t *testing.T) *hubspottest.Server {
	t.Helper()
	hs := hubspottest.NewServer(hubspottest.WithToken("pat-eu1-good"), hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(hs.Close)
	if err := hs.Seed(hubspottest.World{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return hs
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSyncObjectsAndSince syncs a connector with objects and since: only
// those objects run, users and the deals' stages with them, and the deals
// are the ones modified since.
func TestSyncObjectsAndSince(t *testing.T) {
	t.Parallel()
	hs := seededHubSpot(t)
	since := time.Now().UTC().AddDate(0, 0, -120).Truncate(24 * time.Hour)
	dir := t.TempDir()
	cfg := hubspotConfig(t, dir, "crmkpi.yaml", hs.URL, "    objects: [deals, calls]\n    since: "+since.Format(time.DateOnly)+"\n")
	if code, _, stderr := runCmd(t, nil, "sync", "--config", cfg); code != 0 {
		t.Fatalf("sync exit %d:\n%s", code, stderr)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	objs := queryStrings(t, db, "SELECT DISTINCT object FROM sync_runs ORDER BY object")
	if want := []string{"calls", "deals", "stages", "users"}; !slices.Equal(objs, want) {
		t.Errorf("objects synced = %q, want %q", objs, want)
	}
	var want []string
	for _, r := range hs.Records(hubspottest.Deals) {
		if !r.UpdatedAt.Before(since) {
			want = append(want, r.ID)
		}
	}
	slices.Sort(want)
	got := queryStrings(t, db, "SELECT id FROM crm_deals ORDER BY id")
	if len(want) == 0 || len(want) == len(hs.Records(hubspottest.Deals)) || !slices.Equal(got, want) {
		t.Errorf("deals stored = %d %q, want the %d of %d modified since %s", len(got), got, len(want), len(hs.Records(hubspottest.Deals)), since)
	}
	if n := queryStrings(t, db, "SELECT CAST(COUNT(*) AS TEXT) FROM crm_companies"); n[0] != "0" {
		t.Errorf("companies stored = %s, want 0: not among the objects", n[0])
	}
}

// TestUnknownObject checks that an object the connector does not have is a
// config error (exit 2) at its line, listing the valid names, in every
// command that builds connectors.
func TestUnknownObject(t *testing.T) {
	t.Parallel()
	hs := seededHubSpot(t)
	dir := t.TempDir()
	cfg := hubspotConfig(t, dir, "crmkpi.yaml", hs.URL, "    objects:\n      - deals\n      - deal\n")
	want := cfg + `:11: connectors[0].objects[1]: unknown object "deal" for hubspot (want users, stages, companies, contacts, deals, calls, emails, meetings, notes, tasks)`
	for _, cmd := range []string{"check", "sync", "run"} {
		code, _, stderr := runCmd(t, nil, cmd, "--config", cfg)
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and %s", cmd, code, stderr, exitUsage, want)
		}
	}
	if n := hs.TotalRequests(); n != 0 {
		t.Errorf("the CRM got %d requests from a config with an unknown object, want 0", n)
	}
}

// TestStatusJudgesSyncedObjects checks that status fails for a failing
// object the connector syncs and not for one taken out of its objects.
func TestStatusJudgesSyncedObjects(t *testing.T) {
	t.Parallel()
	hs := seededHubSpot(t)
	dir := t.TempDir()
	all := hubspotConfig(t, dir, "all.yaml", hs.URL, "")
	hs.Fail(1, connectortest.Fault{Endpoint: "GET /crm/v3/objects/emails", Kind: connectortest.FaultStatus, Status: 403})
	if code, _, stderr := runCmd(t, nil, "sync", "--config", all); code != exitFailed {
		t.Fatalf("sync with the e-mails refused: exit %d, want %d:\n%s", code, exitFailed, stderr)
	}
	if code, stdout, _ := runCmd(t, nil, "status", "--config", all); code != exitFailed || !strings.Contains(stdout, "emails") {
		t.Errorf("status of every object: exit %d, want %d with emails failing:\n%s", code, exitFailed, stdout)
	}
	some := hubspotConfig(t, dir, "some.yaml", hs.URL, "    objects: [companies, contacts, deals, calls, meetings, notes, tasks]\n")
	code, stdout, stderr := runCmd(t, nil, "status", "--config", some)
	if code != 0 || strings.Contains(stdout, "emails") {
		t.Errorf("status without emails among the objects: exit %d, want 0, and no emails row:\n%s%s", code, stdout, stderr)
	}
}
