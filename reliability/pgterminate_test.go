package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestPostgresBackendsTerminatedMidSync is the real thing behind
// TestWarehouseFaults' "connection lost": a sync against a slow Bitrix24
// fake writes into a PostgreSQL schema through connections named by a
// distinctive application_name, and another connection kills them all with
// pg_terminate_backend twice during the run, as a server restart does.
// The run either fails with a clear message or rides it out (database/sql
// reconnects); no run is left "running"; the next sync makes the warehouse
// equal to the fake.
func TestPostgresBackendsTerminatedMidSync(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	base := warehousetest.NewPostgres(t) // creates and migrates the schema
	app := fmt.Sprintf("crmkpi_reliability_kill_%d", time.Now().UnixNano())
	u, err := url.Parse(warehousetest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	s, err := warehouse.OpenSchema(ctx, u.String(), base.Schema())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	admin := synctest.DB(t, base)

	clk := synctest.NewClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0),
		bitrix24test.WithLatency(15*time.Millisecond))
	t.Cleanup(srv.Close)
	srv.SeedUniform(400, 400, 400, 400)
	clk.Advance(3 * time.Hour)
	conn := func(tr http.RoundTripper) *bitrix24.Client {
		c, err := bitrix24.New(bitrix24.Options{Name: "crm", WebhookURL: srv.WebhookURL(), HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Now: clk.Now, BatchSize: 1, Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// The kills go when the run sends its 6th and 14th request (retries
	// count, as the fake counts them): sent[i] closes then.
	after := []int{6, 14}
	sent := make([]chan struct{}, len(after))
	for i := range sent {
		sent[i] = make(chan struct{})
	}
	ft := connectortest.NewTransport()
	ft.Set(func(n int, _ *http.Request, _ []byte) {
		if i := slices.Index(after, n); i >= 0 {
			close(sent[i])
		}
	}, nil)
	done := make(chan *crmsync.Summary, 1)
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		e := &crmsync.Engine{Store: s, Now: clk.Now, Holder: "reliability"}
		sum, _ := e.Run(rctx, []crmsync.Job{{Connector: conn(ft), ReconcileEvery: 24 * time.Hour}})
		done <- sum
	}()
	killed := 0
	var sum *crmsync.Summary
	// The second kill waits for the 14th request, unless the run has
	// ended by then: the first kill may have failed every object.
kills:
	for i := range after {
		select {
		case <-sent[i]:
		case sum = <-done:
			break kills
		case <-time.After(20 * time.Second):
			t.Fatalf("the fake served %d requests in 20 s, and the run has not ended", srv.TotalRequests())
		}
		var n int
		if err := admin.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		killed += n
	}
	if sum == nil {
		sum = <-done
	}
	if killed == 0 {
		t.Fatal("no backend was terminated")
	}
	if err := sum.Err(); err != nil {
		t.Logf("the run failed (%d backends terminated): %v", killed, err)
		for _, c := range sum.Connectors {
			for _, o := range c.Objects {
				if o.Err != nil && !strings.Contains(o.Err.Error(), "crm "+string(o.Object)) {
					t.Errorf("error does not name connector and object: %v", o.Err)
				}
			}
		}
	} else {
		t.Logf("the run rode out %d terminated backends", killed)
	}
	noneRunning(t, s, "crm")
	mustSync(t, s, clk, conn(nil), false)
	equalFake(t, s, "crm", synctest.Bitrix24(srv))
}
