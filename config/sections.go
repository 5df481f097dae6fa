package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	nameRE     = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// decodeConfig walks the top-level mapping into cfg, which holds the
// defaults. Sections that refer to others (connector currencies to fx_rates,
// teams to managers, manual figures to connectors) are decoded after the
// ones they refer to, whatever their order in the file.
func (d *decoder) decodeConfig(root *yaml.Node, cfg *Config) {
	var connectors, managers, scoring, notify *yaml.Node
	keep := func(dst **yaml.Node) field {
		return func(v *yaml.Node, _ string) bool { *dst = v; return true }
	}
	_, bad := d.fields(root, "", map[string]field{
		"timezone": func(v *yaml.Node, p string) bool { return d.timezone(v, p, cfg) },
		"currency": func(v *yaml.Node, p string) bool { return d.currency(v, p, &cfg.Currency) },
		"fx_rates": func(v *yaml.Node, p string) bool { return d.fxRates(v, p, cfg) },
		"warehouse": func(v *yaml.Node, p string) bool {
			_, bad := d.fields(v, p, map[string]field{
				"dsn": func(v *yaml.Node, p string) bool { return d.dsn(v, p, &cfg.Warehouse.DSN) },
			})
			return len(bad) == 0
		},
		"listen":     func(v *yaml.Node, p string) bool { return d.listen(v, p, &cfg.Listen) },
		"web":        func(v *yaml.Node, p string) bool { return d.web(v, p, &cfg.Web) },
		"connectors": keep(&connectors),
		"managers":   keep(&managers),
		"scoring":    keep(&scoring),
		"notify":     keep(&notify),
	})
	if bad[""] {
		return
	}
	teams := map[string]bool{}
	if managers != nil {
		cfg.Managers = d.managers(managers, "managers", teams)
	}
	if connectors != nil {
		cfg.Connectors = d.connectors(connectors, "connectors", cfg, bad["currency"] || bad["fx_rates"])
	}
	if scoring != nil {
		d.scoring(scoring, "scoring", cfg, teams, managers == nil)
	}
	if notify != nil {
		d.fields(notify, "notify", map[string]field{
			"slack": func(v *yaml.Node, p string) bool { return d.slack(v, p, &cfg.Notify.Slack, teams, managers == nil) },
		})
	}
}

func (d *decoder) timezone(n *yaml.Node, path string, cfg *Config) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if s == "" {
		d.errorf(n, "%s: must not be empty", path)
		return false
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		d.errorf(n, "%s: unknown time zone %s", path, quote(s))
		return false
	}
	cfg.Timezone, cfg.Location = s, loc
	return true
}

func (d *decoder) currency(n *yaml.Node, path string, dst *string) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if !currencyRE.MatchString(s) {
		d.errorf(n, "%s: want a 3-letter upper-case currency code such as \"USD\", got %s", path, quote(s))
		return false
	}
	*dst = s
	return true
}

func (d *decoder) fxRates(n *yaml.Node, path string, cfg *Config) bool {
	es, ok := d.mapping(n, path, true)
	if !ok {
		return false
	}
	rates := map[string]float64{}
	for _, e := range es {
		p := join(path, e.key)
		if !currencyRE.MatchString(e.key) {
			d.errorf(e.k, "%s: want a 3-letter upper-case currency code such as \"USD\"", p)
			ok = false
			continue
		}
		var f float64
		if !d.float(e.v, p, &f) {
			ok = false
			continue
		}
		if f <= 0 {
			d.errorf(e.v, "%s: must be positive", p)
			ok = false
			continue
		}
		rates[e.key] = f
	}
	if len(rates) > 0 {
		cfg.FXRates = rates
	}
	return ok
}

