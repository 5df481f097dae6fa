package amocrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// The wire types below follow reference/amocrm.md. Numbers are read through
// tolerant types because the API (and proxies in front of it) have been seen
// sending numbers as strings and nulls where a number is documented.

// num is an integer that may arrive as a JSON number (possibly with a
// fraction), a numeric string, a boolean (1 or 0), or null (0).
type num int64

func (n *num) UnmarshalJSON(b []byte) error {
	v, _, err := connectors.ScalarOf(b).Int(true)
	*n = num(v)
	return err
}

// id renders an id as a decimal string; 0 (amoCRM's "none") is "".
func (n num) id() string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(int64(n), 10)
}

// time reads Unix seconds; values too large for seconds are taken as
// milliseconds. 0 is the zero time.
func (n num) time() time.Time { return connectors.UnixTime(int64(n)) }

// unixStamp is a timestamp in Unix seconds. amoCRM documents Unix seconds (a
// number; numeric strings too), and a proxy or an independently written
// server may send milliseconds or a date string with its offset instead:
// each is read as the same instant, since failing the record would fail
// its page. Null, "" and 0 are no time.
type unixStamp int64

func (s *unixStamp) UnmarshalJSON(b []byte) error {
	v := connectors.ScalarOf(b)
	switch {
	case v.Kind == connectors.Bool || v.Kind == connectors.Composite:
		return fmt.Errorf("want a timestamp, got %.20s", bytes.TrimSpace(b))
	case strings.TrimSpace(v.Text) == "":
		*s = 0
		return nil
	}
	t, err := dateFormat.Parse(v.Text, time.UTC)
	if err != nil {
		return err
	}
	*s = 0
	if !t.IsZero() {
		*s = unixStamp(t.Unix())
	}
	return nil
}

func (s unixStamp) time() time.Time { return connectors.UnixTime(int64(s)) }

// numberFormat is how amoCRM writes numbers in strings: "1500.5" or
// "1500,5".
var numberFormat = connectors.NumberFormat{DecimalComma: true}

// fnum is a float that may arrive as a number, a numeric string or null.
type fnum struct {
	V   float64
	Set bool
}

func (f *fnum) UnmarshalJSON(b []byte) error {
	v, ok, err := connectors.ScalarOf(b).Float(numberFormat)
	*f = fnum{V: v, Set: ok}
	return err
}

// str is a string that may arrive as a number or null.
type str = connectors.Str

// flag is a boolean that may arrive as true/false, 0/1, "true"/"1" or null.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	v, _ := truthy(b)
	*f = flag(v)
	return nil
}

// amoTruth is how amoCRM writes yes and no: booleans, 0/1, and the words
// of a checkbox field; any other text is no.
var amoTruth = connectors.Truth{Yes: []string{"true", "1", "yes", "y", "да"}, Numbers: true}

// truthy reads a JSON scalar as a yes/no; ok is false for null, "" and
// non-scalars (no answer).
func truthy(b []byte) (v, ok bool) { return amoTruth.Read(connectors.ScalarOf(b)) }

type customField struct {
	FieldID   num                      `json:"field_id"`
	FieldCode str                      `json:"field_code"`
	Values    connectors.List[cfValue] `json:"values"`
}

type cfValue struct {
	Value    json.RawMessage `json:"value"`
	EnumID   num             `json:"enum_id"`
	EnumCode str             `json:"enum_code"`
}

// customFields is custom_fields_values: an array, or null when empty (or
// [] or {}: connectors.List).
type customFields []customField

func (cf *customFields) UnmarshalJSON(b []byte) error {
	var l connectors.List[customField]
	err := json.Unmarshal(b, &l)
	*cf = customFields(l)
	return err
}

// find returns the field that key names: its decimal field_id or its
// field_code (case-insensitive).
func (cf customFields) find(key string) *customField {
	if key == "" {
		return nil
	}
	for i := range cf {
		f := &cf[i]
		if f.FieldID.id() == key || (f.FieldCode != "" && strings.EqualFold(string(f.FieldCode), key)) {
			return f
		}
	}
	return nil
}

