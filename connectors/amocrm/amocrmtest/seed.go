package amocrmtest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Custom field ids the seeded world uses; map them in the connector's
// fields: {nps_score: "512345", nps_date: "512346", deal_expense: "512399",
// key_client: "512401"}.
const (
	FieldNPS       = 512345 // contact, numeric 0-10
	FieldNPSDate   = 512346 // contact, date (Unix seconds)
	FieldExpense   = 512399 // lead, numeric
	FieldKeyClient = 512401 // company, checkbox
)

// Seeded ids start at these values.
const (
	FirstUserID    = 8000001
	FirstCompanyID = 40400001
	FirstContactID = 50500001
	FirstLeadID    = 20500001
	FirstTaskID    = 9000001
	FirstNoteID    = 7700001
	SalesPipeline  = 7000001
	RenewPipeline  = 7000002
)

// Custom task types the seeded account has besides 1 (follow-up) and 2
// (meeting); ids as the account assigns them.
const (
	TaskTypeProposal   = 2797514 // "Отправить КП"
	TaskTypeOnboarding = 2797515 // "Онбординг"
)

// SeedConfig sizes a generated world. Zero counts take the defaults in
// brackets; the output depends only on the config (math/rand/v2 PCG), so a
// demo built on it can be golden.
type SeedConfig struct {
	Users     int // [8]; the first is the admin, every 7th is inactive
	Companies int // [60]
	Contacts  int // [150]
	Leads     int // [300]
	Tasks     int // [300] of types 1, 2 and the two custom ones
	Notes     int // [400] spread over lead, contact and company notes
	Messages  int // [200] chat message events, half incoming
	Seed      uint64
	// End is the newest timestamp; records spread over the year before it.
	// Default: the server's clock.
	End time.Time
}

