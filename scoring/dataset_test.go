package scoring

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// dataset is a warehouse as scoring reads it, in memory: the rows its Scan
// methods pass, so that a test states each case in those rows. Its
// companies, contacts, deals and activities are the live ones, as the
// scans leave deleted records out; users come with the deleted ones.
//
// A *dataset is a Source, so the tests feed Compute the one way the
// warehouse does. ScanActivities passes the activities of its window latest
// first (those at the same microsecond in dataset order); LastActivity
// finds the latest of all of them. TestComputeScanned checks that a
// dataset stored in a real warehouse scores the same.
type dataset struct {
	Users      []rows.User
	Companies  []rows.Company
	Contacts   []rows.Contact
	Deals      []rows.Deal
	Activities []rows.Activity
}

var _ ExplainSource = (*dataset)(nil)

// The Source of the warehouse itself, checked here because package
// scoring does not import the warehouse, only its rows.
var _ ExplainSource = (*warehouse.Store)(nil)

// each passes every row of rs to fn in one reused row, as the scans do.
func each[R any](rs []R, fn func(*R) error) error {
	var r R
	for i := range rs {
		r = rs[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func (d *dataset) ScanUsers(_ context.Context, fn func(*rows.User) error) error {
	return each(d.Users, fn)
}

func (d *dataset) ScanCompanies(_ context.Context, fn func(*rows.Company) error) error {
	return each(d.Companies, fn)
}

func (d *dataset) ScanContacts(_ context.Context, fn func(*rows.Contact) error) error {
	return each(d.Contacts, fn)
}

func (d *dataset) ScanDeals(_ context.Context, fn func(*rows.Deal) error) error {
	return each(d.Deals, fn)
}

func (d *dataset) ScanActivities(_ context.Context, from, to time.Time, fn func(*rows.Activity) error) error {
	var r rows.Activity
	return d.scanActivities(from, to, func(a *rows.Activity) error {
		r = *a
		return fn(&r)
	})
}

// scanActivities passes the activities of [from, to) latest first, each
// the element of d.Activities itself.
func (d *dataset) scanActivities(from, to time.Time, fn func(*rows.Activity) error) error {
	type timed struct {
		at int64
		i  int
	}
	acts := make([]timed, 0, len(d.Activities))
	for i := range d.Activities {
		if at := d.Activities[i].OccurredAt; !at.Before(from) && at.Before(to) {
			acts = append(acts, timed{micros(at), i})
		}
	}
	slices.SortFunc(acts, func(a, b timed) int { return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(a.i, b.i)) })
	for _, a := range acts {
		if err := fn(&d.Activities[a.i]); err != nil {
			return err
		}
	}
	return nil
}

// ScanActivityRecords is ScanActivities with each activity's index in
// d.Activities as its ID, the id storeAll gives it.
func (d *dataset) ScanActivityRecords(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error {
	ids := make(map[*rows.Activity]string, len(d.Activities))
	for i := range d.Activities {
		ids[&d.Activities[i]] = strconv.Itoa(i)
	}
	var r rows.Activity
	return d.scanActivities(from, to, func(a *rows.Activity) error {
		r = *a
		r.ID = ids[a]
		return fn(&r)
	})
}

// A dataset holds live records only, and no names or links.
func (d *dataset) ScanDeletedDeals(context.Context, []rows.Key, time.Time, time.Time, func(*rows.Deal) error) error {
	return nil
}

func (d *dataset) ScanDeletedActivities(context.Context, []rows.Key, time.Time, time.Time, func(*rows.Activity) error) error {
	return nil
}

func (d *dataset) ScanRecordNames(context.Context, string, []rows.Key, func(*rows.RecordName) error) error {
	return nil
}

func (d *dataset) ScanRecordLinks(context.Context, func(*rows.RecordLink) error) error { return nil }

func (d *dataset) LastActivity(_ context.Context, connector, ownerID string, until time.Time) (time.Time, bool, error) {
	var last time.Time
	ok := false
	for _, a := range d.Activities {
		if a.Connector != connector || a.OwnerID != ownerID || a.OccurredAt.After(until) {
			continue
		}
		if !ok || a.OccurredAt.After(last) {
			last, ok = a.OccurredAt, true
		}
	}
	return last, ok, nil
}

// computeFrom is Compute on d, which never fails on a valid period.
func computeFrom(d *dataset, opts Options, p Period) *Report {
	r, err := Compute(context.Background(), d, opts, p)
	if err != nil {
		panic(err)
	}
	return r
}

// updated is the UpdatedAt of every record the tests store.
var updated = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// storeAll applies d to s as the sync engine would, one page per connector
// and object, connector names left to the warehouse, as the records a
// connector would send for those rows. Users are stored as a first sync
// sees them: an inactive one is first seen inactive, whatever its
// DeactivatedAt. Activities, whose rows have no id, get their index in
// d.Activities as one.
func storeAll(t *testing.T, s *warehouse.Store, d *dataset) {
	t.Helper()
	storeNamed(t, s, d, nil)
}

// storeNamed is storeAll giving records the names of names, keyed
// "CONNECTOR/ID" (an activity's ID being its index): company and contact
// names, deal names, activity subjects for the types that store none.
// Deals get their status as stage id, which crm_stages names "Won", "Lost"
// and "Open" on every connector.
func storeNamed(t *testing.T, s *warehouse.Store, d *dataset, names map[string]string) {
	t.Helper()
	pages := map[string]map[connectors.Object]*connectors.Page{}
	page := func(conn string, obj connectors.Object) *connectors.Page {
		if pages[conn] == nil {
			pages[conn] = map[connectors.Object]*connectors.Page{}
		}
		if pages[conn][obj] == nil {
			pages[conn][obj] = &connectors.Page{}
		}
		return pages[conn][obj]
	}
	meta := func(id string) connectors.Meta { return connectors.Meta{ID: id, UpdatedAt: updated} }
	for _, u := range d.Users {
		m := meta(u.ID)
		m.Deleted = u.Deleted
		p := page(u.Connector, connectors.ObjectUsers)
		p.Users = append(p.Users, connectors.User{Meta: m, Email: u.Email, Name: u.Name, Active: u.Active})
	}
	for _, c := range d.Companies {
		rec := connectors.Company{Meta: meta(c.ID), OwnerID: c.OwnerID, Name: names[c.Connector+"/"+c.ID]}
		if c.KeyClient {
			rec.KeyClient = ptr(true)
		}
		p := page(c.Connector, connectors.ObjectCompanies)
		p.Companies = append(p.Companies, rec)
	}
	for _, c := range d.Contacts {
		rec := connectors.Contact{Meta: meta(c.ID), CompanyID: c.CompanyID, OwnerID: c.OwnerID, Name: names[c.Connector+"/"+c.ID]}
		if c.NPSScore.Valid {
			rec.NPSScore = f64(c.NPSScore.Float64)
		}
		if c.NPSAt.Valid {
			rec.NPSAt = tp(c.NPSAt.Time)
		}
		p := page(c.Connector, connectors.ObjectContacts)
		p.Contacts = append(p.Contacts, rec)
	}
	for _, dl := range d.Deals {
		rec := connectors.Deal{Meta: meta(dl.ID), Status: dl.Status, Currency: dl.Currency, OwnerID: dl.OwnerID,
			CompanyID: dl.CompanyID, ContactID: dl.ContactID, CreatedAt: dl.CreatedAt, Name: names[dl.Connector+"/"+dl.ID]}
		if names != nil {
			rec.StageID = dl.Status
			if pg := page(dl.Connector, connectors.ObjectStages); len(pg.Stages) == 0 {
				for _, st := range []string{rows.DealOpen, rows.DealWon, rows.DealLost} {
					pg.Stages = append(pg.Stages, connectors.Stage{Meta: meta(st), Name: strings.ToUpper(st[:1]) + st[1:], Status: st})
				}
			}
		}
		if dl.Amount.Valid {
			rec.Amount = f64(dl.Amount.Float64)
		}
		if dl.Expense.Valid {
			rec.Expense = f64(dl.Expense.Float64)
		}
		if dl.ClosedAt.Valid {
			rec.ClosedAt = tp(dl.ClosedAt.Time)
		}
		p := page(dl.Connector, connectors.ObjectDeals)
		p.Deals = append(p.Deals, rec)
	}
	for i, a := range d.Activities {
		subject := a.Subject
		if n, ok := names[a.Connector+"/"+strconv.Itoa(i)]; ok && subject == "" {
			subject = n
		}
		rec := connectors.Activity{Meta: meta(strconv.Itoa(i)), Type: a.Type, Direction: a.Direction, Subject: subject, OwnerID: a.OwnerID,
			CompanyID: a.CompanyID, ContactID: a.ContactID, DealID: a.DealID, OccurredAt: a.OccurredAt, Completed: a.Completed}
		if a.DidNotConnect {
			rec.Connected = ptr(false)
		}
		p := page(a.Connector, connectors.ObjectActivities)
		p.Activities = append(p.Activities, rec)
	}
	ctx := context.Background()
	for conn, byObj := range pages {
		for obj, p := range byObj {
			if err := s.ApplyPage(ctx, conn, obj, p); err != nil {
				t.Fatalf("ApplyPage(%s, %s): %v", conn, obj, err)
			}
		}
	}
}
