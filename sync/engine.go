// Package sync runs connectors into the warehouse: cursors, run history,
// locks, concurrency, progress, schedules and metrics.
//
// Each page a connector emits is stored with its cursor in one warehouse
// transaction, so a sync killed at any moment resumes from the last stored
// page without loss or duplicates. Writing a page overlaps with fetching the
// next one.
package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/dustin/go-humanize/english"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/warehouse"
)

// Store is what the engine needs of the warehouse. Every write of a run's
// data goes through the run's lease (the Fenced methods), so a run that
// lost its connector to another stores nothing more.
type Store interface {
	Cursor(ctx context.Context, connector string, obj connectors.Object) (string, error)
	CountLive(ctx context.Context, connector string, obj connectors.Object) (int, error)
	TryLock(ctx context.Context, connector, holder string) (*warehouse.Lease, error)
	InterruptOrphanRuns(ctx context.Context, l *warehouse.Lease, at time.Time) (int, error)
	ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error
	SetCursorFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, cursor string) error
	MarkMissingDeletedFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, live []string, at time.Time) (int, error)
	StartRun(ctx context.Context, connector string, obj connectors.Object, started time.Time) (int64, error)
	FinishRun(ctx context.Context, id int64, finished time.Time, status string, records int, errText string) error
	// HasRecordLinks and SaveRecordLinksFenced keep the connector's record
	// links (connectors.RecordLinker), asked once.
	HasRecordLinks(ctx context.Context, connector string) (bool, error)
	SaveRecordLinksFenced(ctx context.Context, l *warehouse.Lease, links []connectors.RecordLink) error
}

// Job is one connector to sync.
type Job struct {
	Connector connectors.Connector
	// Full ignores saved cursors and reconciles deletions where the CRM
	// has no deletion feed.
	Full bool
	// Objects limits the run to these objects; nil means all.
	Objects []connectors.Object
	// ReconcileEvery is how often a Reconciler's deletion scan runs
	// without --full; 0 means daily.
	ReconcileEvery time.Duration
	// MinListingShare is the least share (0 to 1) of the stored records
	// of an object that a deletion scan must list before anything is
	// flagged deleted; 0 means DefaultMinListingShare. An empty listing
	// while records are stored is always refused.
	MinListingShare float64
	// AllowMassDelete lifts that guard (crmkpi sync --allow-mass-delete).
	AllowMassDelete bool
}

// DefaultMinListingShare is Job.MinListingShare's default.
const DefaultMinListingShare = 0.5

// Engine runs jobs. The zero value is not usable: set Store.
type Engine struct {
	Store    Store
	Logger   *slog.Logger
	Progress Progress
	Metrics  *Metrics
	// Holder names this process in lock messages; default host:pid.
	Holder string
	Now    func() time.Time
	// Pipeline is how many fetched pages may wait for the warehouse while
	// the connector fetches the next; default 2. It bounds memory.
	Pipeline int
	// StopGrace is how long pages already fetched may still be written
	// after ctx is cancelled; default 20s.
	StopGrace time.Duration
	// Writers is how many warehouse calls (page writes, cursor reads, run
	// records) the engine's runs make at once, all jobs and concurrent
	// Runs together; default 8. Each holds a database connection besides
	// the one a running connector's lock holds, so twenty connectors of
	// ten objects each stay far below PostgreSQL's max_connections (100 by
	// default) instead of failing with "too many clients".
	Writers int

	semOnce gosync.Once
	sem     chan struct{}
}

// store returns the Store behind the engine's bound on concurrent calls.
func (e *Engine) store() Store {
	e.semOnce.Do(func() {
		n := e.Writers
		if n <= 0 {
			n = 8
		}
		e.sem = make(chan struct{}, n)
	})
	return boundedStore{Store: e.Store, sem: e.sem}
}

// boundedStore holds a slot of sem during each call but TryLock, whose
// connection is held for a whole run and counted apart.
type boundedStore struct {
	Store
	sem chan struct{}
}

