package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize/english"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// FXRates are the demo's exchange rates: roubles per unit.
var FXRates = map[string]float64{"USD": 92.5, "EUR": 100.0}

// Currency is the demo's reporting currency.
const Currency = "RUB"

// Timezone is the demo's reporting time zone.
const Timezone = "Europe/Moscow"

// Env is a running demo: the world and the three fake CRMs serving it on
// loopback. The fakes enforce their vendors' rate limits and add no latency.
// Close it when done.
type Env struct {
	World *World

	HubSpot                  *hubspottest.Server
	Amo                      *amocrmtest.Server
	Bitrix                   *bitrix24test.Server
	HubSpotURL, HubSpotToken string
	AmoURL, AmoToken         string
	// BitrixWebhookURL is the inbound webhook URL, secret included.
	BitrixWebhookURL string
}

// Start generates the world for o and starts the three fakes seeded with
// it. It fails only when ctx is done or seeding is refused by a fake.
func Start(ctx context.Context, o Options) (*Env, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := Generate(o)
	// Secrets derive from the seed so that a config is reproducible too.
	rng := rand.New(rand.NewPCG(w.Seed, 0x70c3))
	hsToken := fmt.Sprintf("pat-eu1-%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
		rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
	webhookCode := fmt.Sprintf("%016x", rng.Uint64())

	e := &Env{World: w, HubSpotToken: hsToken}
	e.HubSpot = hubspottest.NewServer(hubspottest.WithToken(hsToken), hubspottest.WithCompanyCurrency(hubSpotPortalCurrency))
	e.Amo = amocrmtest.NewServer()
	e.Bitrix = bitrix24test.NewServer(bitrix24test.WithWebhook("1", webhookCode))
	e.HubSpotURL, e.AmoURL, e.AmoToken, e.BitrixWebhookURL = e.HubSpot.URL, e.Amo.URL, e.Amo.Token(), e.Bitrix.WebhookURL()

	if err := seedHubSpot(e.HubSpot, w); err != nil {
		e.Close()
		return nil, fmt.Errorf("seed hubspot: %w", err)
	}
	seedAmo(e.Amo, w)
	seedBitrix(e.Bitrix, w)
	return e, nil
}

// Close stops the fakes.
func (e *Env) Close() {
	e.HubSpot.Close()
	e.Amo.Close()
	e.Bitrix.Close()
}

// Targets are the demo's KPI targets per team, tuned to its world so that
// a default demo shows green, amber and red managers.
var Targets = map[string]map[string]float64{
	"enterprise": {"closed_won": 2, "new_deals": 1, "cost_per_client": 2500, "response_time": 8},
	"smb":        {"closed_won": 3, "new_deals": 1, "cost_per_client": 1500, "response_time": 6},
}

// ConfigYAML returns a complete, commented crmkpi.yaml that points the real
// connectors at the fakes of e and stores into warehouseDSN (written as
// given, so "${WAREHOUSE_DSN}" keeps a password out of the file).
func (e *Env) ConfigYAML(warehouseDSN string) []byte {
	w := e.World
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }

	p("# crmkpi config written by `crmkpi demo` (seed %d, %s, world as of %s).\n", w.Seed, english.Plural(len(w.Managers), "manager", ""), w.Now.UTC().Format(time.RFC3339))
	p("# Every key is described in docs/config.md.\n#\n")
	p("# The three connectors point at the fake CRMs that `crmkpi demo` ran on loopback;\n")
	p("# they stopped when it exited, so `crmkpi sync` with this file fails to connect.\n")
	p("# `crmkpi score`, `notify --dry-run` and `status` read the warehouse it filled.\n\n")
	p("timezone: %s          # period boundaries are local midnights here\n", Timezone)
	p("currency: %s                    # reporting currency of revenue and costs\n", Currency)
	p("fx_rates:                        # roubles per unit: deals in USD and EUR count in revenue\n")
	for _, c := range slices.Sorted(maps.Keys(FXRates)) {
		p("  %s: %g\n", c, FXRates[c])
	}
	p("\nwarehouse:\n  dsn: %s\n\n", q(warehouseDSN))

	p("connectors:\n")
	p("  # A European HubSpot portal: deals in EUR and USD (deal_currency_code).\n")
	p("  - name: %s\n    type: hubspot\n    base_url: %s\n", HubSpot, q(e.HubSpotURL))
	p("    token: %s   # private app token\n", q(e.HubSpotToken))
	p("    # Deals without deal_currency_code are in the portal's currency, read from HubSpot.\n")
	p("    fields:                      # HubSpot property names\n")
	p("      nps_score: %s\n      nps_date: %s\n      deal_expense: %s\n", HubSpotNPS, HubSpotNPSDate, HubSpotExpense)
	p("      key_client: %s        # key clients are the flagged companies, not the top N\n", HubSpotKeyClient)
	p("  # An amoCRM account: amoCRM deals have no currency field; the account's is RUB.\n")
	p("  - name: %s\n    type: amocrm\n    base_url: %s\n", AmoCRM, q(e.AmoURL))
	p("    token: %s   # long-lived token\n", q(e.AmoToken))
	p("    currency: RUB\n")
	p("    fields: {nps_score: %d, nps_date: %d, deal_expense: %d}   # custom field ids\n", AmoNPS, AmoNPSDate, AmoExpense)
	p("  # A Bitrix24 portal reached through an inbound webhook (the secret is in the URL).\n")
	p("  - name: %s\n    type: bitrix24\n    webhook_url: %s\n", Bitrix24, q(e.BitrixWebhookURL))
	p("    fields: {nps_score: %s, nps_date: %s, deal_expense: %s}\n\n", BitrixNPS, BitrixNPSDate, BitrixExpense)

	p("# CRM users are merged into one manager by e-mail, whatever its case; several\n")
	p("# managers here work in two CRMs. The Slack ids are made up.\n")
	p("managers:\n")
	for _, m := range w.Managers {
		line := fmt.Sprintf("  - {email: %s, name: %s, team: %s", m.Key, q(m.Name), m.Team)
		if m.SlackID != "" {
			line += ", slack_id: " + m.SlackID
		}
		line += "}"
		if !m.Active {
			line += "   # left; deactivated in the CRM"
		}
		p("%s\n", line)
	}

	p("\nscoring:\n")
	p("  period: month\n  lookback_days: 365\n  cap: 150\n")
	p("  key_clients: {top: 5}          # for amoCRM and Bitrix24, which map no key-client field\n")
	p("  team_tag: %q\n", TeamTag)
	p("  costs: {call: 300, email: 50, meeting: 2000, message: 20, task: 0, note: 0, monthly_per_manager: 0}\n")
	p("  kpis:                          # targets per month; unset ones keep their defaults\n")
	p("    satisfaction: {target: 40, weight: 10}\n")
	p("    retention: {target: 85, weight: 15}\n")
	p("    key_client_growth: {target: 10, weight: 10}\n")
	p("    penetration: {target: 30, weight: 10}\n")
	p("    team_contribution: {target: 2, weight: 5}\n")
	p("  teams:                         # per-team targets: enterprise sells fewer, bigger deals\n")
	for _, team := range []string{"enterprise", "smb"} {
		t := Targets[team]
		p("    %s:\n      kpis:\n", team)
		p("        closed_won: {target: %g, weight: 15}\n", t["closed_won"])
		p("        new_deals: {target: %g, weight: 15}\n", t["new_deals"])
		p("        response_time: {target: %g, weight: 10}   # hours; lower is better\n", t["response_time"])
		p("        cost_per_client: {target: %g, weight: 10}\n", t["cost_per_client"])
	}

	p("\nnotify:\n  slack:\n")
	p("    token: ${SLACK_BOT_TOKEN:-}     # no token: `crmkpi notify` needs --dry-run\n")
	p("    channel: \"${SLACK_CHANNEL:-#sales-kpi}\"\n")
	p("    direct_messages: false         # the demo's Slack ids are not real users\n")
	return []byte(b.String())
}