// first returns the first non-empty value of the field, as a string.
func (cf customFields) first(key string) string {
	f := cf.find(key)
	if f == nil {
		return ""
	}
	for _, v := range f.Values {
		var s str
		if json.Unmarshal(v.Value, &s) == nil && strings.TrimSpace(string(s)) != "" {
			return strings.TrimSpace(string(s))
		}
	}
	return ""
}

func (cf customFields) number(key string) *float64 {
	f := cf.find(key)
	if f == nil {
		return nil
	}
	for _, v := range f.Values {
		var n fnum
		if json.Unmarshal(v.Value, &n) == nil && n.Set {
			x := n.V
			return &x
		}
	}
	return nil
}

// dateFormat is amoCRM's date fields: Unix seconds (number or string),
// RFC 3339, or a date.
var dateFormat = connectors.TimeFormat{
	Layouts: []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02", "02.01.2006"},
	Epoch:   connectors.EpochSeconds,
	Want:    "Unix seconds or a date",
}

// date reads a date field.
func (cf customFields) date(key string) *time.Time {
	s := cf.first(key)
	if s == "" {
		return nil
	}
	t, err := dateFormat.Parse(s, time.UTC)
	if err != nil || t.IsZero() {
		return nil
	}
	return &t
}

// flag reads a yes/no field with connectors.Flag: yes when any value says
// yes, by its value (a checkbox true, a text "yes", an option's text the
// config names) or its enum id or code (an option the config names by id).
// A mapped field absent from the record is no; nil means unmapped.
func (cf customFields) flag(key string, fl connectors.Flag) *bool {
	f := cf.find(key)
	if f == nil {
		if key == "" {
			return nil
		}
		no := false
		return &no
	}
	yes := false
	for _, v := range f.Values {
		if fl.JSON(v.Value) || (v.EnumID != 0 && fl.Names(v.EnumID.id())) || (v.EnumCode != "" && fl.Names(string(v.EnumCode))) {
			yes = true
			break
		}
	}
	return &yes
}

type ref struct {
	ID     num  `json:"id"`
	IsMain flag `json:"is_main"`
}

// embedded is a record's _embedded: the references the connector reads.
// It and its lists may come as [] or {} when empty (connectors.List,
// connectors.DecodeObject).
type embedded struct {
	Companies connectors.List[ref] `json:"companies"`
	Contacts  connectors.List[ref] `json:"contacts"`
}

func (e *embedded) UnmarshalJSON(b []byte) error {
	type plain embedded
	return connectors.DecodeObject(b, (*plain)(e))
}

type wireLead struct {
	ID                num          `json:"id"`
	Name              str          `json:"name"`
	Price             fnum         `json:"price"`
	PriceMinor        fnum         `json:"price_with_minor_units"`
	ResponsibleUserID num          `json:"responsible_user_id"`
	StatusID          num          `json:"status_id"`
	PipelineID        num          `json:"pipeline_id"`
	CreatedAt         unixStamp    `json:"created_at"`
	UpdatedAt         unixStamp    `json:"updated_at"`
	ClosedAt          unixStamp    `json:"closed_at"`
	IsDeleted         flag         `json:"is_deleted"`
	CustomFields      customFields `json:"custom_fields_values"`
	Embedded          embedded     `json:"_embedded"`
}

type wireContact struct {
	ID                num          `json:"id"`
	Name              str          `json:"name"`
	FirstName         str          `json:"first_name"`
	LastName          str          `json:"last_name"`
	ResponsibleUserID num          `json:"responsible_user_id"`
	CreatedAt         unixStamp    `json:"created_at"`
	UpdatedAt         unixStamp    `json:"updated_at"`
	CustomFields      customFields `json:"custom_fields_values"`
	Embedded          embedded     `json:"_embedded"`
}

