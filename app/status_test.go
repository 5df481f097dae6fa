package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	syncer "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
)

func msk(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sampleStatus is a status at 08:30 MSK on 28 November 2026: hs synced
// deals a day and two hours ago in 5m 3s and holds data 40 minutes old;
// amo never ran, and a sync holds its lock, heartbeating 12 s ago, after
// skipping another.
func sampleStatus(t *testing.T) *Status {
	loc := msk(t)
	now := time.Date(2026, 11, 28, 8, 30, 0, 0, loc)
	started := now.Add(-26 * time.Hour)
	finished := started.Add(5*time.Minute + 3*time.Second)
	age := 40 * time.Minute
	skipped := now.Add(-time.Minute)
	return &Status{
		Objects: []syncer.Health{
			{ObjectStatus: warehouse.ObjectStatus{Connector: "amo", Object: "*", Error: "never synced"}, Stale: true},
			{ObjectStatus: warehouse.ObjectStatus{Connector: "hs", Object: "deals", StartedAt: started.UTC(), FinishedAt: &finished,
				Status: warehouse.RunSucceeded, Records: 12, LastSuccess: &finished}, DataAge: &age},
		},
		Leases: []warehouse.LeaseStatus{{Connector: "amo", Token: 3, Holder: "kpi-1:77", AcquiredAt: now.Add(-2 * time.Minute).UTC(),
			HeartbeatAt: now.Add(-12 * time.Second).UTC(), SkippedAt: &skipped, SkippedBy: "kpi-2:91", SkippedHolder: "kpi-1:77"}},
		Next: map[string]time.Time{
			"hs":  time.Date(2026, 11, 28, 9, 0, 0, 0, loc),
			"amo": time.Date(2026, 11, 28, 8, 35, 0, 0, loc),
		},
		Schedules:  map[string]string{"hs": "0 9 * * *", "amo": "5,35 * * * *"},
		Connectors: []string{"hs", "amo"},
		Now:        now,
		Location:   loc,
	}
}

// TestStatusTable: times in the configured zone with the zone named,
// durations as "1d 2h" and "5m 3s", and each connector's next run.
func TestStatusTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleStatus(t).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `CONNECTOR  OBJECT  LAST RUN              STATUS  RECORDS  DURATION  DATA AGE  HEALTH  LAST ERROR
amo        *       never                 -       0        -         -         STALE   never synced
hs         deals   2026-11-27 06:30 MSK  ok      12       5m 3s     40m       ok      

CONNECTOR  SCHEDULE      NEXT RUN
hs         0 9 * * *     2026-11-28 09:00 MSK (in 30m)
amo        5,35 * * * *  2026-11-28 08:35 MSK (in 5m)

amo: locked by kpi-1:77 since 2026-11-28 08:28 MSK (last heartbeat 12s ago)
amo: SKIPPED at 2026-11-28 08:29 MSK (sync by kpi-2:91): locked by kpi-1:77
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("status table (-want +got):\n%s", diff)
	}
}

// TestStatusJSON: the JSON keeps machine forms, RFC 3339 times and
// seconds, and has each object's connector's next_run.
func TestStatusJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sampleStatus(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Healthy bool             `json:"healthy"`
		Objects []map[string]any `json:"objects"`
		Locks   []map[string]any `json:"locks"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Healthy || len(got.Objects) != 2 || len(got.Locks) != 1 {
		t.Fatalf("status JSON = %s", b.String())
	}
	hs := got.Objects[1]
	for k, want := range map[string]any{
		"connector": "hs", "object": "deals", "status": "ok", "records": 12.0,
		"started_at": "2026-11-27T03:30:00Z", "finished_at": "2026-11-27T06:35:03+03:00",
		"duration_seconds": 303.0, "data_age_seconds": 2400.0, "next_run": "2026-11-28T09:00:00+03:00",
		"error": nil, "last_success": "2026-11-27T06:35:03+03:00", "newest_data": nil, "failing": false, "stale": false,
	} {
		if !cmp.Equal(hs[k], want) {
			t.Errorf("hs deals %s = %v, want %v", k, hs[k], want)
		}
	}
	if amo := got.Objects[0]; amo["next_run"] != "2026-11-28T08:35:00+03:00" || amo["duration_seconds"] != nil || amo["error"] != "never synced" {
		t.Errorf("amo = %v, want next_run 2026-11-28T08:35:00+03:00, no duration and error never synced", amo)
	}
	keys := slices.Sorted(maps.Keys(hs))
	want := []string{"connector", "data_age_seconds", "duration_seconds", "error", "failing", "finished_at", "last_success",
		"newest_data", "next_run", "object", "records", "stale", "started_at", "status"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("status JSON object keys (-want +got):\n%s", diff)
	}
}