// dsn checks only the scheme: the warehouse package owns the rest, and the
// value may hold a password, so it is never echoed.
func (d *decoder) dsn(n *yaml.Node, path string, dst *Secret) bool {
	var s Secret
	if !d.secret(n, path, &s) {
		return false
	}
	v := s.Value()
	switch {
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
	case strings.HasPrefix(v, "sqlite:"):
		if strings.TrimPrefix(v, "sqlite:") == "" {
			d.errorf(n, "%s: sqlite: needs a file path, e.g. sqlite:crmkpi.db", path)
			return false
		}
	default:
		d.errorf(n, "%s: want postgres://..., postgresql://... or sqlite:PATH", path)
		return false
	}
	*dst = s
	return true
}

func (d *decoder) listen(n *yaml.Node, path string, dst *string) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		d.errorf(n, "%s: want host:port such as \":9090\", got %s", path, quote(s))
		return false
	}
	*dst = s
	return true
}

// seq returns the items of the list n; null is an empty list.
func (d *decoder) seq(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: want a list, got %s", path, kindName(n))
		return nil
	}
	return n.Content
}

// strings decodes a list of strings; a single string is a list of one.
func (d *decoder) strings(n *yaml.Node, path string, dst *[]string) bool {
	if r := resolve(n); r.Kind == yaml.ScalarNode && !isNull(r) {
		var s string
		if !d.str(n, path, &s) {
			return false
		}
		*dst = []string{s}
		return true
	}
	ok := true
	for i, item := range d.seq(n, path) {
		var s string
		if !d.str(item, fmt.Sprintf("%s[%d]", path, i), &s) {
			ok = false
			continue
		}
		*dst = append(*dst, s)
	}
	return ok
}

func (d *decoder) managers(n *yaml.Node, path string, teams map[string]bool) []Manager {
	var out []Manager
	seen := map[string]int{}
	for i, item := range d.seq(n, path) {
		p := fmt.Sprintf("%s[%d]", path, i)
		var m Manager
		present, bad := d.fields(item, p, map[string]field{
			"email": func(v *yaml.Node, p string) bool {
				if !d.str(v, p, &m.Email) {
					return false
				}
				m.Email = strings.ToLower(strings.TrimSpace(m.Email))
				if !validEmail(m.Email) {
					d.errorf(v, "%s: want an e-mail address, got %s", p, quote(m.Email))
					return false
				}
				if line, dup := seen[m.Email]; dup {
					d.errorf(v, "%s: duplicate manager %s (first at line %d)", p, quote(m.Email), line)
					return false
				}
				m.Pos = Pos{File: d.file, Line: resolve(v).Line}
				seen[m.Email] = m.Pos.Line
				return true
			},
			"name":     func(v *yaml.Node, p string) bool { return d.str(v, p, &m.Name) },
			"team":     func(v *yaml.Node, p string) bool { return d.str(v, p, &m.Team) },
			"slack_id": func(v *yaml.Node, p string) bool { return d.str(v, p, &m.SlackID) },
		})
		if bad[""] {
			continue
		}
		if present["email"] == nil {
			d.errorf(item, "%s.email: required", p)
		}
		if m.Team != "" {
			teams[m.Team] = true
		}
		out = append(out, m)
	}
	return out
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\n,;<>") && !strings.Contains(domain, "@")
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// url decodes an http(s) URL. The message never echoes the value: a
// Bitrix24 webhook URL is a secret.
func (d *decoder) url(n *yaml.Node, path string, dst *string) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if !validURL(s) {
		d.errorf(n, "%s: not an http(s) URL", path)
		return false
	}
	*dst = s
	return true
}

func (d *decoder) cron(n *yaml.Node, path string, dst *string) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if err := parseCron(s); err != nil {
		d.errorf(n, "%s: bad cron expression %s: %v", path, quote(s), err)
		return false
	}
	*dst = s
	return true
}

// parseCron checks a standard cron spec. robfig/cron panics on some
// malformed input ("TZ=UTC" without a schedule), so the panic becomes an
// error.
func parseCron(s string) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("malformed")
		}
	}()
	_, err = cron.ParseStandard(s)
	return err
}

