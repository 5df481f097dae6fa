package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// DefaultPath is the config file read when neither --config nor
// $CRMKPI_CONFIG names one.
const DefaultPath = "crmkpi.yaml"

// EnvPath is the environment variable that names the config file.
const EnvPath = "CRMKPI_CONFIG"

// Connector types.
const (
	TypeHubSpot  = "hubspot"
	TypeAmoCRM   = "amocrm"
	TypeBitrix24 = "bitrix24"
)

// Scoring period kinds.
const (
	PeriodWeek    = "week"
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
)

// Config is a parsed, validated config file. Zero values of optional
// settings have been replaced by their defaults (see docs/config.md), except
// KPI targets and weights, whose defaults belong to the scoring package.
type Config struct {
	Timezone   string             `yaml:"timezone"`
	Location   *time.Location     `yaml:"-"` // Timezone, loaded
	Currency   string             `yaml:"currency"`
	FXRates    map[string]float64 `yaml:"fx_rates,omitempty"` // units of Currency per one unit of the key currency
	Warehouse  Warehouse          `yaml:"warehouse"`
	Connectors []Connector        `yaml:"connectors"`
	Managers   []Manager          `yaml:"managers"`
	Scoring    Scoring            `yaml:"scoring"`
	Notify     Notify             `yaml:"notify"`
	Listen     string             `yaml:"listen"` // address of crmkpi serve
	Web        Web                `yaml:"web"`    // the scorecard pages (web.go)
}

// Warehouse says where the warehouse is.
type Warehouse struct {
	// DSN is "postgres://...", "postgresql://..." or "sqlite:PATH". It is a
	// Secret because a PostgreSQL URL may carry a password.
	DSN Secret `yaml:"dsn"`
}

