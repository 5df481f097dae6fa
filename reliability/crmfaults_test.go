package reliability

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

type outcome int

const (
	mustSucceed outcome = iota
	mustFail
	either
)

// crmFault is one fault of the CRM, set up before the first sync of a
// connector and cleared before the second.
type crmFault struct {
	name string
	// inject sets the fault up; opts tune the connector of the faulty run.
	inject func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts)
	// outcome says whether the faulty run must succeed (through
	// retries), fail (with an error naming the connector, the object and
	// the page), or may do either: some CRMs' paging can tell a broken
	// answer from a good one, others cannot, and what matters then is that
	// the next sync repairs everything.
	outcome outcome
	// object is the object the failure must name.
	object connectors.Object
	// only limits the fault to these CRMs; nil means all.
	only []string
}

// dealsOnly applies rewrite to the answers of deals pages.
func dealsOnly(c *crm, rewrite func(n int, req *http.Request, reqBody []byte, m map[string]any) []byte) func(int, *http.Request, []byte, int, []byte) []byte {
	return func(n int, req *http.Request, reqBody []byte, status int, body []byte) []byte {
		if !c.IsDeals(req, reqBody) {
			return nil
		}
		m := connectortest.JSONMap(body)
		if m == nil {
			return nil
		}
		return rewrite(n, req, reqBody, m)
	}
}

var crmFaults = []crmFault{
	{name: "5xx burst retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		c.Faults.Fail(4, fault5xx)
	}},
	{name: "HTML error page retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		c.Faults.Fail(2, faultHTML)
	}},
	{name: "slow answer beyond the timeout retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		o.Timeout = c.SlowTimeout
		c.Faults.Fail(1, faultSlow)
	}},
	{name: "connection reset mid-body retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		c.Faults.Fail(2, faultReset)
	}},
	{name: "truncated JSON retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		c.Faults.Fail(2, faultTruncated)
	}},
	{name: "malformed JSON retried", inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		c.Faults.Fail(2, faultMalformed)
	}},
	{name: "deals 5xx beyond retries", outcome: mustFail, object: connectors.ObjectDeals,
		inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
			o.MaxRetries = 2
			// Every deals request after the first page answers 503.
			pages := 0
			var mu gosync.Mutex
			o.Transport = &statusAfter{next: ft, match: func(r *http.Request) bool {
				if !c.IsDeals(r, nil) {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				pages++
				return pages > 1
			}, status: http.StatusServiceUnavailable}
		}},
	{name: "deals malformed beyond retries", outcome: mustFail, object: connectors.ObjectDeals,
		inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
			o.MaxRetries = 2
			pages := 0
			ft.Set(nil, dealsOnly(c, func(n int, _ *http.Request, _ []byte, m map[string]any) []byte {
				if pages++; pages > 1 {
					return []byte(`{"results": [{"id": `)
				}
				return nil
			}))
		}},
	{name: "cursor repeats (server stuck on one page)", outcome: mustFail, object: connectors.ObjectDeals,
		inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
			var first []byte
			ft.Set(nil, dealsOnly(c, func(n int, req *http.Request, reqBody []byte, m map[string]any) []byte {
				if first == nil {
					first = connectortest.MustJSON(m)
					return nil
				}
				// The server answers the first page again, whatever
				// position was asked for, still saying "more".
				m = connectortest.JSONMap(first)
				c.SameCursor(m, req, reqBody)
				return connectortest.MustJSON(m)
			}))
		}},
	{name: "empty page that still says more, same cursor", outcome: either, object: connectors.ObjectDeals,
		inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
			pages := 0
			ft.Set(nil, dealsOnly(c, func(n int, req *http.Request, reqBody []byte, m map[string]any) []byte {
				if pages++; pages == 1 {
					return nil
				}
				c.SetRecords(m, []any{})
				c.SameCursor(m, req, reqBody)
				return connectortest.MustJSON(m)
			}))
		}},
	{name: "duplicate records across pages", outcome: either, object: connectors.ObjectDeals, inject: func(t *testing.T, c *crm, ft *connectortest.Transport, o *connOpts) {
		var prev []any
		ft.Set(nil, dealsOnly(c, func(n int, req *http.Request, reqBody []byte, m map[string]any) []byte {
			rs := c.Records(m)
			dup := append(append([]any(nil), prev...), rs...)
			if len(rs) > 0 {
				prev = rs[len(rs)-1:]
			}
			if len(dup) == len(rs) {
				return nil
			}
			// Page k repeats the last record of page k-1 before its own.
			c.SetRecords(m, dup)
			return connectortest.MustJSON(m)
		}))
	}},
}

// statusAfter answers status instead of forwarding the requests match
// selects.
type statusAfter struct {
	next   http.RoundTripper
	match  func(*http.Request) bool
	status int
	off    bool
	mu     gosync.Mutex
}

func (s *statusAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	off := s.off
	s.mu.Unlock()
	if !off && s.match(r) {
		body := `{"status":"error","message":"Service Unavailable"}`
		return &http.Response{StatusCode: s.status, Status: http.StatusText(s.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: r}, nil
	}
	return s.next.RoundTrip(r)
}

// TestCRMFaults injects each CRM fault into the first sync of each
// connector, then clears it and syncs again (incrementally, from whatever
// cursor the faulty run saved): the faulty run must succeed through
// retries, or fail with an error naming connector, object and page; never
// loop; and the second sync must leave the warehouse equal to the fake
// record by record, so no cursor moved past unstored data.
func TestCRMFaults(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			for _, f := range crmFaults {
				if f.only != nil && !slices.Contains(f.only, k.name) {
					continue
				}
				t.Run(f.name, func(t *testing.T) {
					t.Parallel()
					each(t, func(t *testing.T, s *warehouse.Store) {
						c := k.new(t)
						ft := connectortest.NewTransport()
						o := connOpts{Transport: ft}
						f.inject(t, c, ft, &o)
						sum := syncRun(t, s, c.Clock, c.Connector(t, "crm", o), false)
						checkOutcome(t, sum, "crm", f.outcome, f.object)
						noneRunning(t, s, "crm")
						ft.Clear()
						if sa, ok := o.Transport.(*statusAfter); ok {
							sa.mu.Lock()
							sa.off = true
							sa.mu.Unlock()
						}
						mustSync(t, s, c.Clock, c.Connector(t, "crm", connOpts{}), false)
						equalFake(t, s, "crm", c.Want())
					})
				})
			}
		})
	}
}

// each runs fn on SQLite, and on PostgreSQL too unless -short, the two in
// parallel: every fn here makes its own fake.
func each(t *testing.T, fn func(t *testing.T, s *warehouse.Store)) {
	if testing.Short() {
		fn(t, warehousetest.NewSQLite(t))
		return
	}
	warehousetest.EachParallel(t, fn)
}

// checkOutcome checks a faulty run against want; a failure must be one
// of obj whose message names connector, object and page.
func checkOutcome(t *testing.T, sum interface {
	Failed() bool
	Err() error
}, connector string, want outcome, obj connectors.Object) {
	t.Helper()
	switch {
	case want == mustSucceed && sum.Failed():
		t.Fatalf("the run failed, want success through retries: %v", sum.Err())
	case want == mustFail && !sum.Failed():
		t.Fatalf("the run succeeded, want a clear failure")
	case sum.Failed():
		err := sum.Err()
		var ce *connectors.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v is no *connectors.Error", err)
		}
		msg := err.Error()
		want := fmt.Sprintf("%s %s page ", connector, obj)
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
		t.Logf("failure, as wanted: %v", err)
	}
}

var _ = time.Second
