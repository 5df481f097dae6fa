package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// maxBatchBytes caps the raw JSON of one statement, so that a page of huge
// records does not become one statement of hundreds of megabytes.
const maxBatchBytes = 8 << 20

// Cursor returns the saved cursor of connector's obj, "" when none.
func (s *Store) Cursor(ctx context.Context, connector string, obj connectors.Object) (string, error) {
	var c string
	err := s.db.GetContext(ctx, &c, s.db.Rebind("SELECT cursor FROM sync_state WHERE connector = ? AND object = ?"),
		connector, string(obj))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s %s cursor: %w", connector, obj, err)
	}
	return c, nil
}

// SetCursor saves the cursor of connector's obj, unfenced: for tools and
// tests that hold no lease. A sync saves through SetCursorFenced.
func (s *Store) SetCursor(ctx context.Context, connector string, obj connectors.Object, cursor string) error {
	if _, err := s.db.ExecContext(ctx, s.d.setCursor(), connector, string(obj), cursor, s.d.timeArg(s.now())); err != nil {
		return fmt.Errorf("save %s %s cursor: %w", connector, obj, err)
	}
	return nil
}

// SetCursorFenced is SetCursor for the holder of l: it saves nothing and
// fails with a *LostLeaseError when l is no longer the connector's lease.
func (s *Store) SetCursorFenced(ctx context.Context, l *Lease, obj connectors.Object, cursor string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkLease(ctx, tx, l); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.setCursor(), l.Connector, string(obj), cursor, s.d.timeArg(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save %s %s cursor: %w", l.Connector, obj, err)
	}
	return nil
}

// ClearCursors forgets every saved cursor of connector, so that its next
// sync pulls everything (crmkpi sync --full).
func (s *Store) ClearCursors(ctx context.Context, connector string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind("DELETE FROM sync_state WHERE connector = ?"), connector); err != nil {
		return fmt.Errorf("clear %s cursors: %w", connector, err)
	}
	return nil
}

// ApplyPage stores all of p in one transaction: it upserts every record
// slice (a record replaces a stored one only when its UpdatedAt is not
// older), flags p.Deletions (leaving a tombstone for records never stored),
// applies p.Links to existing rows, and, when p.Cursor is not empty, saves
// it as obj's cursor. On any error nothing of the page, cursor included,
// is stored.
//
// ApplyPage is unfenced: it is for tools and tests that hold no lease. A
// sync stores its pages through ApplyPageFenced.
func (s *Store) ApplyPage(ctx context.Context, connector string, obj connectors.Object, p *connectors.Page) error {
	return s.applyPage(ctx, nil, connector, obj, p)
}

// ApplyPageFenced is ApplyPage for the holder of l: the page's transaction
// first checks that l is still the connector's lease, and stores nothing,
// failing with a *LostLeaseError, when another sync has taken the
// connector over.
func (s *Store) ApplyPageFenced(ctx context.Context, l *Lease, obj connectors.Object, p *connectors.Page) error {
	return s.applyPage(ctx, l, l.Connector, obj, p)
}

func (s *Store) applyPage(ctx context.Context, l *Lease, connector string, obj connectors.Object, p *connectors.Page) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if l != nil {
			// First, so that on PostgreSQL the lease row is share-locked
			// before any record is written (checkLease).
			if err := s.checkLease(ctx, tx, l); err != nil {
				return err
			}
		}
		if s.d.name == DialectPostgres {
			// A page's commit need not wait for its WAL flush: a crash can
			// lose only the newest pages together with their cursor, which
			// the next sync pulls again, and FinishRun's ordinary commit
			// flushes them all before a run is reported succeeded.
			if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
		}
		for _, src := range sources(s.d, p, now) {
			upsert := s.upsert
			if s.d.name == DialectPostgres && s.copyUpsert && src.n >= copyMinRows {
				upsert = s.upsertCopy
			}
			if err := upsert(ctx, tx, connector, now, src); err != nil {
				return fmt.Errorf("upsert %s: %w", src.t.object, err)
			}
		}
		if err := s.applyDeletions(ctx, tx, connector, now, p.Deletions); err != nil {
			return err
		}
		if err := s.applyLinks(ctx, tx, connector, now, p.Links); err != nil {
			return err
		}
		if p.Cursor != "" {
			if _, err := tx.ExecContext(ctx, s.d.setCursor(), connector, string(obj), p.Cursor, s.d.timeArg(now)); err != nil {
				return fmt.Errorf("save cursor: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s %s page: %w", connector, obj, err)
	}
	return nil
}

