package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/internal/golden"
)

var testNow = time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)

func TestGenerateIsDeterministic(t *testing.T) {
	o := Options{Seed: 42, Managers: 6, Now: testNow}
	a, b := Generate(o), Generate(o)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("Generate(%+v) twice differs (-first +second):\n%s", o, diff)
	}
	o.Seed = 43
	if c := Generate(o); cmp.Equal(a.Deals, c.Deals) {
		t.Errorf("seeds 42 and 43 gave the same deals")
	}
}

// TestSummaryGolden pins the default world's shape; -update rewrites it
// after an intended change to the generator.
func TestSummaryGolden(t *testing.T) {
	got := Generate(Options{Seed: 1, Now: testNow}).Summary()
	golden.Text(t, filepath.Join("testdata", "summary.golden"), got)
}

// TestWorldShape checks what the demo promises about its world.
func TestWorldShape(t *testing.T) {
	w := Generate(Options{Seed: 1, Now: testNow})
	if len(w.Managers) != 12 {
		t.Errorf("managers = %d, want 12", len(w.Managers))
	}
	dual, inactive := 0, 0
	for _, m := range w.Managers {
		if len(m.Accounts) == 2 {
			dual++
			if e0, e1 := m.Accounts[0].Email, m.Accounts[1].Email; e0 == e1 || !strings.EqualFold(e0, e1) {
				t.Errorf("%s: account e-mails %q and %q should differ in case only", m.Key, e0, e1)
			}
		}
		if !m.Active {
			inactive++
		}
	}
	if dual < 3 || inactive != 1 {
		t.Errorf("%d managers in two CRMs and %d deactivated, want >= 3 and 1", dual, inactive)
	}
	currencies := map[CRM]map[string]bool{}
	status := map[string]int{}
	for _, d := range w.Deals {
		if currencies[d.CRM] == nil {
			currencies[d.CRM] = map[string]bool{}
		}
		currencies[d.CRM][d.Currency] = true
		status[d.Status]++
		if d.CreatedAt.Before(w.Start) || d.CreatedAt.After(w.Now) || d.UpdatedAt.After(w.Now) {
			t.Errorf("deal %s %s: created %s updated %s outside [%s, %s]", d.CRM, d.ID, d.CreatedAt, d.UpdatedAt, w.Start, w.Now)
		}
		if (d.Status == StatusOpen) != d.ClosedAt.IsZero() {
			t.Errorf("deal %s %s: status %s with close time %s", d.CRM, d.ID, d.Status, d.ClosedAt)
		}
	}
	if want := map[string]bool{"RUB": true}; !cmp.Equal(currencies[AmoCRM], want) {
		t.Errorf("amoCRM currencies = %v, want only RUB (the account currency)", currencies[AmoCRM])
	}
	if len(currencies[Bitrix24]) != 3 {
		t.Errorf("Bitrix24 currencies = %v, want RUB, USD and EUR", currencies[Bitrix24])
	}
	if status[StatusWon] == 0 || status[StatusLost] == 0 || status[StatusOpen] == 0 {
		t.Errorf("deal statuses %v, want won, lost and open", status)
	}
	var inbound, teamDone, teamOpen, nps int
	for _, a := range w.Activities {
		if a.Direction == Inbound {
			inbound++
		}
		if a.Type == Task && strings.Contains(a.Subject, TeamTag) {
			if a.Completed {
				teamDone++
			} else {
				teamOpen++
			}
		}
		if !a.At.Before(w.Now) {
			t.Errorf("activity %s %s at %s, not before now", a.CRM, a.ID, a.At)
		}
	}
	for _, c := range w.Contacts {
		if c.NPS != nil {
			nps++
		}
	}
	// What each CRM really sends and crmkpi must map right (issue 14):
	// SMS and chat messages on amoCRM, meetings planned as amoCRM tasks,
	// dials nobody answered (outbound, and missed inbound calls), failed
	// dials before a call back, and HubSpot task bodies that repeat the
	// subject.
	kinds := map[string]int{}
	for _, a := range w.Activities {
		switch {
		case a.CRM == AmoCRM && a.Type == Message && a.SMS:
			kinds["amo sms "+a.Direction]++
		case a.CRM == AmoCRM && a.Type == Message:
			kinds["amo chat "+a.Direction]++
		case a.CRM == AmoCRM && a.Type == Task:
			kinds[fmt.Sprintf("amo task type %d", min(a.TaskType, 3))]++
		case a.Type == Call && a.Connected != nil && !*a.Connected:
			kinds[string(a.CRM)+" unanswered "+a.Direction]++
		case a.CRM == HubSpot && a.Type == Task && a.Body != "":
			kinds["hubspot task body"]++
		}
		if a.CRM == AmoCRM && a.Type == Meeting {
			t.Errorf("amoCRM activity %s is a meeting: amoCRM's meetings are tasks of type 2", a.ID)
		}
	}
	for _, k := range []string{"amo sms inbound", "amo sms outbound", "amo chat inbound", "amo chat outbound",
		"amo task type 1", "amo task type 2", "amo task type 3", "hubspot task body"} {
		if kinds[k] == 0 {
			t.Errorf("the world has no %s: %v", k, kinds)
		}
	}
	for _, c := range CRMs {
		for _, dir := range []string{Inbound, Outbound} {
			if kinds[string(c)+" unanswered "+dir] == 0 {
				t.Errorf("the world has no %s unanswered %s call: %v", c, dir, kinds)
			}
		}
	}
	if inbound == 0 || teamDone == 0 || teamOpen == 0 || nps == 0 {
		t.Errorf("inbound %d, team tasks done %d and open %d, NPS answers %d: want all > 0", inbound, teamDone, teamOpen, nps)
	}
}