func (b boundedStore) acquire(ctx context.Context) error {
	select {
	case b.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b boundedStore) release() { <-b.sem }

func (b boundedStore) Cursor(ctx context.Context, connector string, obj connectors.Object) (string, error) {
	if err := b.acquire(ctx); err != nil {
		return "", err
	}
	defer b.release()
	return b.Store.Cursor(ctx, connector, obj)
}

func (b boundedStore) InterruptOrphanRuns(ctx context.Context, l *warehouse.Lease, at time.Time) (int, error) {
	if err := b.acquire(ctx); err != nil {
		return 0, err
	}
	defer b.release()
	return b.Store.InterruptOrphanRuns(ctx, l, at)
}

func (b boundedStore) SetCursorFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, cursor string) error {
	if err := b.acquire(ctx); err != nil {
		return err
	}
	defer b.release()
	return b.Store.SetCursorFenced(ctx, l, obj, cursor)
}

func (b boundedStore) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	if err := b.acquire(ctx); err != nil {
		return err
	}
	defer b.release()
	return b.Store.ApplyPageFenced(ctx, l, obj, p)
}

func (b boundedStore) MarkMissingDeletedFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, live []string, at time.Time) (int, error) {
	if err := b.acquire(ctx); err != nil {
		return 0, err
	}
	defer b.release()
	return b.Store.MarkMissingDeletedFenced(ctx, l, obj, live, at)
}

func (b boundedStore) CountLive(ctx context.Context, connector string, obj connectors.Object) (int, error) {
	if err := b.acquire(ctx); err != nil {
		return 0, err
	}
	defer b.release()
	return b.Store.CountLive(ctx, connector, obj)
}

func (b boundedStore) StartRun(ctx context.Context, connector string, obj connectors.Object, started time.Time) (int64, error) {
	if err := b.acquire(ctx); err != nil {
		return 0, err
	}
	defer b.release()
	return b.Store.StartRun(ctx, connector, obj, started)
}

func (b boundedStore) FinishRun(ctx context.Context, id int64, finished time.Time, status string, records int, errText string) error {
	if err := b.acquire(ctx); err != nil {
		return err
	}
	defer b.release()
	return b.Store.FinishRun(ctx, id, finished, status, records, errText)
}

// ObjectResult is the outcome of one object of one connector.
type ObjectResult struct {
	Connector string
	Object    connectors.Object
	Records   int
	Pages     int
	Requests  int
	Deleted   int // records flagged by reconciliation
	Duration  time.Duration
	Err       error
	// Interrupted is set when Err came with the end of the run's context
	// (a signal, a deadline): the run is recorded interrupted, not failed.
	Interrupted bool

	// fromStart is set when the object was pulled from an empty cursor;
	// fullPull when that pull read every record (no since left any out,
	// connectors.PartialPuller), so liveIDs holds every id the CRM has: a
	// deletion scan can use them instead of listing the ids again.
	fromStart bool
	fullPull  bool
	liveIDs   []string
	// nothingStored is set when a pull from the start began on no stored
	// records of the object: then liveIDs is not collected and nothing is
	// flagged.
	nothingStored bool
}

// ConnectorResult is the outcome of one connector.
type ConnectorResult struct {
	Connector string
	// Skipped says why the connector did not run, "locked by HOLDER",
	// when another sync holds its lock; "" when it ran.
	Skipped string
	Objects []ObjectResult
	Err     error // lock or setup failure
}

// Summary is the outcome of a Run.
type Summary struct {
	Connectors []ConnectorResult
}

// Skipped returns the connectors skipped because another sync held them.
func (s *Summary) Skipped() []ConnectorResult {
	var out []ConnectorResult
	for _, c := range s.Connectors {
		if c.Skipped != "" {
			out = append(out, c)
		}
	}
	return out
}

// Failed reports whether any connector or object failed or was
// interrupted; a skip is not a failure (see Skipped).
func (s *Summary) Failed() bool {
	for _, c := range s.Connectors {
		if c.Err != nil {
			return true
		}
		for _, o := range c.Objects {
			if o.Err != nil {
				return true
			}
		}
	}
	return false
}

// Err joins every failure into one error, naming connector and object.
func (s *Summary) Err() error {
	var errs []error
	for _, c := range s.Connectors {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Connector, c.Err))
		}
		for _, o := range c.Objects {
			if o.Err != nil {
				errs = append(errs, o.Err)
			}
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) grace() time.Duration {
	if e.StopGrace > 0 {
		return e.StopGrace
	}
	return 20 * time.Second
}

