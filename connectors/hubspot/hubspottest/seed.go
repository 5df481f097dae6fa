package hubspottest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// World sizes a seeded data set. Zero counts take the defaults shown.
type World struct {
	Seed       uint64    // PCG seed; the same seed gives the same world
	Now        time.Time // records are spread over the year before it; default the clock's now
	Owners     int       // default 8 (one of them archived)
	Companies  int       // default 60
	Contacts   int       // default 3 per company
	Deals      int       // default 2 per company
	Activities int       // default 10 per company, spread over the five engagement types
}

// The internal values of HubSpot's default call outcomes
// (hs_call_disposition), from HubSpot's calls guide.
const (
	DispositionBusy            = "9d9162e7-6cf3-4944-bf63-4dff82258764"
	DispositionConnected       = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
	DispositionLeftLiveMessage = "a4c4c377-d246-4b32-a13b-75a56a4cd0ff"
	DispositionLeftVoicemail   = "b2cf5968-551e-4856-9783-52b3da59a7d0"
	DispositionNoAnswer        = "73a0d17f-1163-4015-bdd5-ec830791da20"
	DispositionWrongNumber     = "17b47fee-58de-441e-a44c-c6300d46f273"
)

// DefaultPipelines are a default sales pipeline and a renewals pipeline with
// numeric stage ids, as a portal with a custom pipeline has.
func DefaultPipelines() []Pipeline {
	t := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	md := func(closed bool, p string) map[string]string {
		return map[string]string{"isClosed": strconv.FormatBool(closed), "probability": p}
	}
	return []Pipeline{
		{ID: "default", Label: "Sales Pipeline", CreatedAt: time.Unix(0, 0), UpdatedAt: t, Stages: []Stage{
			{ID: "appointmentscheduled", Label: "Appointment scheduled", DisplayOrder: 0, Metadata: md(false, "0.2")},
			{ID: "qualifiedtobuy", Label: "Qualified to buy", DisplayOrder: 1, Metadata: md(false, "0.4")},
			{ID: "contractsent", Label: "Contract sent", DisplayOrder: 2, Metadata: md(false, "0.9")},
			{ID: "closedwon", Label: "Closed won", DisplayOrder: 3, Metadata: md(true, "1.0")},
			{ID: "closedlost", Label: "Closed lost", DisplayOrder: 4, Metadata: md(true, "0.0")},
		}},
		{ID: "98765432", Label: "Renewals", DisplayOrder: 1, CreatedAt: t, UpdatedAt: t, Stages: []Stage{
			{ID: "1204587711", Label: "Renewal due", DisplayOrder: 0, Metadata: md(false, "0.5")},
			{ID: "1204587712", Label: "Renewed", DisplayOrder: 1, Metadata: md(true, "1.0")},
			{ID: "1204587713", Label: "Churned", DisplayOrder: 2, Metadata: md(true, "0.0")},
		}},
	}
}

