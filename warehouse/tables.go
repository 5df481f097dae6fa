package warehouse

import (
	"fmt"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// table describes one crm_* record table.
type table struct {
	name   string
	object connectors.Object
	// cols are the canonical columns, between the key (connector, id) and
	// the common tail (raw, updated_at, deleted, synced_at).
	cols []string
	// linkCols are the association columns a connectors.Links may set.
	linkCols []string
}

// allColumns lists every column an upsert writes, in argument order.
func (t *table) allColumns() []string {
	cols := make([]string, 0, len(t.cols)+6)
	cols = append(cols, "connector", "id")
	cols = append(cols, t.cols...)
	return append(cols, "raw", "updated_at", "deleted", "synced_at")
}

var (
	usersTable = &table{name: "crm_users", object: connectors.ObjectUsers,
		cols: []string{"email", "name", "active", "deactivated_at"}}
	stagesTable = &table{name: "crm_stages", object: connectors.ObjectStages,
		cols: []string{"pipeline_id", "pipeline_name", "name", "status", "sort"}}
	companiesTable = &table{name: "crm_companies", object: connectors.ObjectCompanies,
		cols: []string{"name", "owner_id", "key_client", "created_at"}}
	contactsTable = &table{name: "crm_contacts", object: connectors.ObjectContacts,
		cols:     []string{"name", "email", "company_id", "owner_id", "nps_score", "nps_at", "created_at", "nps_seen_at"},
		linkCols: []string{"company_id"}}
	dealsTable = &table{name: "crm_deals", object: connectors.ObjectDeals,
		cols: []string{"name", "pipeline", "stage", "status", "amount", "currency", "owner_id",
			"company_id", "contact_id", "created_at", "closed_at", "expense"},
		linkCols: []string{"company_id", "contact_id"}}
	activitiesTable = &table{name: "crm_activities", object: connectors.ObjectActivities,
		cols: []string{"type", "direction", "subject", "owner_id", "company_id", "contact_id",
			"deal_id", "occurred_at", "completed", "duration_s", "connected"},
		linkCols: []string{"company_id", "contact_id", "deal_id"}}

	// tables in the order ApplyPage writes them: referenced kinds first,
	// which matters to no constraint today but reads naturally in logs.
	tables = []*table{usersTable, stagesTable, companiesTable, contactsTable, dealsTable, activitiesTable}
)

// tableOf returns the record table of obj.
func tableOf(obj connectors.Object) (*table, error) {
	for _, t := range tables {
		if t.object == obj {
			return t, nil
		}
	}
	return nil, fmt.Errorf("object %q has no warehouse table", obj)
}

// nullStr stores "" as NULL, for ids and enumerations where "" means none.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func nullInt(i *int) any {
	if i == nil {
		return nil
	}
	return int64(*i)
}

// rowSource is one record slice of a page, ready for dialect.upsert: n
// records, meta gives the i-th record's Meta and cols appends its canonical
// column values, in table order, to args.
type rowSource struct {
	t    *table
	n    int
	meta func(i int) *connectors.Meta
	cols func(i int, args []any) []any
}