type wireUser struct {
	ID     num    `json:"id"`
	Name   str    `json:"name"`
	Email  str    `json:"email"`
	Rights rights `json:"rights"`
}

type rights struct {
	IsActive json.RawMessage `json:"is_active"`
}

func (r *rights) UnmarshalJSON(b []byte) error {
	type plain rights
	return connectors.DecodeObject(b, (*plain)(r))
}

type wirePipeline struct {
	ID       num              `json:"id"`
	Name     str              `json:"name"`
	Embedded pipelineEmbedded `json:"_embedded"`
}

type wireStatus struct {
	ID         num `json:"id"`
	Name       str `json:"name"`
	Sort       num `json:"sort"`
	PipelineID num `json:"pipeline_id"`
}

// pipelineEmbedded holds a pipeline's statuses, each kept as sent for Raw.
type pipelineEmbedded struct {
	Statuses connectors.List[json.RawMessage] `json:"statuses"`
}

func (e *pipelineEmbedded) UnmarshalJSON(b []byte) error {
	type plain pipelineEmbedded
	return connectors.DecodeObject(b, (*plain)(e))
}

type wireTask struct {
	ID                num       `json:"id"`
	ResponsibleUserID num       `json:"responsible_user_id"`
	CreatedBy         num       `json:"created_by"`
	UpdatedAt         unixStamp `json:"updated_at"`
	EntityID          num       `json:"entity_id"`
	EntityType        str       `json:"entity_type"`
	IsCompleted       flag      `json:"is_completed"`
	TaskTypeID        num       `json:"task_type_id"`
	Text              str       `json:"text"`
	Duration          num       `json:"duration"`
	CompleteTill      unixStamp `json:"complete_till"`
	// result is {"text": ...} or [] (pitfall 8); not needed, so not decoded.
}

type wireNote struct {
	ID                num             `json:"id"`
	EntityID          num             `json:"entity_id"`
	CreatedBy         num             `json:"created_by"`
	ResponsibleUserID num             `json:"responsible_user_id"`
	CreatedAt         unixStamp       `json:"created_at"`
	UpdatedAt         unixStamp       `json:"updated_at"`
	NoteType          str             `json:"note_type"`
	Params            json.RawMessage `json:"params"`
}

type noteParams struct {
	Duration       num             `json:"duration"`
	Income         json.RawMessage `json:"income"`
	Subject        str             `json:"subject"`
	ContentSummary str             `json:"content_summary"`
	Text           str             `json:"text"`
	CallResult     str             `json:"call_result"`
	// CallStatus is read leniently: a code of a shape nobody documents
	// is "the CRM does not say", not a failed sync.
	CallStatus json.RawMessage `json:"call_status"`
}

type wireEvent struct {
	ID         str       `json:"id"`
	Type       str       `json:"type"`
	EntityID   num       `json:"entity_id"`
	EntityType str       `json:"entity_type"`
	CreatedBy  num       `json:"created_by"`
	CreatedAt  unixStamp `json:"created_at"`
}

// mapper turns wire records into canonical ones.
type mapper struct {
	fields   map[string]string
	key      connectors.Flag // reads fields.key_client
	currency string
	// taskTypes names the account's task types by id (nil when unknown).
	taskTypes map[int64]string
	now       time.Time // observation time for records without a modified time
	// since drops the tasks last modified and due before it (Options.Since,
	// on a read from the start); zero keeps every task.
	since time.Time
}

// old reports whether a task is older than m.since by every date a KPI
// reads it by: its modified time and its due date.
func (m *mapper) old(a connectors.Activity) bool {
	return !m.since.IsZero() && a.UpdatedAt.Before(m.since) && a.OccurredAt.Before(m.since)
}

func stageID(pipeline, status num) string {
	return strconv.FormatInt(int64(pipeline), 10) + ":" + strconv.FormatInt(int64(status), 10)
}