// upsert writes src in multi-row statements, each under the engine's
// bind-parameter limit and maxBatchBytes of raw JSON.
func (s *Store) upsert(ctx context.Context, tx *sql.Tx, connector string, now time.Time, src rowSource) error {
	ncols := len(src.t.allColumns())
	maxRows := s.d.maxParams / ncols
	synced := s.d.timeArg(now)
	args := make([]any, 0, min(src.n, maxRows)*ncols)
	rows, bytes := 0, 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.d.upsert(src.t, rows), args...)
		args, rows, bytes = args[:0], 0, 0
		return err
	}
	for i := range src.n {
		m := src.meta(i)
		args = s.rowArgs(args, connector, src, i, synced)
		rows++
		bytes += len(m.Raw)
		if rows == maxRows || bytes >= maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// applyDeletions flags deleted records, table by table, in multi-row
// statements. A Deletion with a zero At counts as deleted now, so that a
// copy of the record fetched before it cannot resurrect it.
func (s *Store) applyDeletions(ctx context.Context, tx *sql.Tx, connector string, now time.Time, dels []connectors.Deletion) error {
	if len(dels) == 0 {
		return nil
	}
	byTable := map[*table][]connectors.Deletion{}
	for _, d := range dels {
		t, err := tableOf(d.Object)
		if err != nil {
			return fmt.Errorf("delete %s %s: %w", d.Object, d.ID, err)
		}
		byTable[t] = append(byTable[t], d)
	}
	synced := s.d.timeArg(now)
	for _, t := range tables {
		ds := byTable[t]
		if len(ds) == 0 {
			continue
		}
		// One statement may not touch a row twice on PostgreSQL: keep
		// the latest deletion of each id.
		ds = dedupe(ds, func(d *connectors.Deletion) *connectors.Meta {
			return &connectors.Meta{ID: d.ID, UpdatedAt: d.At}
		})
		maxRows := s.d.maxParams / 4
		for chunk := range slices.Chunk(ds, maxRows) {
			args := make([]any, 0, len(chunk)*4)
			for _, d := range chunk {
				at := d.At
				if at.IsZero() {
					at = now
				}
				args = append(args, connector, d.ID, s.d.timeArg(at), synced)
			}
			if _, err := tx.ExecContext(ctx, s.d.tombstone(t, len(chunk)), args...); err != nil {
				return fmt.Errorf("flag deleted %s: %w", t.object, err)
			}
		}
	}
	return nil
}

// applyLinks merges the links of one record (later non-nil fields win),
// then updates the rows in one statement per table and set of columns.
func (s *Store) applyLinks(ctx context.Context, tx *sql.Tx, connector string, now time.Time, links []connectors.Links) error {
	if len(links) == 0 {
		return nil
	}
	type key struct {
		t  *table
		id string
	}
	merged := map[key]*map[string]*string{}
	var order []key
	for _, l := range links {
		t, err := tableOf(l.Object)
		if err != nil || len(t.linkCols) == 0 {
			return fmt.Errorf("link %s %s: object has no links", l.Object, l.ID)
		}
		set := map[string]*string{"company_id": l.CompanyID, "contact_id": l.ContactID, "deal_id": l.DealID}
		k := key{t, l.ID}
		m, ok := merged[k]
		if !ok {
			m = &map[string]*string{}
			merged[k] = m
			order = append(order, k)
		}
		for col, v := range set {
			if v == nil {
				continue
			}
			if !slices.Contains(t.linkCols, col) {
				return fmt.Errorf("link %s %s: %s has no column %s", l.Object, l.ID, t.name, col)
			}
			(*m)[col] = v
		}
	}
	// Group by table and column set, keeping first-seen order.
	type group struct {
		t    *table
		cols []string
		rows [][]any
	}
	groups := map[string]*group{}
	var gorder []string
	for _, k := range order {
		m := *merged[k]
		if len(m) == 0 {
			continue
		}
		var cols []string
		for _, c := range k.t.linkCols {
			if _, ok := m[c]; ok {
				cols = append(cols, c)
			}
		}
		gk := k.t.name + ":" + strings.Join(cols, ",")
		g, ok := groups[gk]
		if !ok {
			g = &group{t: k.t, cols: cols}
			groups[gk] = g
			gorder = append(gorder, gk)
		}
		row := []any{k.id}
		for _, c := range cols {
			row = append(row, nullStr(*m[c]))
		}
		g.rows = append(g.rows, row)
	}
	synced := s.d.timeArg(now)
	for _, gk := range gorder {
		g := groups[gk]
		per := len(g.cols) + 1
		for chunk := range slices.Chunk(g.rows, (s.d.maxParams-2)/per) {
			args := make([]any, 0, 2+len(chunk)*per)
			args = append(args, connector, synced)
			for _, r := range chunk {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, s.d.link(g.t, g.cols, len(chunk)), args...); err != nil {
				return fmt.Errorf("link %s: %w", g.t.object, err)
			}
		}
	}
	return nil
}

// MarkMissingDeleted flags deleted the stored, not yet deleted records of
// connector's obj whose ids are not in live (the complete list of live ids
// the CRM reported), at time at, and returns how many it flagged. For CRMs
// with no feed of deletions. It is unfenced; a sync flags through
// MarkMissingDeletedFenced.
func (s *Store) MarkMissingDeleted(ctx context.Context, connector string, obj connectors.Object, live []string, at time.Time) (int, error) {
	return s.markMissingDeleted(ctx, nil, connector, obj, live, at)
}

// MarkMissingDeletedFenced is MarkMissingDeleted for the holder of l: it
// flags nothing and fails with a *LostLeaseError when l is no longer the
// connector's lease.
func (s *Store) MarkMissingDeletedFenced(ctx context.Context, l *Lease, obj connectors.Object, live []string, at time.Time) (int, error) {
	return s.markMissingDeleted(ctx, l, l.Connector, obj, live, at)
}

func (s *Store) markMissingDeleted(ctx context.Context, l *Lease, connector string, obj connectors.Object, live []string, at time.Time) (int, error) {
	t, err := tableOf(obj)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if l != nil {
			if err := s.checkLease(ctx, tx, l); err != nil {
				return err
			}
		}
		args := []any{connector, s.d.timeArg(at), s.d.timeArg(s.now())}
		if s.d.name == DialectPostgres {
			if err := copyLiveIDs(ctx, tx, live); err != nil {
				return err
			}
		} else {
			if live == nil {
				live = []string{} // "[]", not "null", which json_each reads as one NULL
			}
			b, err := json.Marshal(live)
			if err != nil {
				return err
			}
			args = append(args, string(b))
		}
		res, err := tx.ExecContext(ctx, s.d.markMissing(t), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("flag missing %s %s: %w", connector, obj, err)
	}
	return int(n), nil
}

// copyMinRows is the smallest record slice that goes through COPY when
// copyUpsert is on; below it the staging table costs more than it saves.
const copyMinRows = 100

// CountLive is how many records of obj the connector has stored that are not
// flagged deleted.
func (s *Store) CountLive(ctx context.Context, connector string, obj connectors.Object) (int, error) {
	t, err := tableOf(obj)
	if err != nil {
		return 0, err
	}
	var n int
	q := s.db.Rebind("SELECT count(*) FROM " + t.name + " WHERE connector = ? AND NOT deleted")
	if err := s.db.GetContext(ctx, &n, q, connector); err != nil {
		return 0, fmt.Errorf("count %s %s: %w", connector, obj, err)
	}
	return n, nil
}
