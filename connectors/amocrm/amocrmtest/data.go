package amocrmtest

import (
	"fmt"
	"strings"
)

// entityPath is the API path of a record, for its _links.self.
func entityPath(e Entity, o Object, id int64) string {
	switch e {
	case LeadNotes, ContactNotes, CompanyNotes:
		eid, _ := num(o["entity_id"])
		parent, _, _ := strings.Cut(string(e), "/")
		return fmt.Sprintf("/api/v4/%s/%d/notes/%d", parent, eid, id)
	}
	return fmt.Sprintf("/api/v4/%s/%d", e, id)
}

// Put adds o to collection e, or replaces the record with the same id, and
// returns its id. A missing id is assigned; missing created_at/updated_at
// become the clock's now (Unix seconds), a missing custom_fields_values
// becomes null (as the API sends it) and _links.self is filled in. o is
// copied. Use AddEvent for events.
func (s *Server) Put(e Entity, o Object) int64 {
	if e == Events {
		panic("amocrmtest: use AddEvent for events")
	}
	o = clone(o).(map[string]any)
	s.mu.Lock()
	defer s.mu.Unlock()
	col := s.cols[e]
	id, ok := num(o["id"])
	if !ok || id == 0 {
		id = max(col.nextID, 1)
		o["id"] = id
	}
	now := s.now().Unix()
	created, ok := num(o["created_at"])
	if !ok {
		created = now
		o["created_at"] = now
	}
	updated, ok := num(o["updated_at"])
	if !ok {
		updated = now
		o["updated_at"] = now
	}
	switch e {
	case Leads, Contacts, Companies:
		if _, ok := o["custom_fields_values"]; !ok {
			o["custom_fields_values"] = nil
		}
	}
	if e != Users {
		if _, ok := o["account_id"]; !ok {
			o["account_id"] = 30000001
		}
	}
	if e == Leads {
		if _, ok := o["is_deleted"]; !ok {
			o["is_deleted"] = false
		}
	}
	o["_links"] = Object{"self": Object{"href": s.URL + entityPath(e, o, id)}}
	col.put(&record{id: id, created: created, updated: updated, obj: o})
	return id
}

// Update merges patch into the top-level keys of record id of e and bumps
// its updated_at to the clock's now (unless patch sets updated_at). It
// reports whether the record exists.
func (s *Server) Update(e Entity, id int64, patch Object) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	col := s.cols[e]
	rec, ok := col.byID[fmt.Sprint(id)]
	if !ok || rec.deleted {
		return false
	}
	o := shallow(rec.obj)
	for k, v := range clone(patch).(map[string]any) {
		o[k] = v
	}
	upd, ok := num(patch["updated_at"])
	if !ok {
		upd = s.now().Unix()
		o["updated_at"] = upd
	}
	col.put(&record{id: id, created: rec.created, updated: upd, obj: o})
	return true
}

// Delete deletes record id of e. A lead, contact or company stays
// restorable (Restore): it leaves the lists, and a lead shows in
// with=only_deleted as a minimal model. Each gets a lead_deleted /
// contact_deleted / company_deleted event. Tasks and notes simply vanish
// (the API has no feed for them). It reports whether the record existed.
func (s *Server) Delete(e Entity, id int64) bool {
	s.mu.Lock()
	col := s.cols[e]
	key := fmt.Sprint(id)
	rec, ok := col.byID[key]
	if !ok || rec.deleted {
		s.mu.Unlock()
		return false
	}
	now := s.now().Unix()
	singular := singulars[e]
	switch {
	case e == Leads:
		o := shallow(rec.obj)
		o["is_deleted"], o["updated_at"] = true, now
		col.put(&record{id: id, created: rec.created, updated: now, obj: o, deleted: true})
	case singular != "":
		col.put(&record{id: id, created: rec.created, updated: rec.updated, obj: rec.obj, deleted: true})
	default:
		col.remove(key)
	}
	s.mu.Unlock()
	if singular != "" {
		s.AddEvent(Object{"type": singular + "_deleted", "entity_type": singular, "entity_id": id, "created_by": 8000001})
	}
	return true
}

// singulars names the entities with deletion and restore events.
var singulars = map[Entity]string{Leads: "lead", Contacts: "contact", Companies: "company"}

