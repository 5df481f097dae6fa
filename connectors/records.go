// Package connectors holds the canonical CRM records that every connector
// produces, the Connector interface that the sync engine drives, and the one
// HTTP client that all connectors share (retries, rate limits, typed errors,
// secret redaction).
//
// A connector is a thin translation of one CRM API into these records; it knows
// nothing about the warehouse. Everything common to the three CRMs lives here.
package connectors

import (
	"encoding/json"
	"time"
)

// Object names one kind of record a connector pulls. Each object has its own
// cursor in sync_state and its own rows in sync_runs.
type Object string

// The objects the sync engine knows. A connector lists the ones it supports in
// Objects; a connector may also pull an object of its own (amoCRM "events")
// whose pages carry records or deletions of the canonical kinds below.
const (
	ObjectUsers      Object = "users"
	ObjectStages     Object = "stages"
	ObjectCompanies  Object = "companies"
	ObjectContacts   Object = "contacts"
	ObjectDeals      Object = "deals"
	ObjectActivities Object = "activities"
)

// Deal statuses.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// Activity types.
const (
	ActivityCall    = "call"
	ActivityEmail   = "email"
	ActivityMeeting = "meeting"
	ActivityMessage = "message"
	ActivityNote    = "note"
	ActivityTask    = "task"
)

// Activity directions. The empty string means "not applicable" and is stored
// as NULL.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// Meta is what every canonical record carries besides its own columns.
// IDs are the CRM's own ids rendered as decimal strings (or the CRM's string
// id where it has no number); they are unique within one connector.
type Meta struct {
	// Connector is the connector's name. Connectors leave it empty; the
	// warehouse fills it in on every record it reads back.
	Connector string
	ID        string
	// UpdatedAt is the CRM's last-modified time. The warehouse never lets a
	// record with an older UpdatedAt overwrite a newer one.
	UpdatedAt time.Time
	// Deleted is true when the CRM reports the record deleted, archived or
	// merged away.
	Deleted bool
	// Raw is the record exactly as the CRM sent it (one JSON object).
	Raw json.RawMessage
}

// User is a CRM user (HubSpot owner, amoCRM user, Bitrix24 user).
type User struct {
	Meta
	Email  string // as the CRM has it; may be empty
	Name   string
	Active bool
}

// Stage is one stage of one deal pipeline, so analysts see names, not ids.
// ID is unique within the connector; where the CRM repeats stage ids across
// pipelines (amoCRM 142/143), the connector makes it unique as
// "PIPELINE:STATUS".
type Stage struct {
	Meta
	PipelineID   string
	PipelineName string
	Name         string
	Status       string // StatusOpen, StatusWon or StatusLost
	Sort         int
}

// Company is a client organisation.
type Company struct {
	Meta
	Name    string
	OwnerID string // CRM user id; "" when unassigned
	// KeyClient is the value of the connector's fields.key_client mapping;
	// nil when no mapping is configured or the field is empty.
	KeyClient *bool
	CreatedAt time.Time
}

// Contact is a person at a client.
type Contact struct {
	Meta
	Name      string
	Email     string
	CompanyID string
	OwnerID   string
	// NPSScore is the mapped NPS answer (0-10), nil when absent.
	NPSScore *float64
	// NPSAt is the mapped answer date, nil when the connector maps no date
	// field or the field is empty.
	NPSAt     *time.Time
	CreatedAt time.Time
}

// Deal is a CRM deal (amoCRM lead).
type Deal struct {
	Meta
	Name       string
	PipelineID string
	StageID    string // matches Stage.ID
	Status     string // StatusOpen, StatusWon or StatusLost
	Amount     *float64
	Currency   string // ISO code, upper case
	OwnerID    string
	CompanyID  string
	ContactID  string // primary contact
	CreatedAt  time.Time
	ClosedAt   *time.Time
	// Expense is the mapped deal-expense field in the deal's currency.
	Expense *float64
}

// Activity is a call, e-mail, meeting, message, note or task.
type Activity struct {
	Meta
	Type       string // one of the Activity* constants
	Direction  string // DirectionInbound, DirectionOutbound or ""
	Subject    string // for tasks and notes, their text
	OwnerID    string
	CompanyID  string
	ContactID  string
	DealID     string
	OccurredAt time.Time // for tasks: the due date
	Completed  bool
	DurationS  *int
	// Connected says whether a call reached the other side (amoCRM
	// call_status, HubSpot hs_call_status); nil where the CRM does not say.
	// A dial that did not connect is still a call (it costs) but never an
	// answer in response time.
	Connected *bool
}

// Deletion reports that a record of Object was deleted in the CRM at At
// (zero when unknown). The warehouse flags the row; it never removes it.
type Deletion struct {
	Object Object
	ID     string
	At     time.Time
}

// Links sets the association columns of one record without touching the rest
// of it, for CRMs whose associations change without moving the record's
// last-modified time (HubSpot). Only the non-nil fields are written; a
// pointer to "" clears the column.
type Links struct {
	Object    Object // ObjectContacts, ObjectDeals or ObjectActivities
	ID        string
	CompanyID *string
	ContactID *string
	DealID    *string
}

// Page is one unit of work: what one or a few HTTP requests brought, plus the
// cursor that resumes right after it. The sync engine stores all of a page and
// its Cursor in one transaction, so a crash never leaves the cursor ahead of
// its rows.
type Page struct {
	Users      []User
	Stages     []Stage
	Companies  []Company
	Contacts   []Contact
	Deals      []Deal
	Activities []Activity
	Deletions  []Deletion
	Links      []Links

	// Cursor resumes the pull after this page. It is opaque to everyone but
	// the connector that made it. An empty Cursor leaves the saved one as is.
	Cursor string
	// Requests is how many HTTP requests this page cost (for progress and
	// metrics).
	Requests int
	// Total is the CRM's estimate of how many records the whole pull will
	// bring, for an ETA; 0 when the CRM does not say.
	Total int
}

// Len is the number of records and changes the page carries.
func (p *Page) Len() int {
	return len(p.Users) + len(p.Stages) + len(p.Companies) + len(p.Contacts) +
		len(p.Deals) + len(p.Activities) + len(p.Deletions) + len(p.Links)
}

// LatestUpdate is the latest UpdatedAt of the page's companies, contacts,
// deals and activities, in UTC; zero when it has none. It tells where the
// CRM's clock was (NextWindow).
func (p *Page) LatestUpdate() time.Time {
	var m time.Time
	see := func(r Meta) {
		if r.UpdatedAt.After(m) {
			m = r.UpdatedAt
		}
	}
	for _, r := range p.Companies {
		see(r.Meta)
	}
	for _, r := range p.Contacts {
		see(r.Meta)
	}
	for _, r := range p.Deals {
		see(r.Meta)
	}
	for _, r := range p.Activities {
		see(r.Meta)
	}
	return m.UTC()
}
