package bitrix24

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// mapper turns raw rows into canonical records, reading datetimes without
// an offset at the portal's offset.
type mapper struct {
	loc    *time.Location
	fields map[string]string // the fields: mappings (UF_CRM_* codes)
	key    connectors.Flag   // reads fields.key_client
	// seen is when the CRM answered, the UpdatedAt of users and stages,
	// which have no modified time of their own.
	seen time.Time
}

func (m *mapper) meta(f fields, raw json.RawMessage, modified string) (connectors.Meta, error) {
	id := f.id("ID")
	if id == "" {
		return connectors.Meta{}, errors.New("record without ID")
	}
	meta := connectors.Meta{ID: id, Raw: raw}
	if modified != "" {
		meta.UpdatedAt = f.time(modified, m.loc)
	} else {
		meta.UpdatedAt = m.seen
	}
	return meta, nil
}

func joinName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func (m *mapper) user(raw json.RawMessage) (connectors.User, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.User{}, err
	}
	meta, err := m.meta(f, raw, "")
	if err != nil {
		return connectors.User{}, err
	}
	// Only an ACTIVE that says no (false, "N") is a dismissed user: a row
	// without it says nothing, and an inactive user's manager leaves the
	// ranking.
	active, known := f.known("ACTIVE")
	return connectors.User{
		Meta:   meta,
		Email:  f.str("EMAIL"),
		Name:   joinName(f.str("NAME"), f.str("LAST_NAME")),
		Active: active || !known,
	}, nil
}

// stage maps a crm.status.list row. Won/lost come from SEMANTICS ("S"/"F")
// or, where that is null, EXTRA.SEMANTICS ("success"/"failure"/"apology"),
// never from the stage's name or id.
func (m *mapper) stage(raw json.RawMessage, pipelineID, pipelineName string) (connectors.Stage, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.Stage{}, err
	}
	statusID := f.str("STATUS_ID")
	if statusID == "" {
		return connectors.Stage{}, errors.New("stage without STATUS_ID")
	}
	status := connectors.StatusOpen
	switch strings.ToUpper(f.str("SEMANTICS")) {
	case "S":
		status = connectors.StatusWon
	case "F":
		status = connectors.StatusLost
	default:
		var extra fields
		if raw := f["EXTRA"]; len(raw) > 0 && raw[0] == '{' {
			json.Unmarshal(raw, &extra)
		}
		switch strings.ToLower(extra.str("SEMANTICS")) {
		case "success":
			status = connectors.StatusWon
		case "failure", "apology":
			status = connectors.StatusLost
		}
	}
	sort := 0
	if n := f.num("SORT"); n != nil {
		sort = int(*n)
	}
	return connectors.Stage{
		Meta:         connectors.Meta{ID: statusID, UpdatedAt: m.seen, Raw: raw},
		PipelineID:   pipelineID,
		PipelineName: pipelineName,
		Name:         f.str("NAME"),
		Status:       status,
		Sort:         sort,
	}, nil
}

func (m *mapper) company(raw json.RawMessage) (connectors.Company, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.Company{}, err
	}
	meta, err := m.meta(f, raw, "DATE_MODIFY")
	if err != nil {
		return connectors.Company{}, err
	}
	c := connectors.Company{
		Meta:      meta,
		Name:      f.str("TITLE"),
		OwnerID:   f.id("ASSIGNED_BY_ID"),
		CreatedAt: f.time("DATE_CREATE", m.loc),
	}
	if code := m.fields["key_client"]; code != "" {
		key := m.key.JSON(f[code])
		c.KeyClient = &key
	}
	return c, nil
}

func (m *mapper) contact(raw json.RawMessage) (connectors.Contact, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.Contact{}, err
	}
	meta, err := m.meta(f, raw, "DATE_MODIFY")
	if err != nil {
		return connectors.Contact{}, err
	}
	c := connectors.Contact{
		Meta:      meta,
		Name:      joinName(f.str("NAME"), f.str("SECOND_NAME"), f.str("LAST_NAME")),
		Email:     firstEmail(f["EMAIL"]),
		CompanyID: f.id("COMPANY_ID"),
		OwnerID:   f.id("ASSIGNED_BY_ID"),
		CreatedAt: f.time("DATE_CREATE", m.loc),
	}
	if code := m.fields["nps_score"]; code != "" {
		c.NPSScore = f.num(code)
	}
	if code := m.fields["nps_date"]; code != "" {
		c.NPSAt = f.timePtr(code, m.loc)
	}
	return c, nil
}