// TestStatusNextRun: the next run of each connector's schedule after the
// App's now, in the configured zone: cron fields are read in it, a
// CRON_TZ schedule in its own zone, "@every" from now.
func TestStatusNextRun(t *testing.T) {
	loc := msk(t)
	now := time.Date(2026, 11, 28, 8, 30, 10, 0, loc)
	a, _ := testApp(t, newStore(t, "sqlite"), `timezone: Europe/Moscow
connectors:
  - {name: daily, type: hubspot, token: t, schedule: "0 9 * * *"}
  - {name: monthly, type: hubspot, token: t, schedule: "0 9 1 * *"}
  - {name: berlin, type: hubspot, token: t, schedule: "CRON_TZ=Europe/Berlin 0 9 * * *"}
  - {name: often, type: hubspot, token: t, schedule: "@every 10m"}
  - {name: default, type: hubspot, token: t}
`)
	a.Now = func() time.Time { return now }
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for c, at := range st.Next {
		got[c] = at.Format(time.RFC3339)
	}
	want := map[string]string{
		"daily":   "2026-11-28T09:00:00+03:00",
		"monthly": "2026-12-01T09:00:00+03:00",
		"berlin":  "2026-11-28T11:00:00+03:00", // 09:00 in Berlin (UTC+1)
		"often":   "2026-11-28T08:40:10+03:00",
		"default": "2026-11-28T09:00:00+03:00", // */30
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("next runs (-want +got):\n%s", diff)
	}
}

// TestStatusAfterFailedRun: status is healthy when every object's last run
// succeeded and is fresh, and unhealthy (exit 1), naming the failing
// objects, after a run failed because the CRM revoked the token.
func TestStatusAfterFailedRun(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			amo := amocrmtest.NewServer(amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0))
			t.Cleanup(amo.Close)
			amo.Seed(amocrmtest.SeedConfig{Users: 4, Companies: 15, Contacts: 30, Leads: 40, Tasks: 30, Notes: 30, Messages: 20, Seed: 4,
				End: time.Now().Add(-24 * time.Hour)})
			s := newStore(t, kind)
			yaml := fmt.Sprintf("connectors:\n  - {name: amo, type: amocrm, token: %q, base_url: %q, schedule: \"@every 1m\", rate_limit: 1000, burst: 100}\n",
				amo.Token(), amo.URL)
			a, stderr := testApp(t, s, yaml)
			if _, err := a.Sync(context.Background(), a.Config.Connectors, SyncOptions{}); err != nil {
				t.Fatalf("sync: %v\n%s", err, stderr)
			}
			status := func() (*Status, string, string) {
				t.Helper()
				st, err := a.Status(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var table, js bytes.Buffer
				if err := st.WriteTable(&table); err != nil {
					t.Fatal(err)
				}
				if err := st.WriteJSON(&js); err != nil {
					t.Fatal(err)
				}
				return st, table.String(), js.String()
			}
			if st, table, _ := status(); !st.Healthy() {
				t.Fatalf("status after a good sync is unhealthy:\n%s", table)
			}

			amo.RevokeTokens()
			a, stderr = testApp(t, s, yaml)
			_, err := a.Sync(context.Background(), a.Config.Connectors, SyncOptions{})
			if err == nil || !strings.Contains(stderr.String(), "failures:") {
				t.Fatalf("sync with a revoked token: %v, want a failure with a failure summary\n%s", err, stderr)
			}
			st, table, js := status()
			if st.Healthy() {
				t.Errorf("status after a failed run is healthy (exit 0), want exit 1\n%s", table)
			}
			for _, obj := range []string{"deals", "contacts", "users"} {
				if !connectortest.LineWith(table, "amo", obj, "FAILING") {
					t.Errorf("status does not show amo %s FAILING:\n%s", obj, table)
				}
			}
			var doc struct {
				Healthy bool `json:"healthy"`
				Objects []struct {
					Connector, Object, Error string
					Failing                  bool
				} `json:"objects"`
			}
			if err := json.Unmarshal([]byte(js), &doc); err != nil {
				t.Fatalf("status JSON: %v\n%s", err, js)
			}
			failing := 0
			for _, o := range doc.Objects {
				if o.Failing && o.Error != "" {
					failing++
				}
			}
			if doc.Healthy || failing == 0 {
				t.Errorf("status JSON: healthy %v, %d failing objects with an error", doc.Healthy, failing)
			}
		})
	}
}
