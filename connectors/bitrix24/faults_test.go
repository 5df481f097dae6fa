package bitrix24

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

func TestFaultsRiddenOut(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault connectortest.Fault
		n     int
	}{
		{"query limit storm", bitrix24test.FaultQueryLimit, 5},
		{"lower-case query limit", bitrix24test.FaultLowercaseQueryLimit, 3},
		{"5xx burst", bitrix24test.FaultServerError, 4},
		{"html 502", bitrix24test.FaultHTML, 3},
		{"bare 429", bitrix24test.FaultTooMany, 3},
		{"malformed JSON", bitrix24test.FaultMalformed, 2},
		{"truncated JSON", bitrix24test.FaultTruncated, 2},
		{"reset mid-body", bitrix24test.FaultReset, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk)
			seed(srv, 130)
			c := newClient(t, srv, clk, nil)
			srv.Fail(tc.n, tc.fault)
			r := pull(t, c, connectors.ObjectDeals, "")
			if len(r.deals) != 130 {
				t.Errorf("pulled %d deals, want 130", len(r.deals))
			}
			// One batch (a full load chains from the start) plus one
			// attempt per fault.
			if got := srv.TotalRequests(); got != 1+tc.n {
				t.Errorf("fake saw %d requests, want %d", got, 1+tc.n)
			}
		})
	}
}

func TestOperationTimeLimitWaitsForReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The portal's clock stands 300 ms before a whole second; the
		// reset is at that second (a Unix number), so the client waits
		// 300 ms, not its 10 s backoff.
		clk := newClock(t0.Add(700 * time.Millisecond))
		srv := newBubbleFake(t, clk)
		seed(srv, 10)
		c := newClient(t, srv, clk, func(o *Options) { o.MinBackoff, o.MaxBackoff = 10*time.Second, 10*time.Second })
		srv.SetOperatingResetAt(t0.Add(time.Second))
		srv.Fail(1, bitrix24test.FaultOperationTimeLimit)
		start := time.Now()
		r := pull(t, c, connectors.ObjectDeals, "")
		if took := time.Since(start); took != 300*time.Millisecond {
			t.Errorf("pull took %v, want 300ms (until operating_reset_at)", took)
		}
		if len(r.deals) != 10 {
			t.Errorf("pulled %d deals, want 10", len(r.deals))
		}

		// A reset beyond MaxRetryAfter fails at once, as a rate-limit error.
		srv.SetOperatingResetAt(t0.Add(time.Hour))
		srv.Fail(1, bitrix24test.FaultOperationTimeLimit)
		start = time.Now()
		err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
		var rl *connectors.RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("err = %v, want a RateLimitError", err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("the failing pull took %v, want no wait", took)
		}
	})
}

func TestEmptyErrorCodeReportedWithDescription(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	c := newClient(t, srv, clk, func(o *Options) { o.BatchSize = 1 })
	srv.Fail(1, bitrix24test.FaultEmptyCode)
	err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	want := "b24 deals page 1: HTTP 400: Parameter 'filter' must be array."
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if srv.TotalRequests() != 1 {
		t.Errorf("a method error was retried: %d requests", srv.TotalRequests())
	}

	// The same answer to a batch chain (a portal that cannot read the
	// commands' filter[...] form) is a refusal of the chain: the page is
	// read by a call of its own.
	seed(srv, 3)
	srv.ResetCounts()
	c = newClient(t, srv, clk, nil)
	srv.Fail(1, bitrix24test.FaultEmptyCode)
	r := pull(t, c, connectors.ObjectDeals, "")
	if len(r.deals) != 3 || srv.Requests("batch") != 1 || srv.Requests("crm.deal.list") != 1 {
		t.Errorf("refused batch: %d deals, %v requests; want 3 from 1 batch and 1 call", len(r.deals), srv.RequestCounts())
	}
}

