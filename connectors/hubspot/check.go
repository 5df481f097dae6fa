package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/crmkpi/crmkpi/connectors"
)

// requiredScopes are what the sync reads with; sales-email-read only adds
// e-mail bodies, which crmkpi does not store.
var requiredScopes = []string{
	"crm.objects.companies.read", "crm.objects.contacts.read",
	"crm.objects.deals.read", "crm.objects.owners.read",
}

// Check verifies the credentials and the scopes the sync needs, writing
// nothing. For OAuth it refreshes the access token and reads its scopes;
// for a private app token (whose scopes HubSpot does not list) it reads
// one record of every pulled endpoint. Missing scopes come back as one
// *connectors.AuthError naming them all.
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
	return nil, nil
}

func (c *Client) checkOAuth(ctx context.Context) ([]string, error) {
	tok, err := c.auth.token(ctx)
	if err != nil {
		return nil, err
	}
	var info struct {
		Scopes    []string `json:"scopes"`
		ExpiresIn int      `json:"expires_in"`
	}
	if _, err := c.http.DoJSON(withoutAuth(ctx), &connectors.Request{URL: "/oauth/v1/access-tokens/" + url.PathEscape(tok)}, &info); err != nil {
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
	return warnings, nil
}