// Seed fills the server with a realistic, deterministic world: owners
// (one archived, a deactivated user), the DefaultPipelines, companies,
// contacts with NPS answers, deals in every stage with amounts in two
// currencies and a third of them without deal_currency_code (the portal's
// currency), and calls (some unanswered: NO_ANSWER, or the outcome Busy),
// e-mails, meetings, notes and tasks (some with a body repeating the
// subject), all associated (primary company labels included). It uses the property names crmkpi's defaults map:
// hs_feedback_last_nps_rating, hs_feedback_last_survey_date, cost_of_sale,
// key_account.
func (s *Server) Seed(w World) error {
	if w.Owners == 0 {
		w.Owners = 8
	}
	if w.Companies == 0 {
		w.Companies = 60
	}
	if w.Contacts == 0 {
		w.Contacts = 3 * w.Companies
	}
	if w.Deals == 0 {
		w.Deals = 2 * w.Companies
	}
	if w.Activities == 0 {
		w.Activities = 10 * w.Companies
	}
	if w.Now.IsZero() {
		w.Now = s.now()
	}
	rng := rand.New(rand.NewPCG(w.Seed, 0x5eed))
	year := 365 * 24 * time.Hour
	at := func() time.Time {
		return w.Now.Add(-time.Duration(rng.Int64N(int64(year)))).UTC().Truncate(time.Millisecond)
	}
	first := []string{"Anna", "Boris", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Julia"}
	last := []string{"Petrova", "Smith", "Li", "Novak", "Garcia", "Okafor", "Berg", "Kim"}

	var owners []string
	for i := range w.Owners {
		id := strconv.Itoa(512345600 + i)
		fn, ln := first[i%len(first)], last[i%len(last)]
		s.AddOwner(Owner{
			ID: id, Email: fmt.Sprintf("%s.%s@example.com", lower(fn), lower(ln)), FirstName: fn, LastName: ln,
			UserID: int64(9876500 + i), Type: "PERSON", CreatedAt: w.Now.Add(-2 * year), UpdatedAt: w.Now.Add(-year),
			Archived: i == w.Owners-1 && w.Owners > 1,
		})
		owners = append(owners, id)
	}
	pipes := DefaultPipelines()
	s.SetPipelines(pipes...)

	s.mu.Lock()
	base := s.nextID + 1
	s.mu.Unlock()
	id := base
	next := func() string { id++; return strconv.FormatUint(id, 10) }
	owner := func() string { return owners[rng.IntN(len(owners))] }

	companies := make([]Record, w.Companies)
	for i := range companies {
		c := at()
		companies[i] = Record{ID: next(), CreatedAt: c, UpdatedAt: c.Add(time.Duration(rng.IntN(3600)) * time.Second),
			Properties: map[string]string{
				"name": fmt.Sprintf("Company %03d GmbH", i), "domain": fmt.Sprintf("company%03d.example", i),
				"hubspot_owner_id": owner(), "key_account": []string{"", "", "true", "false"}[rng.IntN(4)],
			}}
	}
	if err := s.Load(Companies, companies...); err != nil {
		return err
	}
	type link struct{ from, fid, to, tid string }
	var links []link
	primary := map[string]bool{}
	contacts := make([]Record, w.Contacts)
	contactCompany := map[string]string{}
	for i := range contacts {
		c := at()
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		p := map[string]string{
			"firstname": fn, "lastname": ln, "email": fmt.Sprintf("%s.%s.%d@client.example", lower(fn), lower(ln), i),
			"hubspot_owner_id": owner(),
		}
		if rng.IntN(3) == 0 {
			p["hs_feedback_last_nps_rating"] = strconv.Itoa(rng.IntN(11))
			p["hs_feedback_last_survey_date"] = FormatTime(c.Add(24 * time.Hour))
		}
		contacts[i] = Record{ID: next(), CreatedAt: c, UpdatedAt: c, Properties: p}
		comp := companies[i%len(companies)].ID
		contactCompany[contacts[i].ID] = comp
		links = append(links, link{Contacts, contacts[i].ID, Companies, comp})
		primary[contacts[i].ID+"/"+comp] = true
	}
	if err := s.Load(Contacts, contacts...); err != nil {
		return err
	}
	deals := make([]Record, w.Deals)
	for i := range deals {
		c := at()
		pl := pipes[rng.IntN(len(pipes))]
		st := pl.Stages[rng.IntN(len(pl.Stages))]
		p := map[string]string{
			"dealname": fmt.Sprintf("Deal %04d", i), "pipeline": pl.ID, "dealstage": st.ID,
			"amount": strconv.Itoa(500 * (1 + rng.IntN(60))), "hubspot_owner_id": owner(),
			"deal_currency_code": []string{"EUR", "USD", ""}[rng.IntN(3)],
			"cost_of_sale":       strconv.Itoa(50 * rng.IntN(10)),
		}
		p["hs_is_closed"] = strconv.FormatBool(st.Status() != "open")
		p["hs_is_closed_won"] = strconv.FormatBool(st.Status() == "won")
		cd := c.Add(time.Duration(rng.IntN(60*24)) * time.Hour)
		if cd.After(w.Now) {
			cd = w.Now
		}
		p["closedate"] = FormatTime(cd.Truncate(24 * time.Hour))
		deals[i] = Record{ID: next(), CreatedAt: c, UpdatedAt: cd, Properties: p}
		comp := companies[rng.IntN(len(companies))].ID
		links = append(links, link{Deals, deals[i].ID, Companies, comp})
		primary[deals[i].ID+"/"+comp] = true
		if rng.IntN(4) != 0 {
			links = append(links, link{Deals, deals[i].ID, Contacts, contacts[rng.IntN(len(contacts))].ID})
		}
	}
	if err := s.Load(Deals, deals...); err != nil {
		return err
	}
	kinds := []string{Calls, Emails, Meetings, Notes, Tasks}
	acts := map[string][]Record{}
	for i := range w.Activities {
		kind := kinds[i%len(kinds)]
		ts := at()
		p := map[string]string{"hs_timestamp": FormatTime(ts), "hubspot_owner_id": owner()}
		switch kind {
		case Calls:
			p["hs_call_direction"] = []string{"INBOUND", "OUTBOUND"}[rng.IntN(2)]
			p["hs_call_duration"] = strconv.Itoa(1000 * rng.IntN(900))
			p["hs_call_status"] = "COMPLETED"
			p["hs_call_title"] = "Call"
			// Outcomes go by the call's position, not by rng, so the rest
			// of a seeded world stays as it was: one call in six rang out
			// (as HubSpot's calling tool records it), one in six was
			// logged by hand with the outcome Busy, one in three with
			// Connected, the others with no outcome.
			switch (i / len(kinds)) % 6 {
			case 1:
				p["hs_call_status"], p["hs_call_duration"] = "NO_ANSWER", "0"
			case 4:
				p["hs_call_disposition"] = DispositionBusy
			case 0, 3:
				p["hs_call_disposition"] = DispositionConnected
			}
		case Emails:
			p["hs_email_direction"] = []string{"INCOMING_EMAIL", "EMAIL"}[rng.IntN(2)]
			p["hs_email_subject"] = "Re: proposal"
		case Meetings:
			p["hs_meeting_title"] = "Review"
			p["hs_meeting_start_time"] = FormatTime(ts)
			p["hs_meeting_end_time"] = FormatTime(ts.Add(time.Hour))
			p["hs_meeting_outcome"] = "COMPLETED"
		case Notes:
			p["hs_note_body"] = "<p>Spoke with the client</p>"
		case Tasks:
			subject := []string{"Follow up", "Prepare QBR #team", "Send contract"}[rng.IntN(3)]
			p["hs_task_subject"] = subject
			p["hs_task_status"] = []string{"COMPLETED", "NOT_STARTED"}[rng.IntN(2)]
			// One task in three has a body repeating its subject, as
			// HubSpot fills it; one in three a body of its own.
			switch (i / len(kinds)) % 3 {
			case 0:
				p["hs_task_body"] = "<p>" + subject + "</p>"
			case 1:
				p["hs_task_body"] = "<p>Agenda: pricing &amp; next steps</p>"
			}
		}
		r := Record{ID: next(), CreatedAt: ts, UpdatedAt: ts.Add(time.Second), Properties: p}
		acts[kind] = append(acts[kind], r)
		ct := contacts[rng.IntN(len(contacts))].ID
		links = append(links, link{kind, r.ID, Contacts, ct}, link{kind, r.ID, Companies, contactCompany[ct]})
		if rng.IntN(3) == 0 {
			links = append(links, link{kind, r.ID, Deals, deals[rng.IntN(len(deals))].ID})
		}
	}
	for _, kind := range kinds {
		if err := s.Load(kind, acts[kind]...); err != nil {
			return err
		}
	}
	for _, l := range links {
		var types []AssociationType
		if primary[l.fid+"/"+l.tid] {
			types = []AssociationType{Primary(l.from), defaultType(l.from, l.to)}
		}
		if err := s.Associate(l.from, l.fid, l.to, l.tid, types...); err != nil {
			return err
		}
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