func TestBatchSubCallErrors(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	seed(srv, 130)
	c := newClient(t, srv, clk, nil)

	// QUERY_LIMIT_EXCEEDED inside a batch: the batch is sent again.
	srv.FailSubCalls("QUERY_LIMIT_EXCEEDED")
	r := pull(t, c, connectors.ObjectDeals, "")
	if len(r.deals) != 130 || srv.Requests("batch") != 2 {
		t.Errorf("pulled %d deals with %d batches, want 130 with 2", len(r.deals), srv.Requests("batch"))
	}

	// Anything else fails the page, naming the sub-call and its method.
	srv.FailSubCalls("ACCESS_DENIED")
	err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	want := "b24 deals page 1: batch command c01 (crm.deal.list): authentication failed (HTTP 200): ACCESS_DENIED: Injected sub-call failure"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if !connectors.IsAuth(err) {
		t.Errorf("IsAuth(%v) = false", err)
	}

	// A missing scope fails a direct call as an auth error too.
	srv2 := newFake(t, clk, bitrix24test.WithScopes("user"))
	c2 := newClient(t, srv2, clk, nil)
	err = c2.Pull(context.Background(), connectors.ObjectStages, "", func(context.Context, *connectors.Page) error { return nil })
	want = "b24 stages page 1: list pipelines: authentication failed (HTTP 403): insufficient_scope: The request requires higher privileges than provided by the webhook token"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// The bucket tests run in a testing/synctest bubble, so the fake's leaky
// bucket drains on the bubble's clock at the vendor's own rate, and the
// figures are exact however fast or slow the machine.

func TestBucketNeverOverrun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The vendor's bucket (2 a second, 50 deep) and our defaults
		// (rate = drain rate, burst a fifth of the bucket). Four pulls run
		// at once, as the sync engine runs objects: 120 light requests
		// never meet a 503, and take no longer than the limiter's pace:
		// the burst of 10 at once, then one per half second.
		clk := newClock(t0)
		srv := newBubbleFake(t, clk, bitrix24test.WithRateLimit(DefaultRateLimit, DefaultBucket))
		seed(srv, 10)
		c := newClient(t, srv, clk, func(o *Options) { o.RateLimit, o.Burst = DefaultRateLimit, DefaultBurst })
		start := time.Now()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 30 {
					c.Pull(context.Background(), connectors.ObjectUsers, "", func(context.Context, *connectors.Page) error { return nil })
				}
			})
		}
		wg.Wait()
		if rej, st := srv.Rejected(), c.Stats(); rej != 0 || st.RateLimited != 0 || st.Requests != 120 {
			t.Errorf("with the limiter: %d rejected, %d rate-limited in %d requests; want 0, 0, 120", rej, st.RateLimited, st.Requests)
		}
		if took := time.Since(start); took != 55*time.Second {
			t.Errorf("120 requests took %v, want 55s (110 after the burst at 2 a second)", took)
		}

		// The same load without a limiter (and without retries) against
		// the same bucket overruns it: the check above has teeth. No time
		// passes in the bubble, so nothing drains: 50 fit, 10 do not.
		srv2 := newBubbleFake(t, clk, bitrix24test.WithRateLimit(DefaultRateLimit, DefaultBucket))
		seed(srv2, 10)
		c2 := newClient(t, srv2, clk, func(o *Options) { o.RateLimit, o.Burst, o.MaxRetries = 1e6, 1000, -1 })
		for range 60 {
			c2.Pull(context.Background(), connectors.ObjectUsers, "", func(context.Context, *connectors.Page) error { return nil })
		}
		if rej := srv2.Rejected(); rej != 10 {
			t.Errorf("without a limiter: %d rejected of 60 requests, want 10", rej)
		}
	})
}

func TestBucketDrainedByAnotherClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newClock(t0)
		srv := newBubbleFake(t, clk, bitrix24test.WithRateLimit(DefaultRateLimit, DefaultBucket))
		seed(srv, 130)
		// A backoff of half a second to a second: by the retry the bucket
		// has drained room for at least one request, so exactly one is
		// refused.
		c := newClient(t, srv, clk, func(o *Options) {
			o.RateLimit, o.Burst = DefaultRateLimit, DefaultBurst
			o.MinBackoff, o.MaxBackoff = time.Second, time.Second
		})
		srv.ConsumeBucket(DefaultBucket)
		r := pull(t, c, connectors.ObjectDeals, "")
		if len(r.deals) != 130 {
			t.Errorf("pulled %d deals, want 130", len(r.deals))
		}
		if rej, st := srv.Rejected(), c.Stats(); rej != 1 || st.RateLimited != 1 || st.Requests != 2 {
			t.Errorf("rejected %d, client saw %d rate limits in %d requests; want the drained bucket to bite once: 1, 1, 2", rej, st.RateLimited, st.Requests)
		}
	})
}

// secretFree fails when s holds any form of the webhook's secret.
func secretFree(t *testing.T, what, s, webhook string) {
	t.Helper()
	code := strings.Split(strings.Trim(webhook, "/"), "/")
	secret := code[len(code)-1]
	for _, bad := range []string{webhook, secret, "/rest/1/"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s shows %q: %s", what, bad, s)
		}
	}
}