// Seed fills the account with a realistic, deterministic world: users
// (every 7th deactivated), two pipelines (with the system stages 142/143),
// companies, contacts with e-mail, phone and NPS fields, leads with
// companies, main contacts, prices and expenses, tasks of task_type_id 1
// (follow-up), 2 (meeting) and two custom types (TaskTypeProposal,
// TaskTypeOnboarding, named in account?with=task_types), some "#team";
// notes: calls in and out (most talked, call_status 4; about one in four
// not answered, 6, or busy, 7), mail, SMS in and out (sms_in / sms_out with
// params text and phone), common and service notes; and chat message
// events, incoming and outgoing.
func (s *Server) Seed(cfg SeedConfig) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Users, 8)
	def(&cfg.Companies, 60)
	def(&cfg.Contacts, 150)
	def(&cfg.Leads, 300)
	def(&cfg.Tasks, 300)
	def(&cfg.Notes, 400)
	def(&cfg.Messages, 200)
	if cfg.End.IsZero() {
		cfg.End = s.now()
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x616d6f))
	end := cfg.End.Unix()
	year := int64(365 * 24 * 3600)
	ts := func() int64 { return end - rng.Int64N(year) }
	// later is a last change up to 30 days after t, before end; records
	// are not piled up at end, where a real account has a change or two.
	later := func(t int64) int64 { return t + rng.Int64N(max(min(30*24*3600, end-t), 1)) }
	user := func() int64 { return FirstUserID + rng.Int64N(int64(cfg.Users)) }

	first := []string{"Anna", "Boris", "Olga", "Ivan", "Maria", "Pavel", "Elena", "Sergey", "Nina", "Oleg"}
	last := []string{"Ivanova", "Petrov", "Sidorova", "Smirnov", "Kuznetsova", "Popov", "Volkova", "Sokolov"}
	for i := range cfg.Users {
		id := int64(FirstUserID + i)
		name := first[i%len(first)] + " " + last[i%len(last)]
		s.Put(Users, Object{
			"id": id, "name": name, "email": fmt.Sprintf("user%d@example.com", i+1), "lang": "ru",
			"rights": Object{"is_admin": i == 0, "is_free": false, "is_active": i%7 != 6, "group_id": nil, "role_id": nil},
		})
	}
	s.SetTaskTypes([]Object{TaskType(1, "Связаться"), TaskType(2, "Встреча"),
		TaskType(TaskTypeProposal, "Отправить КП"), TaskType(TaskTypeOnboarding, "Онбординг")})
	s.SetPipelines([]Object{
		Pipeline(SalesPipeline, "Sales", Stage{61000001, "Incoming"}, Stage{61000002, "Qualified"}, Stage{61000003, "Proposal"}),
		Pipeline(RenewPipeline, "Renewals", Stage{62000001, "Incoming"}, Stage{62000002, "Negotiation"}),
	})
	for i := range cfg.Companies {
		c := ts()
		o := Object{
			"id": FirstCompanyID + i, "name": fmt.Sprintf("Company %03d LLC", i+1), "responsible_user_id": user(),
			"group_id": 0, "created_by": user(), "updated_by": 0, "created_at": c, "updated_at": later(c),
			"closest_task_at": nil, "_embedded": Object{"tags": []any{}},
		}
		if i%5 == 0 {
			o["custom_fields_values"] = []any{Object{"field_id": FieldKeyClient, "field_name": "Key client", "field_code": nil,
				"field_type": "checkbox", "values": []any{Object{"value": true}}}}
		}
		s.Put(Companies, o)
	}
	for i := range cfg.Contacts {
		c := ts()
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		cf := []any{
			Object{"field_id": 100001, "field_name": "Phone", "field_code": "PHONE", "field_type": "multitext",
				"values": []any{Object{"value": fmt.Sprintf("+7999%07d", i+1), "enum_id": 200001, "enum_code": "WORK"}}},
			Object{"field_id": 100002, "field_name": "Email", "field_code": "EMAIL", "field_type": "multitext",
				"values": []any{Object{"value": fmt.Sprintf("contact%d@client.example", i+1), "enum_id": 200011, "enum_code": "WORK"}}},
		}
		if i%3 == 0 {
			cf = append(cf,
				Object{"field_id": FieldNPS, "field_name": "NPS", "field_code": nil, "field_type": "numeric",
					"values": []any{Object{"value": fmt.Sprint(rng.IntN(11))}}},
				Object{"field_id": FieldNPSDate, "field_name": "NPS date", "field_code": nil, "field_type": "date",
					"values": []any{Object{"value": later(c)}}})
		}
		comps := []any{}
		if i%4 != 3 && cfg.Companies > 0 {
			comps = append(comps, Object{"id": FirstCompanyID + rng.IntN(cfg.Companies)})
		}
		s.Put(Contacts, Object{
			"id": FirstContactID + i, "name": fn + " " + ln, "first_name": fn, "last_name": ln,
			"responsible_user_id": user(), "group_id": 0, "created_by": user(), "updated_by": 0,
			"created_at": c, "updated_at": later(c), "closest_task_at": nil, "is_unsorted": false,
			"custom_fields_values": cf, "_embedded": Object{"tags": []any{}, "companies": comps},
		})
	}
	for i := range cfg.Leads {
		c := ts()
		pipe, statuses := int64(SalesPipeline), []int64{61000001, 61000002, 61000003, 142, 142, 143}
		if i%4 == 0 {
			pipe, statuses = RenewPipeline, []int64{62000001, 62000002, 142, 143}
		}
		st := statuses[rng.IntN(len(statuses))]
		upd := later(c)
		var closed any
		if st == 142 || st == 143 {
			closed = upd
		}
		comps, conts := []any{}, []any{}
		if cfg.Companies > 0 && i%5 != 4 {
			comps = append(comps, Object{"id": FirstCompanyID + rng.IntN(cfg.Companies)})
		}
		if cfg.Contacts > 0 {
			conts = append(conts, Object{"id": FirstContactID + rng.IntN(cfg.Contacts), "is_main": true})
			if i%3 == 0 {
				conts = append(conts, Object{"id": FirstContactID + rng.IntN(cfg.Contacts), "is_main": false})
			}
		}
		var cf any
		if i%2 == 0 {
			cf = []any{Object{"field_id": FieldExpense, "field_name": "Expense", "field_code": nil, "field_type": "numeric",
				"values": []any{Object{"value": fmt.Sprint(rng.IntN(20) * 1000)}}}}
		}
		s.Put(Leads, Object{
			"id": FirstLeadID + i, "name": fmt.Sprintf("Order #%d", 1000+i), "price": rng.IntN(50) * 10000,
			"responsible_user_id": user(), "group_id": 0, "status_id": st, "pipeline_id": pipe,
			"loss_reason_id": nil, "created_by": user(), "updated_by": user(), "created_at": c, "updated_at": upd,
			"closed_at": closed, "closest_task_at": nil, "custom_fields_values": cf, "score": nil,
			"_embedded": Object{"tags": []any{}, "companies": comps, "contacts": conts},
		})
	}
	entity := func() (string, int64) {
		switch rng.IntN(3) {
		case 0:
			if cfg.Leads > 0 {
				return "leads", FirstLeadID + rng.Int64N(int64(cfg.Leads))
			}
		case 1:
			if cfg.Contacts > 0 {
				return "contacts", FirstContactID + rng.Int64N(int64(cfg.Contacts))
			}
		}
		if cfg.Companies > 0 {
			return "companies", FirstCompanyID + rng.Int64N(int64(cfg.Companies))
		}
		return "leads", FirstLeadID
	}
	texts := []string{"Call back", "Send proposal", "Demo meeting", "Quarterly review #team", "Prepare contract", "Onboarding #team"}
	for i := range cfg.Tasks {
		c := ts()
		et, eid := entity()
		typ := []int64{1, 2, TaskTypeProposal, TaskTypeOnboarding}[rng.IntN(4)]
		done := rng.IntN(3) != 0
		var result any = []any{}
		if done {
			result = Object{"text": "Done"}
		}
		dur := 0
		if typ == 2 {
			dur = 3600
		}
		s.Put(Tasks, Object{
			"id": FirstTaskID + i, "created_by": user(), "updated_by": user(), "created_at": c, "updated_at": later(c),
			"responsible_user_id": user(), "group_id": 0, "entity_id": eid, "entity_type": et, "duration": dur,
			"is_completed": done, "task_type_id": typ, "text": texts[rng.IntN(len(texts))], "result": result,
			"complete_till": c + rng.Int64N(14*24*3600),
		})
	}
	for i := range cfg.Notes {
		c := ts()
		et, eid := entity()
		col := map[string]Entity{"leads": LeadNotes, "contacts": ContactNotes, "companies": CompanyNotes}[et]
		var typ string
		var params Object
		call := func(in bool) {
			typ = "call_out"
			if in {
				typ = "call_in"
			}
			status, dur := 4, rng.IntN(600)
			switch rng.IntN(8) {
			case 0, 1:
				status, dur = 6, 0 // no answer
			case 2:
				status, dur = 7, 0 // busy
			}
			params = Object{"uniq": fmt.Sprintf("u%d", i), "duration": dur, "source": "telephony", "link": "",
				"phone": fmt.Sprintf("+7999%07d", 1+rng.IntN(max(cfg.Contacts, 1))), "call_result": "", "call_status": status}
		}
		switch rng.IntN(7) {
		case 0:
			call(true)
		case 1:
			call(false)
		case 2:
			typ, params = "amomail_message", Object{"income": rng.IntN(2) == 0, "subject": "Re: proposal", "content_summary": "Thanks", "thread_id": i, "message_id": i, "private": false, "from": Object{"email": "a@example.com", "name": "A"}, "to": Object{"email": "b@example.com", "name": "B"}, "attach_cnt": 0}
		case 3:
			typ, params = "common", Object{"text": "Client asked for a discount"}
		case 4:
			typ, params = "sms_in", Object{"text": "Когда будет счёт?", "phone": fmt.Sprintf("+7999%07d", 1+rng.IntN(max(cfg.Contacts, 1)))}
		case 5:
			typ, params = "sms_out", Object{"text": "Счёт отправлен на почту", "phone": fmt.Sprintf("+7999%07d", 1+rng.IntN(max(cfg.Contacts, 1)))}
		default:
			typ, params = "service_message", Object{"service": "Robot", "text": "Stage changed"}
		}
		s.Put(col, Object{
			"id": FirstNoteID + i, "entity_id": eid, "created_by": user(), "updated_by": user(), "created_at": c,
			"updated_at": c, "responsible_user_id": user(), "group_id": 0, "note_type": typ, "is_pinned": false, "params": params,
		})
	}
	for i := range cfg.Messages {
		et, eid := entity()
		typ, by := "incoming_chat_message", int64(0)
		if i%2 == 1 {
			typ, by = "outgoing_chat_message", user()
		}
		singular := map[string]string{"leads": "lead", "contacts": "contact", "companies": "company"}[et]
		s.AddEvent(Object{
			"id": fmt.Sprintf("01hzseed%018x", i+1), "type": typ, "entity_id": eid, "entity_type": singular, "created_by": by, "created_at": ts(),
			"value_after": []any{Object{"message": Object{"id": fmt.Sprintf("m-%d", i), "origin": "telegram", "talk_id": i}}},
		})
	}
}