func (d *decoder) nonNegative(n *yaml.Node, path string, dst *float64) bool {
	var f float64
	if !d.float(n, path, &f) {
		return false
	}
	if f < 0 {
		d.errorf(n, "%s: must not be negative", path)
		return false
	}
	*dst = f
	return true
}

func (d *decoder) positive(n *yaml.Node, path string, dst *float64) bool {
	var f float64
	if !d.float(n, path, &f) {
		return false
	}
	if f <= 0 {
		d.errorf(n, "%s: must be positive", path)
		return false
	}
	*dst = f
	return true
}

// percent decodes a share in percent: more than 0, at most 100.
func (d *decoder) percent(n *yaml.Node, path string, dst *float64) bool {
	var f float64
	if !d.positive(n, path, &f) {
		return false
	}
	if f > 100 {
		d.errorf(n, "%s: must be at most 100 (percent)", path)
		return false
	}
	*dst = f
	return true
}

func (d *decoder) positiveInt(n *yaml.Node, path string, dst *int, zeroOK bool) bool {
	var i int
	if !d.int(n, path, &i) {
		return false
	}
	if i < 0 || i == 0 && !zeroOK {
		if zeroOK {
			d.errorf(n, "%s: must not be negative", path)
		} else {
			d.errorf(n, "%s: must be positive", path)
		}
		return false
	}
	*dst = i
	return true
}

// typeOnly lists the connector keys that only one type of connector reads.
var typeOnly = map[string]string{
	"associations_every": TypeHubSpot,
	"search_rate_limit":  TypeHubSpot,
	"rate_tier":          TypeHubSpot,
	"webhook_url":        TypeBitrix24,
	"reconcile_every":    TypeBitrix24,
	"bucket":             TypeBitrix24,
}

// connectors decodes the connector list. fxBroken says that currency or
// fx_rates had errors of their own, so that a connector currency is not
// blamed for them.
func (d *decoder) connectors(n *yaml.Node, path string, cfg *Config, fxBroken bool) []Connector {
	var out []Connector
	seen := map[string]int{}
	for i, item := range d.seq(n, path) {
		p := fmt.Sprintf("%s[%d]", path, i)
		c, ok := d.connector(item, p, cfg.Location)
		if !ok {
			continue
		}
		if c.Name != "" {
			if line, dup := seen[c.Name]; dup {
				nn := d.nodeOf(item, "name")
				d.errorf(nn, "%s.name: duplicate connector name %s (first at line %d)", p, quote(c.Name), line)
			} else {
				seen[c.Name] = d.nodeOf(item, "name").Line
			}
		}
		if c.Currency != "" && c.Currency != cfg.Currency && cfg.FXRates[c.Currency] == 0 && !fxBroken {
			d.errorf(d.nodeOf(item, "currency"), "%s.currency: no fx_rates entry for %s (reporting currency is %s)", p, c.Currency, cfg.Currency)
		}
		out = append(out, c)
	}
	return out
}

// nodeOf returns the value node of key in the mapping n, or n itself.
func (d *decoder) nodeOf(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return n
}

