package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
)

// Secrets shaped like the real ones: a HubSpot private app token, an
// amoCRM long-lived token (a JWT) and a Bitrix24 webhook code.
const (
	fragHubSpot = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69"
	fragAmo     = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImp0aSI6IjRmY2Y4YTFjMmIifQ." +
		"eyJhdWQiOiI4YzJlMWY3YSIsImlhdCI6MTc1MTg5MjM2OSwiZXhwIjoxODE0NDAwMDAwLCJzdWIiOiIxMDI4Mzc0NiJ9." +
		"C4mN9qX2vB7kP1sT6wY3zR8uE5oI0aL4dF9gH2jK7lZ3xC6vB1nM8qW5eR0tY4uI9oP2aS7dF3gH6jK1lZ"
	fragB24 = "k7p2x9q4m1v8z3w6"
)

// newEchoProxy starts a gateway in front of a CRM that echoes every
// request, secret included, cutting the echo through the secret.
func newEchoProxy(t *testing.T, secret string) *connectortest.EchoGateway {
	g := connectortest.NewEchoGateway(secret)
	t.Cleanup(g.Close)
	return g
}

// TestSecretFragmentsNeverLeak syncs three connectors behind gateways that
// echo each request, secrets included, in their error bodies and cut the
// echo mid-secret: first a 400 (final at once), then a 500 (retried until
// the run's deadline, whose error names the last answer). No 8-byte piece
// of any secret may reach stdout, stderr (debug logs included) or
// sync_runs.error.
func TestSecretFragmentsNeverLeak(t *testing.T) {
	t.Parallel()
	hs := newEchoProxy(t, fragHubSpot)
	amo := newEchoProxy(t, fragAmo)
	b24 := newEchoProxy(t, fragB24)
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "crmkpi.db")
	cfg := writeFile(t, dir, "crmkpi.yaml", fmt.Sprintf(`timezone: Europe/Moscow
currency: RUB
warehouse: {dsn: %q}
connectors:
  - {name: hs, type: hubspot, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100, search_rate_limit: 1000}
  - {name: amo, type: amocrm, token: %q, base_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100}
  - {name: b24, type: bitrix24, webhook_url: %q, schedule: "@every 1h", rate_limit: 1000, burst: 100}
`, dsn, fragHubSpot, hs.URL, fragAmo, amo.URL, b24.URL+"/rest/1/"+fragB24+"/"))
	env := map[string]string{"CRMKPI_LOG_LEVEL": "debug"}
	secrets := map[string]string{"HubSpot token": fragHubSpot, "amoCRM token": fragAmo, "Bitrix24 webhook code": fragB24}
	leaks := func(where, text string) {
		t.Helper()
		for name, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if j := strings.Index(text, s[i:i+8]); j >= 0 {
					lo, hi := max(0, j-100), min(len(text), j+60)
					t.Errorf("%s holds %q of the %s: …%s…", where, s[i:i+8], name, text[lo:hi])
					break
				}
			}
		}
	}
	db := func() string {
		return dumpTable(t, synctest.OpenDSN(t, dsn), "sync_runs")
	}

	for _, step := range []struct {
		name    string
		status  int
		timeout time.Duration
		want    string // in sync_runs.error of every connector
	}{
		{"400", http.StatusBadRequest, 0, "HTTP 400: gateway error"},
		// The client retries a 500 with backoff; the deadline stops it.
		{"500", http.StatusInternalServerError, 3 * time.Second, "HTTP 500: gateway error"},
	} {
		for _, p := range []*connectortest.EchoGateway{hs, amo, b24} {
			p.Answer(step.status)
		}
		ctx := context.Background()
		if step.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, step.timeout)
			defer cancel()
		}
		before := hs.Echoed() + amo.Echoed() + b24.Echoed()
		code, stdout, stderr := runIn(ctx, env, "sync", "--config", cfg)
		if code == 0 {
			t.Errorf("%s: sync exit 0 against gateways that refuse everything\n%s", step.name, stderr)
		}
		runs := db()
		for _, c := range []string{"hs", "amo", "b24"} {
			if !strings.Contains(runs, "connector="+c) {
				t.Errorf("%s: no run of %s recorded", step.name, c)
			}
		}
		if n := strings.Count(runs, step.want); n < 3 {
			t.Errorf("%s: %d runs whose error holds %q, want one per connector at least: the echoes did not reach the errors\n%s", step.name, n, step.want, runs)
		}
		if !strings.Contains(stderr, step.want) {
			t.Errorf("%s: stderr does not show %q", step.name, step.want)
		}
		if hs.Echoed()+amo.Echoed()+b24.Echoed() == before {
			t.Errorf("%s: no request carried a secret to the gateways", step.name)
		}
		leaks(step.name+": stdout", stdout)
		leaks(step.name+": stderr", stderr)
		leaks(step.name+": sync_runs", runs)
		if testing.Verbose() {
			t.Logf("%s: exit %d; stderr:\n%s", step.name, code, stderr)
		}
	}
}
