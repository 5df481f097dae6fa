package bitrix24test

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// User fields the seeded world fills; map them in the connector's
// fields: {nps_score: UF_CRM_NPS, nps_date: UF_CRM_NPS_DATE, deal_expense:
// UF_CRM_EXPENSE, key_client: UF_CRM_KEY_CLIENT}.
const (
	FieldNPS       = "UF_CRM_NPS"        // contact, number 0-10
	FieldNPSDate   = "UF_CRM_NPS_DATE"   // contact, date
	FieldExpense   = "UF_CRM_EXPENSE"    // deal, money "1500|RUB"
	FieldKeyClient = "UF_CRM_KEY_CLIENT" // company, boolean "Y"/"N"
)

// SeedConfig sizes a generated world. Zero counts take the defaults in
// brackets; the output depends only on the config (math/rand/v2 PCG) and
// the server's time zone, so a demo built on it can be golden.
type SeedConfig struct {
	Users      int // [6]; user 1 is the admin, the last one is deactivated
	Companies  int // [30]
	Contacts   int // [60]
	Deals      int // [120]
	Activities int // [300]
	Seed       uint64
	// End is the newest timestamp; records spread over the 180 days
	// before it. Default: the server's clock.
	End time.Time
}

// Seed fills the portal with a realistic, deterministic world in the
// reference's wire shapes: users (the last deactivated, ACTIVE false, still
// listed by user.get), a "Renewals" pipeline beside the default one,
// companies, contacts with a WORK e-mail and NPS fields, and deals whose
// CLOSEDATE is what Bitrix24 keeps in it, the planned close date, a local
// midnight often after the day the deal was really won or lost (and after
// End), while MOVED_TIME is the moment it entered its final stage.
// Activities are completed calls in and out, missed incoming calls
// (SETTINGS.MISSED_CALL, left uncompleted to call back), planned outgoing
// calls not held yet, e-mails in and out, meetings, to-dos (some tagged
// "#team") and open-line chats.
func (s *Server) Seed(cfg SeedConfig) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Users, 6)
	def(&cfg.Companies, 30)
	def(&cfg.Contacts, 60)
	def(&cfg.Deals, 120)
	def(&cfg.Activities, 300)
	if cfg.End.IsZero() {
		cfg.End = s.now()
	}
	end := cfg.End.Truncate(time.Second)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x623234))
	span := int64(180 * 24 * 3600)
	at := func() time.Time { return end.Add(-time.Duration(rng.Int64N(span)) * time.Second) }
	// after is a change up to maxDays after t and before end: records
	// are not piled up at end, where a real portal has a change or two a
	// second and an inclusive window re-reads the last second's records.
	after := func(t time.Time, maxDays int) time.Time {
		n := min(int64(maxDays)*24*3600, int64(end.Sub(t)/time.Second))
		return t.Add(time.Duration(rng.Int64N(max(n, 1))) * time.Second)
	}
	pick := func(n int) int { return 1 + rng.IntN(n) }
	// Managers own the records; user 1 (the admin) owns none.
	manager := func() int {
		if cfg.Users == 1 {
			return 1
		}
		return 1 + pick(cfg.Users-1)
	}

	first := []string{"Anna", "Boris", "Olga", "Ivan", "Maria", "Pavel", "Elena", "Sergey"}
	last := []string{"Ivanova", "Petrov", "Sidorova", "Smirnov", "Kuznetsova", "Popov", "Volkova", "Sokolov"}
	users := make([]Record, 0, cfg.Users)
	for i := 1; i <= cfg.Users; i++ {
		users = append(users, Record{"ID": i, "ACTIVE": i == 1 || i < cfg.Users, "NAME": first[(i-1)%len(first)],
			"LAST_NAME": last[(i-1)%len(last)], "EMAIL": fmt.Sprintf("user%d@example.com", i),
			"DATE_REGISTER": end.AddDate(-1, 0, 0), "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee", "TIME_ZONE": ""})
	}
	s.AddMany(Users, users)
	s.AddPipeline(1, "Renewals", 200, "NEW:Renewal due:", "WON:Renewed:S", "LOSE:Churned:F")

	companies := make([]Record, 0, cfg.Companies)
	owners := make([]int, cfg.Companies+1)
	for i := 1; i <= cfg.Companies; i++ {
		created := at()
		owners[i] = manager()
		companies = append(companies, Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "COMPANY_TYPE": "CUSTOMER",
			"ASSIGNED_BY_ID": owners[i], "DATE_CREATE": created, "DATE_MODIFY": after(created, 5),
			FieldKeyClient: []string{"N", "Y"}[rng.IntN(4)/3]})
	}
	s.AddMany(Companies, companies)

	contacts := make([]Record, 0, cfg.Contacts)
	for i := 1; i <= cfg.Contacts; i++ {
		co := pick(cfg.Companies)
		created := at()
		r := Record{"ID": i, "NAME": first[rng.IntN(len(first))], "LAST_NAME": last[rng.IntN(len(last))],
			"COMPANY_ID": co, "ASSIGNED_BY_ID": owners[co], "DATE_CREATE": created, "DATE_MODIFY": created,
			"EMAIL": []any{map[string]any{"ID": fmt.Sprint(1000 + i), "VALUE_TYPE": "WORK", "VALUE": fmt.Sprintf("contact%d@example.com", i), "TYPE_ID": "EMAIL"}}}
		if rng.IntN(3) == 0 {
			answered := after(created, 60)
			r[FieldNPS], r[FieldNPSDate], r["DATE_MODIFY"] = fmt.Sprint(rng.IntN(11)), answered, answered
		}
		contacts = append(contacts, r)
	}
	s.AddMany(Contacts, contacts)

	deals := make([]Record, 0, cfg.Deals)
	for i := 1; i <= cfg.Deals; i++ {
		co := pick(cfg.Companies)
		created := at()
		cat, prefix := 0, ""
		if rng.IntN(4) == 0 {
			cat, prefix = 1, "C1:"
		}
		// The close date a manager planned when the deal was opened.
		planned := created.AddDate(0, 0, 10+rng.IntN(50))
		r := Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "CATEGORY_ID": cat, "OPPORTUNITY": float64(1000 + 100*rng.IntN(200)),
			"CURRENCY_ID": []string{"RUB", "RUB", "RUB", "USD", "EUR"}[rng.IntN(5)], "ASSIGNED_BY_ID": owners[co],
			"COMPANY_ID": co, "CONTACT_ID": pick(cfg.Contacts), "DATE_CREATE": created, "CLOSEDATE": planned,
			"BEGINDATE": created, "PROBABILITY": 50, "IS_MANUAL_OPPORTUNITY": "N"}
		moved := after(created, 40)
		switch rng.IntN(5) {
		case 0, 1: // open, at its first or second stage
			r["STAGE_ID"], r["STAGE_SEMANTIC_ID"], r["CLOSED"] = prefix+"NEW", "P", "N"
			if cat == 0 && rng.IntN(2) == 0 {
				r["STAGE_ID"] = "PREPARATION"
			}
			if r["STAGE_ID"] == prefix+"NEW" {
				moved = created
			}
		case 2, 3:
			r["STAGE_ID"], r["STAGE_SEMANTIC_ID"], r["CLOSED"] = prefix+"WON", "S", "Y"
		default:
			r["STAGE_ID"], r["STAGE_SEMANTIC_ID"], r["CLOSED"] = prefix+"LOSE", "F", "Y"
		}
		r["MOVED_TIME"], r["DATE_MODIFY"] = moved, moved
		if rng.IntN(3) == 0 {
			r[FieldExpense] = fmt.Sprintf("%d|%s", 50*(1+rng.IntN(20)), r["CURRENCY_ID"])
		}
		deals = append(deals, r)
	}
	s.AddMany(Deals, deals)

	acts := make([]Record, 0, cfg.Activities)
	for i := 1; i <= cfg.Activities; i++ {
		co := pick(cfg.Companies)
		start := at()
		ownerType, ownerID := "4", co
		if rng.IntN(2) == 0 {
			ownerType, ownerID = "2", pick(cfg.Deals)
		}
		r := Record{"ID": i, "OWNER_TYPE_ID": ownerType, "OWNER_ID": ownerID, "RESPONSIBLE_ID": owners[co], "AUTHOR_ID": owners[co],
			"CREATED": start, "START_TIME": start, "END_TIME": start, "DEADLINE": start, "LAST_UPDATED": after(start, 1),
			"COMPLETED": "Y", "STATUS": "2", "DIRECTION": "0", "PRIORITY": "2"}
		call := func(dir, subject string, seconds int) {
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"], r["SUBJECT"] = "2", "VOXIMPLANT_CALL", "CALL", dir, subject
			r["END_TIME"] = start.Add(time.Duration(seconds) * time.Second)
			r["ORIGIN_ID"] = fmt.Sprintf("VI_%d.%d", 9000000+i, start.Unix())
		}
		switch k := rng.IntN(20); {
		case k < 4:
			call("2", fmt.Sprintf("Outgoing call Company %d", co), 30+rng.IntN(900))
		case k < 6:
			call("1", fmt.Sprintf("Incoming call Company %d", co), 30+rng.IntN(900))
		case k < 8:
			// Missed: nobody picked up, so Bitrix24 leaves a to-do to
			// call back and flags it.
			call("1", fmt.Sprintf("Missed call Company %d", co), 0)
			r["COMPLETED"], r["STATUS"], r["SETTINGS"] = "N", "1", map[string]any{"MISSED_CALL": true}
		case k < 9:
			// Planned when it was created, for up to a week later (past
			// End for some), and not held yet.
			start = start.Add(time.Duration(1+rng.Int64N(7*24*3600)) * time.Second)
			r["START_TIME"], r["DEADLINE"], r["LAST_UPDATED"] = start, start, r["CREATED"]
			call("2", fmt.Sprintf("Call back Company %d", co), 900)
			r["COMPLETED"], r["STATUS"], r["ORIGIN_ID"] = "N", "1", nil
		case k < 13:
			dir := []string{"1", "2"}[rng.IntN(2)]
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"] = "4", "CRM_EMAIL", "EMAIL", dir
			r["SUBJECT"] = fmt.Sprintf("Re: offer for Company %d", co)
		case k < 15:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"] = "1", "CRM_MEETING", "MEETING"
			r["SUBJECT"], r["END_TIME"] = fmt.Sprintf("Meeting at Company %d", co), start.Add(time.Hour)
		case k < 18:
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"] = "6", "CRM_TODO", "TODO"
			r["SUBJECT"], r["DESCRIPTION"] = "", fmt.Sprintf("Prepare the QBR for Company %d", co)
			if rng.IntN(3) == 0 {
				r["DESCRIPTION"] = fmt.Sprintf("Help the team with the #team offsite (Company %d)", co)
			}
			if rng.IntN(2) == 0 {
				r["COMPLETED"], r["STATUS"] = "N", "1"
			}
		default:
			dir := []string{"1", "2"}[rng.IntN(2)]
			r["TYPE_ID"], r["PROVIDER_ID"], r["PROVIDER_TYPE_ID"], r["DIRECTION"] = "6", "IMOPENLINES_SESSION", "IMOPENLINES_SESSION", dir
			r["SUBJECT"] = fmt.Sprintf("Chat with Company %d", co)
		}
		acts = append(acts, r)
	}
	s.AddMany(Activities, acts)
}

