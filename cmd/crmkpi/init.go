package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/crmkpi/crmkpi/config"
)

// starterHead, starterConnectors and starterTail make the commented
// starter config `crmkpi init` writes: every secret a ${VAR}, every
// optional key shown commented out with its default.
const starterHead = `# crmkpi config, written by crmkpi init. Every key: docs/config.md.
#
# ${VAR} is read from the environment when crmkpi starts (an unset variable
# is an error naming its line; ${VAR:-x} falls back to x). Keep tokens in
# the environment, never in this file. Check it with:  crmkpi check

timezone: Europe/Moscow          # period boundaries are local midnights here
currency: RUB                    # reporting currency
fx_rates: {USD: 95.5, EUR: 103.0}  # RUB per unit; a deal in a currency without a rate is left out of money KPIs

warehouse:
  dsn: ${WAREHOUSE_DSN:-sqlite:crmkpi.db}   # postgres://user:pass@host/db, or a SQLite file beside this config

connectors:
`

var starterConnectors = map[string]string{
	config.TypeHubSpot: `  - name: hubspot                # unique; the key of its rows in every table
    type: hubspot
    token: ${HUBSPOT_TOKEN}      # private app token, pat-...
    schedule: "*/30 * * * *"
    # objects: [companies, contacts, deals, calls, emails, meetings, notes, tasks]   # default all; users, and stages with deals, always
    # since: 2025-01-01          # the first sync reads no deal or activity older than this
    # fields:                    # custom properties, if you track them
    #   deal_expense: cost_of_sale
    #   key_client: key_account
`,
	config.TypeAmoCRM: `  - name: amocrm
    type: amocrm
    base_url: ${AMOCRM_URL}      # your account's own host: https://yourcompany.amocrm.ru (or .kommo.com)
    token: ${AMOCRM_TOKEN}       # long-lived token of an admin
    schedule: "5,35 * * * *"
    # objects: [companies, contacts, deals, tasks, notes, events]   # default all; users, and stages with deals, always
    # since: 2025-01-01          # the first sync reads no deal or activity older than this
    # fields: {nps_score: 512345, deal_expense: 512399}   # custom field ids
`,
	config.TypeBitrix24: `  - name: bitrix24
    type: bitrix24
    webhook_url: ${BITRIX24_WEBHOOK}   # https://yourportal.bitrix24.ru/rest/1/secret/ (a secret)
    schedule: "10,40 * * * *"
    # bucket: 50                 # 250 on Enterprise plans
    # objects: [companies, contacts, deals, activities]   # default all; users, and stages with deals, always
    # since: 2025-01-01          # the first sync reads no deal or activity older than this
    # fields: {nps_score: UF_CRM_NPS, nps_date: UF_CRM_NPS_DATE}
`,
}

const starterTail = `
managers:                        # optional: names, teams and Slack users, by CRM e-mail
  - {email: anna@example.com, name: Anna Petrova, team: sales}

scoring:
  period: month                  # week | month | quarter
  # kpis: {closed_won: {target: 8, weight: 15}}   # defaults in docs/kpis.md

notify:
  slack:
    token: ${SLACK_BOT_TOKEN:-}  # without a token nothing is posted
    channel: "#sales-kpi"
    direct_messages: true
    schedule: "0 9 1 * *"        # crmkpi serve: 09:00 on the 1st
`

// starterGrants says what to create and grant in each system, in the order
// the config lists them.
var starterGrants = map[string]string{
	config.TypeHubSpot: `HubSpot: Settings > Integrations > Private Apps > Create, with the read scopes
  crm.objects.owners.read, crm.objects.companies.read, crm.objects.contacts.read,
  crm.objects.deals.read, sales-email-read and oauth (the portal's currency);
  export HUBSPOT_TOKEN=pat-...`,
	config.TypeAmoCRM: `amoCRM: Settings > Integrations > Create integration (private) > Keys and scopes >
  Generate long-lived token, as an admin (the users list needs admin rights);
  export AMOCRM_URL=https://yourcompany.amocrm.ru AMOCRM_TOKEN=...`,
	config.TypeBitrix24: `Bitrix24: Developer resources > Other > Inbound webhook, as a user who sees all CRM
  records, with the scopes crm and user_basic;
  export BITRIX24_WEBHOOK=https://yourportal.bitrix24.ru/rest/1/...`,
}

const slackGrants = `Slack (optional): create an app with the bot scopes chat:write, im:write, users:read
  and users:read.email, install it and /invite it to the channel;
  export SLACK_BOT_TOKEN=xoxb-...`

// crmList is a repeatable --crm flag.
type crmList []string

func (l *crmList) String() string { return strings.Join(*l, ",") }

func (l *crmList) Set(v string) error {
	for _, t := range strings.Split(v, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if _, ok := starterConnectors[t]; !ok {
			return fmt.Errorf("unknown CRM %q (want hubspot, amocrm or bitrix24)", t)
		}
		if !slices.Contains(*l, t) {
			*l = append(*l, t)
		}
	}
	return nil
}

// starter returns the starter config for crms, in the order given.
func starter(crms []string) string {
	var b strings.Builder
	b.WriteString(starterHead)
	for _, t := range crms {
		b.WriteString(starterConnectors[t])
	}
	b.WriteString(starterTail)
	return b.String()
}

func runInit(_ context.Context, e *env, args []string) error {
	fl, cfgPath := newFlags(e, "init", "init [--config FILE] [--crm hubspot|amocrm|bitrix24]... [--force]")
	var crms crmList
	fl.Var(&crms, "crm", "a CRM to configure: hubspot, amocrm or bitrix24 (repeat, or a comma list; default all three)")
	force := fl.Bool("force", false, "overwrite an existing file")
	if err := fl.Parse(args); err != nil {
		return usageError{err}
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fl.Arg(0))}
	}
	if len(crms) == 0 {
		crms = crmList{config.TypeHubSpot, config.TypeAmoCRM, config.TypeBitrix24}
	}
	path := *cfgPath
	if path == "" {
		path = e.getenv(config.EnvPath)
	}
	if path == "" {
		path = config.DefaultPath
	}
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, mode, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return usageError{fmt.Errorf("%s exists; keep it, or overwrite it with --force", path)}
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(starter(crms)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s. Grant crmkpi read access and set the variables it names:\n\n", path)
	for _, t := range crms {
		fmt.Fprintf(e.stdout, "%s\n\n", starterGrants[t])
	}
	fmt.Fprintf(e.stdout, "%s\n\nThen: crmkpi check --config %s, and crmkpi sync.\n", slackGrants, path)
	return nil
}
