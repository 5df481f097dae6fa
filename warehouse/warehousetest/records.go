package warehousetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
)

// The readers below give a test back the records a Store holds, whole, as
// connectors records, to compare with what it stored. The warehouse itself
// has one read path, its Scan methods, which pass only the columns scoring
// needs; these exist for tests alone. Each reads through a connection of
// its own to the Store's database (its SQLite file, or its PostgreSQL
// schema in the database of PostgresURL), opened and closed per call, as a
// second process would read, and fails the test on any error.
//
// Users come with the deleted ones (Meta.Deleted set), the other records
// without; all come sorted by connector and id, except activities, and
// with Raw for users only. On PostgreSQL Raw comes back as jsonb prints it
// (keys sorted, whitespace normalised), the same JSON value but not
// necessarily the same bytes.

// Users returns every user of s, deleted ones included.
func Users(t testing.TB, s *warehouse.Store) []connectors.User {
	t.Helper()
	var rs []struct {
		meta
		Email  sql.NullString `db:"email"`
		Name   sql.NullString `db:"name"`
		Active sql.NullBool   `db:"active"`
		Raw    sql.NullString `db:"raw"`
	}
	sel(t, s, "users", &rs, "SELECT "+metaCols+", email, name, active, raw FROM crm_users ORDER BY connector, id")
	out := make([]connectors.User, 0, len(rs))
	for _, r := range rs {
		u := connectors.User{Meta: r.meta.record(), Email: r.Email.String, Name: r.Name.String, Active: r.Active.Bool}
		if r.Raw.Valid {
			u.Raw = json.RawMessage(r.Raw.String)
		}
		out = append(out, u)
	}
	return out
}

// Stages returns the stages of s not deleted.
func Stages(t testing.TB, s *warehouse.Store) []connectors.Stage {
	t.Helper()
	var rs []struct {
		meta
		PipelineID   sql.NullString `db:"pipeline_id"`
		PipelineName sql.NullString `db:"pipeline_name"`
		Name         sql.NullString `db:"name"`
		Status       sql.NullString `db:"status"`
		Sort         sql.NullInt64  `db:"sort"`
	}
	sel(t, s, "stages", &rs, "SELECT "+metaCols+", pipeline_id, pipeline_name, name, status, sort FROM crm_stages WHERE NOT deleted ORDER BY connector, id")
	out := make([]connectors.Stage, 0, len(rs))
	for _, r := range rs {
		out = append(out, connectors.Stage{Meta: r.meta.record(), PipelineID: r.PipelineID.String, PipelineName: r.PipelineName.String,
			Name: r.Name.String, Status: r.Status.String, Sort: int(r.Sort.Int64)})
	}
	return out
}

// Companies returns the companies of s not deleted.
func Companies(t testing.TB, s *warehouse.Store) []connectors.Company {
	t.Helper()
	var rs []struct {
		meta
		Name      sql.NullString `db:"name"`
		OwnerID   sql.NullString `db:"owner_id"`
		KeyClient *bool          `db:"key_client"`
		CreatedAt when           `db:"created_at"`
	}
	sel(t, s, "companies", &rs, "SELECT "+metaCols+", name, owner_id, key_client, created_at FROM crm_companies WHERE NOT deleted ORDER BY connector, id")
	out := make([]connectors.Company, 0, len(rs))
	for _, r := range rs {
		out = append(out, connectors.Company{Meta: r.meta.record(), Name: r.Name.String, OwnerID: r.OwnerID.String,
			KeyClient: r.KeyClient, CreatedAt: r.CreatedAt.t})
	}
	return out
}