func (d *decoder) connector(item *yaml.Node, p string, loc *time.Location) (Connector, bool) {
	c := defaultConnector("")
	known := map[string]field{
		"name": func(v *yaml.Node, p string) bool {
			if !d.str(v, p, &c.Name) {
				return false
			}
			if !nameRE.MatchString(c.Name) {
				d.errorf(v, "%s: want lower-case letters, digits, \"-\" and \"_\", got %s", p, quote(c.Name))
				c.Name = ""
				return false
			}
			return true
		},
		"type": func(v *yaml.Node, p string) bool {
			if !d.str(v, p, &c.Type) {
				return false
			}
			switch c.Type {
			case TypeHubSpot, TypeAmoCRM, TypeBitrix24:
				return true
			}
			d.errorf(v, "%s: unknown connector type %s (want hubspot, amocrm or bitrix24)", p, quote(c.Type))
			return false
		},
		"token": func(v *yaml.Node, p string) bool { return d.secret(v, p, &c.Token) },
		"webhook_url": func(v *yaml.Node, p string) bool {
			var s string
			ok := d.url(v, p, &s)
			c.WebhookURL = Secret(s)
			return ok
		},
		"oauth": func(v *yaml.Node, p string) bool {
			c.OAuth = &OAuth{}
			return d.oauth(v, p, c.OAuth)
		},
		"base_url": func(v *yaml.Node, p string) bool { return d.url(v, p, &c.BaseURL) },
		"schedule": func(v *yaml.Node, p string) bool { return d.cron(v, p, &c.Schedule) },
		"currency": func(v *yaml.Node, p string) bool { return d.currency(v, p, &c.Currency) },
		"fields": func(v *yaml.Node, p string) bool {
			_, bad := d.fields(v, p, map[string]field{
				"nps_score":    func(v *yaml.Node, p string) bool { return d.str(v, p, &c.Fields.NPSScore) },
				"nps_date":     func(v *yaml.Node, p string) bool { return d.str(v, p, &c.Fields.NPSDate) },
				"deal_expense": func(v *yaml.Node, p string) bool { return d.str(v, p, &c.Fields.DealExpense) },
				"key_client":   func(v *yaml.Node, p string) bool { return d.str(v, p, &c.Fields.KeyClient) },
				"key_client_values": func(v *yaml.Node, p string) bool {
					return d.strings(v, p, &c.Fields.KeyClientValues)
				},
			})
			return len(bad) == 0
		},
		"stale_after":        func(v *yaml.Node, p string) bool { return d.duration(v, p, &c.StaleAfter) },
		"overlap":            func(v *yaml.Node, p string) bool { return d.duration(v, p, &c.Overlap) },
		"min_listing_share":  func(v *yaml.Node, p string) bool { return d.percent(v, p, &c.MinListingShare) },
		"associations_every": func(v *yaml.Node, p string) bool { return d.duration(v, p, &c.AssociationsEvery) },
		"search_rate_limit":  func(v *yaml.Node, p string) bool { return d.positive(v, p, &c.SearchRateLimit) },
		"rate_tier":          func(v *yaml.Node, p string) bool { return d.rateTier(v, p, &c.RateTier) },
		"reconcile_every":    func(v *yaml.Node, p string) bool { return d.duration(v, p, &c.ReconcileEvery) },
		"objects":            func(v *yaml.Node, p string) bool { return d.objects(v, p, &c) },
		"since":              func(v *yaml.Node, p string) bool { return d.since(v, p, loc, &c.Since) },
		"bucket":             func(v *yaml.Node, p string) bool { return d.positiveInt(v, p, &c.Bucket, false) },
	}
	d.httpFields(known, &c.HTTPOptions)
	present, bad := d.fields(item, p, known)
	if bad[""] {
		return c, false
	}
	if present["name"] == nil {
		d.errorf(item, "%s.name: required", p)
	}
	if present["type"] == nil {
		d.errorf(item, "%s.type: required", p)
		return c, true
	}
	if bad["type"] {
		return c, true
	}

	for key, typ := range typeOnly {
		if v := present[key]; v != nil && typ != c.Type {
			d.errorf(v, "%s.%s: only for %s connectors", p, key, typ)
		}
	}

	// An unset value that failed to decode was already reported.
	hasToken := c.Token != "" || bad["token"]
	hasOAuth := c.OAuth != nil || bad["oauth"]
	hasWebhook := c.WebhookURL != "" || bad["webhook_url"]
	hasBaseURL := c.BaseURL != "" || bad["base_url"]
	switch c.Type {
	case TypeHubSpot, TypeAmoCRM:
		if c.Type == TypeAmoCRM && !hasBaseURL {
			d.errorf(item, "%s.base_url: required for amocrm (https://SUBDOMAIN.amocrm.ru)", p)
		}
		switch {
		case !hasToken && !hasOAuth:
			d.errorf(item, "%s: %s needs token or oauth", p, c.Type)
		case c.Token != "" && c.OAuth != nil:
			d.errorf(present["oauth"], "%s: set token or oauth, not both", p)
		}
	case TypeBitrix24:
		if v := present["token"]; v != nil {
			d.errorf(v, "%s.token: not used by bitrix24 (set webhook_url, or oauth and base_url)", p)
		}
		switch {
		case !hasWebhook && !hasOAuth:
			d.errorf(item, "%s: bitrix24 needs webhook_url, or oauth and base_url", p)
		case c.WebhookURL != "" && c.OAuth != nil:
			d.errorf(present["oauth"], "%s: set webhook_url or oauth, not both", p)
		case c.OAuth != nil && !hasBaseURL:
			d.errorf(item, "%s.base_url: required with oauth for bitrix24 (https://PORTAL.bitrix24.com)", p)
		}
	}
	if c.OAuth != nil && !bad["oauth"] {
		o := c.OAuth
		missing := func(key, v string) {
			if v == "" {
				d.errorf(present["oauth"], "%s.oauth.%s: required", p, key)
			}
		}
		missing("client_id", o.ClientID)
		missing("client_secret", o.ClientSecret.Value())
		missing("refresh_token", o.RefreshToken.Value())
		if c.Type == TypeAmoCRM {
			missing("redirect_uri", o.RedirectURI)
		}
	}
	return c, true
}

