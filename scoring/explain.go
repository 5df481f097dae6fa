package scoring

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// Explanation is the records behind one KPI value of one manager in one
// period, each with why it counts or was left out, and the arithmetic
// that gives the value (crmkpi explain, the web page's explanation). Value
// and Reason equal the scored KPI's exactly.
type Explanation struct {
	Manager string `json:"manager"`
	Name    string `json:"name"`
	KPI     string `json:"kpi"`
	Label   string `json:"label"`
	Unit    string `json:"unit"`
	Period  Period `json:"period"`
	// Currency is the reporting currency of money figures.
	Currency string   `json:"currency"`
	Value    *float64 `json:"value"`
	// Reason says why there is no value (n/a), nil when there is one.
	Reason *string `json:"reason"`
	// Formula is the arithmetic that gives Value, for people: "7 won
	// deals", "sum 1,234,000 RUB / 12 clients = 102,833".
	Formula string            `json:"formula"`
	Records []ExplainedRecord `json:"records"`
}

// ExplainedRecord is one record an Explanation weighed.
type ExplainedRecord struct {
	// Kind is "deal", "activity", "contact" (an NPS answer) or "client"
	// (a company, or a contact that is a client of its own).
	Kind      string `json:"kind"`
	Connector string `json:"connector"`
	ID        string `json:"id"`
	// Name is the deal's name, the activity's type and subject, the
	// contact's name, or the client's.
	Name string `json:"name"`
	// Client is the name of the record's client ("" when it has none).
	Client string `json:"client"`
	// Time is what placed the record in or out of the period: a deal's
	// close time, an activity's time, an NPS answer's date.
	Time  *time.Time `json:"time"`
	Stage string     `json:"stage,omitempty"`
	// Amount is in Currency, the record's own; Reporting is it in the
	// report's currency (nil without a rate).
	Amount    *float64 `json:"amount,omitempty"`
	Currency  string   `json:"currency,omitempty"`
	Reporting *float64 `json:"amount_reporting,omitempty"`
	// Figure is what the record adds to the KPI where that is not an
	// amount: hours to the answer, an NPS score, an activity's cost.
	Figure *float64 `json:"figure,omitempty"`
	// Owner is the manager key of the record's owner ("" for none): for a
	// client, its client owner.
	Owner string `json:"owner,omitempty"`
	// Counts is true when the record is part of the value; Why says why it
	// counts or was left out (deleted, other owner, currency without a
	// rate, outside the period, ...).
	Counts bool   `json:"counts"`
	Why    string `json:"why"`
	// Link opens the record in its CRM ("" when the connector's portal is
	// not known yet).
	Link string `json:"link,omitempty"`
}

// ExplainSource is what Explain reads: Compute's Source, plus the reads
// that name and link the records behind a value (the Scan methods of
// *warehouse.Store; package rows documents the rows).
type ExplainSource interface {
	Source
	// ScanActivityRecords is ScanActivities with each activity's ID.
	ScanActivityRecords(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error
	// ScanDeletedDeals and ScanDeletedActivities pass the records the CRM
	// reports deleted, of the given owners, in [from, to): deals created
	// or closed then, activities that occurred then.
	ScanDeletedDeals(ctx context.Context, owners []rows.Key, from, to time.Time, fn func(*rows.Deal) error) error
	ScanDeletedActivities(ctx context.Context, owners []rows.Key, from, to time.Time, fn func(*rows.Activity) error) error
	// ScanRecordNames passes the names of the records of a kind
	// (rows.KindDeal, ...) among keys.
	ScanRecordNames(ctx context.Context, kind string, keys []rows.Key, fn func(*rows.RecordName) error) error
	// ScanRecordLinks passes where each connector's records open.
	ScanRecordLinks(ctx context.Context, fn func(*rows.RecordLink) error) error
}

// UnknownKPIError is Explain's error for a KPI key kpi.Table does not have.
type UnknownKPIError struct{ Key string }

func (e *UnknownKPIError) Error() string {
	return fmt.Sprintf("unknown KPI %q (one of %s)", e.Key, strings.Join(kpi.Keys, ", "))
}

// UnknownManagerError is Explain's error for a manager key that matches no
// CRM user in the warehouse.
type UnknownManagerError struct{ Key string }

func (e *UnknownManagerError) Error() string {
	return fmt.Sprintf("no manager %q: no CRM user has that e-mail (or CONNECTOR:USER_ID)", e.Key)
}

// Explain explains KPI key of manager in period p: the records behind the
// value, each with why it counts or was left out and a link to it in its
// CRM, and the arithmetic that gives the value. It runs the one
// computation Compute runs, over the whole warehouse, with a tracer on
// that manager, so that its Value and Reason are the scorecard's exactly
// (Value nil, and Reason why, when the manager has no scorecard in p) and
// its records are those the computation weighed. Records a manager might
// look for are listed as left out with the reason: their other deals and
// activities within a week of the period, those on their clients owned by
// someone else, the ones deleted in the CRM.
func Explain(ctx context.Context, src ExplainSource, opts Options, p Period, manager, key string) (*Explanation, error) {
	def, ok := kpi.Lookup(key)
	if !ok {
		return nil, &UnknownKPIError{Key: key}
	}
	mkey := managerKey(strings.TrimSpace(manager))
	tr := newTracer(mkey, p)
	m, err := run(ctx, src, src.ScanActivityRecords, opts, p, tr)
	if err != nil {
		return nil, err
	}
	if tr.mgr < 0 {
		return nil, &UnknownManagerError{Key: mkey}
	}
	r := m.report()
	mi := &m.managers[tr.mgr]
	e := &Explanation{Manager: mi.key, Name: mi.name, KPI: key, Label: def.Label, Unit: def.Unit,
		Period: p, Currency: m.s.Currency, Records: []ExplainedRecord{}}
	if e.Name == "" {
		e.Name = mi.key
	}
	var k *KPI
	for i := range r.Managers {
		if r.Managers[i].Manager == mi.key {
			k = r.Managers[i].KPIs[key]
		}
	}
	x := newExplainer(m, tr)
	if err := x.deleted(ctx, src); err != nil {
		return nil, err
	}
	switch {
	case k == nil:
		why := reasonIneligible
		if m.cur[tr.mgr].eligible {
			why = m.unranked(int(tr.mgr))
		}
		e.Reason = &why
	default:
		e.Value, e.Reason = k.Value, k.Reason
	}
	e.Formula = x.explain(key, k)
	if k == nil {
		e.Formula = *e.Reason
	}
	if err := x.finish(ctx, src); err != nil {
		return nil, err
	}
	if x.recs != nil {
		e.Records = x.recs
	}
	return e, nil
}
