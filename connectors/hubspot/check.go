package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/crmkpi/crmkpi/connectors"
)

// requiredScopes are what the sync reads with; sales-email-read only adds
// e-mail bodies, which crmkpi does not store, and oauth the portal's
// currency (see currencyWarning).
var requiredScopes = []string{
	"crm.objects.companies.read", "crm.objects.contacts.read",
	"crm.objects.deals.read", "crm.objects.owners.read",
}

// scopeOAuth is the scope of /account-info/v3/details, where the portal's
// currency is.
const scopeOAuth = "oauth"

// currencyWarning is check's warning when the portal currency cannot be
// read: not an error, since everything else syncs, but every deal without
// deal_currency_code will be "currency unknown".
func currencyWarning(why string) string {
	return why + ": deals without deal_currency_code will have no currency and be left out of money KPIs; " +
		"grant the oauth scope or set currency on the connector"
}

// Check verifies the credentials and the scopes the sync needs, writing
// nothing. For OAuth it refreshes the access token and reads its scopes;
// for a private app token (whose scopes HubSpot does not list) it reads
// one record of every pulled endpoint. Missing scopes come back as one
// *connectors.AuthError naming them all. Unless the connector's currency
// is set, it also reads the portal's currency (the oauth scope): without
// it, a warning.
func (c *Client) Check(ctx context.Context) ([]string, error) {
	if c.opts.OAuth != nil {
		w, err := c.checkOAuth(ctx)
		return w, c.http.Wrap("", 0, err)
	}
	probes := []struct{ name, path string }{
		{"users", "/crm/v3/owners"},
		{"stages", "/crm/v3/pipelines/deals"},
	}
	for _, o := range c.Objects()[2:] {
		probes = append(probes, struct{ name, path string }{string(o), "/crm/v3/objects/" + c.kinds[o].path})
	}
	var missing []string
	for _, pr := range probes {
		q := url.Values{"limit": {"1"}}
		if strings.HasPrefix(pr.path, "/crm/v3/objects/") {
			q.Set("properties", "hs_object_id")
		}
		if strings.HasPrefix(pr.path, "/crm/v3/pipelines/") {
			q = nil
		}
		_, err := c.http.Do(ctx, &connectors.Request{URL: pr.path, Query: q})
		var ae *connectors.AuthError
		switch {
		case err == nil:
		case errors.As(err, &ae) && ae.Status == 403:
			missing = append(missing, pr.name+": "+ae.Detail)
		default:
			return nil, c.http.Wrap(connectors.Object(pr.name), 0, err)
		}
	}
	if len(missing) > 0 {
		return nil, c.http.Wrap("", 0, &connectors.AuthError{Status: 403, Detail: "the token cannot read " + strings.Join(missing, "; ")})
	}
	if c.opts.Currency != "" {
		return nil, nil
	}
	w, err := c.checkCurrency(ctx)
	if err != nil {
		return nil, c.http.Wrap(connectors.ObjectDeals, 0, err)
	}
	return w, nil
}

// checkCurrency reads the portal's currency as the deals pull would, and
// says when it cannot.
func (c *Client) checkCurrency(ctx context.Context) ([]string, error) {
	var d struct {
		CompanyCurrency fstr `json:"companyCurrency"`
	}
	_, err := c.http.DoJSON(ctx, &connectors.Request{URL: "/account-info/v3/details"}, &d)
	var ae *connectors.AuthError
	var re *connectors.ResponseError
	switch {
	case err == nil && strings.TrimSpace(string(d.CompanyCurrency)) != "":
		return nil, nil
	case err == nil:
		return []string{currencyWarning("the account details say no companyCurrency")}, nil
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return []string{currencyWarning("the token lacks the oauth scope, so the portal's currency cannot be read")}, nil
	case errors.As(err, &re) && re.Status >= 400 && re.Status < 500:
		return []string{currencyWarning(fmt.Sprintf("the account details answered HTTP %d", re.Status))}, nil
	}
	return nil, fmt.Errorf("read the portal currency: %w", err)
}

func (c *Client) checkOAuth(ctx context.Context) ([]string, error) {
	tok, err := c.tokens.Access(ctx)
	if err != nil {
		return nil, err
	}
	var info struct {
		Scopes    []string `json:"scopes"`
		ExpiresIn int      `json:"expires_in"`
	}
	if _, err := c.http.DoJSON(ctx, &connectors.Request{URL: "/oauth/v1/access-tokens/" + url.PathEscape(tok)}, &info); err != nil {
		return nil, fmt.Errorf("read access token scopes: %w", err)
	}
	var missing []string
	for _, s := range requiredScopes {
		if !slices.Contains(info.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, &connectors.AuthError{Status: 403, Detail: "the OAuth token lacks scopes " + strings.Join(missing, ", ")}
	}
	var warnings []string
	if !slices.Contains(info.Scopes, "sales-email-read") {
		warnings = append(warnings, "the OAuth token lacks sales-email-read; e-mail activities are still read, without bodies")
	}
	if c.opts.Currency == "" && !slices.Contains(info.Scopes, scopeOAuth) {
		warnings = append(warnings, currencyWarning("the OAuth token lacks the oauth scope, so the portal's currency cannot be read"))
	}
	return warnings, nil
}