// objects decodes a connector's objects: a list of names (or one name),
// each kept with its place for the check against the connector's own
// objects, which only the built connector knows (SelectObjects).
func (d *decoder) objects(n *yaml.Node, path string, c *Connector) bool {
	r := resolve(n)
	single := r.Kind == yaml.ScalarNode && !isNull(r)
	items := []*yaml.Node{n}
	if !single {
		if items = d.seq(n, path); items == nil {
			if r.Kind == yaml.SequenceNode || isNull(r) {
				d.errorf(n, "%s: empty; leave the key out to sync every object", path)
			}
			return false
		}
	}
	ok := true
	seen := map[string]bool{}
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if single {
			ip = path
		}
		var name string
		if !d.str(item, ip, &name) {
			ok = false
			continue
		}
		if seen[name] {
			d.errorf(item, "%s: %s is listed twice", ip, quote(name))
			ok = false
			continue
		}
		seen[name] = true
		c.Objects = append(c.Objects, name)
		c.ObjectsAt = append(c.ObjectsAt, Place{Pos: Pos{File: d.file, Line: resolve(item).Line}, Path: ip})
	}
	return ok
}

// since decodes a start date: YYYY-MM-DD, midnight of that day in loc (the
// config's timezone), or an RFC 3339 time. A date still to come is an
// error: the first sync would read no deals or activities at all, and the
// later ones only changes, so a mistyped year would lose every old record
// without a word.
func (d *decoder) since(n *yaml.Node, path string, loc *time.Location, dst *time.Time) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil || t.Year() < 1970 {
		d.errorf(n, "%s: bad date %s (want YYYY-MM-DD, e.g. 2025-01-01, or an RFC 3339 time)", path, quote(s))
		return false
	}
	if t.After(d.clock()) {
		d.errorf(n, "%s: %s is in the future: the first sync would read no deals or activities", path, s)
		return false
	}
	*dst = t
	return true
}

// httpFields adds to known a field for every connection setting of o
// (connectors.HTTPOptions), by its yaml name. Their shape is one rule: a
// number ≥ 0, an integer ≥ 0 or a positive duration; absent or 0 means the
// connector's default. Walking the struct keeps a new setting one field.
func (d *decoder) httpFields(known map[string]field, o *connectors.HTTPOptions) {
	v := reflect.ValueOf(o).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		switch dst := v.Field(i).Addr().Interface().(type) {
		case *time.Duration:
			known[name] = func(n *yaml.Node, p string) bool { return d.duration(n, p, dst) }
		case *float64:
			known[name] = func(n *yaml.Node, p string) bool { return d.nonNegative(n, p, dst) }
		case *int:
			known[name] = func(n *yaml.Node, p string) bool { return d.positiveInt(n, p, dst, true) }
		default:
			panic(fmt.Sprintf("config: connectors.HTTPOptions.%s has a type the decoder does not read", v.Type().Field(i).Name))
		}
	}
}