// Contacts returns the contacts of s not deleted. NPSAt is the CRM's answer
// date or, when the connector maps none, the time the warehouse first saw
// the current score, as ScanContacts has it.
func Contacts(t testing.TB, s *warehouse.Store) []connectors.Contact {
	t.Helper()
	var rs []struct {
		meta
		Name      sql.NullString `db:"name"`
		Email     sql.NullString `db:"email"`
		CompanyID sql.NullString `db:"company_id"`
		OwnerID   sql.NullString `db:"owner_id"`
		NPSScore  *float64       `db:"nps_score"`
		NPSAt     when           `db:"nps_at"`
		CreatedAt when           `db:"created_at"`
	}
	sel(t, s, "contacts", &rs, "SELECT "+metaCols+", name, email, company_id, owner_id, nps_score, coalesce(nps_at, nps_seen_at) AS nps_at, created_at "+
		"FROM crm_contacts WHERE NOT deleted ORDER BY connector, id")
	out := make([]connectors.Contact, 0, len(rs))
	for _, r := range rs {
		out = append(out, connectors.Contact{Meta: r.meta.record(), Name: r.Name.String, Email: r.Email.String,
			CompanyID: r.CompanyID.String, OwnerID: r.OwnerID.String, NPSScore: r.NPSScore, NPSAt: r.NPSAt.ptr(), CreatedAt: r.CreatedAt.t})
	}
	return out
}

// Deals returns the deals of s not deleted.
func Deals(t testing.TB, s *warehouse.Store) []connectors.Deal {
	t.Helper()
	var rs []struct {
		meta
		Name      sql.NullString `db:"name"`
		Pipeline  sql.NullString `db:"pipeline"`
		Stage     sql.NullString `db:"stage"`
		Status    sql.NullString `db:"status"`
		Amount    *float64       `db:"amount"`
		Currency  sql.NullString `db:"currency"`
		OwnerID   sql.NullString `db:"owner_id"`
		CompanyID sql.NullString `db:"company_id"`
		ContactID sql.NullString `db:"contact_id"`
		CreatedAt when           `db:"created_at"`
		ClosedAt  when           `db:"closed_at"`
		Expense   *float64       `db:"expense"`
	}
	sel(t, s, "deals", &rs, "SELECT "+metaCols+", name, pipeline, stage, status, amount, currency, owner_id, company_id, contact_id, created_at, closed_at, expense "+
		"FROM crm_deals WHERE NOT deleted ORDER BY connector, id")
	out := make([]connectors.Deal, 0, len(rs))
	for _, r := range rs {
		out = append(out, connectors.Deal{Meta: r.meta.record(), Name: r.Name.String, PipelineID: r.Pipeline.String, StageID: r.Stage.String,
			Status: r.Status.String, Amount: r.Amount, Currency: r.Currency.String, OwnerID: r.OwnerID.String,
			CompanyID: r.CompanyID.String, ContactID: r.ContactID.String, CreatedAt: r.CreatedAt.t, ClosedAt: r.ClosedAt.ptr(), Expense: r.Expense})
	}
	return out
}

// Activities returns the activities of s not deleted that occurred in
// [from, to) (both truncated to the microsecond, the warehouse's
// precision), sorted by occurred_at, connector and id.
func Activities(t testing.TB, s *warehouse.Store, from, to time.Time) []connectors.Activity {
	t.Helper()
	var rs []struct {
		meta
		Type       sql.NullString `db:"type"`
		Direction  sql.NullString `db:"direction"`
		Subject    sql.NullString `db:"subject"`
		OwnerID    sql.NullString `db:"owner_id"`
		CompanyID  sql.NullString `db:"company_id"`
		ContactID  sql.NullString `db:"contact_id"`
		DealID     sql.NullString `db:"deal_id"`
		OccurredAt when           `db:"occurred_at"`
		Completed  sql.NullBool   `db:"completed"`
		DurationS  *int           `db:"duration_s"`
		Connected  *bool          `db:"connected"`
	}
	// The window is applied here rather than in SQL, which would need each
	// engine's time argument.
	sel(t, s, "activities", &rs, "SELECT "+metaCols+", type, direction, subject, owner_id, company_id, contact_id, deal_id, occurred_at, completed, duration_s, connected "+
		"FROM crm_activities WHERE NOT deleted AND occurred_at IS NOT NULL ORDER BY occurred_at, connector, id")
	from, to = from.Truncate(time.Microsecond), to.Truncate(time.Microsecond)
	var out []connectors.Activity
	for _, r := range rs {
		if at := r.OccurredAt.t; at.Before(from) || !at.Before(to) {
			continue
		}
		out = append(out, connectors.Activity{Meta: r.meta.record(), Type: r.Type.String, Direction: r.Direction.String, Subject: r.Subject.String,
			OwnerID: r.OwnerID.String, CompanyID: r.CompanyID.String, ContactID: r.ContactID.String, DealID: r.DealID.String,
			OccurredAt: r.OccurredAt.t, Completed: r.Completed.Bool, DurationS: r.DurationS, Connected: r.Connected})
	}
	return out
}