func TestWebhookSecretNeverShown(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	seed(srv, 10)
	var logs connectortest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	webhook := srv.WebhookURL()

	// A closed port: connection refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String() + "/rest/1/b24fakewebhookcode/"
	ln.Close()

	for _, tc := range []struct {
		name   string
		url    string
		fault  connectortest.Fault
		n      int
		mod    func(*Options)
		expect string
	}{
		{"500s", webhook, bitrix24test.FaultServerError, 10, nil, "HTTP 500"},
		{"html 502s", webhook, bitrix24test.FaultHTML, 10, nil, "HTTP 502: HTML page instead of JSON"},
		{"connection refused", refused, connectortest.Fault{}, 0, nil, "connection refused"},
		{"timeout", webhook, bitrix24test.FaultSlow, 3, func(o *Options) { o.Timeout = 100 * time.Millisecond }, "timeout"},
		{"malformed", webhook, bitrix24test.FaultMalformed, 10, nil, "malformed response"},
		{"revoked", webhook, bitrix24test.FaultUnauthorized, 1, nil, "authentication failed (HTTP 401): NO_AUTH_FOUND: Wrong authorization data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.n > 0 {
				srv.Fail(tc.n, tc.fault)
			}
			c := newClient(t, srv, clk, func(o *Options) {
				o.WebhookURL, o.Logger, o.MaxRetries = tc.url, logger, 2
				if tc.mod != nil {
					tc.mod(o)
				}
			})
			err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.expect) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.expect)
			}
			secretFree(t, "error", err.Error(), tc.url)
			secretFree(t, "error chain", fmtErr(err), tc.url)
			_, cerr := c.Check(context.Background())
			if cerr != nil {
				secretFree(t, "check error", cerr.Error(), tc.url)
			}
		})
		srv.ClearFaults()
	}
	if !strings.Contains(logs.String(), "retrying request") {
		t.Errorf("no retry was logged; the log check saw nothing: %s", logs.String())
	}
	secretFree(t, "log", logs.String(), webhook)
	secretFree(t, "log", logs.String(), refused)
}

// fmtErr renders every layer of err, so a secret in an inner error's
// fields is found too.
func fmtErr(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString(e.Error())
		b.WriteString(" | ")
	}
	return b.String()
}

func TestRevokedWebhook(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	seed(srv, 10)
	c := newClient(t, srv, clk, nil)
	webhook := srv.WebhookURL()
	srv.RevokeWebhook()
	err := c.Pull(context.Background(), connectors.ObjectContacts, "", func(context.Context, *connectors.Page) error { return nil })
	want := "b24 contacts page 1: authentication failed (HTTP 401): NO_AUTH_FOUND: Wrong authorization data"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if !connectors.IsAuth(err) || srv.TotalRequests() != 1 {
		t.Errorf("IsAuth = %v after %d requests; want true after 1 (never retried)", connectors.IsAuth(err), srv.TotalRequests())
	}
	secretFree(t, "error", err.Error(), webhook)
	if _, err := c.Check(context.Background()); !connectors.IsAuth(err) {
		t.Errorf("Check = %v, want an auth error", err)
	}
}

