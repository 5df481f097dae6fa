package scoring

import (
	"math"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// Target is the target and weight of one KPI. A nil field leaves the value
// from the level below in place: the default of kpi.Table, then
// Options.KPIs, then Options.Teams of the manager's team.
type Target struct {
	Target *float64
	Weight *float64
}

// Manager is one entry of the config's `managers:` list. It gives the
// manager with that e-mail (case-insensitive) a name, team and Slack id.
type Manager struct {
	Email   string
	Name    string
	Team    string
	SlackID string
}

// Options is what scoring needs from the config. The cmd package maps the
// `scoring:` section and the top-level timezone, currency, fx_rates and
// managers into it; scoring does not read the config itself. Zero values
// mean the documented defaults.
type Options struct {
	// Location is the reporting time zone; nil means the location of the
	// period's Start. Only used for the pro rata days of the monthly cost.
	Location *time.Location
	// Currency is the reporting currency (ISO code).
	Currency string
	// FXRates gives units of Currency per one unit of each other currency.
	FXRates map[string]float64
	// LookbackDays is the lookback of "active client" and of the key-client
	// ranking, in days of 24 hours; 0 means 365.
	LookbackDays int
	// Cap is the attainment cap in percent; 0 means 150.
	Cap float64
	// KeyClientsTop is how many top clients by revenue are key clients;
	// 0 means 10.
	KeyClientsTop int
	// TeamTag marks team-initiative tasks (case-sensitive); "" means "#team".
	TeamTag string
	// Costs is the cost of one activity by type plus the key
	// "monthly_per_manager"; missing keys take the value of DefaultCosts.
	Costs map[string]float64
	// KPIs overrides the defaults of kpi.Table for everyone.
	KPIs map[string]Target
	// Teams overrides KPIs per team: team → KPI key → target.
	Teams map[string]map[string]Target
	// Manual holds figures entered by hand, which replace computed values:
	// period spec as written in the config ("2026-10", "2026-W43",
	// "2026-Q3") → manager key → KPI key → value.
	Manual map[string]map[string]map[string]float64
	// Managers gives names, teams and Slack ids to managers by e-mail.
	Managers []Manager
	// KeyClientConnectors names the connectors that map fields.key_client;
	// their key clients are the flagged companies instead of the top ones by
	// revenue.
	KeyClientConnectors map[string]bool
	// Exclude lists manager keys (e-mails in any case, or
	// CONNECTOR:USER_ID) that never get a scorecard. Their deals and
	// clients stay theirs, so nobody else's figures change.
	Exclude []string
	// OnlyListed gives scorecards only to the managers of Managers.
	OnlyListed bool
	// Refs are the manager keys the config names (in managers:, exclude,
	// manual), each with where; one that matches no CRM user becomes a
	// warning.
	Refs []Ref
	// Now is when the computation runs: later activity (a task due next
	// week) is no sign that a deactivated manager still works. Zero means
	// time.Now().
	Now time.Time
}

// Ref is a manager key as the config names it. Where says where, for
// people: "crmkpi.yaml:14: managers[2]".
type Ref struct {
	Key   string
	Where string
}

// CostMonthly is the key of Options.Costs holding the fixed cost of one
// manager per month.
const CostMonthly = "monthly_per_manager"

// DefaultCosts are the costs of DESIGN.md's example config, in units of the
// reporting currency: a call, an e-mail, a meeting, a message, and no fixed
// monthly cost.
var DefaultCosts = map[string]float64{
	"call": 300, "email": 50, "meeting": 2000, "message": 20, "task": 0, "note": 0,
	CostMonthly: 0,
}

func ptr[T any](v T) *T { return &v }

// settings is Options with the defaults filled in and lookups prepared.
type settings struct {
	Options
	lookback time.Duration
	costs    map[string]float64
	rates    map[string]float64 // upper-case currency → rate; only usable rates
	managers map[string]Manager // lower-case e-mail → config entry
	manual   map[string]map[string]map[string]float64
	excluded map[string]bool // manager key → excluded
	now      time.Time
}

func newSettings(o Options) *settings {
	s := &settings{Options: o}
	if s.LookbackDays <= 0 {
		s.LookbackDays = 365
	}
	if !(s.Cap > 0) || math.IsInf(s.Cap, 0) {
		s.Cap = 150
	}
	if s.KeyClientsTop <= 0 {
		s.KeyClientsTop = 10
	}
	if s.TeamTag == "" {
		s.TeamTag = "#team"
	}
	s.Currency = strings.ToUpper(strings.TrimSpace(s.Currency))
	s.lookback = time.Duration(s.LookbackDays) * 24 * time.Hour
	s.costs = make(map[string]float64, len(DefaultCosts))
	for k, v := range DefaultCosts {
		s.costs[k] = v
	}
	for k, v := range o.Costs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s.costs[k] = v
		}
	}
	s.rates = make(map[string]float64, len(o.FXRates))
	for k, v := range o.FXRates {
		// A rate that is not a positive number is as good as none.
		if v > 0 && !math.IsInf(v, 0) {
			s.rates[strings.ToUpper(strings.TrimSpace(k))] = v
		}
	}
	s.now = o.Now
	if s.now.IsZero() {
		s.now = time.Now()
	}
	s.excluded = make(map[string]bool, len(o.Exclude))
	for _, k := range o.Exclude {
		s.excluded[managerKey(k)] = true
	}
	s.managers = make(map[string]Manager, len(o.Managers))
	for _, m := range o.Managers {
		s.managers[strings.ToLower(strings.TrimSpace(m.Email))] = m
	}
	// Manager keys in the config may be written with any case of the
	// e-mail; CONNECTOR:USER_ID keys are kept as written.
	s.manual = make(map[string]map[string]map[string]float64, len(o.Manual))
	for spec, byMgr := range o.Manual {
		m := make(map[string]map[string]float64, len(byMgr))
		for k, v := range byMgr {
			m[managerKey(k)] = v
		}
		s.manual[strings.TrimSpace(spec)] = m
	}
	return s
}

// managerKey is a manager key as the config writes it, in the form of
// Scorecard.Manager: an e-mail in lower case, CONNECTOR:USER_ID as written.
func managerKey(k string) string {
	if strings.Contains(k, "@") {
		return strings.ToLower(strings.TrimSpace(k))
	}
	return k
}

// rate is the FX rate of currency into the reporting currency; ok is false
// when the config has none, and for a deal whose currency is unknown (""):
// the connectors give every deal its CRM's or account's currency where they
// can read it, so "" means nobody knows, and taking it for the reporting
// currency at rate 1 would be a guess that moves money KPIs silently.
func (s *settings) rate(currency string) (float64, bool) {
	c := strings.ToUpper(strings.TrimSpace(currency))
	if c == "" {
		return 0, false
	}
	if c == s.Currency {
		return 1, true
	}
	r, ok := s.rates[c]
	return r, ok
}

// target resolves the target and weight of KPI key for a manager of team.
func (s *settings) target(team, key string) (target, weight float64) {
	apply := func(t Target) {
		if t.Target != nil {
			target = *t.Target
		}
		if t.Weight != nil {
			weight = *t.Weight
		}
	}
	if d, ok := kpi.Lookup(key); ok {
		target, weight = d.Target, d.Weight
	}
	apply(s.KPIs[key])
	if team != "" {
		apply(s.Teams[team][key])
	}
	return target, weight
}

// manualValue is the hand-entered value of KPI key for manager in the
// period with the given spec.
func (s *settings) manualValue(spec, manager, key string) (float64, bool) {
	v, ok := s.manual[spec][manager][key]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
