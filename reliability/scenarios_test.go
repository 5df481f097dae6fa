package reliability

import (
	"context"
	"errors"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
)

// onDealsPage runs fn once, before the n-th request for a deals page.
func onDealsPage(c *crm, n int, fn func()) func(int, *http.Request, []byte) {
	var mu gosync.Mutex
	seen := 0
	return func(_ int, req *http.Request, body []byte) {
		if !c.IsDeals(req, body) {
			return
		}
		mu.Lock()
		seen++
		hit := seen == n
		mu.Unlock()
		if hit {
			fn()
		}
	}
}

// eachCRM runs fn in parallel with t's other parallel tests, once for
// every connector type against a new fake on every warehouse.
func eachCRM(t *testing.T, fn func(t *testing.T, c *crm, s *warehouse.Store)) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			each(t, func(t *testing.T, s *warehouse.Store) { fn(t, k.new(t), s) })
		})
	}
}

// TestCRMChangesDuringFullSync edits a deal already read and one not yet
// read while a full sync pages through the deals: after the next
// incremental sync the warehouse equals the fake, both edits included.
func TestCRMChangesDuringFullSync(t *testing.T) {
	eachCRM(t, func(t *testing.T, c *crm, s *warehouse.Store) {
		ft := connectortest.NewTransport()
		ft.Set(onDealsPage(c, 2, func() {
			c.Clock.Advance(time.Second)
			c.RenameDeal(t, 0, "Edited after it was read")
			c.RenameDeal(t, c.DealCount()-1, "Edited before it was read")
		}), nil)
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{Transport: ft}), true)
		c.Clock.Advance(5 * time.Minute)
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
		equalFake(t, s, "crm", c.Want())
	})
}

// TestCRMClockSkew edits a deal after an incremental sync with a modified
// time behind that sync's window end, as a CRM node with a slow clock (or
// a late-committing transaction) writes it. Within the connector's overlap
// the next incremental sync picks it up; beyond it only a full sync does,
// and a full sync must.
func TestCRMClockSkew(t *testing.T) {
	eachCRM(t, func(t *testing.T, c *crm, s *warehouse.Store) {
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
		c.Clock.Advance(10 * time.Minute)
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
		skewed := func(skew time.Duration, i int, name string) {
			c.Clock.Advance(-skew)
			c.RenameDeal(t, i, name)
			c.Clock.Advance(skew)
		}
		skewed(c.Overlap/2, 1, "Skewed within the overlap")
		c.Clock.Advance(2 * time.Minute)
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
		equalFake(t, s, "crm", c.Want())

		skewed(c.Overlap+3*time.Minute+time.Hour, 2, "Skewed beyond the overlap")
		c.Clock.Advance(2 * time.Minute)
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), true)
		equalFake(t, s, "crm", c.Want())
	})
}

// TestCRMTokenRevokedMidRun revokes the credentials while the deals are
// paged: the run fails with an auth error naming the connector (no retry
// can help), nothing is left running, and once the admin puts working
// credentials in the config the next sync completes the warehouse.
func TestCRMTokenRevokedMidRun(t *testing.T) {
	eachCRM(t, func(t *testing.T, c *crm, s *warehouse.Store) {
		ft := connectortest.NewTransport()
		revoke := c.Revoke
		if c.Kind == "amocrm" {
			// The fake cannot issue a new long-lived token after
			// RevokeTokens: answer 401 to the next requests instead.
			revoke = func() { c.Faults.Fail(1, fault401) }
		}
		ft.Set(onDealsPage(c, 2, revoke), nil)
		sum := syncRun(t, s, c.Clock, c.Connector(t, "crm", connOpts{Transport: ft}), false)
		err := sum.Err()
		var ae *connectors.AuthError
		if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "crm ") {
			t.Fatalf("run error = %v, want an *AuthError naming the connector", err)
		}
		t.Logf("failure, as wanted: %v", err)
		noneRunning(t, s, "crm")
		c.Restore()
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
		equalFake(t, s, "crm", c.Want())
	})
}