// Driver returns "postgres" or "sqlite", from the DSN's scheme.
func (w Warehouse) Driver() string {
	if strings.HasPrefix(w.DSN.Value(), "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

// Connector is one CRM account to sync. This package checks the shape of
// each setting (type, range) and fills in no vendor default: a zero
// duration or limit means the connector's own default, which each
// connector's New applies (docs/config.md lists them).
type Connector struct {
	Name       string `yaml:"name"` // unique; the key of its rows in every warehouse table
	Type       string `yaml:"type"` // TypeHubSpot, TypeAmoCRM or TypeBitrix24
	Token      Secret `yaml:"token,omitempty"`
	WebhookURL Secret `yaml:"webhook_url,omitempty"` // Bitrix24 inbound webhook, secret in its path
	OAuth      *OAuth `yaml:"oauth,omitempty"`       // nil without an oauth: block
	BaseURL    string `yaml:"base_url,omitempty"`    // "" means the vendor's API host
	Schedule   string `yaml:"schedule"`              // standard 5-field cron
	// HTTPOptions are the connection settings every type has (rate_limit,
	// burst, timeout, retries and backoff), read by their yaml names.
	connectors.HTTPOptions `yaml:",inline"`
	// Currency overrides the account currency (amoCRM) or the portal's
	// default currency (HubSpot); "" means the CRM's own.
	Currency string `yaml:"currency,omitempty"`
	Fields   Fields `yaml:"fields,omitempty"`
	// StaleAfter is how old the newest synced data may get before
	// crmkpi status reports the connector as stale.
	StaleAfter time.Duration `yaml:"stale_after"`
	// Overlap is how far back before the saved cursor an incremental sync
	// starts again, against records committed late in the CRM.
	Overlap time.Duration `yaml:"overlap"`
	// MinListingShare is the least share, in percent, of the stored
	// records of an object that a deletion scan must list before it flags
	// any deleted; 0 means the sync engine's default (50).
	MinListingShare float64 `yaml:"min_listing_share,omitempty"`
	// Objects is the subset of the connector's objects to sync, in the
	// connector's own names (users, deals, calls, …); nil syncs them all.
	// The names are checked against the connector where it is built
	// (SelectObjects), and ObjectsAt says where each is written for that.
	Objects   []string `yaml:"objects,omitempty"`
	ObjectsAt []Place  `yaml:"-"`
	// Since, when set, is where a first sync (and sync --full) starts
	// reading deals and activities: those last modified, and for
	// activities also occurring, before it are not read. A date in the
	// file is its midnight in the config's timezone.
	Since time.Time `yaml:"since,omitempty"`

	// HubSpot only.
	AssociationsEvery time.Duration `yaml:"associations_every,omitempty"` // full re-read of associations
	SearchRateLimit   float64       `yaml:"search_rate_limit,omitempty"`  // requests/s for the search API
	RateTier          string        `yaml:"rate_tier,omitempty"`          // the app's 10-second budget: a plan or a number

	// Bitrix24 only.
	ReconcileEvery time.Duration `yaml:"reconcile_every,omitempty"` // full ID listing to find deletions
	Bucket         int           `yaml:"bucket,omitempty"`          // leaky-bucket size of the REST API
}

// OAuth holds OAuth 2.0 refresh-token credentials.
type OAuth struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	RefreshToken Secret `yaml:"refresh_token"`
	RedirectURI  string `yaml:"redirect_uri,omitempty"`
	TokenURL     string `yaml:"token_url,omitempty"` // "" means the vendor's; set by tests
}

// Fields maps canonical custom fields to the CRM's own field names (HubSpot
// property names, Bitrix24 UF_ codes) or ids (amoCRM custom field ids,
// written as numbers in YAML and kept as strings). "" means not mapped.
type Fields struct {
	NPSScore    string `yaml:"nps_score,omitempty"`    // contact field, 0-10
	NPSDate     string `yaml:"nps_date,omitempty"`     // contact field, date of the answer
	DealExpense string `yaml:"deal_expense,omitempty"` // deal field, money
	KeyClient   string `yaml:"key_client,omitempty"`   // company field, truthy = key client
	// KeyClientValues are the options of key_client that mean "key
	// client" besides a ticked checkbox (true/1/yes/y/да/on), e.g. "Gold".
	KeyClientValues []string `yaml:"key_client_values,omitempty"`
}

// Manager gives a manager, found in the CRMs by e-mail, a name, team and
// Slack user.
type Manager struct {
	Email   string `yaml:"email"` // lower-case
	Name    string `yaml:"name,omitempty"`
	Team    string `yaml:"team,omitempty"`
	SlackID string `yaml:"slack_id,omitempty"`
	Pos     Pos    `yaml:"-"` // of its email
}

// Pos is a place in the config file. The config keeps it for what only a
// later step can judge, such as a manager that matches no CRM user, so
// that the warning can name the line.
type Pos struct {
	File string
	Line int
}

// String is "FILE:LINE", as errors start.
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Place is a value's position with its path in the file, as errors name
// it: "connectors[0].objects[2]".
type Place struct {
	Pos
	Path string
}

// Ref is a manager key written in the config, with where.
type Ref struct {
	Key string // lower-case e-mail or CONNECTOR:USER_ID
	Pos Pos
}

// Scoring configures the KPIs and the weighted score of KPIS.md.
type Scoring struct {
	Period       string     `yaml:"period"`        // PeriodWeek, PeriodMonth or PeriodQuarter
	LookbackDays int        `yaml:"lookback_days"` // days of 24 hours
	Cap          float64    `yaml:"cap"`           // attainment cap, percent
	KeyClients   KeyClients `yaml:"key_clients"`
	TeamTag      string     `yaml:"team_tag"` // case-sensitive substring of team tasks
	Costs        Costs      `yaml:"costs"`
	// KPIs overrides targets and weights by KPI key.
	KPIs map[string]KPI `yaml:"kpis,omitempty"`
	// Teams overrides KPIs per team; a team's entry wins over KPIs.
	Teams map[string]Team `yaml:"teams,omitempty"`
	// Manual holds figures entered by hand, which win over computed ones:
	// period spec ("2026-10", "2026-W43", "2026-Q3") → manager key (lower-case
	// e-mail or CONNECTOR:USER_ID) → KPI key → value.
	Manual map[string]map[string]map[string]float64 `yaml:"manual,omitempty"`
	// ManualPos is where each manager of Manual is written: period spec →
	// manager key → position.
	ManualPos map[string]map[string]Pos `yaml:"-"`
	// Exclude lists the managers that never get a scorecard, in file order.
	Exclude []Ref `yaml:"-"`
	// OnlyListed gives scorecards only to the managers under managers:.
	OnlyListed bool `yaml:"only_listed"`
}

// KeyClients configures the key-client growth KPI.
type KeyClients struct {
	Top int `yaml:"top"` // how many of a manager's clients by revenue are key clients
}

// Costs are the costs behind the cost-per-client KPI, in the reporting currency.
type Costs struct {
	Call              float64 `yaml:"call"`
	Email             float64 `yaml:"email"`
	Meeting           float64 `yaml:"meeting"`
	Message           float64 `yaml:"message"`
	Task              float64 `yaml:"task"`
	Note              float64 `yaml:"note"`
	MonthlyPerManager float64 `yaml:"monthly_per_manager"`
}

// KPI overrides a KPI's target or weight. A nil field is not set in the
// file; the scoring package then uses its default.
type KPI struct {
	Target *float64 `yaml:"target,omitempty"`
	Weight *float64 `yaml:"weight,omitempty"`
}

// Team holds one team's overrides.
type Team struct {
	KPIs map[string]KPI `yaml:"kpis,omitempty"`
}

// Notify configures delivery of scorecards.
type Notify struct {
	Slack Slack `yaml:"slack"`
}

// Slack configures posting to Slack. Without a Token nothing is posted.
type Slack struct {
	Token          Secret `yaml:"token,omitempty"`
	Channel        string `yaml:"channel,omitempty"` // team leaderboard and summaries
	DirectMessages bool   `yaml:"direct_messages"`   // each manager gets their scorecard by DM
	Schedule       string `yaml:"schedule,omitempty"`
	// APIURL is the Web API base URL, ending in "/".
	APIURL string `yaml:"api_url"`
	// TeamChannels sends each team's leaderboard to its own channel.
	TeamChannels map[string]string `yaml:"team_channels,omitempty"`
	// AlertsChannel, when set, gets a message from crmkpi serve when a
	// connector turns failing or stale, and one when it recovers.
	AlertsChannel string `yaml:"alerts_channel,omitempty"`
}

// Default returns the config of an empty file: every default set, no
// connectors, no managers.
func Default() *Config {
	return &Config{
		Timezone:  "UTC",
		Location:  time.UTC,
		Currency:  "USD",
		Warehouse: Warehouse{DSN: "sqlite:crmkpi.db"},
		Scoring: Scoring{
			Period:       PeriodMonth,
			LookbackDays: 365,
			Cap:          150,
			KeyClients:   KeyClients{Top: 10},
			TeamTag:      "#team",
			Costs:        Costs{Call: 300, Email: 50, Meeting: 2000, Message: 20},
		},
		Notify: Notify{Slack: Slack{
			DirectMessages: true,
			APIURL:         "https://slack.com/api/",
		}},
		Listen: ":9090",
	}
}

// defaultConnector returns a connector of type typ with the defaults this
// package owns: when serve syncs it and when status calls it stale. The
// connection settings' defaults are the connectors'.
func defaultConnector(typ string) Connector {
	return Connector{
		Type:       typ,
		Schedule:   "*/30 * * * *",
		StaleAfter: 24 * time.Hour,
	}
}

// Connector returns the connector called name, or nil. The pointer is into
// c.Connectors, so changes through it change c.
func (c *Config) Connector(name string) *Connector {
	for i := range c.Connectors {
		if c.Connectors[i].Name == name {
			return &c.Connectors[i]
		}
	}
	return nil
}

// Path returns the config file to read: flagValue (from --config) when set,
// else $CRMKPI_CONFIG, else DefaultPath.
func Path(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return DefaultPath
}

// Load reads and parses the config file at path, expanding ${VAR} from the
// process environment. A relative sqlite: warehouse path (the default
// sqlite:crmkpi.db too) is resolved against the file's directory, so every
// command finds the same warehouse wherever it is started from. Problems in
// the file come back as an ErrorList; a file that cannot be read gives the
// *fs.PathError.
func Load(path string) (*Config, error) {
	return LoadWithEnv(path, os.LookupEnv)
}

// LoadWithEnv is Load with the environment given by lookup, which has the
// signature of os.LookupEnv.
func LoadWithEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := ParseWithEnv(f, path, lookup)
	if err != nil {
		return nil, err
	}
	cfg.Warehouse.DSN = Secret(resolveSQLite(cfg.Warehouse.DSN.Value(), filepath.Dir(path)))
	return cfg, nil
}

