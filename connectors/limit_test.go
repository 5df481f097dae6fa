package connectors

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestWindowHoldsEveryWindow runs ten workers against a window of 100 per
// 10 s for 100.5 s of fake time, each request answered 50 ms after it was
// sent and arriving at the server at a random moment in between, as a
// network delivers it. No 10-second span of arrivals may hold more than
// 100, and the window must be filled: each 10.05 s (the window plus one
// latency) sends its 100, 1,000 in all.
func TestWindowHoldsEveryWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget, period, latency, workers = 100, 10 * time.Second, 50 * time.Millisecond, 10
		w := NewWindow(budget, period)
		start := time.Now()
		end := start.Add(100*time.Second + 10*latency)
		rng := rand.New(rand.NewPCG(17, 4))
		var mu sync.Mutex
		var arrivals []time.Duration
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					done, err := w.Acquire(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					sent := time.Now()
					if !sent.Before(end) {
						done()
						return
					}
					mu.Lock()
					arrivals = append(arrivals, sent.Sub(start)+time.Duration(rng.Int64N(int64(latency)+1)))
					mu.Unlock()
					time.Sleep(latency)
					done()
				}
			})
		}
		wg.Wait()
		if len(arrivals) != 1000 {
			t.Errorf("sent %d requests in 100.5 s, want 1000 (100 per 10.05 s)", len(arrivals))
		}
		if most, at := busiest(arrivals, period); most > budget {
			t.Errorf("%d arrivals in the 10 s up to %s, want at most %d", most, at, budget)
		}
	})
}

// busiest returns the most arrivals in any span (t-period, t] and its t.
func busiest(arrivals []time.Duration, period time.Duration) (most int, at time.Duration) {
	a := slices.Sorted(slices.Values(arrivals))
	for i, t := range a {
		first := sort.Search(len(a), func(j int) bool { return a[j] > t-period })
		if n := i + 1 - first; n > most {
			most, at = n, t
		}
	}
	return most, at
}

// TestWindowReleasesOnlyAfterPeriod: a slot given back comes free exactly
// one period after its answer, not before.
func TestWindowReleasesOnlyAfterPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWindow(1, time.Second)
		start := time.Now()
		done, _ := w.Acquire(t.Context())
		time.Sleep(300 * time.Millisecond) // the answer takes 300 ms
		done()
		done() // a second call gives back nothing more
		if _, err := w.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 1300*time.Millisecond {
			t.Errorf("second slot after %s, want 1.3s (answer at 300ms + 1s)", got)
		}
	})
}

// TestWindowWaitEndsWithContext: a full window gives up when the caller's
// context ends, with its error.
func TestWindowWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWindow(1, time.Hour)
		if _, err := w.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := w.Acquire(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Acquire on a full window = %v, want context.DeadlineExceeded", err)
		}
	})
}
