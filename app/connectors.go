package app

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/warehouse"
)

type tokenStore = connectors.TokenStore

// built is a connector made from the config, with what the sync engine and
// metrics need beside it.
type built struct {
	conn           connectors.Connector
	stats          func() connectors.ClientStats
	reconcileEvery time.Duration
}

func buildConnectors(conns []config.Connector, s *warehouse.Store, log *slog.Logger) ([]built, error) {
	return buildConnectorsWith(conns, s, log)
}

// buildConnectorsWith makes one connector per config entry. The switch on
// type lives here, in the wiring, rather than in a registry filled by init.
func buildConnectorsWith(conns []config.Connector, ts tokenStore, log *slog.Logger) ([]built, error) {
	var out []built
	for _, c := range conns {
		b, err := buildConnector(c, ts, log.With("connector", c.Name))
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("connector %s: %w", c.Name, err)}
		}
		out = append(out, b)
	}
	return out, nil
}

func fieldsMap(f config.Fields) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"nps_score": f.NPSScore, "nps_date": f.NPSDate, "deal_expense": f.DealExpense, "key_client": f.KeyClient} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

func buildConnector(c config.Connector, ts tokenStore, log *slog.Logger) (built, error) {
	switch c.Type {
	case config.TypeHubSpot:
		o := hubspot.Options{
			Name: c.Name, BaseURL: c.BaseURL, Token: c.Token.Value(),
			RateLimit: c.RateLimit, Burst: c.Burst, SearchRateLimit: c.SearchRateLimit,
			Timeout: c.Timeout, Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap,
			AssociationsEvery: c.AssociationsEvery, Currency: c.Currency,
			TokenStore: ts, Logger: log,
		}
		if c.OAuth != nil {
			o.OAuth = &hubspot.OAuth{ClientID: c.OAuth.ClientID, ClientSecret: c.OAuth.ClientSecret.Value(),
				RefreshToken: c.OAuth.RefreshToken.Value(), TokenURL: c.OAuth.TokenURL}
		}
		cl, err := hubspot.New(o)
		if err != nil {
			return built{}, err
		}
		return built{conn: cl, stats: cl.Stats}, nil
	case config.TypeAmoCRM:
		o := amocrm.Options{
			Name: c.Name, BaseURL: c.BaseURL, Token: c.Token.Value(),
			RateLimit: c.RateLimit, Burst: c.Burst, Timeout: c.Timeout,
			Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap, Currency: c.Currency,
			TokenStore: ts, Logger: log,
		}
		if c.OAuth != nil {
			o.OAuth = &amocrm.OAuth{ClientID: c.OAuth.ClientID, ClientSecret: c.OAuth.ClientSecret.Value(),
				RedirectURI: c.OAuth.RedirectURI, RefreshToken: c.OAuth.RefreshToken.Value(), TokenURL: c.OAuth.TokenURL}
		}
		cl, err := amocrm.New(o)
		if err != nil {
			return built{}, err
		}
		return built{conn: cl, stats: cl.Stats}, nil
	case config.TypeBitrix24:
		burst := c.Burst
		if burst == 0 && c.Bucket > 0 {
			// Leave most of the portal's bucket to other apps and users.
			burst = max(1, c.Bucket/5)
		}
		o := bitrix24.Options{
			Name: c.Name, WebhookURL: c.WebhookURL.Value(), BaseURL: c.BaseURL, Token: c.Token.Value(),
			RateLimit: c.RateLimit, Burst: burst, Timeout: c.Timeout,
			Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap, ReconcileEvery: c.ReconcileEvery,
			TokenStore: ts, Logger: log,
		}
		if c.OAuth != nil {
			o.OAuth = &bitrix24.OAuth{ClientID: c.OAuth.ClientID, ClientSecret: c.OAuth.ClientSecret.Value(),
				RefreshToken: c.OAuth.RefreshToken.Value(), TokenURL: c.OAuth.TokenURL}
		}
		cl, err := bitrix24.New(o)
		if err != nil {
			return built{}, err
		}
		return built{conn: cl, stats: cl.Stats, reconcileEvery: cl.ReconcileEvery()}, nil
	}
	return built{}, fmt.Errorf("unknown connector type %q", c.Type)
}
