package bitrix24

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// Samples from the reference (§6), verbatim shapes: strings for numbers,
// nulls, portal offsets.
const (
	sampleDeals = `[
    {"ID": "37", "TITLE": "ACME - annual licence", "CATEGORY_ID": "1", "STAGE_ID": "C1:WON",
     "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "OPPORTUNITY": "19999.99", "CURRENCY_ID": "EUR",
     "CLOSEDATE": "2024-09-09T02:00:00+02:00", "DATE_CREATE": "2024-09-02T18:37:18+02:00",
     "DATE_MODIFY": "2024-09-10T11:03:41+02:00", "MOVED_TIME": "2024-09-10T11:03:41+02:00",
     "ASSIGNED_BY_ID": "1", "COMPANY_ID": "9", "CONTACT_ID": "84"},
    {"ID": "38", "TITLE": "Globex - pilot", "CATEGORY_ID": "0", "STAGE_ID": "PREPARATION",
     "STAGE_SEMANTIC_ID": "P", "CLOSED": "N", "OPPORTUNITY": "0.00", "CURRENCY_ID": "USD",
     "CLOSEDATE": "2024-10-01T03:00:00+02:00", "DATE_CREATE": "2024-09-02T18:37:38+02:00",
     "DATE_MODIFY": "2024-09-03T09:00:00+02:00", "MOVED_TIME": "2024-09-02T18:37:38+02:00",
     "ASSIGNED_BY_ID": "6", "COMPANY_ID": "0", "CONTACT_ID": null},
    {"ID": 39, "TITLE": "Initech - lost", "CATEGORY_ID": 0, "STAGE_ID": "LOSE",
     "STAGE_SEMANTIC_ID": "F", "CLOSED": "Y", "OPPORTUNITY": 1500, "CURRENCY_ID": "rub",
     "CLOSEDATE": "2024-09-20T00:00:00+03:00", "DATE_CREATE": "2024-09-01T10:00:00.123+03:00",
     "DATE_MODIFY": "2024-09-20 12:00:00", "ASSIGNED_BY_ID": 6, "COMPANY_ID": null, "CONTACT_ID": "0",
     "UF_CRM_EXPENSE": "250.5|RUB"},
    {"ID": "40", "TITLE": "Umbrella - won early", "CATEGORY_ID": "0", "STAGE_ID": "WON",
     "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "OPPORTUNITY": "500.00", "CURRENCY_ID": "RUB",
     "CLOSEDATE": "2024-10-15T00:00:00+03:00", "DATE_CREATE": "2024-09-01T10:00:00+03:00",
     "DATE_MODIFY": "2024-09-12T16:20:00+03:00", "ASSIGNED_BY_ID": "1"},
    {"ID": "41", "TITLE": "Hooli - lost, no dates", "CATEGORY_ID": "0", "STAGE_ID": "LOSE",
     "STAGE_SEMANTIC_ID": "F", "CLOSED": "Y", "OPPORTUNITY": "0.00", "CURRENCY_ID": "RUB",
     "CLOSEDATE": "", "DATE_CREATE": "2024-09-01T10:00:00+03:00", "MOVED_TIME": null, "ASSIGNED_BY_ID": "1"},
    {"ID": "42", "TITLE": "No semantic, won", "STAGE_ID": "C2:WON", "CLOSED": "Y",
     "OPPORTUNITY": "100", "CURRENCY_ID": "EUR", "DATE_CREATE": "2024-09-01T10:00:00+03:00",
     "MOVED_TIME": "2024-09-05T10:00:00+03:00", "ASSIGNED_BY_ID": "1"},
    {"ID": "43", "TITLE": "No semantic, lost", "CATEGORY_ID": "0", "STAGE_ID": "APOLOGY", "STAGE_SEMANTIC_ID": "",
     "CLOSED": true, "OPPORTUNITY": "100", "CURRENCY_ID": "EUR", "DATE_CREATE": "2024-09-01T10:00:00+03:00",
     "MOVED_TIME": "2024-09-06T10:00:00+03:00", "ASSIGNED_BY_ID": "1"},
    {"ID": "44", "TITLE": "No semantic, open", "CATEGORY_ID": "0", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": null,
     "CLOSED": "N", "OPPORTUNITY": "100", "CURRENCY_ID": "EUR", "DATE_CREATE": "2024-09-01T10:00:00+03:00",
     "MOVED_TIME": "2024-09-06T10:00:00+03:00", "ASSIGNED_BY_ID": "1"}
  ]`
	// Sample 6.2: crm.item.list's shape, which a portal may answer the
	// classic list with too.
	sampleItemDeals = `[
    {"id": 37, "title": "ACME - annual licence", "categoryId": 1, "stageId": "C1:WON",
     "stageSemanticId": "S", "closed": "Y", "opportunity": 19999.99, "currencyId": "EUR",
     "closedate": "2024-09-09T02:00:00+02:00", "createdTime": "2024-09-02T18:37:18+02:00",
     "updatedTime": "2024-09-10T11:03:41+02:00", "movedTime": "2024-09-10T11:03:41+02:00",
     "assignedById": 1, "companyId": 9, "contactIds": [84, 85]},
    {"id": 38, "title": "Globex - pilot", "categoryId": 0, "stageId": "PREPARATION",
     "stageSemanticId": "P", "closed": "N", "opportunity": 0, "currencyId": "USD",
     "closedate": "2024-10-01T03:00:00+02:00", "createdTime": "2024-09-02T18:37:38+02:00",
     "updatedTime": "2024-09-03T09:00:00+02:00", "movedTime": "2024-09-02T18:37:38+02:00",
     "assignedById": 6, "companyId": 0, "contactIds": []}
  ]`
	sampleContacts = `[
    {"ID": "75", "NAME": "Anastasia", "LAST_NAME": "Ilyina", "COMPANY_ID": "9", "ASSIGNED_BY_ID": "6",
     "DATE_CREATE": "2024-02-26T00:00:00+02:00", "DATE_MODIFY": "2024-06-01T10:00:00+02:00",
     "EMAIL": [{"ID": "215", "VALUE_TYPE": "WORK", "VALUE": "a.ilyina@example.com", "TYPE_ID": "EMAIL"}],
     "UF_CRM_NPS": "9", "UF_CRM_NPS_DATE": "2024-05-30T00:00:00+02:00"},
    {"ID": "76", "NAME": "Artem", "LAST_NAME": "Isaev", "COMPANY_ID": null, "ASSIGNED_BY_ID": "1",
     "DATE_CREATE": "2024-08-15T00:00:00+02:00", "DATE_MODIFY": "2024-08-15T00:00:00+02:00",
     "UF_CRM_NPS": null, "UF_CRM_NPS_DATE": ""}
  ]`
	sampleStages = `[
   {"ID": "301", "ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:NEW", "NAME": "New", "NAME_INIT": "New",
    "SORT": "10", "SYSTEM": "Y", "CATEGORY_ID": "1", "COLOR": "#39A8EF", "SEMANTICS": null,
    "EXTRA": {"SEMANTICS": "process", "COLOR": "#39A8EF"}},
   {"ID": "309", "ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:WON", "NAME": "Deal won", "NAME_INIT": "Deal won",
    "SORT": "60", "SYSTEM": "Y", "CATEGORY_ID": "1", "COLOR": "#7BD500", "SEMANTICS": "S",
    "EXTRA": {"SEMANTICS": "success", "COLOR": "#7BD500"}},
   {"ID": "310", "ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:APOLOGY", "NAME": "Analyze failure",
    "SORT": 70, "SEMANTICS": null, "EXTRA": {"SEMANTICS": "apology"}}]`
	sampleActivities = `[
    {"ID": "20", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
     "PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Outgoing call ACME", "CREATED": "2024-09-05T13:26:55+03:00",
     "LAST_UPDATED": "2024-09-05T13:30:24+03:00", "START_TIME": "2024-09-05T13:25:00+03:00",
     "END_TIME": "2024-09-05T13:28:03+03:00", "DEADLINE": "2024-09-05T13:25:00+03:00",
     "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "2", "AUTHOR_ID": "1", "PRIORITY": "2"},
    {"ID": "21", "OWNER_ID": "75", "OWNER_TYPE_ID": "3", "TYPE_ID": "1", "PROVIDER_ID": "CRM_MEETING",
     "PROVIDER_TYPE_ID": "MEETING", "SUBJECT": "Demo", "CREATED": "2024-09-06T09:00:00+03:00",
     "LAST_UPDATED": "2024-09-06T09:00:00+03:00", "START_TIME": "2024-09-10T11:00:00+03:00",
     "END_TIME": "2024-09-10T12:00:00+03:00", "DEADLINE": "2024-09-10T11:00:00+03:00",
     "COMPLETED": "N", "STATUS": "1", "RESPONSIBLE_ID": "6", "DIRECTION": "0", "AUTHOR_ID": "6", "PRIORITY": "2"},
    {"ID": "22", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "3", "SUBJECT": "Prepare QBR",
     "DESCRIPTION": "Slides for the #team offsite", "CREATED": "2024-09-01T09:00:00+03:00",
     "LAST_UPDATED": "2024-09-02T09:00:00+03:00", "START_TIME": "2024-09-01T09:00:00+03:00",
     "END_TIME": "", "DEADLINE": "2024-09-12T18:00:00+03:00", "COMPLETED": "Y", "RESPONSIBLE_ID": "1", "DIRECTION": "0"},
    {"ID": 23, "OWNER_ID": 5, "OWNER_TYPE_ID": 1, "TYPE_ID": 4, "SUBJECT": "Re: price", "CREATED": "2024-09-03T10:00:00+03:00",
     "LAST_UPDATED": "2024-09-03T10:00:00+03:00", "START_TIME": "2024-09-03T10:00:00+03:00",
     "END_TIME": "2024-09-03T10:00:00+03:00", "COMPLETED": "N", "RESPONSIBLE_ID": "0", "DIRECTION": 1},
    {"ID": "24", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "6", "PROVIDER_ID": "CRM_TODO",
     "SUBJECT": "", "DESCRIPTION": "Call back #team", "CREATED": "2024-09-03T10:00:00+03:00",
     "LAST_UPDATED": "2024-09-03T10:00:00+03:00", "START_TIME": "2024-09-04T10:00:00+03:00",
     "DEADLINE": "2024-09-04T12:00:00+03:00", "COMPLETED": "N", "RESPONSIBLE_ID": "6", "DIRECTION": "0"},
    {"ID": "25", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "6", "PROVIDER_ID": "IMOPENLINES_SESSION",
     "SUBJECT": "Chat", "CREATED": "2024-09-03T10:00:00+03:00", "LAST_UPDATED": "2024-09-03T10:00:00+03:00",
     "START_TIME": "2024-09-03T10:00:00+03:00", "COMPLETED": "Y", "RESPONSIBLE_ID": "6", "DIRECTION": "1"},
    {"ID": "26", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "5", "SUBJECT": "Document signed",
     "DESCRIPTION": "Contract v2", "CREATED": "2024-09-03T10:00:00+03:00", "LAST_UPDATED": "2024-09-03T10:00:00+03:00",
     "START_TIME": "2024-09-03T10:00:00+03:00", "COMPLETED": "Y", "RESPONSIBLE_ID": "6", "DIRECTION": "2"},
    {"ID": "27", "OWNER_ID": "75", "OWNER_TYPE_ID": "3", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
     "PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Missed call from +7 495 000-00-00", "CREATED": "2024-09-06T10:00:30+03:00",
     "LAST_UPDATED": "2024-09-06T10:00:30+03:00", "START_TIME": "2024-09-06T10:00:00+03:00",
     "END_TIME": "2024-09-06T10:00:00+03:00", "DEADLINE": "2024-09-06T10:00:00+03:00",
     "COMPLETED": "N", "STATUS": "1", "RESPONSIBLE_ID": "6", "DIRECTION": "1", "SETTINGS": {"MISSED_CALL": true}},
    {"ID": "28", "OWNER_ID": "75", "OWNER_TYPE_ID": "3", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
     "PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Missed call, called back", "CREATED": "2024-09-06T11:00:30+03:00",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-06T11:00:00+03:00",
     "END_TIME": "2024-09-06T11:00:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": "6",
     "DIRECTION": "1", "SETTINGS": {"MISSED_CALL": "Y"}},
    {"ID": "29", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "CRM_CALL",
     "PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Call back ACME", "CREATED": "2024-09-06T12:00:00+03:00",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-09T10:00:00+03:00",
     "END_TIME": "2024-09-09T10:15:00+03:00", "DEADLINE": "2024-09-09T10:00:00+03:00",
     "COMPLETED": "N", "STATUS": "1", "RESPONSIBLE_ID": "1", "DIRECTION": "2", "SETTINGS": []},
    {"ID": "30", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "SUBJECT": "Call, state unknown",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-06T12:00:00+03:00",
     "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
    {"ID": "31", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "3", "SUBJECT": "#team retro",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "DEADLINE": "2024-09-06T18:00:00+03:00",
     "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "0"},
    {"ID": "32", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "SUBJECT": "Call, status only",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-06T12:00:00+03:00",
     "COMPLETED": "", "STATUS": 3, "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
    {"ID": "33", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "SUBJECT": "Call planned, status only",
     "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-07T12:00:00+03:00",
     "COMPLETED": null, "STATUS": "1", "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
    {"ID": "34", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "6", "PROVIDER_ID": "REST_APP", "PROVIDER_TYPE_ID": "CALL",
     "SUBJECT": "App call", "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-06T12:00:00+03:00",
     "COMPLETED": "Y", "RESPONSIBLE_ID": "1", "DIRECTION": "1"},
    {"ID": "35", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "6", "PROVIDER_ID": "REST_APP", "PROVIDER_TYPE_ID": "DOC",
     "SUBJECT": "Invoice", "LAST_UPDATED": "2024-09-06T12:00:00+03:00", "START_TIME": "2024-09-06T12:00:00+03:00",
     "COMPLETED": "Y", "RESPONSIBLE_ID": "1", "DIRECTION": "1"}
  ]`
	sampleUsers = `[
   {"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com",
    "LAST_LOGIN": "2024-07-25T13:06:54+00:00", "DATE_REGISTER": "2024-07-15T00:00:00+00:00",
    "TIME_ZONE": "", "UF_DEPARTMENT": [1], "USER_TYPE": "employee"},
   {"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com",
    "LAST_LOGIN": "2024-07-24T09:01:55+00:00", "DATE_REGISTER": "2024-07-22T00:00:00+00:00",
    "UF_DEPARTMENT": [3], "USER_TYPE": "employee"},
   {"ID": "7", "NAME": "No", "LAST_NAME": "Flag", "EMAIL": "n.flag@example.com"},
   {"ID": "8", "ACTIVE": "N", "NAME": "Y/N", "EMAIL": ""},
   {"ID": "9", "ACTIVE": null, "NAME": "Null"}]`
)