// rateTier decodes a HubSpot rate tier: a plan name or a number of
// requests per 10 seconds, as hubspot.ParseRateTier reads it.
func (d *decoder) rateTier(n *yaml.Node, path string, dst *string) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	if _, err := hubspot.ParseRateTier(s); err != nil {
		d.errorf(n, "%s: %v", path, err)
		return false
	}
	*dst = s
	return true
}

func (d *decoder) oauth(n *yaml.Node, path string, o *OAuth) bool {
	_, bad := d.fields(n, path, map[string]field{
		"client_id":     func(v *yaml.Node, p string) bool { return d.str(v, p, &o.ClientID) },
		"client_secret": func(v *yaml.Node, p string) bool { return d.secret(v, p, &o.ClientSecret) },
		"refresh_token": func(v *yaml.Node, p string) bool { return d.secret(v, p, &o.RefreshToken) },
		"redirect_uri":  func(v *yaml.Node, p string) bool { return d.url(v, p, &o.RedirectURI) },
		"token_url":     func(v *yaml.Node, p string) bool { return d.url(v, p, &o.TokenURL) },
	})
	return len(bad) == 0
}

// scoring decodes the scoring section; teams are the managers' teams, and
// noManagers says the file has no managers list to check team names against.
func (d *decoder) scoring(n *yaml.Node, path string, cfg *Config, teams map[string]bool, noManagers bool) {
	s := &cfg.Scoring
	d.fields(n, path, map[string]field{
		"period": func(v *yaml.Node, p string) bool {
			var k string
			if !d.str(v, p, &k) {
				return false
			}
			switch k {
			case PeriodWeek, PeriodMonth, PeriodQuarter:
				s.Period = k
				return true
			}
			d.errorf(v, "%s: unknown period %s (want week, month or quarter)", p, quote(k))
			return false
		},
		"lookback_days": func(v *yaml.Node, p string) bool { return d.positiveInt(v, p, &s.LookbackDays, false) },
		"cap":           func(v *yaml.Node, p string) bool { return d.positive(v, p, &s.Cap) },
		"key_clients": func(v *yaml.Node, p string) bool {
			_, bad := d.fields(v, p, map[string]field{
				"top": func(v *yaml.Node, p string) bool { return d.positiveInt(v, p, &s.KeyClients.Top, false) },
			})
			return len(bad) == 0
		},
		"team_tag": func(v *yaml.Node, p string) bool {
			var t string
			if !d.str(v, p, &t) {
				return false
			}
			if t == "" {
				d.errorf(v, "%s: must not be empty", p)
				return false
			}
			s.TeamTag = t
			return true
		},
		"costs": func(v *yaml.Node, p string) bool {
			c := &s.Costs
			_, bad := d.fields(v, p, map[string]field{
				"call":                func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Call) },
				"email":               func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Email) },
				"meeting":             func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Meeting) },
				"message":             func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Message) },
				"task":                func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Task) },
				"note":                func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.Note) },
				"monthly_per_manager": func(v *yaml.Node, p string) bool { return d.nonNegative(v, p, &c.MonthlyPerManager) },
			})
			return len(bad) == 0
		},
		"kpis": func(v *yaml.Node, p string) bool {
			s.KPIs = d.kpis(v, p)
			return true
		},
		"teams": func(v *yaml.Node, p string) bool {
			es, ok := d.mapping(v, p, true)
			for _, e := range es {
				tp := join(p, e.key)
				if !teams[e.key] && !noManagers {
					d.errorf(e.k, "%s: no manager is in team %s", tp, quote(e.key))
				}
				var t Team
				d.fields(e.v, tp, map[string]field{
					"kpis": func(v *yaml.Node, p string) bool { t.KPIs = d.kpis(v, p); return true },
				})
				if s.Teams == nil {
					s.Teams = map[string]Team{}
				}
				s.Teams[e.key] = t
			}
			return ok
		},
		"manual": func(v *yaml.Node, p string) bool {
			s.Manual, s.ManualPos = d.manual(v, p, cfg)
			return true
		},
		"exclude": func(v *yaml.Node, p string) bool {
			s.Exclude = d.exclude(v, p, cfg)
			return true
		},
		"only_listed": func(v *yaml.Node, p string) bool {
			if !d.bool(v, p, &s.OnlyListed) {
				return false
			}
			if s.OnlyListed && len(cfg.Managers) == 0 {
				d.errorf(v, "%s: true, but managers: lists nobody, so nobody would be scored", p)
				return false
			}
			return true
		},
	})
}