// firstEmail picks the WORK address of the EMAIL multi-field, else the
// first one. A plain string (as user.get writes EMAIL) is read as is.
func firstEmail(raw json.RawMessage) string {
	if s, ok := rawString(raw); ok {
		return strings.TrimSpace(s)
	}
	var items []fields
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return ""
	}
	first := ""
	for _, it := range items {
		v := it.str("VALUE")
		if v == "" {
			continue
		}
		if strings.EqualFold(it.str("VALUE_TYPE"), "WORK") {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}

// deal maps a crm.deal.list row. The contact is CONTACT_ID: deprecated
// because it holds only the first bound contact, but the first one is the
// deal's primary contact, which is all the warehouse keeps, and reading it
// costs nothing, where crm.deal.contact.items.get costs a call per deal.
func (m *mapper) deal(raw json.RawMessage) (connectors.Deal, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.Deal{}, err
	}
	meta, err := m.meta(f, raw, "DATE_MODIFY")
	if err != nil {
		return connectors.Deal{}, err
	}
	pipeline := f.str("CATEGORY_ID")
	if pipeline == "" {
		// No category: the stage's C{id}: prefix names it (pitfall 9),
		// else it is the default pipeline 0.
		pipeline = "0"
		if cat, _, ok := strings.Cut(f.str("STAGE_ID"), ":"); ok && len(cat) > 1 && (cat[0] == 'C' || cat[0] == 'c') {
			if _, err := strconv.Atoi(cat[1:]); err == nil {
				pipeline = cat[1:]
			}
		}
	}
	d := connectors.Deal{
		Meta:       meta,
		Name:       f.str("TITLE"),
		PipelineID: pipeline,
		StageID:    f.str("STAGE_ID"),
		Status:     connectors.StatusOpen,
		Amount:     f.num("OPPORTUNITY"),
		Currency:   strings.ToUpper(f.str("CURRENCY_ID")),
		OwnerID:    f.id("ASSIGNED_BY_ID"),
		CompanyID:  f.id("COMPANY_ID"),
		ContactID:  f.id("CONTACT_ID"),
		CreatedAt:  f.time("DATE_CREATE", m.loc),
	}
	d.Status = dealStatus(f)
	if d.Status != connectors.StatusOpen {
		d.ClosedAt = closedAt(f, m.loc)
	}
	if code := m.fields["deal_expense"]; code != "" {
		d.Expense = f.num(code)
	}
	return d, nil
}

// dealStatus reads won or lost from STAGE_SEMANTIC_ID (S, F). A row
// without it is read by CLOSED, Y for both: closed in the pipeline's
// success stage, whose id is always WON (C{id}:WON beyond the default
// pipeline), is won, in any other stage lost. Neither field: open.
func dealStatus(f fields) string {
	switch strings.ToUpper(f.str("STAGE_SEMANTIC_ID")) {
	case "S":
		return connectors.StatusWon
	case "F":
		return connectors.StatusLost
	case "P":
		return connectors.StatusOpen
	}
	if closed, ok := f.known("CLOSED"); !ok || !closed {
		return connectors.StatusOpen
	}
	stage := strings.ToUpper(f.str("STAGE_ID"))
	if stage == "WON" || strings.HasSuffix(stage, ":WON") {
		return connectors.StatusWon
	}
	return connectors.StatusLost
}

// closedAt is a won or lost deal's close time, which KPIS.md defines as
// the CRM's close date: CLOSEDATE. But CLOSEDATE is a date the manager
// plans (new deals get one a week ahead, and Bitrix24 fills it at the close
// only when it is empty), so a deal won before its plan still shows a
// future date. The deal cannot have closed after it reached its final
// stage: MOVED_TIME, "the date the item was moved to the current stage",
// or without it DATE_MODIFY, the last change. So CLOSEDATE is the close
// unless its day is after that moment's day, and then the moment is; a
// deal without CLOSEDATE closed at that moment; one with neither at its
// CLOSEDATE as it is, rather than no close time, which would leave it out
// of every KPI. Days are compared in the offset CLOSEDATE was written in,
// since it is a date sent as the portal's local midnight.
func closedAt(f fields, loc *time.Location) *time.Time {
	planned, reached := f.writtenTime("CLOSEDATE", loc), f.writtenTime("MOVED_TIME", loc)
	if reached == nil {
		reached = f.writtenTime("DATE_MODIFY", loc)
	}
	t := planned
	switch {
	case planned == nil:
		t = reached
	case reached != nil && dayAfter(*planned, reached.In(planned.Location())):
		t = reached
	}
	if t != nil {
		*t = t.UTC()
	}
	return t
}

