package sync

import (
	"fmt"
	"io"
	"log/slog"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/human"
)

// Progress hears about pages as they are stored. Implementations are safe
// for concurrent use: objects of several connectors report at once.
type Progress interface {
	Begin(connector string, obj connectors.Object)
	// Page reports n more records stored; total is the CRM's estimate of
	// the whole pull, 0 when unknown.
	Page(connector string, obj connectors.Object, n, total int)
	End(connector string, obj connectors.Object, err error)
}

// TerminalProgress draws a live line per connector and object: records,
// records/s and an ETA where the CRM tells a total. It uses mpb, which
// redraws several bars from concurrent goroutines without tearing.
type TerminalProgress struct {
	p    *mpb.Progress
	mu   gosync.Mutex
	bars map[string]*mpb.Bar
	ends map[string]func()
}

// NewTerminalProgress draws on w, which should be a terminal.
func NewTerminalProgress(w io.Writer) *TerminalProgress {
	return &TerminalProgress{
		p:    mpb.New(mpb.WithOutput(w), mpb.WithWidth(24), mpb.WithRefreshRate(150*time.Millisecond)),
		bars: map[string]*mpb.Bar{},
		ends: map[string]func(){},
	}
}

// Begin implements Progress.
func (t *TerminalProgress) Begin(connector string, obj connectors.Object) {
	name := fmt.Sprintf("%-14s %-11s", connector, obj)
	start := time.Now()
	var endNanos atomic.Int64 // set by End, so the rate stops moving
	elapsed := func() float64 {
		if end := endNanos.Load(); end != 0 {
			return time.Duration(end - start.UnixNano()).Seconds()
		}
		return time.Since(start).Seconds()
	}
	b := t.p.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name(name)),
		mpb.AppendDecorators(
			decor.CurrentNoUnit(" %8d rec"),
			decor.Any(func(s decor.Statistics) string {
				secs := elapsed()
				if secs <= 0 || s.Current == 0 {
					return fmt.Sprintf(" %7s rec/s", "-")
				}
				return fmt.Sprintf(" %7.0f rec/s", float64(s.Current)/secs)
			}),
			decor.Any(func(s decor.Statistics) string {
				// An ETA only where the CRM tells a total.
				switch {
				case s.Completed:
					return "  done"
				case s.Aborted:
					return "  FAILED"
				case s.Total <= 0 || s.Current == 0 || s.Current >= s.Total:
					return ""
				}
				left := time.Duration(float64(time.Since(start)) * float64(s.Total-s.Current) / float64(s.Current))
				return "  ETA " + human.Duration(left.Round(time.Second))
			}),
		),
	)
	t.mu.Lock()
	t.bars[connector+"/"+string(obj)] = b
	t.ends[connector+"/"+string(obj)] = func() { endNanos.Store(time.Now().UnixNano()) }
	t.mu.Unlock()
}

// Page implements Progress.
func (t *TerminalProgress) Page(connector string, obj connectors.Object, n, total int) {
	t.mu.Lock()
	b := t.bars[connector+"/"+string(obj)]
	t.mu.Unlock()
	if b == nil {
		return
	}
	if total > 0 && int64(total) > b.Current()+int64(n) {
		b.SetTotal(int64(total), false)
	}
	b.IncrBy(n)
}

// End implements Progress.
func (t *TerminalProgress) End(connector string, obj connectors.Object, err error) {
	t.mu.Lock()
	b := t.bars[connector+"/"+string(obj)]
	end := t.ends[connector+"/"+string(obj)]
	t.mu.Unlock()
	if b == nil {
		return
	}
	end()
	if err != nil {
		b.Abort(false)
		return
	}
	b.SetTotal(-1, true)
}

// Write prints p above the bars, so log lines do not tear the display.
func (t *TerminalProgress) Write(p []byte) (int, error) { return t.p.Write(p) }

// Wait flushes the display; call it once every object has ended.
func (t *TerminalProgress) Wait() { t.p.Wait() }

// LogProgress writes structured progress lines, at most one per object every
// Interval, for logs read by machines.
type LogProgress struct {
	Logger   *slog.Logger
	Interval time.Duration
	Now      func() time.Time

	mu    gosync.Mutex
	state map[string]*logState
}

type logState struct {
	start, last time.Time
	records     int
	total       int
}

func (l *LogProgress) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Begin implements Progress.
func (l *LogProgress) Begin(connector string, obj connectors.Object) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = map[string]*logState{}
	}
	now := l.now()
	l.state[connector+"/"+string(obj)] = &logState{start: now, last: now}
	l.Logger.Info("sync started", "connector", connector, "object", string(obj))
}

// Page implements Progress.
func (l *LogProgress) Page(connector string, obj connectors.Object, n, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state[connector+"/"+string(obj)]
	if s == nil {
		return
	}
	s.records += n
	if total > 0 {
		s.total = total
	}
	interval := l.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	now := l.now()
	if now.Sub(s.last) < interval {
		return
	}
	s.last = now
	elapsed := now.Sub(s.start).Seconds()
	attrs := []any{"connector", connector, "object", string(obj), "records", s.records}
	if elapsed > 0 {
		rate := float64(s.records) / elapsed
		attrs = append(attrs, "records_per_second", int(rate))
		if s.total > s.records && rate > 0 {
			attrs = append(attrs, "eta_seconds", int(float64(s.total-s.records)/rate))
		}
	}
	l.Logger.Info("sync progress", attrs...)
}

// End implements Progress.
func (l *LogProgress) End(connector string, obj connectors.Object, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.state, connector+"/"+string(obj))
}
