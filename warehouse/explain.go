package warehouse

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// The reads of crmkpi explain beyond scoring's: the activities with their
// ids, the deleted records a manager would look for, the names of the
// records shown, and where they open in their CRM.

// ScanActivityRecords is ScanActivities with each activity's ID: explain
// names the activities behind a value, which scoring never needs to.
func (s *Store) ScanActivityRecords(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error {
	return s.scanActivities(ctx, true, "NOT deleted AND occurred_at >= ? AND occurred_at < ?",
		[]any{s.d.timeArg(from), s.d.timeArg(to)}, fn)
}

// explainChunk bounds the ids one query looks up: they go as one
// parameter (see anyID), so this only bounds the memory of one answer.
const explainChunk = 10000

// byConnector groups keys by connector, in connector then id order, each
// connector's ids in chunks of explainChunk.
func byConnector(keys []rows.Key, fn func(connector string, ids []string) error) error {
	ks := slices.Clone(keys)
	slices.SortFunc(ks, func(a, b rows.Key) int {
		return cmp.Or(strings.Compare(a.Connector, b.Connector), strings.Compare(a.ID, b.ID))
	})
	ks = slices.Compact(ks)
	for i := 0; i < len(ks); {
		j := i
		for j < len(ks) && ks[j].Connector == ks[i].Connector {
			j++
		}
		ids := make([]string, 0, j-i)
		for _, k := range ks[i:j] {
			ids = append(ids, k.ID)
		}
		for chunk := range slices.Chunk(ids, explainChunk) {
			if err := fn(ks[i].Connector, chunk); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// anyID is a condition that col is one of the ids given as one parameter
// (idsArg): an array on PostgreSQL, a JSON array on SQLite. One parameter
// for ten thousand ids is one short statement to parse and plan, where an
// IN list of ten thousand placeholders is not.
func (s *Store) anyID(col string) string {
	if s.d.name == DialectPostgres {
		return col + " = ANY(?)"
	}
	return col + " IN (SELECT value FROM json_each(?))"
}

// idsArg is the parameter of anyID.
func (s *Store) idsArg(ids []string) (any, error) {
	if s.d.name == DialectPostgres {
		return pq.Array(ids), nil
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// ScanDeletedDeals calls fn for every deal the CRM reports deleted whose
// owner is one of owners (a connector's user ids) and that was created or
// closed in [from, to): the deals a manager misses from a count, which
// explain lists as left out. Tombstones of deals never stored have no
// owner and are never passed.
func (s *Store) ScanDeletedDeals(ctx context.Context, owners []rows.Key, from, to time.Time, fn func(*rows.Deal) error) error {
	f, t := s.d.timeArg(from), s.d.timeArg(to)
	return byConnector(owners, func(conn string, ids []string) error {
		arg, err := s.idsArg(ids)
		if err != nil {
			return fmt.Errorf("read deleted deals: %w", err)
		}
		return s.scanDeals(ctx, "deleted AND connector = ? AND "+s.anyID("owner_id")+" AND "+
			"(created_at >= ? AND created_at < ? OR closed_at >= ? AND closed_at < ?)", []any{conn, arg, f, t, f, t}, fn)
	})
}

// ScanDeletedActivities calls fn, latest first within each connector, for
// every activity the CRM reports deleted, owned by one of owners, that
// occurred in [from, to), with its ID.
func (s *Store) ScanDeletedActivities(ctx context.Context, owners []rows.Key, from, to time.Time, fn func(*rows.Activity) error) error {
	f, t := s.d.timeArg(from), s.d.timeArg(to)
	return byConnector(owners, func(conn string, ids []string) error {
		arg, err := s.idsArg(ids)
		if err != nil {
			return fmt.Errorf("read deleted activities: %w", err)
		}
		return s.scanActivities(ctx, true, "deleted AND connector = ? AND "+s.anyID("owner_id")+" AND occurred_at >= ? AND occurred_at < ?",
			[]any{conn, arg, f, t}, fn)
	})
}

// ScanRecordNames calls fn with the name of each record of kind
// (rows.KindDeal, KindCompany, KindContact or KindActivity) among keys
// that the warehouse has, deleted ones included, in connector and id
// order; see rows.RecordName. A deal's stage is named from crm_stages.
func (s *Store) ScanRecordNames(ctx context.Context, kind string, keys []rows.Key, fn func(*rows.RecordName) error) error {
	var q string
	switch kind {
	case rows.KindDeal:
		q = `SELECT d.id, coalesce(d.name, ''), coalesce(st.name, d.stage, '') FROM crm_deals d
LEFT JOIN crm_stages st ON st.connector = d.connector AND st.id = d.stage WHERE d.connector = ? AND ` + s.anyID("d.id") + ` ORDER BY d.id`
	case rows.KindCompany:
		q = "SELECT id, coalesce(name, ''), '' FROM crm_companies WHERE connector = ? AND " + s.anyID("id") + " ORDER BY id"
	case rows.KindContact:
		q = "SELECT id, coalesce(name, ''), '' FROM crm_contacts WHERE connector = ? AND " + s.anyID("id") + " ORDER BY id"
	case rows.KindActivity:
		q = "SELECT id, coalesce(subject, ''), '' FROM crm_activities WHERE connector = ? AND " + s.anyID("id") + " ORDER BY id"
	default:
		return fmt.Errorf("read record names: unknown kind %q", kind)
	}
	q = s.db.Rebind(q)
	var r rows.RecordName
	return byConnector(keys, func(conn string, ids []string) error {
		arg, err := s.idsArg(ids)
		if err != nil {
			return fmt.Errorf("read %s names: %w", kind, err)
		}
		qq, args := q, []any{conn, arg}
		var id, name, stage string
		return s.scan(ctx, kind+" names", qq, args, []any{&id, &name, &stage}, func() error {
			r = rows.RecordName{Connector: conn, ID: id, Name: name, Stage: stage}
			return fn(&r)
		})
	})
}

// ScanRecordLinks calls fn for every stored record link, in connector and
// kind order.
func (s *Store) ScanRecordLinks(ctx context.Context, fn func(*rows.RecordLink) error) error {
	var (
		r               rows.RecordLink
		conn, kind, url string
	)
	return s.scan(ctx, "record links", "SELECT connector, kind, url FROM crm_record_links ORDER BY connector, kind", nil,
		[]any{&conn, &kind, &url}, func() error {
			r = rows.RecordLink{Connector: conn, Kind: kind, URL: url}
			return fn(&r)
		})
}

// HasRecordLinks reports whether connector has record links stored.
func (s *Store) HasRecordLinks(ctx context.Context, connector string) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind("SELECT count(*) FROM crm_record_links WHERE connector = ?"), connector); err != nil {
		return false, fmt.Errorf("read %s record links: %w", connector, err)
	}
	return n > 0, nil
}

// SaveRecordLinks replaces the record links of connector with links, in
// one transaction. It is unfenced, for tools and tests; the sync engine
// uses SaveRecordLinksFenced.
func (s *Store) SaveRecordLinks(ctx context.Context, connector string, links []connectors.RecordLink) error {
	return s.saveRecordLinks(ctx, nil, connector, links)
}

// SaveRecordLinksFenced is SaveRecordLinks for l's connector under l: it
// stores nothing once another sync has taken the connector over
// (*LostLeaseError).
func (s *Store) SaveRecordLinksFenced(ctx context.Context, l *Lease, links []connectors.RecordLink) error {
	return s.saveRecordLinks(ctx, l, l.Connector, links)
}

func (s *Store) saveRecordLinks(ctx context.Context, l *Lease, connector string, links []connectors.RecordLink) error {
	for _, k := range links {
		if k.Kind == "" || !strings.Contains(k.URL, connectors.LinkID) {
			return fmt.Errorf("save %s record links: %q has no kind or no %s in %q", connector, k.Kind, connectors.LinkID, k.URL)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if l != nil {
			if err := s.checkLease(ctx, tx, l); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind("DELETE FROM crm_record_links WHERE connector = ?"), connector); err != nil {
			return err
		}
		now := s.d.timeArg(s.now())
		for _, k := range links {
			if _, err := tx.ExecContext(ctx, s.db.Rebind("INSERT INTO crm_record_links (connector, kind, url, updated_at) VALUES (?, ?, ?, ?)"),
				connector, k.Kind, k.URL, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %s record links: %w", connector, err)
	}
	return nil
}