// exclude decodes scoring.exclude, a list of manager keys.
func (d *decoder) exclude(n *yaml.Node, path string, cfg *Config) []Ref {
	var out []Ref
	seen := map[string]int{}
	for i, item := range d.seq(n, path) {
		p := fmt.Sprintf("%s[%d]", path, i)
		var k string
		if !d.str(item, p, &k) {
			continue
		}
		key, ok := d.managerKey(item, p, strings.TrimSpace(k), cfg)
		if !ok {
			continue
		}
		line := resolve(item).Line
		if first, dup := seen[key]; dup {
			d.errorf(item, "%s: duplicate manager %s (first at line %d)", p, quote(key), first)
			continue
		}
		seen[key] = line
		out = append(out, Ref{Key: key, Pos: Pos{File: d.file, Line: line}})
	}
	return out
}

// kpiKey checks a KPI key against kpi.Table, the one list of KPIs.
func (d *decoder) kpiKey(k *yaml.Node, path, key string) bool {
	if _, ok := kpi.Lookup(key); ok {
		return true
	}
	d.unknownKey(k, path, "KPI", kpi.Keys)
	return false
}

func (d *decoder) kpis(n *yaml.Node, path string) map[string]KPI {
	es, _ := d.mapping(n, path, false)
	var out map[string]KPI
	for _, e := range es {
		p := join(path, e.key)
		if !d.kpiKey(e.k, p, e.key) {
			continue
		}
		var k KPI
		d.fields(e.v, p, map[string]field{
			"target": func(v *yaml.Node, p string) bool {
				var f float64
				if !d.positive(v, p, &f) {
					return false
				}
				k.Target = &f
				return true
			},
			"weight": func(v *yaml.Node, p string) bool {
				var f float64
				if !d.nonNegative(v, p, &f) {
					return false
				}
				k.Weight = &f
				return true
			},
		})
		if out == nil {
			out = map[string]KPI{}
		}
		out[e.key] = k
	}
	return out
}

