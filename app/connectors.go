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
	objects        []connectors.Object // the config's objects, in the connector's order
}

func buildConnectors(conns []config.Connector, s *warehouse.Store, log *slog.Logger) ([]built, error) {
	return buildConnectorsWith(conns, s, log)
}

// buildConnectorsWith makes one connector per config entry. The switch on
// type lives here, in the wiring, rather than in a registry filled by init.
func buildConnectorsWith(conns []config.Connector, ts tokenStore, log *slog.Logger) ([]built, error) {
	var out []built
	for _, c := range conns {
		// Each connector names itself in its log lines (connectors.Logger).
		b, err := buildConnector(c, ts, log)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("connector %s: %w", c.Name, err)}
		}
		// Only the built connector knows its objects' names; the error
		// names the file and line of each unknown one.
		if b.objects, err = c.SelectObjects(b.conn.Objects()); err != nil {
			return nil, configErrorf("invalid config:\n%w", err)
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

// buildConnector passes the config's settings through as they are: zeros
// mean the vendor's defaults, which each New owns.
func buildConnector(c config.Connector, ts tokenStore, log *slog.Logger) (built, error) {
	switch c.Type {
	case config.TypeHubSpot:
		o := hubspot.Options{
			Name: c.Name, BaseURL: c.BaseURL, Token: c.Token.Value(), HTTPOptions: c.HTTPOptions,
			RateTier: c.RateTier, SearchRateLimit: c.SearchRateLimit,
			Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap,
			AssociationsEvery: c.AssociationsEvery, Currency: c.Currency, Since: c.Since,
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
			Name: c.Name, BaseURL: c.BaseURL, Token: c.Token.Value(), HTTPOptions: c.HTTPOptions,
			Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap, Currency: c.Currency,
			Since: c.Since, TokenStore: ts, Logger: log,
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
		o := bitrix24.Options{
			Name: c.Name, WebhookURL: c.WebhookURL.Value(), BaseURL: c.BaseURL, Token: c.Token.Value(), HTTPOptions: c.HTTPOptions,
			Bucket: c.Bucket, Fields: fieldsMap(c.Fields), KeyClient: connectors.Flag{Yes: c.Fields.KeyClientValues}, Overlap: c.Overlap,
			ReconcileEvery: c.ReconcileEvery, Since: c.Since, TokenStore: ts, Logger: log,
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