// statusOf is amoCRM's stage semantics: the system stages 142 and 143 exist
// in every pipeline and mean won and lost.
func statusOf(status num) string {
	switch status {
	case 142:
		return connectors.StatusWon
	case 143:
		return connectors.StatusLost
	}
	return connectors.StatusOpen
}

func meta(id string, updated time.Time, raw json.RawMessage) connectors.Meta {
	return connectors.Meta{ID: id, UpdatedAt: updated, Raw: append(json.RawMessage(nil), raw...)}
}

func (m *mapper) deal(raw json.RawMessage) (connectors.Deal, error) {
	var w wireLead
	if err := json.Unmarshal(raw, &w); err != nil {
		return connectors.Deal{}, err
	}
	if w.ID == 0 {
		return connectors.Deal{}, fmt.Errorf("lead without id")
	}
	d := connectors.Deal{
		Meta:       meta(w.ID.id(), w.UpdatedAt.time(), raw),
		Name:       string(w.Name),
		PipelineID: w.PipelineID.id(),
		StageID:    stageID(w.PipelineID, w.StatusID),
		Status:     statusOf(w.StatusID),
		Currency:   m.currency,
		OwnerID:    w.ResponsibleUserID.id(),
		CreatedAt:  w.CreatedAt.time(),
		Expense:    w.CustomFields.number(m.fields["deal_expense"]),
	}
	d.Deleted = bool(w.IsDeleted)
	if w.Price.Set || w.PriceMinor.Set {
		amount := w.Price.V
		// price_with_minor_units carries the kopecks/cents that price
		// drops; use it only when it agrees with price, in case it turns
		// out to be in minor units after all. Alone (no price) it is taken
		// as the reference describes it: a float in major units.
		if w.PriceMinor.Set && (!w.Price.Set || math.Abs(w.PriceMinor.V-w.Price.V) < 1) {
			amount = w.PriceMinor.V
		}
		d.Amount = &amount
	}
	if t := w.ClosedAt.time(); !t.IsZero() {
		d.ClosedAt = &t
	} else if d.Status != connectors.StatusOpen && !d.Meta.UpdatedAt.IsZero() {
		// closed_at is nullable; a won or lost lead without it (imported,
		// closed by a robot, or a fake that never sets it) would drop out
		// of every period's won/lost counts. Moving a lead to 142/143
		// updates it, so updated_at is the best available close time: it
		// is late only if the lead was edited after closing.
		t := d.Meta.UpdatedAt
		d.ClosedAt = &t
	}
	if len(w.Embedded.Companies) > 0 {
		d.CompanyID = w.Embedded.Companies[0].ID.id()
	}
	for _, c := range w.Embedded.Contacts {
		if c.IsMain {
			d.ContactID = c.ID.id()
			break
		}
	}
	if d.ContactID == "" && len(w.Embedded.Contacts) > 0 {
		d.ContactID = w.Embedded.Contacts[0].ID.id()
	}
	return d, nil
}

func (m *mapper) contact(raw json.RawMessage) (connectors.Contact, error) {
	var w wireContact
	if err := json.Unmarshal(raw, &w); err != nil {
		return connectors.Contact{}, err
	}
	if w.ID == 0 {
		return connectors.Contact{}, fmt.Errorf("contact without id")
	}
	name := strings.TrimSpace(string(w.Name))
	if name == "" {
		name = strings.TrimSpace(string(w.FirstName) + " " + string(w.LastName))
	}
	c := connectors.Contact{
		Meta:      meta(w.ID.id(), w.UpdatedAt.time(), raw),
		Name:      name,
		Email:     w.CustomFields.first("EMAIL"),
		OwnerID:   w.ResponsibleUserID.id(),
		NPSScore:  w.CustomFields.number(m.fields["nps_score"]),
		NPSAt:     w.CustomFields.date(m.fields["nps_date"]),
		CreatedAt: w.CreatedAt.time(),
	}
	if len(w.Embedded.Companies) > 0 {
		c.CompanyID = w.Embedded.Companies[0].ID.id()
	}
	return c, nil
}

