package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// query runs q and calls scan for every row, closing the rows before it
// returns (the SQLite Store has one connection, so nothing else can run
// while rows are open).
func (s *Store) query(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// metaCols are selected first by every record read, in this order.
const metaCols = "connector, id, updated_at, deleted"

// metaScan holds the scanned meta columns until they are copied to a record.
type metaScan struct {
	connector, id string
	updated       nullTime
	deleted       bool
}

func (m *metaScan) dest() []any { return []any{&m.connector, &m.id, &m.updated, &m.deleted} }

func (m *metaScan) meta() connectors.Meta {
	return connectors.Meta{Connector: m.connector, ID: m.id, UpdatedAt: m.updated.T, Deleted: m.deleted}
}

func floatPtr(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}

// ReadUsers returns every user, deleted ones included (Meta.Deleted set),
// with Raw, sorted by connector and id. On PostgreSQL Raw comes back as
// jsonb prints it (keys sorted, whitespace normalised), the same JSON
// value but not necessarily the same bytes.
func (s *Store) ReadUsers(ctx context.Context) ([]connectors.User, error) {
	var out []connectors.User
	err := s.query(ctx, "users", "SELECT "+metaCols+", email, name, active, raw FROM crm_users ORDER BY connector, id", nil,
		func(rows *sql.Rows) error {
			var (
				m                metaScan
				email, name, raw sql.NullString
				active           sql.NullBool
			)
			if err := rows.Scan(append(m.dest(), &email, &name, &active, &raw)...); err != nil {
				return err
			}
			u := connectors.User{Meta: m.meta(), Email: email.String, Name: name.String, Active: active.Bool}
			if raw.Valid {
				u.Raw = json.RawMessage(raw.String)
			}
			out = append(out, u)
			return nil
		})
	return out, err
}

// ReadStages returns the stages not deleted, sorted by connector and id.
func (s *Store) ReadStages(ctx context.Context) ([]connectors.Stage, error) {
	var out []connectors.Stage
	err := s.query(ctx, "stages", "SELECT "+metaCols+", pipeline_id, pipeline_name, name, status, sort FROM crm_stages WHERE NOT deleted ORDER BY connector, id", nil,
		func(rows *sql.Rows) error {
			var (
				m                                metaScan
				pipelineID, pipeline, name, stat sql.NullString
				sort                             sql.NullInt64
			)
			if err := rows.Scan(append(m.dest(), &pipelineID, &pipeline, &name, &stat, &sort)...); err != nil {
				return err
			}
			out = append(out, connectors.Stage{Meta: m.meta(), PipelineID: pipelineID.String, PipelineName: pipeline.String,
				Name: name.String, Status: stat.String, Sort: int(sort.Int64)})
			return nil
		})
	return out, err
}

// ReadCompanies returns the companies not deleted, without Raw, sorted by
// connector and id.
func (s *Store) ReadCompanies(ctx context.Context) ([]connectors.Company, error) {
	var out []connectors.Company
	err := s.query(ctx, "companies", "SELECT "+metaCols+", name, owner_id, key_client, created_at FROM crm_companies WHERE NOT deleted ORDER BY connector, id", nil,
		func(rows *sql.Rows) error {
			var (
				m           metaScan
				name, owner sql.NullString
				key         sql.NullBool
				created     nullTime
			)
			if err := rows.Scan(append(m.dest(), &name, &owner, &key, &created)...); err != nil {
				return err
			}
			c := connectors.Company{Meta: m.meta(), Name: name.String, OwnerID: owner.String, CreatedAt: created.T}
			if key.Valid {
				c.KeyClient = &key.Bool
			}
			out = append(out, c)
			return nil
		})
	return out, err
}

// ReadContacts returns the contacts not deleted, without Raw, sorted by
// connector and id. NPSAt is the CRM's answer date or, when the connector
// maps none, the time the warehouse first saw the current score.
func (s *Store) ReadContacts(ctx context.Context) ([]connectors.Contact, error) {
	var out []connectors.Contact
	err := s.query(ctx, "contacts", "SELECT "+metaCols+", name, email, company_id, owner_id, nps_score, coalesce(nps_at, nps_seen_at), created_at FROM crm_contacts WHERE NOT deleted ORDER BY connector, id", nil,
		func(rows *sql.Rows) error {
			var (
				m                           metaScan
				name, email, company, owner sql.NullString
				nps                         sql.NullFloat64
				npsAt, created              nullTime
			)
			if err := rows.Scan(append(m.dest(), &name, &email, &company, &owner, &nps, &npsAt, &created)...); err != nil {
				return err
			}
			out = append(out, connectors.Contact{Meta: m.meta(), Name: name.String, Email: email.String,
				CompanyID: company.String, OwnerID: owner.String, NPSScore: floatPtr(nps), NPSAt: npsAt.ptr(), CreatedAt: created.T})
			return nil
		})
	return out, err
}

// ReadDeals returns the deals not deleted, without Raw, sorted by connector
// and id.
func (s *Store) ReadDeals(ctx context.Context) ([]connectors.Deal, error) {
	var out []connectors.Deal
	err := s.query(ctx, "deals", "SELECT "+metaCols+", name, pipeline, stage, status, amount, currency, owner_id, company_id, contact_id, created_at, closed_at, expense FROM crm_deals WHERE NOT deleted ORDER BY connector, id", nil,
		func(rows *sql.Rows) error {
			var (
				m                                       metaScan
				name, pipeline, stage, status, currency sql.NullString
				owner, company, contact                 sql.NullString
				amount, expense                         sql.NullFloat64
				created, closed                         nullTime
			)
			if err := rows.Scan(append(m.dest(), &name, &pipeline, &stage, &status, &amount, &currency, &owner, &company, &contact, &created, &closed, &expense)...); err != nil {
				return err
			}
			out = append(out, connectors.Deal{Meta: m.meta(), Name: name.String, PipelineID: pipeline.String, StageID: stage.String,
				Status: status.String, Amount: floatPtr(amount), Currency: currency.String, OwnerID: owner.String,
				CompanyID: company.String, ContactID: contact.String, CreatedAt: created.T, ClosedAt: closed.ptr(), Expense: floatPtr(expense)})
			return nil
		})
	return out, err
}

// ReadActivities returns the activities not deleted that occurred in
// [from, to), without Raw, sorted by occurred_at, connector and id.
func (s *Store) ReadActivities(ctx context.Context, from, to time.Time) ([]connectors.Activity, error) {
	var out []connectors.Activity
	q := s.d.q("SELECT " + metaCols + ", type, direction, subject, owner_id, company_id, contact_id, deal_id, occurred_at, completed, duration_s, connected FROM crm_activities WHERE NOT deleted AND occurred_at >= $1 AND occurred_at < $2 ORDER BY occurred_at, connector, id")
	err := s.query(ctx, "activities", q, []any{s.d.timeArg(from), s.d.timeArg(to)},
		func(rows *sql.Rows) error {
			var (
				m                             metaScan
				typ, dir, subject             sql.NullString
				owner, company, contact, deal sql.NullString
				occurred                      nullTime
				completed, connected          sql.NullBool
				duration                      sql.NullInt64
			)
			if err := rows.Scan(append(m.dest(), &typ, &dir, &subject, &owner, &company, &contact, &deal, &occurred, &completed, &duration, &connected)...); err != nil {
				return err
			}
			a := connectors.Activity{Meta: m.meta(), Type: typ.String, Direction: dir.String, Subject: subject.String,
				OwnerID: owner.String, CompanyID: company.String, ContactID: contact.String, DealID: deal.String,
				OccurredAt: occurred.T, Completed: completed.Bool}
			if duration.Valid {
				d := int(duration.Int64)
				a.DurationS = &d
			}
			if connected.Valid {
				a.Connected = &connected.Bool
			}
			out = append(out, a)
			return nil
		})
	return out, err
}
