package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// The Scan methods are the warehouse's one read path of the record tables:
// they pass the rows of package rows, whose doc says what each holds. An
// error from fn stops the scan and is returned as it is.
//
// Companies, contacts, deals and activities, millions of rows, are scanned
// by hand into variables bound once (scan): sqlx's StructScan finds each
// field by reflection on every row, which measured 5-10% more time per
// row for no fewer allocations.

// ScanUsers calls fn for every user, deleted ones included: their deals
// and clients are still theirs. Users are few, so they are read whole
// first.
func (s *Store) ScanUsers(ctx context.Context, fn func(*rows.User) error) error {
	var us []struct {
		Connector   string         `db:"connector"`
		ID          string         `db:"id"`
		Email       sql.NullString `db:"email"`
		Name        sql.NullString `db:"name"`
		Active      sql.NullBool   `db:"active"`
		Deleted     bool           `db:"deleted"`
		Deactivated scanTime       `db:"deactivated_at"`
	}
	q := "SELECT connector, id, email, name, active, deleted, " + s.timeCol("deactivated_at") + " AS deactivated_at FROM crm_users"
	if err := s.db.SelectContext(ctx, &us, q); err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, u := range us {
		r := rows.User{Connector: u.Connector, ID: u.ID, Email: u.Email.String, Name: u.Name.String,
			Active: u.Active.Bool, Deleted: u.Deleted, DeactivatedAt: sql.NullTime{Time: u.Deactivated.T, Valid: u.Deactivated.Valid}}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// ScanCompanies calls fn for every company not deleted.
func (s *Store) ScanCompanies(ctx context.Context, fn func(*rows.Company) error) error {
	var (
		r               rows.Company
		conn, id, owner sql.NullString
		key             sql.NullBool
	)
	return s.scan(ctx, "companies", "SELECT connector, id, owner_id, key_client FROM crm_companies WHERE NOT deleted", nil,
		[]any{&conn, &id, &owner, &key}, func() error {
			r = rows.Company{Connector: conn.String, ID: id.String, OwnerID: owner.String, KeyClient: key.Valid && key.Bool}
			return fn(&r)
		})
}

// ScanContacts calls fn for every contact not deleted.
func (s *Store) ScanContacts(ctx context.Context, fn func(*rows.Contact) error) error {
	var (
		r                        rows.Contact
		conn, id, company, owner sql.NullString
		nps                      sql.NullFloat64
		npsAt                    scanTime
	)
	return s.scan(ctx, "contacts", "SELECT connector, id, company_id, owner_id, nps_score, "+s.timeCol("coalesce(nps_at, nps_seen_at)")+" FROM crm_contacts WHERE NOT deleted", nil,
		[]any{&conn, &id, &company, &owner, &nps, &npsAt}, func() error {
			r = rows.Contact{Connector: conn.String, ID: id.String, CompanyID: company.String, OwnerID: owner.String,
				NPSScore: nps, NPSAt: sql.NullTime{Time: npsAt.T, Valid: npsAt.Valid}}
			return fn(&r)
		})
}

// ScanDeals calls fn for every deal not deleted.
func (s *Store) ScanDeals(ctx context.Context, fn func(*rows.Deal) error) error {
	return s.scanDeals(ctx, "NOT deleted", nil, fn)
}

// scanDeals passes the deals that where (a condition on crm_deals, args
// its parameters) selects.
func (s *Store) scanDeals(ctx context.Context, where string, args []any, fn func(*rows.Deal) error) error {
	var (
		r                       rows.Deal
		conn, id, currency      string
		status                  int64
		owner, company, contact string
		amount, expense         sql.NullFloat64
		created, closed         scanTime
	)
	// Text columns come as coalesce(x, ''): a plain string scans faster
	// than a sql.NullString.
	return s.scan(ctx, "deals", s.db.Rebind("SELECT connector, id, "+codeOf("status", dealStatus[:])+", coalesce(currency, ''), "+
		"coalesce(owner_id, ''), coalesce(company_id, ''), coalesce(contact_id, ''), amount, expense, "+
		s.timeCol("created_at")+", "+s.timeCol("closed_at")+" FROM crm_deals WHERE "+where), args,
		[]any{&conn, &id, &status, &currency, &owner, &company, &contact, &amount, &expense, &created, &closed}, func() error {
			r = rows.Deal{Connector: conn, ID: id, Status: dealStatus[status], Currency: currency,
				OwnerID: owner, CompanyID: company, ContactID: contact, Amount: amount, Expense: expense,
				CreatedAt: created.T, ClosedAt: sql.NullTime{Time: closed.T, Valid: closed.Valid}}
			return fn(&r)
		})
}

// ScanActivities calls fn for every activity not deleted that occurred in
// [from, to), latest first (in descending occurred_at order; activities at
// the same time in no particular order), which the index on occurred_at
// gives without a sort.
func (s *Store) ScanActivities(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error {
	return s.scanActivities(ctx, false, "NOT deleted AND occurred_at >= ? AND occurred_at < ?",
		[]any{s.d.timeArg(from), s.d.timeArg(to)}, fn)
}

// scanActivities passes, latest first, the activities that where (a
// condition on crm_activities, args its parameters) selects, with their
// ids when withID is set.
func (s *Store) scanActivities(ctx context.Context, withID bool, where string, args []any, fn func(*rows.Activity) error) error {
	var (
		r                             rows.Activity
		conn, id, typ, subject        string
		dir                           int64
		owner, company, contact, deal string
		occurred                      scanTime
		completed, connected          sql.NullBool
	)
	idCol := ""
	dest := []any{&conn, &typ, &dir, &subject, &owner, &company, &contact, &deal, &occurred, &completed, &connected}
	if withID {
		idCol, dest = ", id", append(dest, &id)
	}
	q := s.db.Rebind(`SELECT connector, coalesce(type, ''), ` + codeOf("direction", direction[:]) + `,
  CASE WHEN type = '` + rows.ActivityTask + `' THEN coalesce(subject, '') ELSE '' END, coalesce(owner_id, ''), coalesce(company_id, ''),
  coalesce(contact_id, ''), coalesce(deal_id, ''), ` + s.timeCol("occurred_at") + `, completed, connected` + idCol + `
FROM crm_activities WHERE ` + where + ` ORDER BY occurred_at DESC`)
	return s.scan(ctx, "activities", q, args, dest, func() error {
		r = rows.Activity{Connector: conn, Type: typ, Direction: direction[dir], Subject: subject,
			OwnerID: owner, CompanyID: company, ContactID: contact, DealID: deal, ID: id,
			OccurredAt: occurred.T, Completed: completed.Bool, DidNotConnect: connected.Valid && !connected.Bool}
		return fn(&r)
	})
}

// LastActivity returns when the latest activity not deleted that user
// ownerID of connector owns, at or before until, occurred; ok is false when
// the user has none. Scoring asks it, for the few users the CRM reports
// inactive without the warehouse having seen them turn so, when a user
// last worked outside the activities it scans. It reads the owner index,
// so one call costs what that user's activities do, not the table.
func (s *Store) LastActivity(ctx context.Context, connector, ownerID string, until time.Time) (at time.Time, ok bool, err error) {
	var last scanTime
	q := s.db.Rebind("SELECT " + s.timeCol("max(occurred_at)") +
		" FROM crm_activities WHERE connector = ? AND owner_id = ? AND NOT deleted AND occurred_at <= ?")
	if err = s.db.GetContext(ctx, &last, q, connector, ownerID, s.d.timeArg(until)); err != nil {
		return time.Time{}, false, fmt.Errorf("read activities: %w", err)
	}
	return last.T, last.Valid, nil
}

// The statuses and directions the scans select as small numbers, which
// cost nothing to send and decode.
var (
	dealStatus = [3]string{rows.DealOpen, rows.DealWon, rows.DealLost}
	direction  = [3]string{"", rows.DirectionInbound, rows.DirectionOutbound}
)

// codeOf selects col as the index of its value in words, 0 for any value
// not listed after words[0] (the words are the constants of package rows,
// never input).
func codeOf(col string, words []string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, w := range words[1:] {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", w, i+1)
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

// timeCol selects a time column for scanTime: on PostgreSQL as Unix
// microseconds, which is cheaper to send and to decode than timestamptz
// text and exact at the warehouse's precision; on SQLite as stored.
func (s *Store) timeCol(col string) string {
	if s.d.name == DialectPostgres {
		return "(extract(epoch from " + col + ") * 1000000)::int8"
	}
	return col
}

// scanTime scans a column selected by timeCol.
type scanTime struct{ nullTime }

// Scan implements sql.Scanner.
func (t *scanTime) Scan(src any) error {
	if v, ok := src.(int64); ok {
		t.T, t.Valid = time.UnixMicro(v).UTC(), true
		return nil
	}
	return t.nullTime.Scan(src)
}

// scan runs q, scans each row into dest and calls each, closing the rows
// before it returns (the SQLite Store has one connection, so nothing else
// can run while rows are open). It returns each's error unwrapped, so a
// caller's own error (a cancelled computation) comes back as it was.
func (s *Store) scan(ctx context.Context, what, q string, args, dest []any, each func() error) error {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		if err := each(); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
