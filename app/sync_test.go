package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
)

func TestExpiryWarnings(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mk := func(name string, exp time.Time) built {
		c, err := amocrm.New(amocrm.Options{Name: name, BaseURL: "https://example.amocrm.ru", Token: amocrmtest.LongLivedToken(exp)})
		if err != nil {
			t.Fatal(err)
		}
		return built{conn: c}
	}
	got := expiryWarnings([]built{
		mk("fresh", now.Add(90*24*time.Hour)),
		mk("soon", now.Add(5*24*time.Hour+time.Hour)),
		mk("tomorrow", now.Add(30*time.Hour)),
		mk("gone", now.Add(-time.Hour)),
	}, now)
	want := []string{
		"soon: the token expires on 2026-12-03 (in 5 days); generate a new one",
		"tomorrow: the token expires on 2026-11-29 (in 1 day); generate a new one",
		"gone: the token expired on 2026-11-28; generate a new one",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expiryWarnings (-want +got):\n%s", diff)
	}
}

// TestSyncMassDeleteGuard: a full sync whose deals listing holds under
// half the deals stored (then none) flags nothing and fails (exit 1); a
// lower min_listing_share in the config, or AllowMassDelete
// (--allow-mass-delete), lets the deletions through.
func TestSyncMassDeleteGuard(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := bitrix24test.NewServer(bitrix24test.WithRateLimit(0, 0))
			t.Cleanup(srv.Close)
			// 130 deals; the other objects, which the guard treats alike,
			// have one record each.
			synctest.SeedBitrix24(srv, 1)
			var seeded []bitrix24test.Record
			for i := 2; i <= 130; i++ {
				seeded = append(seeded, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "STAGE_ID": "NEW",
					"STAGE_SEMANTIC_ID": "P", "OPPORTUNITY": "10.50", "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": "1"})
			}
			srv.AddMany(bitrix24test.Deals, seeded)
			s := newStore(t, kind)
			db := synctest.DB(t, s)
			sync := func(extra string, o SyncOptions) (string, error) {
				t.Helper()
				a, stderr := testApp(t, s, fmt.Sprintf("connectors:\n  - {name: b24, type: bitrix24, webhook_url: %q, rate_limit: 1000, burst: 100%s}\n",
					srv.WebhookURL(), extra))
				_, err := a.Sync(context.Background(), a.Config.Connectors, o)
				return stderr.String(), err
			}
			failed := func(err error) bool {
				return err != nil && !errors.As(err, new(*SkippedError)) && !errors.As(err, new(*ConfigError))
			}
			liveDeals := func() int {
				t.Helper()
				var n int
				if err := db.QueryRow("SELECT count(*) FROM crm_deals WHERE connector = 'b24' AND NOT deleted").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if stderr, err := sync("", SyncOptions{}); err != nil {
				t.Fatalf("first sync: %v\n%s", err, stderr)
			}
			for i := 31; i <= 130; i++ {
				srv.Delete(bitrix24test.Deals, strconv.Itoa(i))
			}
			stderr, err := sync("", SyncOptions{Full: true})
			want := "b24 deals: reconcile deletions: the CRM listed 30 ids while 130 records are stored, under the 50% a listing must hold; " +
				"refusing to flag up to 100 stored records deleted (if the CRM really lost them, run crmkpi sync --connector b24 --allow-mass-delete)"
			if !failed(err) || !strings.Contains(stderr, want) {
				t.Errorf("full sync with 30 of 130 deals listed: %v, want a failure and %q:\n%s", err, want, stderr)
			}
			if n := liveDeals(); n != 130 {
				t.Errorf("%d live deals after the refused scan, want 130", n)
			}
			if stderr, err := sync(", min_listing_share: 20", SyncOptions{Full: true}); err != nil {
				t.Errorf("full sync with min_listing_share 20: %v\n%s", err, stderr)
			}
			if n := liveDeals(); n != 30 {
				t.Errorf("%d live deals with min_listing_share 20, want 30", n)
			}

			for i := 1; i <= 30; i++ {
				srv.Delete(bitrix24test.Deals, strconv.Itoa(i))
			}
			stderr, err = sync(", min_listing_share: 20", SyncOptions{Full: true})
			if want := "b24 deals: reconcile deletions: the CRM listed no ids while 30 records are stored"; !failed(err) || !strings.Contains(stderr, want) {
				t.Errorf("full sync with no deal listed: %v, want a failure and %q:\n%s", err, want, stderr)
			}
			if stderr, err := sync(", min_listing_share: 20", SyncOptions{Full: true, AllowMassDelete: true}); err != nil {
				t.Errorf("full sync allowing mass deletes: %v\n%s", err, stderr)
			}
			if n := liveDeals(); n != 0 {
				t.Errorf("%d live deals after allowing mass deletes, want 0", n)
			}
			// The refused runs are failures for status, with their reason.
			runs, err := synctest.Runs(context.Background(), db, "b24")
			if err != nil {
				t.Fatal(err)
			}
			var deals []string
			for _, r := range runs {
				if r.Object == "deals" {
					deals = append(deals, r.Status)
				}
			}
			if diff := cmp.Diff([]string{"ok", "failed", "ok", "failed", "ok"}, deals); diff != "" {
				t.Errorf("deals runs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSyncSkipsLockedConnector: while another sync holds the connector's
// lock, a sync names the holder, skips the connector and returns a
// SkippedError (exit 3), or nothing with SkipLocked (--skip-locked, exit
// 0); status shows the lock and the skip. Once the lock is released a
// sync stores every record once.
func TestSyncSkipsLockedConnector(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(bitrix24test.WithRateLimit(0, 0))
	t.Cleanup(srv.Close)
	synctest.SeedBitrix24(srv, 60) // two pages of each object
	s := newStore(t, "postgres")
	db := synctest.DB(t, s)
	yaml := fmt.Sprintf("connectors:\n  - {name: b24, type: bitrix24, webhook_url: %q, schedule: \"@every 1m\", rate_limit: 1000, burst: 100}\n", srv.WebhookURL())
	const holder = "crmkpi-first:4242"
	lease, err := s.TryLock(context.Background(), "b24", holder)
	if err != nil {
		t.Fatal(err)
	}
	a, stderr2 := testApp(t, s, yaml)
	_, err2 := a.Sync(context.Background(), a.Config.Connectors, SyncOptions{})
	b, stderr3 := testApp(t, s, yaml)
	_, err3 := b.Sync(context.Background(), b.Config.Connectors, SyncOptions{SkipLocked: true})
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var status strings.Builder
	if err := st.WriteTable(&status); err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}
	first, stderr1 := testApp(t, s, yaml)
	_, err1 := first.Sync(context.Background(), first.Config.Connectors, SyncOptions{})
	var skipped *SkippedError
	if err1 != nil || !errors.As(err2, &skipped) || err3 != nil {
		t.Fatalf("errors %v, %v and %v, want none, a SkippedError and none; stderr:\n%s\n---\n%s\n---\n%s", err1, err2, err3, stderr1, stderr2, stderr3)
	}
	for _, stderr := range []string{stderr2.String(), stderr3.String()} {
		if !strings.Contains(stderr, "b24: skipped: locked by "+holder) {
			t.Errorf("a skipped sync's stderr does not name the lock holder %s:\n%s", holder, stderr)
		}
	}
	if want := "skipped: b24 locked by " + holder + " (--skip-locked makes a skip exit 0)"; err2.Error() != want {
		t.Errorf("the skipped sync's error = %q, want %q", err2, want)
	}
	if !connectortest.LineWith(status.String(), "b24: locked by ", holder) || !connectortest.LineWith(status.String(), "b24: SKIPPED at ", "locked by ", holder) {
		t.Errorf("status while another sync holds the lock does not show the lock and the skip:\n%s", status.String())
	}
	want := synctest.Bitrix24(srv)
	got, err := synctest.Read(context.Background(), db, "b24")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warehouse differs from the fake (-fake +warehouse):\n%s", diff)
	}

	// One run per object, all by the sync that held the lock; their
	// records add up to the rows stored, so none was written twice.
	runs, err := synctest.Runs(context.Background(), db, "b24")
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	records := 0
	for _, r := range runs {
		objects = append(objects, r.Object)
		records += r.Records
		if r.Status != warehouse.RunSucceeded {
			t.Errorf("run %d %s: %s %s", r.ID, r.Object, r.Status, r.Error)
		}
	}
	slices.Sort(objects)
	if diff := cmp.Diff([]string{"activities", "companies", "contacts", "deals", "stages", "users"}, objects); diff != "" {
		t.Errorf("sync_runs objects (-want +got):\n%s", diff)
	}
	var stored int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM crm_users WHERE connector = 'b24') + (SELECT count(*) FROM crm_stages WHERE connector = 'b24') +" +
		" (SELECT count(*) FROM crm_companies WHERE connector = 'b24') + (SELECT count(*) FROM crm_contacts WHERE connector = 'b24') +" +
		" (SELECT count(*) FROM crm_deals WHERE connector = 'b24') + (SELECT count(*) FROM crm_activities WHERE connector = 'b24')").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if records != stored {
		t.Errorf("runs recorded %d records, the warehouse holds %d rows", records, stored)
	}
}