// metaCols are selected first by every reader, into meta.
const metaCols = "connector, id, updated_at, deleted"

// meta holds the columns every record table has.
type meta struct {
	Connector string `db:"connector"`
	ID        string `db:"id"`
	UpdatedAt when   `db:"updated_at"`
	Deleted   bool   `db:"deleted"`
}

func (m meta) record() connectors.Meta {
	return connectors.Meta{Connector: m.Connector, ID: m.ID, UpdatedAt: m.UpdatedAt.t, Deleted: m.Deleted}
}

// when scans a time column of either engine: time.Time from PostgreSQL,
// the fixed-width RFC 3339 text from SQLite, or NULL (the zero time).
type when struct {
	t     time.Time
	valid bool
}

// Scan implements sql.Scanner.
func (w *when) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		*w = when{}
	case time.Time:
		*w = when{v.UTC(), true}
	case string:
		w.t, err = time.Parse(time.RFC3339Nano, v)
		w.t, w.valid = w.t.UTC(), err == nil
	case []byte:
		w.t, err = time.Parse(time.RFC3339Nano, string(v))
		w.t, w.valid = w.t.UTC(), err == nil
	default:
		err = fmt.Errorf("scan time: unsupported type %T", src)
	}
	return err
}

// ptr is the time, or nil for NULL.
func (w when) ptr() *time.Time {
	if !w.valid {
		return nil
	}
	return &w.t
}

// sel runs q on a connection of its own to s's database and scans every
// row into dest, a pointer to a slice of structs with db tags.
func sel(t testing.TB, s *warehouse.Store, what string, dest any, q string) {
	t.Helper()
	db, err := open(s)
	if err != nil {
		t.Fatalf("read %s: %v", what, err)
	}
	defer db.Close()
	if err := db.SelectContext(context.Background(), dest, q); err != nil {
		t.Fatalf("read %s: %v", what, err)
	}
}

// open connects to s's database as Reopen does, without a Store.
func open(s *warehouse.Store) (*sqlx.DB, error) {
	if s.Dialect() == warehouse.DialectSQLite {
		c, err := sqlite.NewConnector(s.Path() + "?_pragma=busy_timeout(10000)")
		if err != nil {
			return nil, err
		}
		return sqlx.NewDb(sql.OpenDB(c), "sqlite"), nil
	}
	cfg, err := pq.NewConfig(PostgresURL())
	if err != nil {
		return nil, err
	}
	if s.Schema() != "" {
		if cfg.Runtime == nil {
			cfg.Runtime = map[string]string{}
		}
		cfg.Runtime["search_path"] = s.Schema()
	}
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(c), "postgres"), nil
}

// Column is one column of a warehouse table as its database declares it.
type Column struct {
	Name    string `db:"name"`
	Type    string `db:"type"`
	NotNull bool   `db:"notnull"`
	Key     bool   `db:"pk"` // part of the primary key
}

// Columns returns table's columns in the order the database lists them.
func Columns(t testing.TB, s *warehouse.Store, table string) []Column {
	t.Helper()
	var cols []Column
	q := `SELECT name, type, "notnull" = 1 AS "notnull", pk > 0 AS pk FROM pragma_table_info('` + table + `') ORDER BY cid`
	if s.Dialect() != warehouse.DialectSQLite {
		q = `SELECT c.column_name AS name, c.data_type AS type, c.is_nullable = 'NO' AS "notnull",
			EXISTS (SELECT 1 FROM information_schema.table_constraints tc
				JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
				WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name
				AND tc.constraint_type = 'PRIMARY KEY' AND k.column_name = c.column_name) AS pk
			FROM information_schema.columns c
			WHERE c.table_schema = current_schema() AND c.table_name = '` + table + `' ORDER BY c.ordinal_position`
	}
	sel(t, s, table+" columns", &cols, q)
	return cols
}
