package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// StartRun records the start of a sync of connector's obj (status
// RunRunning) and returns the run's id for FinishRun.
func (s *Store) StartRun(ctx context.Context, connector string, obj connectors.Object, started time.Time) (int64, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, s.d.startRun(), connector, string(obj), s.d.timeArg(started), RunRunning).Scan(&id); err != nil {
		return 0, fmt.Errorf("start %s %s run: %w", connector, obj, err)
	}
	return id, nil
}

// FinishRun records the end of run id: its status (RunSucceeded, RunFailed
// or RunInterrupted), how many records it stored, and its error text (""
// for none). It is not fenced: a run that lost its lease still records how
// it ended, over the interrupted status the new holder may have given it.
func (s *Store) FinishRun(ctx context.Context, id int64, finished time.Time, status string, records int, errText string) error {
	res, err := s.db.ExecContext(ctx, s.d.q("UPDATE sync_runs SET finished_at = $1, status = $2, records = $3, error = $4 WHERE id = $5"),
		s.d.timeArg(finished), status, int64(records), nullStr(errText), id)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("finish run %d: no such run", id)
	}
	return nil
}

// InterruptOrphanRuns closes as RunInterrupted, finished at (when it was
// noticed), the runs of l's connector still recorded running. The holder
// of a fresh lease calls it before starting runs of its own: every such row
// was left by an earlier holder, which is gone since l could be taken
// (killed with SIGKILL, say, before it could record the end). It returns
// how many rows it closed.
func (s *Store) InterruptOrphanRuns(ctx context.Context, l *Lease, at time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkLease(ctx, tx, l); err != nil {
			return err
		}
		prev := l.Previous
		if prev == "" {
			prev = "an earlier sync"
		}
		msg := fmt.Sprintf("interrupted: its sync ended without recording the end (killed, or cut off from the warehouse); "+
			"found running by %s, which took the lock from %s", l.Holder, prev)
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE sync_runs SET status = $1, finished_at = $2, error = $3 WHERE connector = $4 AND status = $5"),
			RunInterrupted, s.d.timeArg(at), msg, l.Connector, RunRunning)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("close %s runs left running: %w", l.Connector, err)
	}
	return int(n), nil
}

// runStatusQuery selects the newest run of every connector and object,
// with the finish times of its newest succeeded and newest failed runs.
const runStatusQuery = `SELECT r.connector, r.object, r.id, r.started_at, r.finished_at, r.status, r.records, r.error,
  (SELECT max(s.finished_at) FROM sync_runs s WHERE s.connector = r.connector AND s.object = r.object AND s.status = '` + RunSucceeded + `'),
  (SELECT max(f.finished_at) FROM sync_runs f WHERE f.connector = r.connector AND f.object = r.object AND f.status = '` + RunFailed + `')
FROM sync_runs r
WHERE r.id = (SELECT max(x.id) FROM sync_runs x WHERE x.connector = r.connector AND x.object = r.object)
ORDER BY r.connector, r.object`

// RunStatus reports, for every connector and object that has run, its
// newest run, its last success and the newest updated_at stored for it,
// sorted by connector and object.
func (s *Store) RunStatus(ctx context.Context) ([]ObjectStatus, error) {
	rows, err := s.db.QueryContext(ctx, runStatusQuery)
	if err != nil {
		return nil, fmt.Errorf("read run status: %w", err)
	}
	var out []ObjectStatus
	for rows.Next() {
		var (
			o                 ObjectStatus
			started           nullTime
			finished, success nullTime
			failure           nullTime
			errText           sql.NullString
			records           int64
		)
		if err := rows.Scan(&o.Connector, &o.Object, &o.LastRunID, &started, &finished, &o.Status, &records, &errText, &success, &failure); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read run status: %w", err)
		}
		o.StartedAt, o.FinishedAt, o.LastSuccess, o.LastFailure = started.T, finished.ptr(), success.ptr(), failure.ptr()
		o.Records, o.Error = int(records), errText.String
		out = append(out, o)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("read run status: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read run status: %w", err)
	}
	// Newest data per table and connector, one grouped scan each; read
	// after the runs so the single SQLite connection is free.
	byObject := map[string]map[string]time.Time{}
	for _, t := range tables {
		newest, err := s.newestData(ctx, t)
		if err != nil {
			return nil, err
		}
		byObject[string(t.object)] = newest
	}
	for i := range out {
		newest, ok := byObject[out[i].Object]
		if !ok {
			if strings.Contains(out[i].Object, ":") {
				continue // bookkeeping rows such as reconcile:deals
			}
			// A connector's own objects (HubSpot calls, amoCRM notes and
			// events) all land in the activities table.
			newest = byObject[string(connectors.ObjectActivities)]
		}
		if at, ok := newest[out[i].Connector]; ok {
			out[i].NewestData = &at
		}
	}
	slices.SortFunc(out, func(a, b ObjectStatus) int {
		if c := strings.Compare(a.Connector, b.Connector); c != 0 {
			return c
		}
		return strings.Compare(a.Object, b.Object)
	})
	return out, nil
}

func (s *Store) newestData(ctx context.Context, t *table) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT connector, max(updated_at) FROM "+t.name+" GROUP BY connector")
	if err != nil {
		return nil, fmt.Errorf("read newest %s: %w", t.object, err)
	}
	defer rows.Close()
	m := map[string]time.Time{}
	for rows.Next() {
		var c string
		var at nullTime
		if err := rows.Scan(&c, &at); err != nil {
			return nil, fmt.Errorf("read newest %s: %w", t.object, err)
		}
		m[c] = at.T
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read newest %s: %w", t.object, err)
	}
	return m, nil
}

// LastSuccess is the newest finish time of a succeeded run of any
// connector; ok is false when no run has succeeded yet.
func (s *Store) LastSuccess(ctx context.Context) (time.Time, bool, error) {
	var at nullTime
	if err := s.db.QueryRowContext(ctx, "SELECT max(finished_at) FROM sync_runs WHERE status = '"+RunSucceeded+"'").Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("read last success: %w", err)
	}
	return at.T, at.Valid, nil
}
