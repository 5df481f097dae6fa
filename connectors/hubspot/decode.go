package hubspot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// object is one CRM record as HubSpot sends it (lists, search, batch).
type object struct {
	ID         string                     `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
	CreatedAt  string                     `json:"createdAt"`
	UpdatedAt  string                     `json:"updatedAt"`
	Archived   bool                       `json:"archived"`
	ArchivedAt string                     `json:"archivedAt"`
	raw        json.RawMessage
}

func (o *object) UnmarshalJSON(b []byte) error {
	type plain object
	if err := json.Unmarshal(b, (*plain)(o)); err != nil {
		return err
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
		After string `json:"after"`
	} `json:"next"`
}

// collection is a list or search answer.
type collection struct {
	Total   int       `json:"total"`
	Results []object  `json:"results"`
	Paging  *nextPage `json:"paging"`
}

// next is the cursor of the following page, "" on the last one.
func (c *collection) next() string {
	if c.Paging == nil || c.Paging.Next == nil {
		return ""
	}
	return c.Paging.Next.After
}

type owner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Type      string `json:"type"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Archived  bool   `json:"archived"`
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
	ID           string  `json:"id"`
	Label        string  `json:"label"`
	DisplayOrder int     `json:"displayOrder"`
	Archived     bool    `json:"archived"`
	UpdatedAt    string  `json:"updatedAt"`
	Stages       []stage `json:"stages"`
}

type stage struct {
	ID           string            `json:"id"`
	Label        string            `json:"label"`
	DisplayOrder int               `json:"displayOrder"`
	Archived     bool              `json:"archived"`
	UpdatedAt    string            `json:"updatedAt"`
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
			ID string `json:"id"`
		} `json:"from"`
		To []struct {
			ToObjectID       json.Number `json:"toObjectId"`
			AssociationTypes []struct {
				Category string  `json:"category"`
				TypeID   int     `json:"typeId"`
				Label    *string `json:"label"`
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

// addLinks merges one batch answer into acc (from id → links), deduping by
// target id (HubSpot lists an association once per type label) and
// returning the results that have more pages.
func (b *assocBatch) addLinks(acc map[string][]link) (more map[string]string, err error) {
	for _, r := range b.Results {
		if r.From.ID == "" {
			return nil, errors.New("association result without from.id")
		}
		for _, t := range r.To {
			id, err := strconv.ParseUint(strings.Trim(t.ToObjectID.String(), `"`), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("association toObjectId %q: not an id", t.ToObjectID.String())
			}
			primary := false
			for _, at := range t.AssociationTypes {
				if at.Label != nil && strings.EqualFold(*at.Label, "primary") {
					primary = true
				}
			}
			ls := acc[r.From.ID]
			if i := slices.IndexFunc(ls, func(l link) bool { return l.id == id }); i >= 0 {
				ls[i].primary = ls[i].primary || primary
				continue
			}
			acc[r.From.ID] = append(ls, link{id: id, primary: primary})
		}
		if r.Paging != nil && r.Paging.Next != nil && r.Paging.Next.After != "" {
			if more == nil {
				more = map[string]string{}
			}
			more[r.From.ID] = r.Paging.Next.After
		}
	}
	return more, nil
}

// parseTime reads HubSpot's timestamps: ISO 8601 with any precision (or
// none), a bare date (date properties are midnight UTC), or epoch
// milliseconds as legacy properties hold.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty timestamp")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > -1e14 && ms < 1e14 {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not ISO 8601 or epoch milliseconds", s)
}

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

func floatPtr(s string) *float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// truthy reads a key-client flag: explicit no-values are false, any other
// non-empty value (a checkbox "true", an enum option) is true.
func truthy(s string) *bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	v := true
	switch strings.ToLower(s) {
	case "false", "0", "no", "n", "off":
		v = false
	}
	return &v
}

// meta builds the common fields; a record without a readable id or
// modified time is malformed, since the warehouse cannot order it.
func (o *object) meta(modProp string) (connectors.Meta, error) {
	if _, err := strconv.ParseUint(o.ID, 10, 64); err != nil {
		return connectors.Meta{}, fmt.Errorf("record id %q is not numeric", o.ID)
	}
	up := o.UpdatedAt
	if up == "" {
		up = o.prop(modProp)
	}
	t, err := parseTime(up)
	if err != nil {
		return connectors.Meta{}, fmt.Errorf("record %s: updatedAt: %w", o.ID, err)
	}
	return connectors.Meta{ID: o.ID, UpdatedAt: t, Deleted: o.Archived, Raw: o.raw}, nil
}

func (o *object) created(prop string) time.Time {
	if t := timeOrZero(o.CreatedAt); !t.IsZero() {
		return t
	}
	return timeOrZero(o.prop(prop))
}

// merged lists the ids merged into this record (hs_merged_object_ids,
// semicolon-separated).
func (o *object) merged() []string {
	var out []string
	for _, id := range strings.Split(o.prop("hs_merged_object_ids"), ";") {
		if id = strings.TrimSpace(id); id != "" && id != o.ID {
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

func mapUser(o *owner) (connectors.User, error) {
	if o.ID == "" {
		return connectors.User{}, errors.New("owner without id")
	}
	t, err := parseTime(o.UpdatedAt)
	if err != nil {
		return connectors.User{}, fmt.Errorf("owner %s: updatedAt: %w", o.ID, err)
	}
	name := strings.TrimSpace(o.FirstName + " " + o.LastName)
	if name == "" {
		name = o.Email
	}
	// Archived owners are deactivated users: their deals still count, so
	// they stay as inactive users, not deleted ones.
	return connectors.User{
		Meta:  connectors.Meta{ID: o.ID, UpdatedAt: t, Raw: o.raw},
		Email: o.Email, Name: name, Active: !o.Archived,
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
				Meta:       connectors.Meta{ID: s.ID, UpdatedAt: timeOrZero(up), Deleted: s.Archived || p.Archived, Raw: s.raw},
				PipelineID: p.ID, PipelineName: p.Label, Name: s.Label,
				Status: stageStatus(s.Metadata), Sort: s.DisplayOrder,
			})
		}
	}
	return out, nil
}
