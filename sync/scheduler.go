package sync

import (
	"context"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
)

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
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	s.mu.Lock()
	s.running = map[string]bool{}
	s.started = map[string]int{}
	s.mu.Unlock()
	c := cron.New(cron.WithLocation(loc), cron.WithParser(cron.NewParser(
		cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow|cron.Descriptor)))
	var wg gosync.WaitGroup
	for _, t := range s.Tasks {
		_, err := c.AddFunc(t.Schedule, func() {
			if !s.begin(t.Name) {
				log.Warn("task still running; tick skipped", "task", t.Name)
				return
			}
			wg.Add(1)
			defer wg.Done()
			defer s.end(t.Name)
			if ctx.Err() != nil {
				return
			}
			log.Info("task started", "task", t.Name)
			if err := t.Run(ctx); err != nil {
				log.Error("task failed", "task", t.Name, "error", err)
				return
			}
			log.Info("task finished", "task", t.Name)
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

func (s *Scheduler) begin(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
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
