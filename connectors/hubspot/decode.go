package hubspot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// fstr is a string the spec types as string that an implementation may
// send as a number, a boolean or null (ids, cursors, timestamps).
type fstr = connectors.Str

// fint is an integer that may arrive as a number, a numeric string or null
// (0); a boolean is an error.
type fint int64

func (f *fint) UnmarshalJSON(b []byte) error {
	n, _, err := connectors.ScalarOf(b).Int(false)
	*f = fint(n)
	return err
}

// fbool is a boolean that may arrive as true/false, "true"/"false", 0/1 or
// null (not Set).
type fbool struct {
	V, Set bool
}

// hubspotTruth is how HubSpot writes booleans, in properties too.
var hubspotTruth = connectors.Truth{Yes: []string{"true", "1"}, No: []string{"false", "0"}}

func (f *fbool) UnmarshalJSON(b []byte) error {
	s := connectors.ScalarOf(b)
	if s.Kind == connectors.Composite {
		return fmt.Errorf("want a boolean, got %.20s", bytes.TrimSpace(b))
	}
	f.V, f.Set = hubspotTruth.Read(s)
	return nil
}

// object is one CRM record as HubSpot sends it (lists, search, batch).
type object struct {
	ID         fstr                       `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
	CreatedAt  fstr                       `json:"createdAt"`
	UpdatedAt  fstr                       `json:"updatedAt"`
	Archived   fbool                      `json:"archived"`
	ArchivedAt fstr                       `json:"archivedAt"`
	// Associations is what a list page asked with associations= carries,
	// read by inlineLinks: raw, so that a shape the reference does not
	// show costs a batch read, not the page.
	Associations json.RawMessage `json:"associations"`
	raw          json.RawMessage
}

func (o *object) UnmarshalJSON(b []byte) error {
	type plain object
	if err := json.Unmarshal(b, (*plain)(o)); err != nil {
		return err
	}
	// The spec requires id; hs_object_id holds the same, so a record
	// without the one is read by the other rather than failing the page.
	o.ID = fstr(strings.TrimSpace(string(o.ID)))
	if o.ID == "" {
		o.ID = fstr(strings.TrimSpace(o.prop("hs_object_id")))
	}
	o.raw = bytes.Clone(b)
	return nil
}

// prop reads a property: HubSpot sends strings, null for empty; anything
// else is kept as its JSON text rather than failing the page.
func (o *object) prop(name string) string {
	if name == "" {
		return ""
	}
	v, ok := o.Properties[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(v))
	if t == "null" {
		return ""
	}
	return t
}

type nextPage struct {
	Next *struct {
		After fstr `json:"after"`
		Link  fstr `json:"link"`
	} `json:"next"`
}

// after is the cursor of the following page, "" on the last one (no
// paging, no next). The cursor is next.after; a next with only its link
// (informational, reference §3, but a next all the same) gives the link's
// after, rather than ending the listing there.
func (n *nextPage) after() string {
	if n == nil || n.Next == nil {
		return ""
	}
	if a := strings.TrimSpace(string(n.Next.After)); a != "" {
		return a
	}
	if u, err := url.Parse(strings.TrimSpace(string(n.Next.Link))); err == nil {
		return u.Query().Get("after")
	}
	return ""
}

// collection is a list or search answer.
type collection struct {
	Total   fint      `json:"total"`
	Results []object  `json:"results"`
	Paging  *nextPage `json:"paging"`
}

// next is the cursor of the following page, "" on the last one.
func (c *collection) next() string { return c.Paging.after() }

type owner struct {
	ID        fstr  `json:"id"`
	Email     fstr  `json:"email"`
	FirstName fstr  `json:"firstName"`
	LastName  fstr  `json:"lastName"`
	Type      fstr  `json:"type"`
	CreatedAt fstr  `json:"createdAt"`
	UpdatedAt fstr  `json:"updatedAt"`
	Archived  fbool `json:"archived"`
	raw       json.RawMessage
}

func (o *owner) UnmarshalJSON(b []byte) error {
	type plain owner
	if err := json.Unmarshal(b, (*plain)(o)); err != nil {
		return err
	}
	o.raw = bytes.Clone(b)
	return nil
}

type ownerCollection struct {
	Results []owner   `json:"results"`
	Paging  *nextPage `json:"paging"`
}

type pipeline struct {
	ID           fstr    `json:"id"`
	Label        fstr    `json:"label"`
	DisplayOrder fint    `json:"displayOrder"`
	Archived     fbool   `json:"archived"`
	UpdatedAt    fstr    `json:"updatedAt"`
	Stages       []stage `json:"stages"`
}

type stage struct {
	ID           fstr              `json:"id"`
	Label        fstr              `json:"label"`
	DisplayOrder fint              `json:"displayOrder"`
	Archived     fbool             `json:"archived"`
	UpdatedAt    fstr              `json:"updatedAt"`
	Metadata     map[string]string `json:"metadata"`
	raw          json.RawMessage
}

func (s *stage) UnmarshalJSON(b []byte) error {
	type plain stage
	// Metadata values are strings in the spec; tolerate numbers and
	// booleans by reading them loosely first.
	var loose struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(b, &loose); err != nil {
		return err
	}
	var p struct {
		plain
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = stage(p.plain)
	s.Metadata = map[string]string{}
	for k, v := range loose.Metadata {
		var str string
		if json.Unmarshal(v, &str) == nil {
			s.Metadata[k] = str
		} else {
			s.Metadata[k] = strings.TrimSpace(string(v))
		}
	}
	s.raw = bytes.Clone(b)
	return nil
}

type pipelineCollection struct {
	Results []pipeline `json:"results"`
}

// assocBatch is a v4 associations batch-read answer.
type assocBatch struct {
	Results []struct {
		From struct {
			ID fstr `json:"id"`
		} `json:"from"`
		To []struct {
			ToObjectID       fstr `json:"toObjectId"`
			AssociationTypes []struct {
				Category fstr `json:"category"`
				TypeID   fint `json:"typeId"`
				Label    fstr `json:"label"`
			} `json:"associationTypes"`
		} `json:"to"`
		Paging *nextPage `json:"paging"`
	} `json:"results"`
}

// link is one associated record of one source record.
type link struct {
	id      uint64
	primary bool
}

// choose picks the primary association: one labelled Primary if any, else
// the lowest id, so the same data always gives the same answer.
func choose(links []link) string {
	if len(links) == 0 {
		return ""
	}
	best := links[0]
	for _, l := range links[1:] {
		if (l.primary && !best.primary) || (l.primary == best.primary && l.id < best.id) {
			best = l
		}
	}
	return strconv.FormatUint(best.id, 10)
}

// primaryV4 is the v4 typeId of the primary association from one type to
// another, 0 where HubSpot defines none (reference §6.6: deal→company 5;
// contact→company 1, HubSpot's association type table).
func primaryV4(from, to string) int64 {
	switch primaryV3(from, to) {
	case "deal_to_company":
		return 5
	case "contact_to_company":
		return 1
	}
	return 0
}

// addLinks merges one batch answer into acc (from id → links), deduping by
// target id (HubSpot lists an association once per type label) and
// returning the results that have more pages. An association is primary
// by its HUBSPOT_DEFINED primaryType (0: none) or a label Primary: HubSpot
// relabelled its primary types "Deal with Primary Company" and the like in
// February 2024 (changelog) and says to rely on typeIds, not labels.
func (b *assocBatch) addLinks(acc map[string][]link, primaryType int64) (more map[string]string, err error) {
	for _, r := range b.Results {
		from := string(r.From.ID)
		if from == "" {
			return nil, errors.New("association result without from.id")
		}
		for _, t := range r.To {
			id, err := strconv.ParseUint(strings.TrimSpace(string(t.ToObjectID)), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("association toObjectId %q: not an id", string(t.ToObjectID))
			}
			primary := false
			for _, at := range t.AssociationTypes {
				if strings.EqualFold(string(at.Label), "primary") ||
					primaryType != 0 && int64(at.TypeID) == primaryType && strings.EqualFold(string(at.Category), "HUBSPOT_DEFINED") {
					primary = true
				}
			}
			acc[from] = mergeLink(acc[from], link{id: id, primary: primary})
		}
		if after := r.Paging.after(); after != "" {
			if more == nil {
				more = map[string]string{}
			}
			more[from] = after
		}
	}
	return more, nil
}

// inlineAssoc is one target type's associations inline in a list record
// (the spec's CollectionResponseAssociatedId): v3 type names, and paging
// when the list is cut (past 100, HubSpot's changelog says).
type inlineAssoc struct {
	Results []struct {
		ID   fstr `json:"id"`
		Type fstr `json:"type"`
	} `json:"results"`
	Paging *struct {
		Next *struct {
			After fstr `json:"after"`
			Link  fstr `json:"link"`
		} `json:"next"`
	} `json:"paging"`
}

// primaryV3 is the v3 name of the primary association from one type to
// another, "" where HubSpot defines none: deal_to_company and
// contact_to_company (v4 typeIds 5 and 1), which a portal lists next to
// the _unlabeled type of the same company (reference §6.1).
func primaryV3(from, to string) string {
	if to != "companies" {
		return ""
	}
	switch from {
	case "deals":
		return "deal_to_company"
	case "contacts":
		return "contact_to_company"
	}
	return ""
}

// inlineLinks reads o's inline associations of type to from a source of
// type from. found says the record's answer names the type; complete
// that what it names is all of them: false for a cut list (paging.next)
// and for a shape that does not read as the spec's, whose records the
// caller batch-reads.
func (o *object) inlineLinks(from, to string) (links []link, found, complete bool) {
	raw := bytes.TrimSpace(o.Associations)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, true
	}
	var byType map[string]json.RawMessage
	if json.Unmarshal(raw, &byType) != nil {
		return nil, true, false
	}
	one, ok := byType[to]
	if !ok {
		return nil, false, true
	}
	var ia inlineAssoc
	if json.Unmarshal(one, &ia) != nil {
		return nil, true, false
	}
	if ia.Paging != nil && ia.Paging.Next != nil && (ia.Paging.Next.After != "" || ia.Paging.Next.Link != "") {
		complete = false
	} else {
		complete = true
	}
	primary := primaryV3(from, to)
	for _, r := range ia.Results {
		id, err := strconv.ParseUint(strings.TrimSpace(string(r.ID)), 10, 64)
		if err != nil {
			return nil, true, false
		}
		l := link{id: id, primary: primary != "" && strings.EqualFold(strings.TrimSpace(string(r.Type)), primary)}
		links = mergeLink(links, l)
	}
	return links, true, complete
}

// ownLink is a link a record's own properties name, besides its
// associations.
type ownLink struct {
	to string // target type
	link
}

// ownLinks are the links o's properties name: a contact's
// associatedcompanyid, its primary company (reference §2 lists it among
// the contact properties). It is kept as well as the associations, so a
// server that fills it but answers no contact→company association (or
// names another company besides) still gives the contact its company.
func (o *object) ownLinks(obj connectors.Object) []ownLink {
	if obj != connectors.ObjectContacts {
		return nil
	}
	id, err := strconv.ParseUint(nonZeroID(o.prop("associatedcompanyid")), 10, 64)
	if err != nil || id == 0 {
		return nil
	}
	return []ownLink{{to: "companies", link: link{id: id, primary: true}}}
}

// withOwn is ls, the associations of one type, with the own links of that
// type merged in; ls itself is left alone.
func withOwn(ls []link, to string, own []ownLink) []link {
	for _, o := range own {
		if o.to == to {
			ls = mergeLink(slices.Clone(ls), o.link)
		}
	}
	return ls
}

// mergeLink adds l to ls, once per target id (HubSpot lists an
// association once per type); primary if any of its types is.
func mergeLink(ls []link, l link) []link {
	if i := slices.IndexFunc(ls, func(x link) bool { return x.id == l.id }); i >= 0 {
		ls[i].primary = ls[i].primary || l.primary
		return ls
	}
	return append(ls, l)
}

// timeFormat is HubSpot's timestamps: ISO 8601 with any precision, its
// offset in any of ISO's forms (Z, +02:00, +0200, +02) or none (read as
// UTC), a bare date (date properties are midnight UTC), or epoch
// milliseconds as legacy properties hold.
var timeFormat = connectors.TimeFormat{
	Layouts: []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999", "2006-01-02"},
	Epoch: connectors.EpochMillis,
	Want:  "ISO 8601 or epoch milliseconds",
}

func parseTime(s string) (time.Time, error) { return timeFormat.Parse(s, time.UTC) }

func timeOrZero(s string) time.Time {
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func timePtr(s string) *time.Time {
	t, err := parseTime(s)
	if err != nil {
		return nil
	}
	return &t
}

// floatPtr reads a number property; HubSpot writes them with a decimal
// point and nothing else ("1,500" is not a number, not 1.5).
func floatPtr(s string) *float64 {
	f, ok, err := connectors.NumberFormat{}.Parse(s)
	if !ok || err != nil {
		return nil
	}
	return &f
}

// meta builds the common fields; a record without a readable id or
// modified time is malformed, since the warehouse cannot order it. The
// modified time is the record's updatedAt, else its last-modified property
// (either spelling: contacts have lastmodifieddate, the rest
// hs_lastmodifieddate, and an implementation may mix them up), else its
// creation time (a record never modified).
func (o *object) meta(modProp string) (connectors.Meta, error) {
	id := string(o.ID)
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return connectors.Meta{}, fmt.Errorf("record id %q is not numeric", id)
	}
	var firstErr error
	for _, up := range []string{string(o.UpdatedAt), o.prop(modProp), o.prop("hs_lastmodifieddate"), o.prop("lastmodifieddate"),
		string(o.CreatedAt), o.prop("createdate"), o.prop("hs_createdate")} {
		if strings.TrimSpace(up) == "" {
			continue
		}
		t, err := parseTime(up)
		if err == nil {
			return connectors.Meta{ID: id, UpdatedAt: t, Deleted: o.Archived.V, Raw: o.raw}, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no updatedAt, last-modified or created time")
	}
	return connectors.Meta{}, fmt.Errorf("record %s: updatedAt: %w", id, firstErr)
}

// modTime is the record's modified time as the search filters it (its
// last-modified property modProp), else as meta reads it; zero when it
// has none.
func (o *object) modTime(modProp string) time.Time {
	if t, err := parseTime(o.prop(modProp)); err == nil {
		return t
	}
	m, _ := o.meta(modProp)
	return m.UpdatedAt
}

func (o *object) created(prop string) time.Time {
	if t := timeOrZero(string(o.CreatedAt)); !t.IsZero() {
		return t
	}
	return timeOrZero(o.prop(prop))
}

// merged lists the ids merged into this record (hs_merged_object_ids,
// semicolon-separated).
func (o *object) merged() []string {
	var out []string
	for _, id := range strings.Split(o.prop("hs_merged_object_ids"), ";") {
		if id = strings.TrimSpace(id); id != "" && id != string(o.ID) {
			out = append(out, id)
		}
	}
	return out
}

func nonZeroID(s string) string {
	s = strings.TrimSpace(s)
	if s == "0" {
		return ""
	}
	return s
}

// mapUser maps an owner. archived is the listing's answer when the owner
// does not say (owners listed with archived=true).
func mapUser(o *owner, archived bool, now time.Time) (connectors.User, error) {
	if o.ID == "" {
		return connectors.User{}, errors.New("owner without id")
	}
	// updatedAt is in the spec's sample but an owner without it must not
	// stop the sync: then createdAt, then the time of the pull (the row is
	// refreshed whole on every run anyway).
	t, err := parseTime(string(o.UpdatedAt))
	if err != nil {
		if t, err = parseTime(string(o.CreatedAt)); err != nil {
			t = now
		}
	}
	name := strings.TrimSpace(string(o.FirstName) + " " + string(o.LastName))
	if name == "" {
		name = string(o.Email)
	}
	if o.Archived.Set {
		archived = o.Archived.V
	}
	// Archived owners are deactivated users: their deals still count, so
	// they stay as inactive users, not deleted ones.
	return connectors.User{
		Meta:  connectors.Meta{ID: string(o.ID), UpdatedAt: t, Raw: o.raw},
		Email: string(o.Email), Name: name, Active: !archived,
	}, nil
}

// stageStatus reads HubSpot's stage semantics: closed with probability 1
// is won, any other closed stage lost.
func stageStatus(md map[string]string) string {
	if !strings.EqualFold(strings.TrimSpace(md["isClosed"]), "true") {
		return connectors.StatusOpen
	}
	if p, err := strconv.ParseFloat(strings.TrimSpace(md["probability"]), 64); err == nil && p >= 1 {
		return connectors.StatusWon
	}
	return connectors.StatusLost
}

// stageUnsure reports whether a stage's metadata (its raw JSON) says
// closed without a readable probability: stageStatus calls it lost, but
// it may be the won stage (reference §2 tells won from lost by
// probability "1.0"/"0.0"), so a deal in it goes by its own flags.
func stageUnsure(raw json.RawMessage) bool {
	var s stage
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	_, err := strconv.ParseFloat(strings.TrimSpace(s.Metadata["probability"]), 64)
	return stageStatus(s.Metadata) == connectors.StatusLost && err != nil
}

// flagStatus reads a deal's own read-only flags (reference §2's won/lost
// rule): hs_is_closed_won true is won, hs_is_closed true lost, false
// open. ok is false when they say nothing.
func flagStatus(o *object) (status string, ok bool) {
	read := func(name string) (v, set bool) { return hubspotTruth.Read(connectors.ScalarOf(o.Properties[name])) }
	if won, set := read("hs_is_closed_won"); set && won {
		return connectors.StatusWon, true
	}
	if closed, set := read("hs_is_closed"); set {
		if closed {
			return connectors.StatusLost, true
		}
		return connectors.StatusOpen, true
	}
	return "", false
}

func mapStages(pc *pipelineCollection) ([]connectors.Stage, error) {
	var out []connectors.Stage
	for _, p := range pc.Results {
		for _, s := range p.Stages {
			if s.ID == "" {
				return nil, fmt.Errorf("pipeline %s: stage without id", p.ID)
			}
			up := s.UpdatedAt
			if up == "" {
				up = p.UpdatedAt
			}
			out = append(out, connectors.Stage{
				Meta:       connectors.Meta{ID: string(s.ID), UpdatedAt: timeOrZero(string(up)), Deleted: s.Archived.V || p.Archived.V, Raw: s.raw},
				PipelineID: string(p.ID), PipelineName: string(p.Label), Name: string(s.Label),
				Status: stageStatus(s.Metadata), Sort: int(s.DisplayOrder),
			})
		}
	}
	return out, nil
}