// Restore brings back a deleted lead, contact or company with a
// lead_restored / contact_restored / company_restored event. The record
// comes back as it was deleted, its updated_at NOT bumped: the reference
// does not say whether a restore counts as an update (a lead keeps the
// time of its deletion), so a connector must not depend on it. It reports
// whether there was a deleted record to restore.
func (s *Server) Restore(e Entity, id int64) bool {
	singular := singulars[e]
	s.mu.Lock()
	rec, ok := s.cols[e].byID[fmt.Sprint(id)]
	if singular == "" || !ok || !rec.deleted {
		s.mu.Unlock()
		return false
	}
	o := rec.obj
	if e == Leads {
		o = shallow(o)
		o["is_deleted"] = false
	}
	s.cols[e].put(&record{id: id, created: rec.created, updated: rec.updated, obj: o})
	s.mu.Unlock()
	s.AddEvent(Object{"type": singular + "_restored", "entity_type": singular, "entity_id": id, "created_by": 8000001})
	return true
}

// AddEvent appends an event to the log and returns its id. A missing id
// gets a ULID-like string, a missing created_at the clock's now;
// value_before/value_after default to [].
func (s *Server) AddEvent(o Object) string {
	o = clone(o).(map[string]any)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := o["id"].(string)
	if id == "" {
		s.eventSeq++
		id = fmt.Sprintf("01hz%022x", s.eventSeq)
		o["id"] = id
	}
	created, ok := num(o["created_at"])
	if !ok {
		created = s.now().Unix()
		o["created_at"] = created
	}
	for _, k := range []string{"value_before", "value_after"} {
		if _, ok := o[k]; !ok {
			o[k] = []any{}
		}
	}
	if _, ok := o["account_id"]; !ok {
		o["account_id"] = 30000001
	}
	o["_links"] = Object{"self": Object{"href": s.URL + "/api/v4/events/" + id}}
	s.cols[Events].put(&record{sid: id, created: created, updated: created, obj: o})
	return id
}

// Get returns a copy of record id of e as the API would send it (deleted
// leads included, flagged is_deleted).
func (s *Server) Get(e Entity, id int64) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.cols[e].byID[fmt.Sprint(id)]
	if !ok {
		return nil, false
	}
	return clone(rec.obj).(map[string]any), true
}

// Objects returns copies of the live records of e in id order (events in
// created_at order).
func (s *Server) Objects(e Entity) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKey, _ := s.cols[e].sorted()
	out := make([]Object, 0, len(byKey))
	for _, r := range byKey {
		if !r.deleted {
			out = append(out, clone(r.obj).(map[string]any))
		}
	}
	return out
}

// DeletedLeads returns the ids of the deleted (restorable) leads.
func (s *Server) DeletedLeads() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKey, _ := s.cols[Leads].sorted()
	var out []int64
	for _, r := range byKey {
		if r.deleted {
			out = append(out, r.id)
		}
	}
	return out
}

// SetPipelines replaces the pipelines; each is an object as in
// GET /api/v4/leads/pipelines, its stages in _embedded.statuses.
func (s *Server) SetPipelines(ps []Object) {
	c := make([]Object, len(ps))
	for i, p := range ps {
		c[i] = clone(p).(map[string]any)
	}
	s.mu.Lock()
	s.pipelines = c
	s.mu.Unlock()
}

// SetAccount merges patch into the account object (currency, name, ...).
func (s *Server) SetAccount(patch Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range clone(patch).(map[string]any) {
		s.account[k] = v
	}
}

// Pipeline builds a pipeline object with the given open stages (ids and
// names, in order) followed by the system stages 142 (won) and 143 (lost),
// as every amoCRM pipeline has them. The first open stage is the incoming
// one (type 1).
func Pipeline(id int64, name string, stages ...Stage) Object {
	var st []any
	add := func(sid int64, sname string, sort, typ int, editable bool, color string) {
		st = append(st, Object{
			"id": sid, "name": sname, "sort": sort, "is_editable": editable, "pipeline_id": id,
			"color": color, "type": typ, "account_id": 30000001,
			"_links": Object{"self": Object{"href": fmt.Sprintf("/api/v4/leads/pipelines/%d/statuses/%d", id, sid)}},
		})
	}
	for i, sg := range stages {
		typ := 0
		if i == 0 {
			typ = 1
		}
		add(sg.ID, sg.Name, (i+1)*10, typ, i != 0, "#99ccff")
	}
	add(142, "Успешно реализовано", 10000, 0, false, "#CCFF66")
	add(143, "Закрыто и не реализовано", 11000, 0, false, "#D5D8DB")
	return Object{
		"id": id, "name": name, "sort": 1, "is_main": true, "is_unsorted_on": true, "is_archive": false,
		"account_id": 30000001,
		"_links":     Object{"self": Object{"href": fmt.Sprintf("/api/v4/leads/pipelines/%d", id)}},
		"_embedded":  Object{"statuses": st},
	}
}

// Stage is an open stage for Pipeline.
type Stage struct {
	ID   int64
	Name string
}
