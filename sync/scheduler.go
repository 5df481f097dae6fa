package sync

import (
	"context"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads the schedules a Scheduler runs: standard 5-field cron
// ("*/30 * * * *", "CRON_TZ=Europe/Berlin 0 9 * * 1") and descriptors
// ("@hourly", "@every 1m").
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Next returns when schedule next fires after after, as a Scheduler in loc
// (nil: UTC) would run it, in loc. An "@every" schedule counts from the
// start of the Scheduler, which this cannot know: Next counts it from after.
func Next(schedule string, loc *time.Location, after time.Time) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	sched, err := parser.Parse(schedule)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse schedule %q: %w", schedule, err)
	}
	return sched.Next(after.In(loc)).In(loc), nil
}

// Task is one scheduled piece of work: a connector's sync, or notify.
type Task struct {
	Name     string
	Schedule string // standard 5-field cron or a descriptor such as "@every 1m"
	Run      func(ctx context.Context) error
}

// Scheduler runs tasks on their schedules. A task still running when its next
// tick comes is skipped, never started twice.
type Scheduler struct {
	Tasks    []Task
	Location *time.Location
	Logger   *slog.Logger
	// StopTimeout bounds how long Run waits for running tasks after ctx is
	// cancelled; default 30s.
	StopTimeout time.Duration

	mu      gosync.Mutex
	running map[string]bool
	started map[string]int
}

// Run schedules the tasks and blocks until ctx is cancelled, then waits for
// running tasks (they see the cancellation) up to StopTimeout.
func (s *Scheduler) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	c := cron.New(cron.WithLocation(loc), cron.WithParser(parser))
	var wg gosync.WaitGroup
	for _, t := range s.Tasks {
		_, err := c.AddFunc(t.Schedule, func() {
			wg.Add(1)
			defer wg.Done()
			s.tick(ctx, t)
		})
		if err != nil {
			return fmt.Errorf("schedule %s %q: %w", t.Name, t.Schedule, err)
		}
	}
	c.Start()
	<-ctx.Done()
	stopped := c.Stop() // no new ticks; done when running funcs return
	timeout := s.StopTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-stopped.Done():
	case <-time.After(timeout):
		return fmt.Errorf("tasks still running %s after stop", timeout)
	}
	wg.Wait()
	return nil
}

// RunNow runs the named task at once, as a tick of its schedule would:
// logged the same way, and not while it is running already (then ran is
// false). err is the task's error, which is logged too.
func (s *Scheduler) RunNow(ctx context.Context, name string) (ran bool, err error) {
	for _, t := range s.Tasks {
		if t.Name == name {
			return s.tick(ctx, t)
		}
	}
	return false, fmt.Errorf("no task %q", name)
}

// tick runs t unless it is running already, and logs what happened.
func (s *Scheduler) tick(ctx context.Context, t Task) (ran bool, err error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !s.begin(t.Name) {
		log.Warn("task still running; tick skipped", "task", t.Name)
		return false, nil
	}
	defer s.end(t.Name)
	if ctx.Err() != nil {
		return true, nil
	}
	log.Info("task started", "task", t.Name)
	if err := t.Run(ctx); err != nil {
		log.Error("task failed", "task", t.Name, "error", err)
		return true, err
	}
	log.Info("task finished", "task", t.Name)
	return true, nil
}

func (s *Scheduler) begin(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running, s.started = map[string]bool{}, map[string]int{}
	}
	if s.running[name] {
		return false
	}
	s.running[name] = true
	s.started[name]++
	return true
}

func (s *Scheduler) end(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[name] = false
}

// Started reports how many times each task has started.
func (s *Scheduler) Started() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.started {
		out[k] = v
	}
	return out
}