func (e *Engine) holder() string {
	if e.Holder != "" {
		return e.Holder
	}
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

// Run syncs every job concurrently and returns when all are done. A failed
// object does not stop the others; connectors are independent, so one CRM's
// failure never cancels another's run. The returned Summary lists every
// outcome; Run itself returns an error only for ctx cancellation.
func (e *Engine) Run(ctx context.Context, jobs []Job) (*Summary, error) {
	results := make([]ConnectorResult, len(jobs))
	var wg gosync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { results[i] = e.runConnector(ctx, j) })
	}
	wg.Wait()
	return &Summary{Connectors: results}, ctx.Err()
}

func (e *Engine) runConnector(ctx context.Context, j Job) ConnectorResult {
	name := j.Connector.Name()
	log := e.logger().With("connector", name)
	res := ConnectorResult{Connector: name}
	lease, err := e.Store.TryLock(ctx, name, e.holder())
	if err != nil {
		if le, ok := errors.AsType[*warehouse.LockedError](err); ok {
			res.Skipped = "locked by " + le.Holder
			if e.Metrics != nil {
				e.Metrics.skipped.WithLabelValues(name).Inc()
			}
			if err != error(le) {
				// Skipped all the same; the skip could not be recorded.
				log.WarnContext(ctx, "connector skipped: locked", "held_by", le.Holder, "error", err)
			} else {
				log.WarnContext(ctx, "connector skipped: locked", "held_by", le.Holder)
			}
			return res
		}
		res.Err = fmt.Errorf("take sync lock: %w", err)
		return res
	}
	defer func() {
		if err := lease.Release(); err != nil {
			log.Error("release sync lock", "error", err)
		}
	}()
	// Runs still recorded running were left by an earlier holder, gone
	// since this one could take the lock.
	n, err := e.store().InterruptOrphanRuns(context.WithoutCancel(ctx), lease, e.now())
	if err != nil {
		res.Err = err
		return res
	}
	if n > 0 {
		log.WarnContext(ctx, "closed runs an earlier sync left running", "runs", n, "previous_holder", lease.Previous)
	}

	objs := j.Objects
	if objs == nil {
		objs = j.Connector.Objects()
	}
	rec, _ := j.Connector.(connectors.Reconciler)
	reconcile := map[connectors.Object]bool{}
	if rec != nil {
		for _, o := range rec.ReconcileObjects() {
			reconcile[o] = true
		}
	}
	// A lost lease stops every object of the connector, not only the one
	// whose page found it out.
	cctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	res.Objects = make([]ObjectResult, len(objs))
	var wg gosync.WaitGroup
	for i, obj := range objs {
		// Objects run concurrently; the connector's one client keeps all
		// of them inside the CRM's rate limit.
		wg.Go(func() {
			var r ObjectResult
			if reconcile[obj] {
				r = e.runObject(cctx, j, lease, obj, rec, log)
			} else {
				r = e.runObject(cctx, j, lease, obj, nil, log)
			}
			if lost, ok := errors.AsType[*warehouse.LostLeaseError](r.Err); ok {
				stop(lost)
			}
			res.Objects[i] = r
		})
	}
	wg.Wait()
	// After the objects, so that a sync's first requests are its runs'
	// and a lost lease has stopped everything already.
	if context.Cause(cctx) == nil {
		if err := e.storeRecordLinks(ctx, j, lease, log); err != nil {
			res.Err = err
		}
	}
	return res
}