func (d *decoder) manual(n *yaml.Node, path string, cfg *Config) (map[string]map[string]map[string]float64, map[string]map[string]Pos) {
	periods, _ := d.mapping(n, path, true)
	var out map[string]map[string]map[string]float64
	var pos map[string]map[string]Pos
	for _, pe := range periods {
		pp := join(path, pe.key)
		// The same parser and message as --period; the key is kept in its
		// canonical form ("2026-q3" is "2026-Q3"), which scoring looks up.
		p, err := period.ParseSpec(pe.key, time.UTC)
		if err != nil {
			d.errorf(pe.k, "%s: %v", path, err)
			continue
		}
		spec := p.Spec()
		managers, _ := d.mapping(pe.v, pp, true)
		seen := map[string]int{}
		for _, me := range managers {
			mp := join(pp, me.key)
			key, ok := d.managerKey(me.k, mp, me.key, cfg)
			if !ok {
				continue
			}
			if line, dup := seen[key]; dup {
				d.errorf(me.k, "%s: duplicate manager %s (first at line %d)", mp, quote(key), line)
				continue
			}
			seen[key] = me.k.Line
			if pos == nil {
				pos = map[string]map[string]Pos{}
			}
			if pos[spec] == nil {
				pos[spec] = map[string]Pos{}
			}
			pos[spec][key] = Pos{File: d.file, Line: me.k.Line}
			kpis, _ := d.mapping(me.v, mp, false)
			for _, ke := range kpis {
				kp := join(mp, ke.key)
				var f float64
				if !d.kpiKey(ke.k, kp, ke.key) || !d.float(ke.v, kp, &f) {
					continue
				}
				if out == nil {
					out = map[string]map[string]map[string]float64{}
				}
				if out[spec] == nil {
					out[spec] = map[string]map[string]float64{}
				}
				if out[spec][key] == nil {
					out[spec][key] = map[string]float64{}
				}
				out[spec][key][ke.key] = f
			}
		}
	}
	return out, pos
}

// managerKey checks a manager key of KPIS.md: a lower-case e-mail, or
// CONNECTOR:USER_ID for a CRM user without one.
func (d *decoder) managerKey(k *yaml.Node, path, key string, cfg *Config) (string, bool) {
	if strings.Contains(key, "@") {
		key = strings.ToLower(key)
		if !validEmail(key) {
			d.errorf(k, "%s: want an e-mail address or CONNECTOR:USER_ID", path)
			return "", false
		}
		return key, true
	}
	conn, id, ok := strings.Cut(key, ":")
	if !ok || conn == "" || id == "" {
		d.errorf(k, "%s: want an e-mail address or CONNECTOR:USER_ID", path)
		return "", false
	}
	if cfg.Connector(conn) == nil {
		d.errorf(k, "%s: unknown connector %s", path, quote(conn))
		return "", false
	}
	return key, true
}

func (d *decoder) slack(n *yaml.Node, path string, s *Slack, teams map[string]bool, noManagers bool) bool {
	present, bad := d.fields(n, path, map[string]field{
		"token":           func(v *yaml.Node, p string) bool { return d.secret(v, p, &s.Token) },
		"channel":         func(v *yaml.Node, p string) bool { return d.str(v, p, &s.Channel) },
		"alerts_channel":  func(v *yaml.Node, p string) bool { return d.str(v, p, &s.AlertsChannel) },
		"direct_messages": func(v *yaml.Node, p string) bool { return d.bool(v, p, &s.DirectMessages) },
		"schedule":        func(v *yaml.Node, p string) bool { return d.cron(v, p, &s.Schedule) },
		"api_url": func(v *yaml.Node, p string) bool {
			if !d.url(v, p, &s.APIURL) {
				return false
			}
			if !strings.HasSuffix(s.APIURL, "/") {
				s.APIURL += "/"
			}
			return true
		},
		"team_channels": func(v *yaml.Node, p string) bool {
			es, ok := d.mapping(v, p, true)
			for _, e := range es {
				tp := join(p, e.key)
				if !teams[e.key] && !noManagers {
					d.errorf(e.k, "%s: no manager is in team %s", tp, quote(e.key))
				}
				var ch string
				if !d.str(e.v, tp, &ch) {
					ok = false
					continue
				}
				if s.TeamChannels == nil {
					s.TeamChannels = map[string]string{}
				}
				s.TeamChannels[e.key] = ch
			}
			return ok
		},
	})
	if len(bad) > 0 {
		return false
	}
	if s.Token != "" && s.Channel == "" && !s.DirectMessages && len(s.TeamChannels) == 0 && s.AlertsChannel == "" {
		d.errorf(present["token"], "%s: nowhere to post (set channel, team_channels, direct_messages or alerts_channel)", path)
		return false
	}
	return true
}