var (
	msk   = time.FixedZone("", 3*3600)
	seenT = time.Date(2024, 9, 2, 15, 48, 35, 0, time.UTC)
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}
func utcPtr(s string) *time.Time { t := utc(s); return &t }
func f64(v float64) *float64     { return &v }
func intp(v int) *int            { return &v }
func boolp(v bool) *bool         { return &v }

func rows(t *testing.T, s string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func testMapper() *mapper {
	return &mapper{loc: msk, seen: seenT, fields: map[string]string{
		"nps_score": "UF_CRM_NPS", "nps_date": "UF_CRM_NPS_DATE", "deal_expense": "UF_CRM_EXPENSE", "key_client": "UF_CRM_KEY"},
		key: connectors.Flag{Yes: []string{"47"}}}
}

// noRaw drops Meta.Raw, which each test checks separately against its input.
var noRaw = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Raw" }, cmp.Ignore())

func TestMapDeals(t *testing.T) {
	rs := rows(t, sampleDeals)
	want := []connectors.Deal{
		// Won on its CLOSEDATE (the CRM's close date, at midnight), the
		// day before it entered C1:WON (MOVED_TIME, 11:03:41+02:00).
		{Meta: connectors.Meta{ID: "37", UpdatedAt: utc("2024-09-10T09:03:41Z")}, Name: "ACME - annual licence",
			PipelineID: "1", StageID: "C1:WON", Status: "won", Amount: f64(19999.99), Currency: "EUR", OwnerID: "1",
			CompanyID: "9", ContactID: "84", CreatedAt: utc("2024-09-02T16:37:18Z"), ClosedAt: utcPtr("2024-09-09T00:00:00Z")},
		{Meta: connectors.Meta{ID: "38", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Name: "Globex - pilot",
			PipelineID: "0", StageID: "PREPARATION", Status: "open", Amount: f64(0), Currency: "USD", OwnerID: "6",
			CreatedAt: utc("2024-09-02T16:37:38Z")},
		// Numbers as numbers, "0"/null references, fractions, a datetime
		// without an offset (portal-local), a money user field. No
		// MOVED_TIME: CLOSEDATE, on or before the last change, is taken.
		{Meta: connectors.Meta{ID: "39", UpdatedAt: utc("2024-09-20T09:00:00Z")}, Name: "Initech - lost",
			PipelineID: "0", StageID: "LOSE", Status: "lost", Amount: f64(1500), Currency: "RUB", OwnerID: "6",
			CreatedAt: utc("2024-09-01T07:00:00.123Z"), ClosedAt: utcPtr("2024-09-19T21:00:00Z"), Expense: f64(250.5)},
		// No MOVED_TIME and a CLOSEDATE still in the future of the last
		// change: a plan, so the last change (DATE_MODIFY) is the close.
		{Meta: connectors.Meta{ID: "40", UpdatedAt: utc("2024-09-12T13:20:00Z")}, Name: "Umbrella - won early",
			PipelineID: "0", StageID: "WON", Status: "won", Amount: f64(500), Currency: "RUB", OwnerID: "1",
			CreatedAt: utc("2024-09-01T07:00:00Z"), ClosedAt: utcPtr("2024-09-12T13:20:00Z")},
		// Nothing to date it by: no close time.
		{Meta: connectors.Meta{ID: "41"}, Name: "Hooli - lost, no dates",
			PipelineID: "0", StageID: "LOSE", Status: "lost", Amount: f64(0), Currency: "RUB", OwnerID: "1",
			CreatedAt: utc("2024-09-01T07:00:00Z")},
		// No STAGE_SEMANTIC_ID: CLOSED Y in the success stage (WON,
		// C{id}:WON) is won, in any other lost; CLOSED N is open. No
		// CATEGORY_ID: the stage's C2: prefix names the pipeline.
		{Meta: connectors.Meta{ID: "42"}, Name: "No semantic, won", PipelineID: "2", StageID: "C2:WON", Status: "won",
			Amount: f64(100), Currency: "EUR", OwnerID: "1", CreatedAt: utc("2024-09-01T07:00:00Z"), ClosedAt: utcPtr("2024-09-05T07:00:00Z")},
		{Meta: connectors.Meta{ID: "43"}, Name: "No semantic, lost", PipelineID: "0", StageID: "APOLOGY", Status: "lost",
			Amount: f64(100), Currency: "EUR", OwnerID: "1", CreatedAt: utc("2024-09-01T07:00:00Z"), ClosedAt: utcPtr("2024-09-06T07:00:00Z")},
		{Meta: connectors.Meta{ID: "44"}, Name: "No semantic, open", PipelineID: "0", StageID: "WON", Status: "open",
			Amount: f64(100), Currency: "EUR", OwnerID: "1", CreatedAt: utc("2024-09-01T07:00:00Z")},
	}
	m := testMapper()
	for i, raw := range rs {
		got, err := m.deal(raw)
		if err != nil {
			t.Fatalf("deal %d: %v", i, err)
		}
		if diff := cmp.Diff(want[i], got, noRaw); diff != "" {
			t.Errorf("deal %d (-want +got):\n%s", i, diff)
		}
		if string(got.Raw) != string(raw) {
			t.Errorf("deal %d Raw = %s, want the row as received", i, got.Raw)
		}
	}
	// The same deals in crm.item.list's shape are the same records.
	for i, raw := range rows(t, sampleItemDeals) {
		got, err := m.deal(raw)
		if err != nil {
			t.Fatalf("item deal %d: %v", i, err)
		}
		if diff := cmp.Diff(want[i], got, noRaw); diff != "" {
			t.Errorf("item deal %d (-want +got):\n%s", i, diff)
		}
		if id, err := rowID(raw); err != nil || id != int64(37+i) {
			t.Errorf("item deal %d: rowID = %d, %v", i, id, err)
		}
	}
}

func TestMapContacts(t *testing.T) {
	want := []connectors.Contact{
		{Meta: connectors.Meta{ID: "75", UpdatedAt: utc("2024-06-01T08:00:00Z")}, Name: "Anastasia Ilyina",
			Email: "a.ilyina@example.com", CompanyID: "9", OwnerID: "6", NPSScore: f64(9),
			NPSAt: utcPtr("2024-05-29T22:00:00Z"), CreatedAt: utc("2024-02-25T22:00:00Z")},
		{Meta: connectors.Meta{ID: "76", UpdatedAt: utc("2024-08-14T22:00:00Z")}, Name: "Artem Isaev",
			OwnerID: "1", CreatedAt: utc("2024-08-14T22:00:00Z")},
	}
	m := testMapper()
	for i, raw := range rows(t, sampleContacts) {
		got, err := m.contact(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[i], got, noRaw); diff != "" {
			t.Errorf("contact %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestMapStages(t *testing.T) {
	want := []connectors.Stage{
		{Meta: connectors.Meta{ID: "C1:NEW", UpdatedAt: seenT}, PipelineID: "1", PipelineName: "Enterprise", Name: "New", Status: "open", Sort: 10},
		{Meta: connectors.Meta{ID: "C1:WON", UpdatedAt: seenT}, PipelineID: "1", PipelineName: "Enterprise", Name: "Deal won", Status: "won", Sort: 60},
		{Meta: connectors.Meta{ID: "C1:APOLOGY", UpdatedAt: seenT}, PipelineID: "1", PipelineName: "Enterprise", Name: "Analyze failure", Status: "lost", Sort: 70},
	}
	m := testMapper()
	for i, raw := range rows(t, sampleStages) {
		got, err := m.stage(raw, "1", "Enterprise")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[i], got, noRaw); diff != "" {
			t.Errorf("stage %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestMapActivities(t *testing.T) {
	want := []connectors.Activity{
		// A completed call took place: connected.
		{Meta: connectors.Meta{ID: "20", UpdatedAt: utc("2024-09-05T10:30:24Z")}, Type: "call", Direction: "outbound",
			Subject: "Outgoing call ACME", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-05T10:25:00Z"),
			Completed: true, DurationS: intp(183), Connected: boolp(true)},
		{Meta: connectors.Meta{ID: "21", UpdatedAt: utc("2024-09-06T06:00:00Z")}, Type: "meeting", Subject: "Demo",
			OwnerID: "6", ContactID: "75", OccurredAt: utc("2024-09-10T08:00:00Z"), DurationS: intp(3600)},
		// A task: due date as its time, description in its text.
		{Meta: connectors.Meta{ID: "22", UpdatedAt: utc("2024-09-02T06:00:00Z")}, Type: "task",
			Subject: "Prepare QBR\nSlides for the #team offsite", OwnerID: "1", CompanyID: "9",
			OccurredAt: utc("2024-09-12T15:00:00Z"), Completed: true},
		// An inbound e-mail on a lead: no client; RESPONSIBLE_ID "0" is none.
		{Meta: connectors.Meta{ID: "23", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Type: "email", Direction: "inbound",
			Subject: "Re: price", OccurredAt: utc("2024-09-03T07:00:00Z")},
		// A to-do (TYPE_ID 6, CRM_TODO) is a task.
		{Meta: connectors.Meta{ID: "24", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Type: "task", Subject: "Call back #team",
			OwnerID: "6", DealID: "37", OccurredAt: utc("2024-09-04T09:00:00Z")},
		{Meta: connectors.Meta{ID: "25", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Type: "message", Direction: "inbound",
			Subject: "Chat", OwnerID: "6", DealID: "37", OccurredAt: utc("2024-09-03T07:00:00Z"), Completed: true},
		// TYPE_ID 5 (action) is a note: no direction, its text as subject.
		{Meta: connectors.Meta{ID: "26", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Type: "note",
			Subject: "Document signed\nContract v2", OwnerID: "6", DealID: "37", OccurredAt: utc("2024-09-03T07:00:00Z"), Completed: true},
		// A missed incoming call: SETTINGS.MISSED_CALL, left to call back.
		{Meta: connectors.Meta{ID: "27", UpdatedAt: utc("2024-09-06T07:00:30Z")}, Type: "call", Direction: "inbound",
			Subject: "Missed call from +7 495 000-00-00", OwnerID: "6", ContactID: "75", OccurredAt: utc("2024-09-06T07:00:00Z"),
			DurationS: intp(0), Connected: boolp(false)},
		// Completed after the call back, but the call itself was missed.
		{Meta: connectors.Meta{ID: "28", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "inbound",
			Subject: "Missed call, called back", OwnerID: "6", ContactID: "75", OccurredAt: utc("2024-09-06T08:00:00Z"),
			Completed: true, DurationS: intp(0), Connected: boolp(false)},
		// A planned outgoing call not held (COMPLETED N, SETTINGS an empty
		// PHP array): no conversation yet.
		{Meta: connectors.Meta{ID: "29", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "outbound",
			Subject: "Call back ACME", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-09T07:00:00Z"),
			DurationS: intp(900), Connected: boolp(false)},
		// Neither COMPLETED nor SETTINGS: the CRM does not say.
		{Meta: connectors.Meta{ID: "30", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "outbound",
			Subject: "Call, state unknown", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-06T09:00:00Z")},
		// Without COMPLETED, STATUS says it: 2 completed, 3 auto-completed,
		// 1 pending.
		{Meta: connectors.Meta{ID: "31", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "task", Subject: "#team retro",
			OwnerID: "1", CompanyID: "9", OccurredAt: utc("2024-09-06T15:00:00Z"), Completed: true},
		{Meta: connectors.Meta{ID: "32", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "outbound",
			Subject: "Call, status only", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-06T09:00:00Z"),
			Completed: true, Connected: boolp(true)},
		{Meta: connectors.Meta{ID: "33", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "outbound",
			Subject: "Call planned, status only", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-07T09:00:00Z"),
			Connected: boolp(false)},
		// A provider not known by name: its PROVIDER_TYPE_ID types it, a
		// type not known either is a note.
		{Meta: connectors.Meta{ID: "34", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "call", Direction: "inbound",
			Subject: "App call", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-06T09:00:00Z"), Completed: true, Connected: boolp(true)},
		{Meta: connectors.Meta{ID: "35", UpdatedAt: utc("2024-09-06T09:00:00Z")}, Type: "note",
			Subject: "Invoice", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-06T09:00:00Z"), Completed: true},
	}
	m := testMapper()
	for i, raw := range rows(t, sampleActivities) {
		got, err := m.activity(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[i], got, noRaw); diff != "" {
			t.Errorf("activity %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestMapUsersAndCompanies(t *testing.T) {
	m := testMapper()
	wantUsers := []connectors.User{
		{Meta: connectors.Meta{ID: "1", UpdatedAt: seenT}, Email: "v.valeev@example.com", Name: "Vadim Valeev", Active: true},
		{Meta: connectors.Meta{ID: "6", UpdatedAt: seenT}, Email: "j.smith@example.com", Name: "John Smith"},
		// Without ACTIVE nothing says the user left.
		{Meta: connectors.Meta{ID: "7", UpdatedAt: seenT}, Email: "n.flag@example.com", Name: "No Flag", Active: true},
		{Meta: connectors.Meta{ID: "8", UpdatedAt: seenT}, Name: "Y/N"},
		{Meta: connectors.Meta{ID: "9", UpdatedAt: seenT}, Name: "Null", Active: true},
	}
	for i, raw := range rows(t, sampleUsers) {
		got, err := m.user(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantUsers[i], got, noRaw); diff != "" {
			t.Errorf("user %d (-want +got):\n%s", i, diff)
		}
	}
	for _, tc := range []struct {
		key  string
		want *bool
	}{
		// A boolean UF field ("Y"/"N", "1"/"0"); a list field's item ids,
		// where key_client_values names 47.
		{`"Y"`, boolp(true)}, {`"1"`, boolp(true)}, {`"yes"`, boolp(true)}, {`"true"`, boolp(true)}, {`true`, boolp(true)},
		{`"47"`, boolp(true)}, {`["47"]`, boolp(true)}, {`["46","47"]`, boolp(true)}, {`"48"`, boolp(false)}, {`["48"]`, boolp(false)},
		{`"N"`, boolp(false)}, {`"0"`, boolp(false)}, {`0`, boolp(false)}, {`"off"`, boolp(false)}, {`"Gold"`, boolp(false)},
		{`false`, boolp(false)}, {`""`, boolp(false)}, {`null`, boolp(false)}, {`[]`, boolp(false)},
	} {
		raw := json.RawMessage(`{"ID":"9","TITLE":"ACME","ASSIGNED_BY_ID":"1","DATE_CREATE":"2024-01-01T00:00:00+03:00","DATE_MODIFY":"2024-01-02T00:00:00+03:00","UF_CRM_KEY":` + tc.key + `}`)
		got, err := m.company(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := connectors.Company{Meta: connectors.Meta{ID: "9", UpdatedAt: utc("2024-01-01T21:00:00Z")}, Name: "ACME",
			OwnerID: "1", KeyClient: tc.want, CreatedAt: utc("2023-12-31T21:00:00Z")}
		if diff := cmp.Diff(want, got, noRaw); diff != "" {
			t.Errorf("company with UF_CRM_KEY %s (-want +got):\n%s", tc.key, diff)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-09-09T02:00:00+02:00", utc("2024-09-09T00:00:00Z"), true},
		{"2024-08-26T16:11:36.5+03:00", utc("2024-08-26T13:11:36.5Z"), true},
		{"2024-08-26T16:11:36+0300", utc("2024-08-26T13:11:36Z"), true},
		{"2024-08-26T16:11:36", utc("2024-08-26T13:11:36Z"), true},
		{"2025-11-01 00:00:00", utc("2025-10-31T21:00:00Z"), true},
		{"2024-08-26", utc("2024-08-25T21:00:00Z"), true},
		{"24.08.2023 13:19:39", utc("2023-08-24T10:19:39Z"), true},
		{"", time.Time{}, false},
		{"{}", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		got, ok := parseTime(tc.in, msk)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