// runObject pulls obj and, when rec is not nil, reconciles its deletions,
// recording the run in sync_runs.
func (e *Engine) runObject(ctx context.Context, j Job, lease *warehouse.Lease, obj connectors.Object, rec connectors.Reconciler, log *slog.Logger) (r ObjectResult) {
	name := j.Connector.Name()
	log = log.With("object", string(obj))
	r = ObjectResult{Connector: name, Object: obj}
	start := e.now()
	// Run history and progress survive cancellation: record the outcome of
	// an interrupted run as such.
	bg := context.WithoutCancel(ctx)
	// The start is recorded under bg as well: on PostgreSQL an INSERT
	// whose ctx is cancelled may still commit while the driver reports
	// the cancellation, which would leave a row "running" for ever, with
	// no FinishRun to close it.
	runID, err := e.store().StartRun(bg, name, obj, start)
	if err != nil {
		r.Err = &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("record run start: %w", err)}
		return r
	}
	if e.Progress != nil {
		e.Progress.Begin(name, obj)
	}
	defer func() {
		r.Duration = e.now().Sub(start)
		status, errText := e.outcome(ctx, &r)
		if err := e.store().FinishRun(bg, runID, e.now(), status, r.Records, errText); err != nil {
			log.Error("record run end", "error", err)
		}
		if e.Progress != nil {
			e.Progress.End(name, obj, r.Err)
		}
		if e.Metrics != nil {
			e.Metrics.observeRun(name, obj, status, r, e.now())
		}
		switch {
		case r.Interrupted:
			log.WarnContext(bg, "sync interrupted", "records", r.Records, "pages", r.Pages, "duration", r.Duration, "error", r.Err)
		case r.Err != nil:
			log.ErrorContext(bg, "sync failed", "records", r.Records, "pages", r.Pages, "duration", r.Duration, "error", r.Err)
		default:
			log.InfoContext(bg, "sync done", "records", r.Records, "pages", r.Pages, "requests", r.Requests, "duration", r.Duration)
		}
	}()

	cursor := ""
	if !j.Full {
		if cursor, err = e.store().Cursor(ctx, name, obj); err != nil {
			r.Err = &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("read cursor: %w", err)}
			return r
		}
	}

	r.fromStart = cursor == "" && rec != nil
	if r.fromStart {
		// Into an empty warehouse nothing can be flagged deleted, so the
		// ids need not be kept: a first sync of any size holds no list
		// that grows with it.
		stored, err := e.store().CountLive(ctx, name, obj)
		if err != nil {
			r.Err = &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("count stored records: %w", err)}
			return r
		}
		r.nothingStored = stored == 0
		pp, ok := j.Connector.(connectors.PartialPuller)
		r.fullPull = !ok || !pp.PartialPull(obj)
	}

	// The writer stores pages in order while the connector fetches ahead.
	depth := e.Pipeline
	if depth <= 0 {
		depth = 2
	}
	pages := make(chan *connectors.Page, depth)
	// Pages already fetched are still stored after a cancellation (SIGTERM),
	// for a bounded grace period, so a stop loses no work it has paid for.
	wctx, cancelWrite := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrite()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(e.grace(), cancelWrite) })
	defer stopGrace()
	var writeErr error
	var mu gosync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range pages {
			mu.Lock()
			failed := writeErr != nil
			mu.Unlock()
			if failed {
				continue // drain: the pull is being stopped
			}
			if err := e.store().ApplyPageFenced(wctx, lease, obj, p); err != nil {
				mu.Lock()
				writeErr = &connectors.Error{Connector: name, Object: obj, Page: r.Pages + 1, Err: fmt.Errorf("store page: %w", err)}
				mu.Unlock()
				continue
			}
			if r.fullPull && !r.nothingStored {
				r.liveIDs = appendLiveIDs(r.liveIDs, obj, p)
			}
			n := p.Len()
			r.Records += n
			r.Pages++
			r.Requests += p.Requests
			if e.Progress != nil {
				e.Progress.Page(name, obj, n, p.Total)
			}
			if e.Metrics != nil {
				e.Metrics.records.WithLabelValues(name, string(obj)).Add(float64(n))
			}
		}
	}()
	emit := func(ctx context.Context, p *connectors.Page) error {
		mu.Lock()
		err := writeErr
		mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case pages <- p:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	pullErr := j.Connector.Pull(ctx, obj, cursor, emit)
	close(pages)
	<-done
	switch {
	case writeErr != nil:
		r.Err = writeErr
	case pullErr != nil:
		r.Err = pullErr
		if errors.Is(pullErr, context.Canceled) || errors.Is(pullErr, context.DeadlineExceeded) {
			r.Err = &connectors.Error{Connector: name, Object: obj, Err: pullErr}
		}
	}
	if r.Err == nil && rec != nil {
		r.Deleted, r.Err = e.reconcile(ctx, j, lease, rec, obj, &r, log)
	}
	return r
}

