package sync

import (
	"context"
	"errors"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The scheduler's tests run under testing/synctest: robfig/cron's timers
// and the tasks' sleeps are on the bubble's fake clock, which starts at
// 2000-01-01 00:00 UTC and moves only when every goroutine waits, so each
// test takes no wall time and no timing can make it flaky.

// runFor runs s until d of fake time has passed, then stops it and returns
// Run's error.
func runFor(t *testing.T, s *Scheduler, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Run(ctx)
}

// TestSchedulerTicks: each task runs on its own schedule, as many times as
// its ticks fall in the run, at the instants the schedule names.
func TestSchedulerTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu gosync.Mutex
		at := map[string][]time.Duration{}
		record := func(name string) func(context.Context) error {
			return func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				at[name] = append(at[name], time.Since(start))
				return nil
			}
		}
		s := &Scheduler{Tasks: []Task{
			{Name: "every 20s", Schedule: "@every 20s", Run: record("every 20s")},
			{Name: "minutely", Schedule: "* * * * *", Run: record("minutely")},
			{Name: "failing", Schedule: "@every 30s", Run: func(context.Context) error { return errors.New("boom") }},
		}}
		if err := runFor(t, s, 130*time.Second); err != nil {
			t.Fatal(err)
		}
		want := map[string][]time.Duration{
			"every 20s": {20 * time.Second, 40 * time.Second, 60 * time.Second, 80 * time.Second, 100 * time.Second, 120 * time.Second},
			"minutely":  {time.Minute, 2 * time.Minute},
		}
		if diff := cmp.Diff(want, at); diff != "" {
			t.Errorf("task times (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"every 20s": 6, "minutely": 2, "failing": 4}, s.Started()); diff != "" {
			t.Errorf("Started (-want +got):\n%s", diff)
		}
	})
}

// TestSchedulerSkipsTickWhileRunning: a task that outlasts its interval is
// never started twice: the ticks that fall while it runs are skipped.
func TestSchedulerSkipsTickWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu gosync.Mutex
		var runs [][2]time.Duration // start and end of each run
		s := &Scheduler{Tasks: []Task{{Name: "slow", Schedule: "@every 1s", Run: func(ctx context.Context) error {
			begin := time.Since(start)
			time.Sleep(2500 * time.Millisecond) // outlasts two ticks
			mu.Lock()
			runs = append(runs, [2]time.Duration{begin, time.Since(start)})
			mu.Unlock()
			return nil
		}}}}
		if err := runFor(t, s, 9500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		// Ticks at 1, 2, ... 9 s: those at 2, 3, 5, 6, 8 and 9 s find the
		// run of the tick before still going.
		want := [][2]time.Duration{{time.Second, 3500 * time.Millisecond}, {4 * time.Second, 6500 * time.Millisecond}, {7 * time.Second, 9500 * time.Millisecond}}
		if diff := cmp.Diff(want, runs); diff != "" {
			t.Errorf("runs (-want +got):\n%s", diff)
		}
		for i := 1; i < len(runs); i++ {
			if runs[i][0] < runs[i-1][1] {
				t.Errorf("run %d started at %s, before run %d ended at %s", i, runs[i][0], i-1, runs[i-1][1])
			}
		}
	})
}

// TestSchedulerStopWaitsForRunningTasks: after ctx ends, Run returns once
// the running tasks, which see the cancellation, have returned; a task that
// ignores it makes Run give up after StopTimeout.
func TestSchedulerStopWaitsForRunningTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var stopped time.Duration
		s := &Scheduler{Tasks: []Task{{Name: "sync", Schedule: "@every 1m", Run: func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(3 * time.Second) // finishing the page in hand
			stopped = time.Since(start)
			return ctx.Err()
		}}}}
		if err := runFor(t, s, 90*time.Second); err != nil {
			t.Fatal(err)
		}
		if ended := time.Since(start); stopped != 93*time.Second || ended != 93*time.Second {
			t.Errorf("the task stopped at %s and Run returned at %s, want both at 1m33s", stopped, ended)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		release := make(chan struct{})
		s := &Scheduler{StopTimeout: 5 * time.Second, Tasks: []Task{{Name: "stuck", Schedule: "@every 1m", Run: func(ctx context.Context) error {
			<-release
			return nil
		}}}}
		err := runFor(t, s, 90*time.Second)
		if want := "tasks still running 5s after stop"; err == nil || err.Error() != want {
			t.Errorf("Run = %v, want %q", err, want)
		}
		if ended := time.Since(start); ended != 95*time.Second {
			t.Errorf("Run returned at %s, want 1m35s", ended)
		}
		close(release)
		synctest.Wait()
	})
}

// TestSchedulerRunNow: RunNow runs a task as a tick would, and not while
// a tick of it runs; it returns the task's error.
func TestSchedulerRunNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		n := 0
		s := &Scheduler{Tasks: []Task{{Name: "sync", Schedule: "@every 1h", Run: func(ctx context.Context) error {
			n++
			<-release
			return errors.New("refused")
		}}}}
		done := make(chan error)
		go func() {
			_, err := s.RunNow(context.Background(), "sync")
			done <- err
		}()
		synctest.Wait() // the first run is waiting for release
		if ran, err := s.RunNow(context.Background(), "sync"); ran || err != nil {
			t.Errorf("RunNow while it runs = %v, %v; want false, nil", ran, err)
		}
		close(release)
		if err := <-done; err == nil || err.Error() != "refused" {
			t.Errorf("RunNow = %v, want the task's error", err)
		}
		if ran, err := s.RunNow(context.Background(), "sync"); !ran || err == nil {
			t.Errorf("RunNow after it ended = %v, %v; want true and the task's error", ran, err)
		}
		if _, err := s.RunNow(context.Background(), "notify"); err == nil {
			t.Error("RunNow of an unknown task: no error")
		}
		if n != 2 {
			t.Errorf("the task ran %d times, want 2", n)
		}
	})
}

// TestNext: when a schedule next fires, read in the given zone.
func TestNext(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Date(2026, 11, 28, 5, 30, 10, 0, time.UTC) // 08:30:10 MSK
	for _, tt := range []struct {
		schedule string
		loc      *time.Location
		want     string
	}{
		{"0 9 * * *", msk, "2026-11-28T09:00:00+03:00"},
		{"0 9 * * *", nil, "2026-11-28T09:00:00Z"},
		{"*/30 * * * *", msk, "2026-11-28T09:00:00+03:00"},
		{"0 9 1 * *", msk, "2026-12-01T09:00:00+03:00"},
		{"CRON_TZ=Europe/Berlin 0 9 * * *", msk, "2026-11-28T11:00:00+03:00"},
		{"@every 10m", msk, "2026-11-28T08:40:10+03:00"},
		{"@hourly", msk, "2026-11-28T09:00:00+03:00"},
	} {
		got, err := Next(tt.schedule, tt.loc, after)
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("Next(%q, %v) = %s, %v; want %s", tt.schedule, tt.loc, got.Format(time.RFC3339), err, tt.want)
		}
	}
	if _, err := Next("61 * * * *", msk, after); err == nil {
		t.Error("Next of a bad schedule: no error")
	}
}