func (m *mapper) company(raw json.RawMessage) (connectors.Company, error) {
	var w wireContact // companies are contacts without the name parts
	if err := json.Unmarshal(raw, &w); err != nil {
		return connectors.Company{}, err
	}
	if w.ID == 0 {
		return connectors.Company{}, fmt.Errorf("company without id")
	}
	return connectors.Company{
		Meta:      meta(w.ID.id(), w.UpdatedAt.time(), raw),
		Name:      strings.TrimSpace(string(w.Name)),
		OwnerID:   w.ResponsibleUserID.id(),
		KeyClient: w.CustomFields.flag(m.fields["key_client"], m.key),
		CreatedAt: w.CreatedAt.time(),
	}, nil
}

// user: amoCRM users have no modified time, so UpdatedAt is when the pull
// saw them; that lets a deactivation overwrite the stored row.
func (m *mapper) user(raw json.RawMessage) (connectors.User, error) {
	var w wireUser
	if err := json.Unmarshal(raw, &w); err != nil {
		return connectors.User{}, err
	}
	if w.ID == 0 {
		return connectors.User{}, fmt.Errorf("user without id")
	}
	active, ok := truthy(w.Rights.IsActive)
	return connectors.User{
		Meta:   meta(w.ID.id(), m.now, raw),
		Email:  strings.TrimSpace(string(w.Email)),
		Name:   string(w.Name),
		Active: active || !ok, // absent is_active: the API lists active users
	}, nil
}

// stages flattens one pipeline; Stage.ID is "PIPELINE:STATUS" because 142
// and 143 repeat in every pipeline. Raw is the status object.
func (m *mapper) stages(raw json.RawMessage) ([]connectors.Stage, error) {
	var w wirePipeline
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	out := make([]connectors.Stage, 0, len(w.Embedded.Statuses))
	for _, rs := range w.Embedded.Statuses {
		var s wireStatus
		if err := json.Unmarshal(rs, &s); err != nil {
			return nil, err
		}
		pid := s.PipelineID
		if pid == 0 {
			pid = w.ID
		}
		out = append(out, connectors.Stage{
			Meta:         meta(stageID(pid, s.ID), m.now, rs),
			PipelineID:   pid.id(),
			PipelineName: string(w.Name),
			Name:         string(s.Name),
			Status:       statusOf(s.ID),
			Sort:         int(s.Sort),
		})
	}
	return out, nil
}

// bind sets the record an activity hangs on from an entity type (plural in
// tasks and note paths, singular in events) and id.
func bind(a *connectors.Activity, entityType string, id num) {
	switch strings.ToLower(entityType) {
	case "leads", "lead":
		a.DealID = id.id()
	case "contacts", "contact":
		a.ContactID = id.id()
	case "companies", "company":
		a.CompanyID = id.id()
	}
}

// task: every task is a to-do, whatever its task_type_id (1 follow-up, the
// default type of every new task; 2 meeting; custom ids): type task, never
// a call or a meeting that happened. OccurredAt is the due date
// (complete_till); Subject is the text, where "#team" lives. The type id
// stays in Raw as sent; its name, when the account's task types are known,
// is added to Raw as taskTypeNameKey (see annotate).
func (m *mapper) task(raw json.RawMessage) (connectors.Activity, error) {
	var w wireTask
	if err := json.Unmarshal(raw, &w); err != nil {
		return connectors.Activity{}, err
	}
	if w.ID == 0 {
		return connectors.Activity{}, fmt.Errorf("task without id")
	}
	a := connectors.Activity{
		Meta:       meta("task:"+w.ID.id(), w.UpdatedAt.time(), raw),
		Type:       connectors.ActivityTask,
		Subject:    string(w.Text),
		OwnerID:    w.ResponsibleUserID.id(),
		OccurredAt: w.CompleteTill.time(),
		Completed:  bool(w.IsCompleted),
	}
	if name, ok := m.taskTypes[int64(w.TaskTypeID)]; ok && w.TaskTypeID != 0 {
		a.Raw = annotate(a.Raw, taskTypeNameKey, name)
	}
	if w.Duration > 0 {
		d := int(w.Duration)
		a.DurationS = &d
	}
	bind(&a, string(w.EntityType), w.EntityID)
	return a, nil
}