// outcome is the sync_runs status and error text of r, classified by ctx
// rather than by the error's text: any error of a run whose context ended
// (a signal, a deadline passing while it dialled the warehouse or waited
// for the CRM) is an interruption, except a lost lease, which ended the
// connector's context itself.
func (e *Engine) outcome(ctx context.Context, r *ObjectResult) (status, errText string) {
	if r.Err == nil {
		return warehouse.RunSucceeded, ""
	}
	if _, ok := errors.AsType[*warehouse.LostLeaseError](r.Err); ok {
		return warehouse.RunFailed, r.Err.Error()
	}
	if lost, ok := errors.AsType[*warehouse.LostLeaseError](context.Cause(ctx)); ok {
		// Another object of the connector found the lease lost.
		r.Err = &connectors.Error{Connector: r.Connector, Object: r.Object, Err: fmt.Errorf("stopped: %w", lost)}
		return warehouse.RunFailed, r.Err.Error()
	}
	if ctx.Err() == nil {
		return warehouse.RunFailed, r.Err.Error()
	}
	r.Interrupted = true
	msg := r.Err.Error()
	if !strings.Contains(msg, "interrupted") {
		msg = fmt.Sprintf("interrupted (%v): %s", context.Cause(ctx), msg)
	}
	return warehouse.RunInterrupted, msg
}

// reconcileKey is the sync_state object under which the time of the last
// deletion scan of obj is kept.
func reconcileKey(obj connectors.Object) connectors.Object { return "reconcile:" + obj }

// reconcile flags the stored records of obj that the CRM no longer lists.
// pulled is how many records the pull of obj just brought.
// appendLiveIDs adds the ids of obj's live records in p.
func appendLiveIDs(ids []string, obj connectors.Object, p *connectors.Page) []string {
	add := func(m *connectors.Meta) {
		if !m.Deleted {
			ids = append(ids, m.ID)
		}
	}
	switch obj {
	case connectors.ObjectUsers:
		for i := range p.Users {
			add(&p.Users[i].Meta)
		}
	case connectors.ObjectStages:
		for i := range p.Stages {
			add(&p.Stages[i].Meta)
		}
	case connectors.ObjectCompanies:
		for i := range p.Companies {
			add(&p.Companies[i].Meta)
		}
	case connectors.ObjectContacts:
		for i := range p.Contacts {
			add(&p.Contacts[i].Meta)
		}
	case connectors.ObjectDeals:
		for i := range p.Deals {
			add(&p.Deals[i].Meta)
		}
	case connectors.ObjectActivities:
		for i := range p.Activities {
			add(&p.Activities[i].Meta)
		}
	}
	return ids
}

// reconcile flags the stored records of obj that the CRM no longer has. After
// a full pull the ids it brought are the list; otherwise, when the cadence
// is due (or on --full), the connector lists them. A pull from the start
// that a since kept from old records is no list: those records are live in
// the CRM, so the connector lists the ids (every one, old ones included).
func (e *Engine) reconcile(ctx context.Context, j Job, lease *warehouse.Lease, rec connectors.Reconciler, obj connectors.Object, r *ObjectResult, log *slog.Logger) (int, error) {
	name := j.Connector.Name()
	every := j.ReconcileEvery
	if every <= 0 {
		every = 24 * time.Hour
	}
	now := e.now()
	if r.fromStart && r.nothingStored {
		if err := e.store().SetCursorFenced(ctx, lease, reconcileKey(obj), now.UTC().Format(time.RFC3339)); err != nil {
			return 0, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("save reconcile time: %w", err)}
		}
		return 0, nil
	}
	if !j.Full && !r.fullPull {
		last, err := e.store().Cursor(ctx, name, reconcileKey(obj))
		if err != nil {
			return 0, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("read reconcile time: %w", err)}
		}
		if t, err := time.Parse(time.RFC3339, last); err == nil && now.Sub(t) < every {
			return 0, nil
		}
	}
	// IDs only; a few megabytes even for a million records.
	live := r.liveIDs
	if !r.fullPull {
		if err := rec.ListIDs(ctx, obj, func(ids []string) error {
			live = append(live, ids...)
			return nil
		}); err != nil {
			return 0, err
		}
	}
	if !j.AllowMassDelete {
		// One rule for the ids a full pull brought and for a listing: an
		// empty or small answer while records are stored is a broken one
		// (an empty page from an overloaded portal, a pull cut short) far
		// more often than a CRM emptied overnight, and trusting it would
		// drop the records from every KPI.
		stored, err := e.store().CountLive(ctx, name, obj)
		if err != nil {
			return 0, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("reconcile deletions: %w", err)}
		}
		share := j.MinListingShare
		if share <= 0 {
			share = DefaultMinListingShare
		}
		if stored > 0 && (len(live) == 0 || float64(len(live)) < share*float64(stored)) {
			return 0, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("reconcile deletions: %w",
				&MassDeleteError{Connector: name, Listed: len(live), Stored: stored, MinShare: share})}
		}
	}
	n, err := e.store().MarkMissingDeletedFenced(ctx, lease, obj, live, now)
	if err != nil {
		return 0, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("flag deleted records: %w", err)}
	}
	if err := e.store().SetCursorFenced(ctx, lease, reconcileKey(obj), now.UTC().Format(time.RFC3339)); err != nil {
		return n, &connectors.Error{Connector: name, Object: obj, Err: fmt.Errorf("save reconcile time: %w", err)}
	}
	log.InfoContext(ctx, "deletions reconciled", "object", string(obj), "live", len(live), "flagged", n)
	return n, nil
}

