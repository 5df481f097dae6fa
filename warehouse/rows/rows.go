// Package rows holds the rows of the warehouse tables as the warehouse's
// readers get them, and the vocabulary stored in those tables: the contract
// between the warehouse and scoring.
//
// It imports nothing of crmkpi, so that a reader depends on the tables and
// not on the connectors that fill them: scoring reads these rows and never
// a connectors record. The Scan methods of warehouse.Store pass them.
package rows

import (
	"database/sql"
	"time"
)

// Deal statuses as crm_deals.status stores them.
const (
	DealOpen = "open"
	DealWon  = "won"
	DealLost = "lost"
)

// Activity types as crm_activities.type stores them.
const (
	ActivityCall    = "call"
	ActivityEmail   = "email"
	ActivityMeeting = "meeting"
	ActivityMessage = "message"
	ActivityNote    = "note"
	ActivityTask    = "task"
)

// Activity directions as crm_activities.direction stores them; NULL means
// "not applicable".
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// The Scan methods of warehouse.Store stream the few columns of each
// record that scoring reads, one row at a time, so that a caller can keep a
// compact form of millions of records instead of every record whole. Each
// passes its callback a pointer to one row value that it reuses: the
// callback must copy what it keeps (the strings it may keep as they are).
// Deleted records are left out, except users. NULL text reads as "", NULL
// times as the zero time, unless the field says otherwise. Rows come in no
// particular order unless the method says so.

// User is one user as ScanUsers passes it, deleted ones included.
type User struct {
	Connector, ID, Email, Name string
	Active, Deleted            bool
	// DeactivatedAt is when the warehouse saw the user turn inactive;
	// not valid for active users and for users first seen inactive.
	DeactivatedAt sql.NullTime
}

// Company is one company as ScanCompanies passes it.
type Company struct {
	Connector, ID, OwnerID string
	// KeyClient is true when the company is flagged as a key client;
	// false also for NULL.
	KeyClient bool
}

// Contact is one contact as ScanContacts passes it.
type Contact struct {
	Connector, ID, CompanyID, OwnerID string
	NPSScore                          sql.NullFloat64
	// NPSAt is the CRM's answer date or, when the connector maps none, the
	// time the warehouse first saw the current score.
	NPSAt sql.NullTime
}

// Deal is one deal as ScanDeals passes it. Status is DealWon, DealLost, or
// DealOpen for any other status.
type Deal struct {
	Connector, ID, Status, Currency, OwnerID, CompanyID, ContactID string
	Amount, Expense                                                sql.NullFloat64
	CreatedAt                                                      time.Time
	ClosedAt                                                       sql.NullTime
}

// Activity is one activity as ScanActivities passes it. Direction is
// DirectionInbound, DirectionOutbound, or "" for any other direction.
type Activity struct {
	Connector, Type, Direction, OwnerID, CompanyID, ContactID, DealID string
	// ID is set by ScanActivityRecords and ScanDeletedActivities, which
	// explain reads; ScanActivities leaves it "", as scoring needs no id
	// and a million of them cost time.
	ID string
	// Subject is read for tasks only (Type ActivityTask); "" for the
	// others.
	Subject    string
	OccurredAt time.Time
	Completed  bool
	// DidNotConnect is true for a call the CRM says did not connect
	// (connected false); false where it connected or the CRM does not say.
	DidNotConnect bool
}

// Scorecard is one row of the scorecards table: one KPI of one manager in
// one period. The overall score is stored as KPI "score" with a nil Target.
type Scorecard struct {
	PeriodKind  string
	PeriodStart time.Time
	Manager     string
	KPI         string
	Value       *float64
	Target      *float64
	Attainment  *float64
	Reason      string
	ComputedAt  time.Time
}

// Key names one record of a connector.
type Key struct{ Connector, ID string }

// The kinds of record an explanation shows and links: the tables
// ScanRecordNames reads, and the kinds of RecordLink besides the activity
// types.
const (
	KindDeal     = "deal"
	KindCompany  = "company"
	KindContact  = "contact"
	KindActivity = "activity"
)

// RecordName is what people know a record by, as ScanRecordNames passes
// it: a deal's name and the name of its stage (its stage id where
// crm_stages has no name for it), a company's or contact's name, an
// activity's subject (for tasks and notes, their text). "" where the CRM
// gave none.
type RecordName struct {
	Connector, ID, Name, Stage string
}

// RecordLink is one row of crm_record_links: where records of Kind (a
// Kind constant, or an activity type whose activities have pages of their
// own) of Connector open in the CRM's web app, URL with "{id}" standing
// for the record's id.
type RecordLink struct {
	Connector, Kind, URL string
}

// LinkID is the placeholder of RecordLink.URL that a record's id replaces.
const LinkID = "{id}"
