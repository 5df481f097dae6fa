package connectors

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter admits attempts to a server. Acquire blocks until one may be
// sent, or ctx ends; the attempt then calls done once, when its answer's
// headers (or its failure) arrive. The client waits on its limiters before
// every attempt, retries included.
type Limiter interface {
	Acquire(ctx context.Context) (done func(), err error)
}

// Rate returns a token bucket of r attempts per second, burst at once.
// It paces sends; it cannot bound what a server counts, since it knows
// nothing of when requests arrive (see Window).
func Rate(r float64, burst int) Limiter {
	return bucket{rate.NewLimiter(rate.Limit(r), max(burst, 1))}
}

type bucket struct{ l *rate.Limiter }

func (b bucket) Acquire(ctx context.Context) (func(), error) {
	if err := b.l.Wait(ctx); err != nil {
		return nil, err
	}
	return func() {}, nil
}

// Window holds attempts to at most Max in any Period as a server counts
// them (HubSpot's "100 per 10 seconds"), whatever the network does to
// their timing. A token bucket paces sends, but a server counts arrivals,
// and an arrival can fall anywhere between its send and its answer, so a
// bucket sized to the limit still earns a 429 when one request is delayed
// and the next is not. Window therefore counts each attempt from its send
// until Period after its answer: an attempt admitted once an older one has
// left the window arrives at least Period after that one did, so no
// Period-long span of arrivals ever holds more than Max. It costs one
// latency per Period (at 50 ms, 99.5% of 100 per 10 s).
//
// A Window is safe for concurrent use; every user shares its budget.
type Window struct {
	max    int
	period time.Duration

	mu   sync.Mutex
	busy int         // attempts sent and not yet answered
	ends []time.Time // when answered attempts leave the window, ascending
	wake chan struct{}
}

// NewWindow returns a Window of n attempts per period (n ≥ 1).
func NewWindow(n int, period time.Duration) *Window {
	return &Window{max: max(n, 1), period: period, wake: make(chan struct{})}
}

// Max and Period return the window's budget.
func (w *Window) Max() int              { return w.max }
func (w *Window) Period() time.Duration { return w.period }

// Acquire waits for room in the window.
func (w *Window) Acquire(ctx context.Context) (func(), error) {
	for {
		w.mu.Lock()
		now := time.Now()
		i := 0
		for i < len(w.ends) && !w.ends[i].After(now) {
			i++
		}
		w.ends = w.ends[i:]
		if w.busy+len(w.ends) < w.max {
			w.busy++
			w.mu.Unlock()
			var once sync.Once
			return func() { once.Do(w.release) }, nil
		}
		wake := w.wake
		var timer *time.Timer
		var fired <-chan time.Time
		if len(w.ends) > 0 {
			timer = time.NewTimer(w.ends[0].Sub(now))
			fired = timer.C
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil, ctx.Err()
		case <-wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// release turns a busy attempt into one that leaves the window Period from
// now, and wakes the waiters, which may now have a time to wait for.
func (w *Window) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy--
	w.ends = append(w.ends, time.Now().Add(w.period))
	close(w.wake)
	w.wake = make(chan struct{})
}