// taskTypeNameKey is the one key crmkpi adds to a task's raw record: the
// name of its task_type_id from GET /api/v4/account?with=task_types. The
// crmkpi_ prefix keeps it apart from amoCRM's own keys, so the record as
// amoCRM sent it is the raw object without this key.
const taskTypeNameKey = "crmkpi_task_type_name"

// annotate returns the JSON object raw with key: value added as its last
// member, every byte amoCRM sent kept as it was. raw that is not an object,
// or already has the key, is returned unchanged.
func annotate(raw json.RawMessage, key, value string) json.RawMessage {
	b := bytes.TrimSpace(raw)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' || bytes.Contains(b, []byte(strconv.Quote(key))) {
		return raw
	}
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	out := make(json.RawMessage, 0, len(b)+len(k)+len(v)+2)
	body := bytes.TrimSpace(b[1 : len(b)-1])
	out = append(out, b[:len(b)-1]...)
	if len(body) > 0 {
		out = append(out, ',')
	}
	out = append(out, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}

// connected reads a call note's params.call_status (SDK CallInterface):
// 4 "talked" (CALL_STATUS_SUCCESS_CONVERSATION) is a call that reached the
// client; 1 left a voicemail, 2 call back later, 3 not available, 5 wrong
// number, 6 no answer, 7 busy are calls that did not. No status, 8
// (undefined), an unknown code or one that is no integer: the CRM does not
// say (nil).
func connected(raw json.RawMessage) *bool {
	raw = bytes.TrimSpace(raw)
	var status num
	if len(raw) == 0 || raw[0] == 't' || raw[0] == 'f' || json.Unmarshal(raw, &status) != nil {
		return nil // num would read true as 1, "left a voicemail"
	}
	var v bool
	switch status {
	case 4:
		v = true
	case 1, 2, 3, 5, 6, 7:
		v = false
	default:
		return nil
	}
	return &v
}

// note maps call_in/call_out (calls; params.call_status says whether they
// connected, see connected), amomail_message (e-mail; params.income true =
// inbound, false = outbound, absent = unknown direction), sms_in/sms_out
// (messages, inbound/outbound, params.text the subject) and common (note).
// Every other note type (service_message, message_cashier, attachment,
// geolocation, invoice_paid, chat, site_visit, targeting_in/out,
// transaction, ...) is system chatter, not a manager's activity: ok is
// false and the note is skipped.
func (m *mapper) note(raw json.RawMessage, entityType string) (a connectors.Activity, ok bool, err error) {
	var w wireNote
	if err := json.Unmarshal(raw, &w); err != nil {
		return a, false, err
	}
	if w.ID == 0 {
		return a, false, fmt.Errorf("note without id")
	}
	var p noteParams
	if len(w.Params) > 0 && w.Params[0] == '{' {
		if err := json.Unmarshal(w.Params, &p); err != nil {
			return a, false, fmt.Errorf("note %d params: %w", w.ID, err)
		}
	}
	owner := w.ResponsibleUserID
	if owner == 0 {
		owner = w.CreatedBy
	}
	a = connectors.Activity{
		Meta:       meta("note:"+w.ID.id(), w.UpdatedAt.time(), raw),
		OwnerID:    owner.id(),
		OccurredAt: w.CreatedAt.time(),
		Completed:  true,
	}
	switch w.NoteType {
	case "call_in", "call_out":
		a.Type = connectors.ActivityCall
		a.Direction = connectors.DirectionInbound
		if w.NoteType == "call_out" {
			a.Direction = connectors.DirectionOutbound
		}
		d := int(max(p.Duration, 0))
		a.DurationS = &d
		a.Subject = string(p.CallResult)
		a.Connected = connected(p.CallStatus)
	case "amomail_message":
		a.Type = connectors.ActivityEmail
		if in, known := truthy(p.Income); known {
			a.Direction = connectors.DirectionOutbound
			if in {
				a.Direction = connectors.DirectionInbound
			}
		}
		a.Subject = string(p.Subject)
		if a.Subject == "" {
			a.Subject = string(p.ContentSummary)
		}
	case "sms_in", "sms_out":
		a.Type = connectors.ActivityMessage
		a.Direction = connectors.DirectionInbound
		if w.NoteType == "sms_out" {
			a.Direction = connectors.DirectionOutbound
		}
		a.Subject = string(p.Text)
	case "common":
		a.Type = connectors.ActivityNote
		a.Subject = string(p.Text)
	default:
		return a, false, nil
	}
	bind(&a, entityType, w.EntityID)
	return a, true, nil
}