// TestCheck asks for the least a sync needs: crm and user_basic (the
// full user scope covers it; user_brief has no e-mails), and reads one
// page of deal ids and one of users, so a webhook user who may not read
// deals fails check, with the portal's own "Access denied.".
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []bitrix24test.Option
		deals    int
		want     string
		warnings []string
	}{
		{"user_basic", []bitrix24test.Option{bitrix24test.WithScopes("crm", "user_basic")}, 3, "", nil},
		{"full user scope", []bitrix24test.Option{bitrix24test.WithScopes("crm", "user", "task")}, 3, "", nil},
		{"user_brief only", []bitrix24test.Option{bitrix24test.WithScopes("crm", "user_brief")}, 3,
			"b24: authentication failed (HTTP 403): missing scopes user_basic (has crm, user_brief)", nil},
		{"no user scope", []bitrix24test.Option{bitrix24test.WithScopes("crm")}, 3,
			"b24: authentication failed (HTTP 403): missing scopes user_basic (has crm)", nil},
		{"nothing", []bitrix24test.Option{bitrix24test.WithScopes("task")}, 3,
			"b24: authentication failed (HTTP 403): missing scopes crm, user_basic (has task)", nil},
		{"deals not readable", []bitrix24test.Option{bitrix24test.WithAccessDenied("crm.deal.list")}, 3,
			"b24 deals: read deals: authentication failed (HTTP 400): Access denied.", nil},
		{"users not readable", []bitrix24test.Option{bitrix24test.WithAccessDenied("user.get")}, 3,
			"b24 users: read users: authentication failed (HTTP 400): Access denied.", nil},
		{"no deals visible", nil, 0, "",
			[]string{"the webhook's user sees no deals: a new portal, or a user who may not read the others' deals"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk, tc.opts...)
			if tc.deals > 0 {
				seed(srv, tc.deals)
			}
			c := newClient(t, srv, clk, nil)
			warnings, err := c.Check(context.Background())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want || !cmp.Equal(warnings, tc.warnings) {
				t.Errorf("Check = %q, %q; want %q, %q", warnings, got, tc.warnings, tc.want)
			}
			if err != nil && !connectors.IsAuth(err) {
				t.Errorf("IsAuth(%v) = false", err)
			}
			if tc.want != "" {
				return
			}
			counts := map[string]int{"scope": srv.Requests("scope"), "crm.deal.list": srv.Requests("crm.deal.list"), "user.get": srv.Requests("user.get")}
			if diff := cmp.Diff(map[string]int{"scope": 1, "crm.deal.list": 1, "user.get": 1}, counts); diff != "" || srv.TotalRequests() != 3 {
				t.Errorf("Check requests (-want +got), %d in all:\n%s", srv.TotalRequests(), diff)
			}
			// The cheapest documented read: ids only, fast mode (no COUNT).
			want := map[string]any{"select": []any{"ID"}, "order": map[string]any{"ID": "ASC"}, "filter": map[string]any{">ID": 0.0}, "start": -1.0}
			if diff := cmp.Diff(want, srv.LastParams("crm.deal.list")); diff != "" {
				t.Errorf("crm.deal.list params (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthorizationErrors: each documented permission answer is an
// AuthError carrying the portal's message, and none is retried; a deleted
// portal is fatal too, not a 500 to retry.
func TestAuthorizationErrors(t *testing.T) {
	for _, tc := range []struct {
		fault connectortest.Fault
		want  string
	}{
		{bitrix24test.FaultAccessDenied, "authentication failed (HTTP 400): Access denied."},
		{bitrix24test.FaultPlanAccessDenied, "authentication failed (HTTP 403): ACCESS_DENIED: REST API is available only on commercial plans."},
		{bitrix24test.FaultInvalidCredentials, "authentication failed (HTTP 403): INVALID_CREDENTIALS: Invalid request credentials"},
		{bitrix24test.FaultInsufficientScope, "authentication failed (HTTP 403): insufficient_scope: The request requires higher privileges than provided by the webhook token"},
		{bitrix24test.FaultUserAccessError, "authentication failed (HTTP 403): user_access_error: The user does not have access to the application"},
		{bitrix24test.FaultPortalDeleted, "authentication failed (HTTP 500): PORTAL_DELETED: Portal was deleted"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			clk := newClock(t0)
			srv := newFake(t, clk)
			seed(srv, 3)
			c := newClient(t, srv, clk, nil)
			srv.Fail(1, tc.fault)
			err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
			if want := "b24 deals page 1: " + tc.want; err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
			if !connectors.IsAuth(err) || srv.TotalRequests() != 1 {
				t.Errorf("IsAuth = %v after %d requests; want true after 1 (never retried)", connectors.IsAuth(err), srv.TotalRequests())
			}
		})
	}

	// A webhook user without read access to deals: the sync's batch says
	// so in result_error, with the same message, and is not retried.
	clk := newClock(t0)
	srv := newFake(t, clk, bitrix24test.WithAccessDenied("crm.deal.list"))
	seed(srv, 3)
	c := newClient(t, srv, clk, nil)
	err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	want := "b24 deals page 1: batch command c00 (crm.deal.list): authentication failed (HTTP 200): Access denied."
	if err == nil || err.Error() != want || !connectors.IsAuth(err) {
		t.Errorf("err = %v (IsAuth %v)\nwant  %s", err, connectors.IsAuth(err), want)
	}
	if srv.TotalRequests() != 1 {
		t.Errorf("%d requests, want 1", srv.TotalRequests())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "webhook_url or base_url is required"},
		{Options{WebhookURL: "ftp://x/rest/1/abc/"}, "webhook URL is not an http(s) URL"},
		{Options{WebhookURL: "https://portal.bitrix24.ru/rest/secretcode/"}, "webhook URL is not of the form https://portal/rest/{user}/{code}/"},
		{Options{BaseURL: "https://portal.bitrix24.ru/rest/"}, "base URL without webhook_url needs an OAuth token"},
	} {
		_, err := New(tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %s", tc.opts, err, tc.want)
		}
	}
}