// Summary describes w by counts, one fact a line, for people and golden
// files.
func (w *World) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, now %s, history from %s\n", w.Seed, w.Now.UTC().Format(time.RFC3339), w.Start.UTC().Format(time.RFC3339))
	dual, inactive := 0, 0
	for _, m := range w.Managers {
		if len(m.Accounts) > 1 {
			dual++
		}
		if !m.Active {
			inactive++
		}
	}
	fmt.Fprintf(&b, "managers %d (in two CRMs %d, deactivated %d)\n", len(w.Managers), dual, inactive)
	for _, c := range CRMs {
		users := 0
		for _, m := range w.Managers {
			if _, ok := m.Account(c); ok {
				users++
			}
		}
		companies, contacts, nps := 0, 0, 0
		for _, x := range w.Companies {
			if x.CRM == c {
				companies++
			}
		}
		for _, x := range w.Contacts {
			if x.CRM == c {
				contacts++
				if x.NPS != nil {
					nps++
				}
			}
		}
		status := map[string]int{}
		currencies := map[string]int{}
		deleted, expenses := 0, 0
		for _, d := range w.Deals {
			if d.CRM != c {
				continue
			}
			status[d.Status]++
			currencies[d.Currency]++
			if d.Deleted {
				deleted++
			}
			if d.Expense != nil {
				expenses++
			}
		}
		fmt.Fprintf(&b, "%s: users %d, companies %d, contacts %d (NPS answers %d)\n", c, users, companies, contacts, nps)
		fmt.Fprintf(&b, "%s: deals won %d, lost %d, open %d, deleted %d, with expense %d, currencies %s\n", c,
			status[StatusWon], status[StatusLost], status[StatusOpen], deleted, expenses, countList(currencies))
		acts := map[string]int{}
		team, teamDone := 0, 0
		for _, a := range w.Activities {
			if a.CRM != c {
				continue
			}
			k := a.Type
			if a.Direction != "" {
				k += "/" + a.Direction
			}
			acts[k]++
			if a.Type == Task && strings.Contains(a.Subject, TeamTag) {
				team++
				if a.Completed {
					teamDone++
				}
			}
		}
		fmt.Fprintf(&b, "%s: activities %s; %s tasks %d (done %d)\n", c, countList(acts), TeamTag, team, teamDone)
	}
	fmt.Fprintf(&b, "total: companies %d, contacts %d, deals %d, activities %d\n", len(w.Companies), len(w.Contacts), len(w.Deals), len(w.Activities))
	return b.String()
}

func countList(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
