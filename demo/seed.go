package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// Custom fields the demo maps in the config. HubSpot's are its built-in NPS
// properties and two portal properties; amoCRM's are custom field ids;
// Bitrix24's are user fields (UF_CRM_*).
const (
	HubSpotNPS       = "hs_feedback_last_nps_rating"
	HubSpotNPSDate   = "hs_feedback_last_survey_date"
	HubSpotExpense   = "cost_of_sale"
	HubSpotKeyClient = "key_account"
	AmoNPS           = amocrmtest.FieldNPS
	AmoNPSDate       = amocrmtest.FieldNPSDate
	AmoExpense       = amocrmtest.FieldExpense
	BitrixNPS        = "UF_CRM_NPS"
	BitrixNPSDate    = "UF_CRM_NPS_DATE"
	BitrixExpense    = "UF_CRM_EXPENSE"
)

// hubSpotPortalCurrency is the demo portal's company currency, which
// /account-info/v3/details reports.
const hubSpotPortalCurrency = "EUR"

const (
	amoSalesPipeline = amocrmtest.SalesPipeline
	amoRenewPipeline = amocrmtest.RenewPipeline
)

// seedHubSpot loads w's HubSpot part into s in HubSpot's shape: owners,
// the default pipelines (new business in "Sales Pipeline", repeat business
// in "Renewals"), records with string properties, and associations.
func seedHubSpot(s *hubspottest.Server, w *World) error {
	for _, m := range w.Managers {
		a, ok := m.Account(HubSpot)
		if !ok {
			continue
		}
		s.AddOwner(hubspottest.Owner{
			ID: a.UserID, Email: a.Email, FirstName: a.First, LastName: a.Last, UserID: 9_100_000 + atoi(a.UserID)%1000,
			Type: "PERSON", CreatedAt: w.Start.AddDate(0, -6, 0), UpdatedAt: w.Start, Archived: !a.Active,
			Teams: []hubspottest.Team{{ID: "4410" + strconv.Itoa(len(m.Team)), Name: m.Team, Primary: true}},
		})
	}
	s.SetPipelines(hubspottest.DefaultPipelines()...)

	var companies, contacts, deals []hubspottest.Record
	acts := map[string][]hubspottest.Record{}
	type link struct {
		from, fid, to, tid string
		primary            bool
	}
	var links []link
	for _, c := range w.Companies {
		if c.CRM != HubSpot {
			continue
		}
		key := "false"
		if c.KeyClient {
			key = "true"
		}
		companies = append(companies, hubspottest.Record{ID: c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt.Add(time.Hour),
			Properties: map[string]string{"name": c.Name, "domain": c.Domain, "hubspot_owner_id": c.OwnerID, HubSpotKeyClient: key}})
	}
	for _, c := range w.Contacts {
		if c.CRM != HubSpot {
			continue
		}
		p := map[string]string{"firstname": c.First, "lastname": c.Last, "email": c.Email, "hubspot_owner_id": c.OwnerID}
		upd := c.CreatedAt
		if c.NPS != nil {
			p[HubSpotNPS] = strconv.Itoa(*c.NPS)
			p[HubSpotNPSDate] = hubspottest.FormatTime(c.NPSAt)
			upd = c.NPSAt
		}
		contacts = append(contacts, hubspottest.Record{ID: c.ID, CreatedAt: c.CreatedAt, UpdatedAt: upd, Properties: p})
		links = append(links, link{hubspottest.Contacts, c.ID, hubspottest.Companies, c.CompanyID, true})
	}
	for _, d := range w.Deals {
		if d.CRM != HubSpot {
			continue
		}
		pipeline := "default"
		if d.Pipeline == "renewal" {
			pipeline = "98765432"
		}
		closeDate := d.ClosedAt
		if d.Status == StatusOpen {
			closeDate = d.ExpectedAt // the forecast close date
		}
		p := map[string]string{
			"dealname": d.Name, "pipeline": pipeline, "dealstage": d.Stage, "amount": money(d.Amount),
			"deal_currency_code": d.Currency, "hubspot_owner_id": d.OwnerID, "closedate": hubspottest.FormatTime(closeDate),
			"hs_is_closed": strconv.FormatBool(d.Status != StatusOpen), "hs_is_closed_won": strconv.FormatBool(d.Status == StatusWon),
		}
		if d.Currency == hubSpotPortalCurrency && atoi(d.ID)%2 == 0 {
			// A deal in the portal's own currency often has no currency
			// code: the connector reads the portal's from its account.
			delete(p, "deal_currency_code")
		}
		if d.Expense != nil {
			p[HubSpotExpense] = money(*d.Expense)
		}
		r := hubspottest.Record{ID: d.ID, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Properties: p}
		if d.Deleted {
			r.Archived, r.ArchivedAt = true, d.UpdatedAt.Add(time.Minute)
		}
		deals = append(deals, r)
		links = append(links, link{hubspottest.Deals, d.ID, hubspottest.Companies, d.CompanyID, true})
		if d.ContactID != "" {
			links = append(links, link{hubspottest.Deals, d.ID, hubspottest.Contacts, d.ContactID, false})
		}
	}
	for _, a := range w.Activities {
		if a.CRM != HubSpot {
			continue
		}
		ts := hubspottest.FormatTime(a.At)
		p := map[string]string{"hs_timestamp": ts, "hubspot_owner_id": a.OwnerID}
		var typ string
		switch a.Type {
		case Call:
			typ = hubspottest.Calls
			p["hs_call_direction"] = map[string]string{Inbound: "INBOUND", Outbound: "OUTBOUND"}[a.Direction]
			p["hs_call_duration"] = strconv.Itoa(a.DurationS * 1000)
			p["hs_call_status"] = "COMPLETED"
			if a.Connected != nil && !*a.Connected {
				p["hs_call_status"] = "NO_ANSWER"
				p["hs_call_disposition"] = "73a0d17f-1163-4015-bdd5-ec830791da20" // HubSpot's "No answer" outcome
			} else if atoi(a.ID)%3 == 0 {
				p["hs_call_disposition"] = "f240bbac-87c9-4f6e-bf70-924b57d47db7" // "Connected"
			}
			p["hs_call_title"] = a.Subject
		case Email:
			typ = hubspottest.Emails
			p["hs_email_direction"] = map[string]string{Inbound: "INCOMING_EMAIL", Outbound: "EMAIL"}[a.Direction]
			p["hs_email_subject"] = a.Subject
			p["hs_email_status"] = "SENT"
		case Meeting:
			typ = hubspottest.Meetings
			p["hs_meeting_title"] = a.Subject
			p["hs_meeting_start_time"] = ts
			p["hs_meeting_end_time"] = hubspottest.FormatTime(a.At.Add(time.Duration(a.DurationS) * time.Second))
			p["hs_meeting_outcome"] = "COMPLETED"
		case Note:
			typ = hubspottest.Notes
			p["hs_note_body"] = a.Subject
		case Task:
			typ = hubspottest.Tasks
			p["hs_task_subject"] = a.Subject
			p["hs_task_status"] = "NOT_STARTED"
			if a.Completed {
				p["hs_task_status"] = "COMPLETED"
			}
			p["hs_task_type"] = "TODO"
			if a.Body != "" {
				p["hs_task_body"] = a.Body
			}
		default:
			return fmt.Errorf("hubspot has no %s activities", a.Type)
		}
		acts[typ] = append(acts[typ], hubspottest.Record{ID: a.ID, CreatedAt: a.At, UpdatedAt: minTime(a.At.Add(time.Minute), w.Now), Properties: p})
		for _, l := range []struct{ to, id string }{{hubspottest.Companies, a.CompanyID}, {hubspottest.Contacts, a.ContactID}, {hubspottest.Deals, a.DealID}} {
			if l.id != "" {
				links = append(links, link{typ, a.ID, l.to, l.id, false})
			}
		}
	}
	for _, l := range []struct {
		typ  string
		recs []hubspottest.Record
	}{{hubspottest.Companies, companies}, {hubspottest.Contacts, contacts}, {hubspottest.Deals, deals}} {
		if err := s.Load(l.typ, l.recs...); err != nil {
			return fmt.Errorf("load hubspot %s: %w", l.typ, err)
		}
	}
	for _, typ := range []string{hubspottest.Calls, hubspottest.Emails, hubspottest.Meetings, hubspottest.Notes, hubspottest.Tasks} {
		if err := s.Load(typ, acts[typ]...); err != nil {
			return fmt.Errorf("load hubspot %s: %w", typ, err)
		}
	}
	for _, l := range links {
		var types []hubspottest.AssociationType
		if l.primary {
			types = []hubspottest.AssociationType{hubspottest.Primary(l.from)}
		}
		if err := s.Associate(l.from, l.fid, l.to, l.tid, types...); err != nil {
			return fmt.Errorf("associate hubspot %s %s with %s %s: %w", l.from, l.fid, l.to, l.tid, err)
		}
	}
	return nil
}