// Event types the events object reads.
const (
	evIncomingChat    = "incoming_chat_message"
	evOutgoingChat    = "outgoing_chat_message"
	evLeadDeleted     = "lead_deleted"
	evContactDeleted  = "contact_deleted"
	evCompanyDeleted  = "company_deleted"
	evLeadRestored    = "lead_restored"
	evContactRestored = "contact_restored"
	evCompanyRestored = "company_restored"
)

// eventTypes is the filter[type] of the events object.
var eventTypes = []string{evIncomingChat, evOutgoingChat, evLeadDeleted, evContactDeleted, evCompanyDeleted,
	evLeadRestored, evContactRestored, evCompanyRestored}

// eventObjects is the object of each deletion and restore event.
var eventObjects = map[str]connectors.Object{
	evLeadDeleted: connectors.ObjectDeals, evContactDeleted: connectors.ObjectContacts, evCompanyDeleted: connectors.ObjectCompanies,
	evLeadRestored: connectors.ObjectDeals, evContactRestored: connectors.ObjectContacts, evCompanyRestored: connectors.ObjectCompanies,
}

// event maps a chat message event to a message activity, a *_deleted
// event to a deletion, and a *_restored event to the record to read again
// (restored, its At the restore's time; see Client.restore). Other types
// yield none of these.
func (m *mapper) event(raw json.RawMessage) (a *connectors.Activity, deleted, restored *connectors.Deletion, err error) {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, nil, err
	}
	if w.ID == "" {
		return nil, nil, nil, fmt.Errorf("event without id")
	}
	at := w.CreatedAt.time()
	switch w.Type {
	case evIncomingChat, evOutgoingChat:
		a := &connectors.Activity{
			Meta:       meta("event:"+string(w.ID), at, raw),
			Type:       connectors.ActivityMessage,
			Direction:  connectors.DirectionInbound,
			OccurredAt: at,
			Completed:  true,
		}
		if w.Type == evOutgoingChat {
			a.Direction = connectors.DirectionOutbound
			// The sender of an outgoing message is the manager who wrote
			// it; an incoming one is created by the client (0).
			a.OwnerID = w.CreatedBy.id()
		}
		bind(a, string(w.EntityType), w.EntityID)
		return a, nil, nil, nil
	case evLeadDeleted, evContactDeleted, evCompanyDeleted, evLeadRestored, evContactRestored, evCompanyRestored:
		if w.EntityID == 0 {
			return nil, nil, nil, fmt.Errorf("event %s without entity_id", w.ID)
		}
		d := &connectors.Deletion{Object: eventObjects[w.Type], ID: w.EntityID.id(), At: at}
		if strings.HasSuffix(string(w.Type), "_restored") {
			return nil, nil, d, nil
		}
		return nil, d, nil, nil
	}
	return nil, nil, nil, nil
}