// resolveSQLite makes the file of a sqlite: DSN relative to dir; any other
// DSN, and an absolute path, stay as they are.
func resolveSQLite(dsn, dir string) string {
	p, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || strings.HasPrefix(p, "//") || filepath.IsAbs(p) || p == "" {
		return dsn
	}
	return "sqlite:" + filepath.Join(dir, p)
}

// Parse reads a config from r, expanding ${VAR} from the process
// environment. filename is only used in error messages.
func Parse(r io.Reader, filename string) (*Config, error) {
	return ParseWithEnv(r, filename, os.LookupEnv)
}

// ParseWithEnv is Parse with the environment given by lookup, which has the
// signature of os.LookupEnv. It returns every problem in the file at once, as
// an ErrorList sorted by line, and a nil *Config with it.
func ParseWithEnv(r io.Reader, filename string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	d := &decoder{file: filename, lookup: lookup}
	cfg := d.decodeFile(data)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// String shows the set values, so that %v of a Config prints numbers rather
// than the addresses of Target and Weight.
func (k KPI) String() string {
	f := func(p *float64) string {
		if p == nil {
			return "unset"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	return fmt.Sprintf("{Target:%s Weight:%s}", f(k.Target), f(k.Weight))
}

// Format implements fmt.Formatter. fmt prints a nested pointer with a verb
// it does not expect (%s of a Config) through its error path, which skips
// the Secret fields' own methods; printing a method-less copy keeps them.
func (o *OAuth) Format(f fmt.State, verb rune) {
	type plain OAuth
	if o == nil {
		fmt.Fprint(f, "<nil>")
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), (*plain)(o))
}