// seedAmo loads w's amoCRM part into s in amoCRM's shape: users with
// rights, two pipelines with the system stages 142/143, companies, contacts
// and leads with custom fields and _embedded links, tasks, notes and chat
// message events.
func seedAmo(s *amocrmtest.Server, w *World) {
	for _, m := range w.Managers {
		a, ok := m.Account(AmoCRM)
		if !ok {
			continue
		}
		s.Put(amocrmtest.Users, amocrmtest.Object{
			"id": atoi(a.UserID), "name": a.First + " " + a.Last, "email": a.Email, "lang": "ru",
			"rights": amocrmtest.Object{"is_admin": false, "is_free": false, "is_active": a.Active, "group_id": nil, "role_id": nil},
		})
	}
	s.SetTaskTypes([]amocrmtest.Object{amocrmtest.TaskType(1, "Follow-up"), amocrmtest.TaskType(2, "Meeting"),
		amocrmtest.TaskType(AmoTeamTaskType, "Team initiative")})
	s.SetPipelines([]amocrmtest.Object{
		amocrmtest.Pipeline(amoSalesPipeline, "New business", amocrmtest.Stage{ID: 61000001, Name: "Incoming"},
			amocrmtest.Stage{ID: 61000002, Name: "Qualified"}, amocrmtest.Stage{ID: 61000003, Name: "Proposal"}),
		amocrmtest.Pipeline(amoRenewPipeline, "Renewals", amocrmtest.Stage{ID: 62000001, Name: "Renewal due"},
			amocrmtest.Stage{ID: 62000002, Name: "Negotiation"}),
	})
	companyContacts := map[string][]any{}
	for _, c := range w.Companies {
		if c.CRM != AmoCRM {
			continue
		}
		s.Put(amocrmtest.Companies, amocrmtest.Object{
			"id": atoi(c.ID), "name": c.Name, "responsible_user_id": atoi(c.OwnerID), "group_id": 0,
			"created_by": atoi(c.OwnerID), "updated_by": 0, "created_at": c.CreatedAt.Unix(), "updated_at": c.CreatedAt.Add(time.Hour).Unix(),
			"closest_task_at": nil, "custom_fields_values": nil, "_embedded": amocrmtest.Object{"tags": []any{}},
		})
	}
	for _, c := range w.Contacts {
		if c.CRM != AmoCRM {
			continue
		}
		cf := []any{amocrmtest.Object{"field_id": 100002, "field_name": "Email", "field_code": "EMAIL", "field_type": "multitext",
			"values": []any{amocrmtest.Object{"value": c.Email, "enum_id": 200011, "enum_code": "WORK"}}}}
		upd := c.CreatedAt
		if c.NPS != nil {
			cf = append(cf,
				amocrmtest.Object{"field_id": AmoNPS, "field_name": "NPS", "field_code": nil, "field_type": "numeric",
					"values": []any{amocrmtest.Object{"value": strconv.Itoa(*c.NPS)}}},
				amocrmtest.Object{"field_id": AmoNPSDate, "field_name": "NPS date", "field_code": nil, "field_type": "date",
					"values": []any{amocrmtest.Object{"value": c.NPSAt.Unix()}}})
			upd = c.NPSAt
		}
		comps := []any{}
		if c.CompanyID != "" {
			comps = append(comps, amocrmtest.Object{"id": atoi(c.CompanyID)})
			companyContacts[c.CompanyID] = append(companyContacts[c.CompanyID], atoi(c.ID))
		}
		s.Put(amocrmtest.Contacts, amocrmtest.Object{
			"id": atoi(c.ID), "name": c.First + " " + c.Last, "first_name": c.First, "last_name": c.Last,
			"responsible_user_id": atoi(c.OwnerID), "group_id": 0, "created_by": atoi(c.OwnerID), "updated_by": 0,
			"created_at": c.CreatedAt.Unix(), "updated_at": upd.Unix(), "closest_task_at": nil, "is_unsorted": false,
			"custom_fields_values": cf, "_embedded": amocrmtest.Object{"tags": []any{}, "companies": comps},
		})
	}
	var deleted []int64
	for _, d := range w.Deals {
		if d.CRM != AmoCRM {
			continue
		}
		pipe, status, _ := strings.Cut(d.Stage, ":")
		var closed any
		if !d.ClosedAt.IsZero() {
			closed = d.ClosedAt.Unix()
		}
		comps, conts := []any{}, []any{}
		if d.CompanyID != "" {
			comps = append(comps, amocrmtest.Object{"id": atoi(d.CompanyID)})
		}
		if d.ContactID != "" {
			conts = append(conts, amocrmtest.Object{"id": atoi(d.ContactID), "is_main": true})
		}
		var cf any
		if d.Expense != nil {
			cf = []any{amocrmtest.Object{"field_id": AmoExpense, "field_name": "Expense", "field_code": nil, "field_type": "numeric",
				"values": []any{amocrmtest.Object{"value": money(*d.Expense)}}}}
		}
		s.Put(amocrmtest.Leads, amocrmtest.Object{
			"id": atoi(d.ID), "name": d.Name, "price": int64(d.Amount), "responsible_user_id": atoi(d.OwnerID), "group_id": 0,
			"status_id": atoi(status), "pipeline_id": atoi(pipe), "loss_reason_id": nil, "created_by": atoi(d.OwnerID),
			"updated_by": atoi(d.OwnerID), "created_at": d.CreatedAt.Unix(), "updated_at": d.UpdatedAt.Unix(),
			"closed_at": closed, "closest_task_at": nil, "custom_fields_values": cf, "score": nil,
			"_embedded": amocrmtest.Object{"tags": []any{}, "companies": comps, "contacts": conts},
		})
		if d.Deleted {
			deleted = append(deleted, atoi(d.ID))
		}
	}
	for _, id := range deleted {
		s.Delete(amocrmtest.Leads, id)
	}
	for _, a := range w.Activities {
		if a.CRM != AmoCRM {
			continue
		}
		entity, eid := amoEntity(a)
		kind, id, _ := strings.Cut(a.ID, ":")
		switch kind {
		case "task":
			typ := a.TaskType
			var result any = []any{}
			if a.Completed {
				result = amocrmtest.Object{"text": "Done"}
			}
			created := a.At.Add(-48 * time.Hour)
			s.Put(amocrmtest.Tasks, amocrmtest.Object{
				"id": atoi(id), "created_by": atoi(a.OwnerID), "updated_by": atoi(a.OwnerID), "created_at": created.Unix(),
				"updated_at": minTime(a.At.Add(time.Hour), w.Now).Unix(), "responsible_user_id": atoi(a.OwnerID), "group_id": 0,
				"entity_id": eid, "entity_type": entity, "duration": a.DurationS, "is_completed": a.Completed,
				"task_type_id": typ, "text": a.Subject, "result": result, "complete_till": a.At.Unix(),
			})
		case "note":
			var typ string
			var params amocrmtest.Object
			switch a.Type {
			case Call:
				typ = "call_out"
				if a.Direction == Inbound {
					typ = "call_in"
				}
				status := 4 // talked
				if a.Connected != nil && !*a.Connected {
					status = 6 // no answer
				}
				params = amocrmtest.Object{"uniq": a.ID, "duration": a.DurationS, "source": "telephony", "link": "",
					"phone": "+74950000000", "call_result": a.Subject, "call_status": status}
			case Message:
				typ = "sms_out"
				if a.Direction == Inbound {
					typ = "sms_in"
				}
				params = amocrmtest.Object{"text": a.Subject, "phone": "+79990000001"}
			case Email:
				typ = "amomail_message"
				params = amocrmtest.Object{"income": a.Direction == Inbound, "subject": a.Subject, "content_summary": a.Subject,
					"thread_id": atoi(id), "message_id": atoi(id), "private": false,
					"from": amocrmtest.Object{"email": "client@example.com", "name": "Client"}, "to": amocrmtest.Object{"email": "manager@example.com", "name": "Manager"}, "attach_cnt": 0}
			default:
				typ, params = "common", amocrmtest.Object{"text": a.Subject}
			}
			col := map[string]amocrmtest.Entity{"leads": amocrmtest.LeadNotes, "contacts": amocrmtest.ContactNotes, "companies": amocrmtest.CompanyNotes}[entity]
			s.Put(col, amocrmtest.Object{
				"id": atoi(id), "entity_id": eid, "created_by": atoi(a.OwnerID), "updated_by": atoi(a.OwnerID),
				"created_at": a.At.Unix(), "updated_at": a.At.Unix(), "responsible_user_id": atoi(a.OwnerID), "group_id": 0,
				"note_type": typ, "is_pinned": false, "params": params,
			})
		case "event":
			typ, by := "outgoing_chat_message", atoi(a.OwnerID)
			if a.Direction == Inbound {
				typ, by = "incoming_chat_message", 0
			}
			s.AddEvent(amocrmtest.Object{
				"id": id, "type": typ, "entity_id": eid, "entity_type": map[string]string{"leads": "lead", "contacts": "contact", "companies": "company"}[entity],
				"created_by": by, "created_at": a.At.Unix(),
				"value_after": []any{amocrmtest.Object{"message": amocrmtest.Object{"id": "m-" + id, "origin": "telegram", "talk_id": atoi(a.OwnerID)}}},
			})
		}
	}
}