// dayAfter reports whether a's calendar day is after b's.
func dayAfter(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return cmp.Or(cmp.Compare(ay, by), cmp.Compare(am, bm), cmp.Compare(ad, bd)) > 0
}

// Activity TYPE_ID values (crm-enum-activity-type).
const (
	typeMeeting    = "1"
	typeCall       = "2"
	typeTask       = "3"
	typeEmail      = "4"
	typeAction     = "5"
	typeUserAction = "6"
)

// activityType maps TYPE_ID 1-4 directly. Types 5 and 6 are the "action"
// and provider types behind newer timeline items; their PROVIDER_ID says
// what they are: to-dos and tasks are tasks, open-line chats and SMS are
// messages; a provider not named here is typed by its PROVIDER_TYPE_ID
// (CALL, MEETING, EMAIL, TODO/TASK: the provider list is not documented in
// full); anything else (comments, documents, custom app items) is a note.
func activityType(typeID, provider, providerType string) string {
	switch typeID {
	case typeMeeting:
		return connectors.ActivityMeeting
	case typeCall:
		return connectors.ActivityCall
	case typeTask:
		return connectors.ActivityTask
	case typeEmail:
		return connectors.ActivityEmail
	}
	p := strings.ToUpper(provider)
	switch {
	case p == "CRM_TODO" || strings.HasPrefix(p, "TASKS"):
		return connectors.ActivityTask
	case p == "IMOPENLINES_SESSION" || strings.Contains(p, "SMS") || strings.Contains(p, "WHATSAPP") || strings.Contains(p, "TELEGRAM"):
		return connectors.ActivityMessage
	case p == "CRM_MEETING":
		return connectors.ActivityMeeting
	case p == "VOXIMPLANT_CALL" || p == "CRM_CALL" || p == "CRM_CALL_TRACKER":
		return connectors.ActivityCall
	case p == "CRM_EMAIL":
		return connectors.ActivityEmail
	}
	switch strings.ToUpper(strings.TrimSpace(providerType)) {
	case "CALL":
		return connectors.ActivityCall
	case "MEETING":
		return connectors.ActivityMeeting
	case "EMAIL":
		return connectors.ActivityEmail
	case "TODO", "TASK":
		return connectors.ActivityTask
	}
	return connectors.ActivityNote
}

// Owner types (OWNER_TYPE_ID).
const (
	ownerLead    = "1"
	ownerDeal    = "2"
	ownerContact = "3"
	ownerCompany = "4"
)