// sources returns the upsert rows of every record slice of p, with
// duplicates of one id reduced to the newest (PostgreSQL refuses to update
// one row twice in one statement).
func sources(d *dialect, p *connectors.Page, now time.Time) []rowSource {
	var out []rowSource
	if us := dedupe(p.Users, func(r *connectors.User) *connectors.Meta { return &r.Meta }); len(us) > 0 {
		out = append(out, rowSource{t: usersTable, n: len(us),
			meta: func(i int) *connectors.Meta { return &us[i].Meta },
			cols: func(i int, a []any) []any {
				r := &us[i]
				// deactivated_at is the warehouse's own: the upsert sets it
				// when it sees an active user turn inactive.
				return append(a, r.Email, r.Name, r.Active, nil)
			}})
	}
	if ss := dedupe(p.Stages, func(r *connectors.Stage) *connectors.Meta { return &r.Meta }); len(ss) > 0 {
		out = append(out, rowSource{t: stagesTable, n: len(ss),
			meta: func(i int) *connectors.Meta { return &ss[i].Meta },
			cols: func(i int, a []any) []any {
				r := &ss[i]
				return append(a, nullStr(r.PipelineID), r.PipelineName, r.Name, r.Status, int64(r.Sort))
			}})
	}
	if cs := dedupe(p.Companies, func(r *connectors.Company) *connectors.Meta { return &r.Meta }); len(cs) > 0 {
		out = append(out, rowSource{t: companiesTable, n: len(cs),
			meta: func(i int) *connectors.Meta { return &cs[i].Meta },
			cols: func(i int, a []any) []any {
				r := &cs[i]
				return append(a, r.Name, nullStr(r.OwnerID), nullBool(r.KeyClient), d.nullTimeArg(r.CreatedAt))
			}})
	}
	if cs := dedupe(p.Contacts, func(r *connectors.Contact) *connectors.Meta { return &r.Meta }); len(cs) > 0 {
		out = append(out, rowSource{t: contactsTable, n: len(cs),
			meta: func(i int) *connectors.Meta { return &cs[i].Meta },
			cols: func(i int, a []any) []any {
				r := &cs[i]
				// A new row with a score has seen it now; the upsert's
				// CASE decides for an existing row.
				var seen any
				if r.NPSScore != nil {
					seen = d.timeArg(now)
				}
				return append(a, r.Name, r.Email, nullStr(r.CompanyID), nullStr(r.OwnerID),
					nullFloat(r.NPSScore), d.ptrTimeArg(r.NPSAt), d.nullTimeArg(r.CreatedAt), seen)
			}})
	}
	if ds := dedupe(p.Deals, func(r *connectors.Deal) *connectors.Meta { return &r.Meta }); len(ds) > 0 {
		out = append(out, rowSource{t: dealsTable, n: len(ds),
			meta: func(i int) *connectors.Meta { return &ds[i].Meta },
			cols: func(i int, a []any) []any {
				r := &ds[i]
				return append(a, r.Name, nullStr(r.PipelineID), nullStr(r.StageID), r.Status,
					nullFloat(r.Amount), r.Currency, nullStr(r.OwnerID), nullStr(r.CompanyID),
					nullStr(r.ContactID), d.nullTimeArg(r.CreatedAt), d.ptrTimeArg(r.ClosedAt),
					nullFloat(r.Expense))
			}})
	}
	if as := dedupe(p.Activities, func(r *connectors.Activity) *connectors.Meta { return &r.Meta }); len(as) > 0 {
		out = append(out, rowSource{t: activitiesTable, n: len(as),
			meta: func(i int) *connectors.Meta { return &as[i].Meta },
			cols: func(i int, a []any) []any {
				r := &as[i]
				return append(a, r.Type, nullStr(r.Direction), r.Subject, nullStr(r.OwnerID),
					nullStr(r.CompanyID), nullStr(r.ContactID), nullStr(r.DealID),
					d.nullTimeArg(r.OccurredAt), r.Completed, nullInt(r.DurationS), nullBool(r.Connected))
			}})
	}
	return out
}

// dedupe keeps, for each id, the record with the newest UpdatedAt (the later
// one on a tie, as a later upsert would win), in first-seen order. It returns
// recs itself when there are no duplicates, the common case.
func dedupe[R any](recs []R, meta func(*R) *connectors.Meta) []R {
	if len(recs) < 2 {
		return recs
	}
	at := make(map[string]int, len(recs))
	dup := false
	for i := range recs {
		id := meta(&recs[i]).ID
		if _, ok := at[id]; ok {
			dup = true
			break
		}
		at[id] = i
	}
	if !dup {
		return recs
	}
	clear(at)
	out := make([]R, 0, len(recs))
	for i := range recs {
		m := meta(&recs[i])
		j, ok := at[m.ID]
		if !ok {
			at[m.ID] = len(out)
			out = append(out, recs[i])
			continue
		}
		if !m.UpdatedAt.Before(meta(&out[j]).UpdatedAt) {
			out[j] = recs[i]
		}
	}
	return out
}