// amoEntity is the one record an amoCRM activity hangs on.
func amoEntity(a Activity) (string, int64) {
	switch {
	case a.DealID != "":
		return "leads", atoi(a.DealID)
	case a.ContactID != "":
		return "contacts", atoi(a.ContactID)
	}
	return "companies", atoi(a.CompanyID)
}

// seedBitrix loads w's Bitrix24 part into s in Bitrix24's shape: users, a
// "Renewals" deal category beside the default one, and crm.* rows with
// numbers as strings and user fields.
func seedBitrix(s *bitrix24test.Server, w *World) {
	var users []bitrix24test.Record
	for _, a := range w.Admins {
		users = append(users, bitrixUser(a))
	}
	for _, m := range w.Managers {
		if a, ok := m.Account(Bitrix24); ok {
			users = append(users, bitrixUser(a))
		}
	}
	s.AddMany(bitrix24test.Users, users)
	s.AddPipeline(1, "Renewals", 200, "NEW:Renewal due:", "WON:Renewed:S", "LOSE:Churned:F")

	var rows []bitrix24test.Record
	for _, c := range w.Companies {
		if c.CRM == Bitrix24 {
			rows = append(rows, bitrix24test.Record{"ID": c.ID, "TITLE": c.Name, "COMPANY_TYPE": "CUSTOMER", "ASSIGNED_BY_ID": c.OwnerID,
				"DATE_CREATE": c.CreatedAt, "DATE_MODIFY": c.CreatedAt.Add(time.Hour), "CURRENCY_ID": c.Currency})
		}
	}
	s.AddMany(bitrix24test.Companies, rows)
	rows = nil
	for _, c := range w.Contacts {
		if c.CRM != Bitrix24 {
			continue
		}
		r := bitrix24test.Record{"ID": c.ID, "NAME": c.First, "LAST_NAME": c.Last, "COMPANY_ID": c.CompanyID, "ASSIGNED_BY_ID": c.OwnerID,
			"DATE_CREATE": c.CreatedAt, "DATE_MODIFY": c.CreatedAt,
			"EMAIL": []any{map[string]any{"ID": "9" + c.ID, "VALUE_TYPE": "WORK", "VALUE": c.Email, "TYPE_ID": "EMAIL"}}}
		if c.NPS != nil {
			r[BitrixNPS] = strconv.Itoa(*c.NPS)
			r[BitrixNPSDate] = c.NPSAt
			r["DATE_MODIFY"] = c.NPSAt
		}
		rows = append(rows, r)
	}
	s.AddMany(bitrix24test.Contacts, rows)
	rows = nil
	for _, d := range w.Deals {
		if d.CRM != Bitrix24 {
			continue
		}
		category := "0"
		if d.Pipeline == "renewal" {
			category = "1"
		}
		r := bitrix24test.Record{"ID": d.ID, "TITLE": d.Name, "CATEGORY_ID": category, "STAGE_ID": d.Stage,
			"STAGE_SEMANTIC_ID": map[string]string{StatusOpen: "P", StatusWon: "S", StatusLost: "F"}[d.Status],
			"CLOSED":            "N", "OPPORTUNITY": d.Amount, "CURRENCY_ID": d.Currency, "ASSIGNED_BY_ID": d.OwnerID,
			"COMPANY_ID": d.CompanyID, "CONTACT_ID": d.ContactID, "DATE_CREATE": d.CreatedAt, "DATE_MODIFY": d.UpdatedAt,
			"CLOSEDATE": d.ExpectedAt, "MOVED_TIME": d.UpdatedAt}
		if d.Status != StatusOpen {
			// CLOSEDATE is the planned date, at local midnight, kept from
			// the plan; MOVED_TIME is when the deal entered its final
			// stage, the close time.
			r["CLOSED"], r["CLOSEDATE"], r["MOVED_TIME"] = "Y", plannedClose(d), d.ClosedAt
		}
		if d.Expense != nil {
			r[BitrixExpense] = money(*d.Expense) + "|" + d.Currency
		}
		rows = append(rows, r)
	}
	s.AddMany(bitrix24test.Deals, rows)
	rows = nil
	for _, a := range w.Activities {
		if a.CRM != Bitrix24 {
			continue
		}
		ownerType, ownerID := "4", a.CompanyID
		switch {
		case a.DealID != "":
			ownerType, ownerID = "2", a.DealID
		case a.ContactID != "":
			ownerType, ownerID = "3", a.ContactID
		}
		end := a.At.Add(time.Duration(a.DurationS) * time.Second)
		r := bitrix24test.Record{"ID": a.ID, "OWNER_ID": ownerID, "OWNER_TYPE_ID": ownerType, "SUBJECT": a.Subject,
			"START_TIME": a.At, "END_TIME": end, "DEADLINE": a.At, "COMPLETED": yn(a.Completed), "STATUS": "1",
			"RESPONSIBLE_ID": a.OwnerID, "CREATED": a.At.Add(-time.Hour), "LAST_UPDATED": minTime(a.At.Add(time.Minute), w.Now)}
		if a.Completed {
			r["STATUS"] = "2"
		}
		dir := map[string]string{Inbound: "1", Outbound: "2", "": "0"}[a.Direction]
		switch a.Type {
		case Meeting:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"] = "1", "CRM_MEETING", "MEETING"
		case Call:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"] = "2", "VOXIMPLANT_CALL", "CALL", dir
			if a.Connected != nil && !*a.Connected && a.Direction == Inbound {
				r["SETTINGS"] = map[string]any{"MISSED_CALL": true}
			}
		case Email:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"] = "4", "CRM_EMAIL", "EMAIL", dir
		case Message:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"] = "6", "IMOPENLINES_SESSION", "IMOPENLINES_SESSION", dir
		case Task:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"] = "6", "CRM_TODO", "TODO"
			r["START_TIME"], r["END_TIME"] = nil, nil
		default:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"] = "6", "CRM_COMMENT", "COMMENT"
		}
		if a.Type != Call && a.Type != Meeting {
			// Only calls and meetings have a duration in Bitrix24.
			r["END_TIME"] = a.At
		}
		rows = append(rows, r)
	}
	s.AddMany(bitrix24test.Activities, rows)
}

// plannedClose is a closed deal's close date as Bitrix24 keeps it: a date
// at local midnight, the day of the close or a plan up to two weeks later
// that the deal beat (the connector then takes the moment it was won, so
// the world's close times hold). A plan earlier than the close would be
// the CRM's close date, and the deal's close in every KPI.
func plannedClose(d Deal) time.Time {
	msk := time.FixedZone("MSK", 3*3600)
	l := d.ClosedAt.In(msk).AddDate(0, 0, int(atoi(d.ID)%15))
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, msk)
}

func bitrixUser(a Account) bitrix24test.Record {
	return bitrix24test.Record{"ID": a.UserID, "ACTIVE": a.Active, "NAME": a.First, "LAST_NAME": a.Last, "EMAIL": a.Email,
		"UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"}
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// money renders an amount as CRMs send it: no decimals when whole.
func money(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