// activity maps a crm.activity.list row. The owner (OWNER_TYPE_ID,
// OWNER_ID) gives the deal, contact or company; an activity on a lead has
// none of them. A task's time is its DEADLINE (its due date) and its
// subject carries SUBJECT and DESCRIPTION, so a "#team" tag written in
// the text is found.
func (m *mapper) activity(raw json.RawMessage) (connectors.Activity, error) {
	f, err := decodeFields(raw)
	if err != nil {
		return connectors.Activity{}, err
	}
	meta, err := m.meta(f, raw, "LAST_UPDATED")
	if err != nil {
		return connectors.Activity{}, err
	}
	a := connectors.Activity{
		Meta:    meta,
		Type:    activityType(f.str("TYPE_ID"), f.str("PROVIDER_ID"), f.str("PROVIDER_TYPE_ID")),
		Subject: f.str("SUBJECT"),
		OwnerID: f.id("RESPONSIBLE_ID"),
	}
	a.Completed, _ = completed(f)
	switch f.str("OWNER_TYPE_ID") {
	case ownerDeal:
		a.DealID = f.id("OWNER_ID")
	case ownerContact:
		a.ContactID = f.id("OWNER_ID")
	case ownerCompany:
		a.CompanyID = f.id("OWNER_ID")
	}
	switch a.Type {
	case connectors.ActivityCall, connectors.ActivityEmail, connectors.ActivityMessage:
		switch f.str("DIRECTION") {
		case "1":
			a.Direction = connectors.DirectionInbound
		case "2":
			a.Direction = connectors.DirectionOutbound
		}
	}
	order := []string{"START_TIME", "DEADLINE", "END_TIME", "CREATED"}
	if a.Type == connectors.ActivityTask {
		order = []string{"DEADLINE", "START_TIME", "END_TIME", "CREATED"}
	}
	for _, k := range order {
		if t, ok := parseTime(f.str(k), m.loc); ok {
			a.OccurredAt = t
			break
		}
	}
	if a.Type == connectors.ActivityTask || a.Type == connectors.ActivityNote {
		if d := f.str("DESCRIPTION"); d != "" && d != a.Subject {
			a.Subject = joinLines(a.Subject, d)
		}
	}
	if a.Type == connectors.ActivityCall {
		a.Connected = callConnected(f)
	}
	if a.Type == connectors.ActivityCall || a.Type == connectors.ActivityMeeting {
		start, ok1 := parseTime(f.str("START_TIME"), m.loc)
		end, ok2 := parseTime(f.str("END_TIME"), m.loc)
		if ok1 && ok2 && !end.Before(start) {
			d := int(end.Sub(start) / time.Second)
			a.DurationS = &d
		}
	}
	return a, nil
}

// callConnected reads whether a call reached the other side. Bitrix24
// marks a missed incoming call with SETTINGS.MISSED_CALL (its timeline
// draws it as "missed" by that flag) and leaves it uncompleted, a to-do to
// call back; a call that took place is completed, which is what KPIS.md
// takes as connected. So: MISSED_CALL set, or COMPLETED "N" (a missed call
// not yet dealt with, or a call planned but not held), is not connected;
// COMPLETED "Y" is; no COMPLETED at all says nothing (nil). An outgoing
// dial nobody picked up is not told apart: its result (CALL_FAILED_CODE)
// lives in the telephony statistics (voximplant.statistic.get, telephony
// scope), not on the activity, so it counts as connected, which keeps
// every real answer.
func callConnected(f fields) *bool {
	if raw := f["SETTINGS"]; len(raw) > 0 && raw[0] == '{' {
		if s, err := decodeFields(raw); err == nil && s.flag("MISSED_CALL") {
			return ptr(false)
		}
	}
	if done, ok := completed(f); ok {
		return ptr(done)
	}
	return nil
}

// completed reads whether an activity is done: COMPLETED (Y/N), else
// STATUS (1 pending, 2 completed, 3 auto-completed), the same fact in
// another field, so a row that carries only one of them still says it;
// ok is false when neither does.
func completed(f fields) (done, ok bool) {
	if done, ok := f.known("COMPLETED"); ok {
		return done, true
	}
	switch f.str("STATUS") {
	case "1":
		return false, true
	case "2", "3":
		return true, true
	}
	return false, false
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// mapRows maps rows of obj into p.
func (m *mapper) mapRows(obj connectors.Object, rows []json.RawMessage, p *connectors.Page) error {
	for i, raw := range rows {
		var err error
		switch obj {
		case connectors.ObjectCompanies:
			var r connectors.Company
			if r, err = m.company(raw); err == nil {
				p.Companies = append(p.Companies, r)
			}
		case connectors.ObjectContacts:
			var r connectors.Contact
			if r, err = m.contact(raw); err == nil {
				p.Contacts = append(p.Contacts, r)
			}
		case connectors.ObjectDeals:
			var r connectors.Deal
			if r, err = m.deal(raw); err == nil {
				p.Deals = append(p.Deals, r)
			}
		case connectors.ObjectActivities:
			var r connectors.Activity
			if r, err = m.activity(raw); err == nil {
				p.Activities = append(p.Activities, r)
			}
		case connectors.ObjectUsers:
			var r connectors.User
			if r, err = m.user(raw); err == nil {
				p.Users = append(p.Users, r)
			}
		default:
			return fmt.Errorf("no mapping for %s", obj)
		}
		if err != nil {
			return &connectors.MalformedError{Detail: fmt.Sprintf("%s row %d", obj, i+1), Err: err}
		}
	}
	return nil
}