// MassDeleteError is a deletion scan refused because the CRM listed too few
// ids against the records stored: nothing was flagged deleted.
type MassDeleteError struct {
	Connector string
	// Listed is how many live ids the CRM listed, Stored how many live
	// records the warehouse holds.
	Listed, Stored int
	// MinShare is the least share of Stored a listing must hold.
	MinShare float64
}

func (e *MassDeleteError) Error() string {
	stored := english.Plural(e.Stored, "record", "") + " " + english.PluralWord(e.Stored, "is", "are")
	what := fmt.Sprintf("the CRM listed no ids while %s stored", stored)
	if e.Listed > 0 {
		what = fmt.Sprintf("the CRM listed %s while %s stored, under the %g%% a listing must hold", english.Plural(e.Listed, "id", ""), stored,
			math.Round(e.MinShare*1000)/10)
	}
	flag := "every stored record"
	if e.Listed > 0 {
		flag = fmt.Sprintf("up to %d stored %s", e.Stored-e.Listed, english.PluralWord(e.Stored-e.Listed, "record", ""))
	}
	return fmt.Sprintf("%s; refusing to flag %s deleted (if the CRM really lost them, run crmkpi sync --connector %s --allow-mass-delete)",
		what, flag, e.Connector)
}

// WriteSummary prints one line per connector and object, then the failures.
func WriteSummary(w interface{ Write([]byte) (int, error) }, s *Summary) {
	var b strings.Builder
	cs := append([]ConnectorResult(nil), s.Connectors...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Connector < cs[j].Connector })
	width := 0
	for _, c := range cs {
		width = max(width, len(c.Connector))
	}
	for _, c := range cs {
		switch {
		case c.Skipped != "":
			fmt.Fprintf(&b, "%s: skipped: %s\n", c.Connector, c.Skipped)
			continue
		case c.Err != nil:
			fmt.Fprintf(&b, "%s: FAILED: %v\n", c.Connector, c.Err)
			continue
		}
		for _, o := range c.Objects {
			status := "ok"
			switch {
			case o.Interrupted:
				status = "interrupted"
			case o.Err != nil:
				status = "FAILED"
			}
			fmt.Fprintf(&b, "%-*s %-12s %-11s %8d %-7s %6d %-5s %6d %-8s %8s", width, c.Connector, o.Object, status,
				o.Records, english.PluralWord(o.Records, "record", ""), o.Pages, english.PluralWord(o.Pages, "page", ""),
				o.Requests, english.PluralWord(o.Requests, "request", ""), human.Duration(o.Duration))
			if o.Deleted > 0 {
				fmt.Fprintf(&b, " %d flagged deleted", o.Deleted)
			}
			b.WriteString("\n")
		}
	}
	if s.Failed() {
		b.WriteString("\nfailures:\n")
		for _, c := range cs {
			if c.Err != nil {
				fmt.Fprintf(&b, "  %s: %v\n", c.Connector, c.Err)
			}
			for _, o := range c.Objects {
				if o.Err != nil {
					fmt.Fprintf(&b, "  %v\n", o.Err)
				}
			}
		}
	}
	w.Write([]byte(b.String()))
}