// TestStartSeedsFakes checks that each fake holds what the world says, in
// its own shape.
func TestStartSeedsFakes(t *testing.T) {
	e, err := Start(context.Background(), Options{Seed: 3, Managers: 4, Scale: 0.3, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w := e.World
	count := func(c CRM, pred func(Deal) bool) int {
		n := 0
		for _, d := range w.Deals {
			if d.CRM == c && pred(d) {
				n++
			}
		}
		return n
	}
	all := func(Deal) bool { return true }

	// HubSpot: every deal, archived ones flagged, with its amount and currency.
	hs := map[string]hubspottest.Record{}
	for _, r := range e.HubSpot.Records(hubspottest.Deals) {
		hs[r.ID] = r
	}
	if len(hs) != count(HubSpot, all) {
		t.Errorf("hubspot deals = %d, want %d", len(hs), count(HubSpot, all))
	}
	for _, d := range w.Deals {
		if d.CRM != HubSpot {
			continue
		}
		r := hs[d.ID]
		cur, ok := r.Properties["deal_currency_code"]
		if !ok && d.Currency == hubSpotPortalCurrency {
			cur = d.Currency // left to the portal's currency
		}
		if r.Archived != d.Deleted || r.Properties["amount"] != money(d.Amount) || cur != d.Currency ||
			r.Properties["dealstage"] != d.Stage || r.Properties["hubspot_owner_id"] != d.OwnerID {
			t.Errorf("hubspot deal %s = %+v, want %+v", d.ID, r, d)
		}
		if got := e.HubSpot.Associations(hubspottest.Deals, d.ID, hubspottest.Companies); !cmp.Equal(got, []string{d.CompanyID}) {
			t.Errorf("hubspot deal %s companies = %v, want [%s]", d.ID, got, d.CompanyID)
		}
	}

	// amoCRM: live leads plus the deleted ones.
	live := count(AmoCRM, func(d Deal) bool { return !d.Deleted })
	if got := len(e.Amo.Objects(amocrmtest.Leads)); got != live {
		t.Errorf("amocrm live leads = %d, want %d", got, live)
	}
	if got, want := len(e.Amo.DeletedLeads()), count(AmoCRM, func(d Deal) bool { return d.Deleted }); got != want {
		t.Errorf("amocrm deleted leads = %d, want %d", got, want)
	}
	for _, d := range w.Deals {
		if d.CRM != AmoCRM || d.Deleted {
			continue
		}
		o, ok := e.Amo.Get(amocrmtest.Leads, atoi(d.ID))
		if !ok || o["price"] != int64(d.Amount) || o["responsible_user_id"] != atoi(d.OwnerID) {
			t.Errorf("amocrm lead %s = %v, want %+v", d.ID, o, d)
		}
	}

	// Bitrix24: deals with their semantics and money as strings.
	if got := e.Bitrix.Count(bitrix24test.Deals); got != count(Bitrix24, all) {
		t.Errorf("bitrix24 deals = %d, want %d", got, count(Bitrix24, all))
	}
	for _, d := range w.Deals {
		if d.CRM != Bitrix24 {
			continue
		}
		r := e.Bitrix.Get(bitrix24test.Deals, d.ID)
		sem := map[string]string{StatusOpen: "P", StatusWon: "S", StatusLost: "F"}[d.Status]
		if r["STAGE_SEMANTIC_ID"] != sem || r["CURRENCY_ID"] != d.Currency || r["ASSIGNED_BY_ID"] != d.OwnerID {
			t.Errorf("bitrix24 deal %s = %v, want %+v", d.ID, r, d)
		}
	}

	// Activities and users, per CRM.
	acts := map[CRM]int{}
	for _, a := range w.Activities {
		acts[a.CRM]++
	}
	hsActs := 0
	for _, typ := range []string{hubspottest.Calls, hubspottest.Emails, hubspottest.Meetings, hubspottest.Notes, hubspottest.Tasks} {
		hsActs += len(e.HubSpot.Records(typ))
	}
	amoActs := len(e.Amo.Objects(amocrmtest.Tasks)) + len(e.Amo.Objects(amocrmtest.LeadNotes)) +
		len(e.Amo.Objects(amocrmtest.ContactNotes)) + len(e.Amo.Objects(amocrmtest.CompanyNotes))
	for _, ev := range e.Amo.Objects(amocrmtest.Events) {
		if strings.HasSuffix(ev["type"].(string), "_chat_message") {
			amoActs++
		}
	}
	got := map[CRM]int{HubSpot: hsActs, AmoCRM: amoActs, Bitrix24: e.Bitrix.Count(bitrix24test.Activities)}
	if diff := cmp.Diff(acts, got); diff != "" {
		t.Errorf("activities per CRM (-world +fakes):\n%s", diff)
	}
	users := map[CRM]int{Bitrix24: len(w.Admins)}
	for _, m := range w.Managers {
		for _, a := range m.Accounts {
			users[a.CRM]++
		}
	}
	gotUsers := map[CRM]int{HubSpot: len(e.HubSpot.Owners()), AmoCRM: len(e.Amo.Objects(amocrmtest.Users)), Bitrix24: len(e.Bitrix.All(bitrix24test.Users))}
	if diff := cmp.Diff(users, gotUsers); diff != "" {
		t.Errorf("users per CRM (-world +fakes):\n%s", diff)
	}

	// The config parses as the demo writes it is checked by the command's
	// end-to-end test; here, that it points at these fakes.
	cfg := string(e.ConfigYAML("sqlite:x.db"))
	for _, want := range []string{e.HubSpotURL, e.HubSpotToken, e.AmoURL, e.AmoToken, e.BitrixWebhookURL, "timezone: Europe/Moscow", "currency: RUB"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("ConfigYAML lacks %q", want)
		}
	}
}
