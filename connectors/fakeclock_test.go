package connectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The client's waits (its rate limiter, backoff between attempts, a
// server's Retry-After) are tested under testing/synctest: the bubble's
// clock moves only when every goroutine waits, so a wait of a second takes
// no wall time and is measured exactly. The server is a handler called
// in-process (handlerTransport), since a goroutine reading a real socket is
// never idle in the bubble's sense.

// handlerTransport answers each request by calling h in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// newBubbleClient is newTestClient with h as the server, for a test
// inside a synctest bubble.
func newBubbleClient(t *testing.T, h http.HandlerFunc, opts ClientOptions) *Client {
	t.Helper()
	opts.Transport = handlerTransport{h}
	return newTestClient(t, "http://crm.test", opts)
}

// arrivals records when a handler was called, from the bubble's start.
type arrivals struct {
	start time.Time
	mu    sync.Mutex
	at    []time.Duration
}

func (a *arrivals) record() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, time.Since(a.start))
	return len(a.at)
}

func (a *arrivals) times() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.at...)
}

// TestClientRateLimitPaces: requests of one client wait for its limiter,
// retries included: at 4 a second with a burst of 2, six requests go at 0,
// 0, 250, 500, 750 ms and 1 s.
func TestClientRateLimitPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &arrivals{start: time.Now()}
		c := newBubbleClient(t, func(w http.ResponseWriter, r *http.Request) {
			if a.record() == 3 {
				w.WriteHeader(http.StatusServiceUnavailable) // retried, through the limiter too
			}
		}, ClientOptions{HTTPOptions: HTTPOptions{RateLimit: 4, Burst: 2, MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}})
		for range 5 {
			if _, err := c.Do(context.Background(), &Request{URL: "/x"}); err != nil {
				t.Fatal(err)
			}
		}
		ms := time.Millisecond
		want := []time.Duration{0, 0, 250 * ms, 500 * ms, 750 * ms, time.Second}
		if diff := cmp.Diff(want, a.times()); diff != "" {
			t.Errorf("request times (-want +got):\n%s", diff)
		}
	})
}

// TestClientBackoffBounds: without Retry-After, attempt n waits between
// half and all of MinBackoff·2ⁿ, capped at MaxBackoff.
func TestClientBackoffBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &arrivals{start: time.Now()}
		c := newBubbleClient(t, func(w http.ResponseWriter, r *http.Request) {
			if a.record() <= 4 {
				w.WriteHeader(http.StatusBadGateway)
			}
		}, ClientOptions{HTTPOptions: HTTPOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}})
		if _, err := c.Do(context.Background(), &Request{URL: "/x"}); err != nil {
			t.Fatal(err)
		}
		at := a.times()
		if len(at) != 5 {
			t.Fatalf("%d attempts, want 5", len(at))
		}
		for i, step := range []time.Duration{100, 200, 300, 300} {
			step *= time.Millisecond
			if wait := at[i+1] - at[i]; wait < step/2 || wait > step {
				t.Errorf("wait before attempt %d = %s, want %s to %s", i+2, wait, step/2, step)
			}
		}
	})
}