// TestAmoCRMOAuthMidRun: with OAuth, an access token revoked mid-run is
// refreshed once and the run goes on; a refresh token revoked too fails
// the run with a clear auth error, never a loop.
func TestAmoCRMOAuthMidRun(t *testing.T) {
	t.Parallel()
	for _, refreshWorks := range []bool{true, false} {
		name := map[bool]string{true: "refresh succeeds", false: "refresh fails"}[refreshWorks]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			each(t, func(t *testing.T, s *warehouse.Store) {
				clk := synctest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
				srv := amocrmtest.NewServer(amocrmtest.WithClock(clk.Now), amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0),
					amocrmtest.WithOAuth("cid", "oauth-client-secret"))
				t.Cleanup(srv.Close)
				srv.Seed(amocrmtest.SeedConfig{Users: 3, Companies: 5, Contacts: 5, Leads: 20, Tasks: 3, Notes: 3, Messages: 2, Seed: 4,
					End: clk.Now().Add(-24 * time.Hour)})
				seed := srv.OAuthRefreshToken()
				c := &crm{IsDeals: func(r *http.Request, _ []byte) bool { return r.URL.Path == "/api/v4/leads" }}
				ft := connectortest.NewTransport()
				ft.Set(onDealsPage(c, 2, func() {
					if refreshWorks {
						srv.Fail(1, amocrmtest.FaultUnauthorized)
					} else {
						srv.RevokeTokens()
					}
				}), nil)
				conn, err := amocrm.New(amocrm.Options{Name: "amo", BaseURL: srv.URL, Now: clk.Now, TokenStore: s,
					OAuth:       &amocrm.OAuth{ClientID: "cid", ClientSecret: "oauth-client-secret", RedirectURI: "https://app.example/cb", RefreshToken: seed},
					HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, PageSize: 5, Transport: ft})
				if err != nil {
					t.Fatal(err)
				}
				sum := syncRun(t, s, clk, conn, false)
				noneRunning(t, s, "amo")
				if refreshWorks {
					if sum.Failed() {
						t.Fatalf("run failed: %v", sum.Err())
					}
					if srv.OAuthRefreshes() < 2 {
						t.Errorf("refreshes = %d, want the first and a forced one", srv.OAuthRefreshes())
					}
					equalFake(t, s, "amo", synctest.AmoCRM(srv))
					return
				}
				err = sum.Err()
				if !connectors.IsAuth(err) || !strings.HasPrefix(err.Error(), "amo ") {
					t.Fatalf("run error = %v, want an auth error naming the connector", err)
				}
				t.Logf("failure, as wanted: %v", err)
				ctx := context.Background()
				if _, ok, _ := s.LoadToken(ctx, "amo"); !ok {
					t.Errorf("the rotated token was not saved")
				}
			})
		})
	}
}

// TestReconcileEmptyListing: the ID listing that reconciles deletions
// (Bitrix24 has no deletion feed) comes back empty while records are
// stored. Trusting it would flag every stored deal deleted and drop
// it from every KPI; the run must fail instead, flag nothing, and the next
// run reconcile correctly.
func TestReconcileEmptyListing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *warehouse.Store) {
		c := kinds[2].new(t)
		ft := connectortest.NewTransport()
		ft.Set(nil, dealsOnly(c, func(_ int, _ *http.Request, reqBody []byte, m map[string]any) []byte {
			if sel, _ := connectortest.JSONMap(reqBody)["select"].([]any); len(sel) == 1 { // ListIDs selects ID only
				c.SetRecords(m, []any{})
				return connectortest.MustJSON(m)
			}
			return nil
		}))
		// A full pull reconciles from the ids it brought; the listing runs
		// on the daily cadence of incremental syncs.
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), true)
		c.Clock.Advance(25 * time.Hour)
		sum := syncRun(t, s, c.Clock, c.Connector(t, "crm", connOpts{Transport: ft}), false)
		if err := sum.Err(); err == nil || !strings.Contains(err.Error(), "crm deals: reconcile deletions") {
			t.Fatalf("run error = %v, want the empty listing refused", err)
		} else {
			t.Logf("failure, as wanted: %v", err)
		}
		got, err := synctest.Read(context.Background(), synctest.DB(t, s), "crm")
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range got {
			if r.Deleted {
				t.Errorf("%s flagged deleted on an empty listing", k)
			}
		}
		ft.Clear()
		mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), true)
		equalFake(t, s, "crm", c.Want())
	})
}