// SeedUniform fills the portal with a small world whose every value
// follows from its position, for tests that count pages and requests:
// users 1 (active) and 6 (dismissed), an "Enterprise" pipeline (category 1)
// beside the default one, and companies, contacts with a WORK e-mail,
// deals and activities numbered from 1, owned by users 1 and 6 in turn.
// Record i of each links to company, contact and deal i, wrapping at their
// counts; deals are new, won (in Enterprise) and lost in turn, worth
// i×100.50 RUB; activities are completed calls and e-mails in turn.
// Record i of n is created and last modified n−i seconds before the
// clock's now, a second apart as a real portal's changes are, not all at
// one second that an inclusive window would read again whole.
func (s *Server) SeedUniform(companies, contacts, deals, activities int) {
	s.AddMany(Users, []Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
	})
	s.AddPipeline(1, "Enterprise", 200, "NEW:New:", "WON:Deal won:S", "LOSE:Deal lost:F")
	var cos, cts, ds, as []Record
	link := func(i, n int) int { return (i-1)%max(n, 1) + 1 }
	now := s.now()
	at := func(i, n int) time.Time { return now.Add(-time.Duration(n-i) * time.Second) }
	for i := 1; i <= max(companies, contacts, deals, activities); i++ {
		owner := []string{"1", "6"}[i%2]
		if i <= companies {
			cos = append(cos, Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": owner,
				"DATE_CREATE": at(i, companies), "DATE_MODIFY": at(i, companies)})
		}
		if i <= contacts {
			cts = append(cts, Record{"ID": i, "NAME": "Contact", "LAST_NAME": fmt.Sprint(i), "COMPANY_ID": link(i, companies), "ASSIGNED_BY_ID": owner,
				"EMAIL":       []any{map[string]any{"ID": fmt.Sprint(1000 + i), "VALUE_TYPE": "WORK", "VALUE": fmt.Sprintf("c%d@example.com", i), "TYPE_ID": "EMAIL"}},
				"DATE_CREATE": at(i, contacts), "DATE_MODIFY": at(i, contacts)})
		}
		if i <= deals {
			stage, sem := []string{"NEW", "C1:WON", "LOSE"}[i%3], []string{"P", "S", "F"}[i%3]
			ds = append(ds, Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "CATEGORY_ID": []string{"0", "1", "0"}[i%3], "STAGE_ID": stage,
				"STAGE_SEMANTIC_ID": sem, "CLOSED": []string{"N", "Y", "Y"}[i%3], "OPPORTUNITY": fmt.Sprintf("%d.50", i*100), "CURRENCY_ID": "RUB",
				"CLOSEDATE": "2024-09-09T00:00:00+03:00", "ASSIGNED_BY_ID": owner, "COMPANY_ID": link(i, companies), "CONTACT_ID": link(i, contacts),
				"DATE_CREATE": at(i, deals), "DATE_MODIFY": at(i, deals)})
		}
		if i <= activities {
			as = append(as, Record{"ID": i, "OWNER_ID": link(i, deals), "OWNER_TYPE_ID": "2", "TYPE_ID": []string{"2", "4"}[i%2],
				"SUBJECT": "Touch", "START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00",
				"DEADLINE": "2024-09-05T13:25:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": owner, "DIRECTION": "2",
				"CREATED": at(i, activities), "LAST_UPDATED": at(i, activities)})
		}
	}
	s.AddMany(Companies, cos)
	s.AddMany(Contacts, cts)
	s.AddMany(Deals, ds)
	s.AddMany(Activities, as)
}
