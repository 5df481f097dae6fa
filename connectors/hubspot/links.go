package hubspot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmkpi/crmkpi/connectors"
)

var _ connectors.RecordLinker = (*Client)(nil)

// objectTypeIDs are HubSpot's object type ids of the records crmkpi links
// (developers.hubspot.com/docs/guides/crm/using-object-apis, "object type
// ID values"). A record opens at /contacts/PORTAL/record/TYPE/ID of the
// portal's UI domain; HubSpot's docs show that path for contacts,
// companies and deals, and name the engagements' type ids without showing
// their pages, so an engagement's link is the same form with its own type
// id (docs/kpis.md says so).
var objectTypeIDs = []struct{ kind, typeID string }{
	{connectors.LinkContact, "0-1"},
	{connectors.LinkCompany, "0-2"},
	{connectors.LinkDeal, "0-3"},
	{connectors.ActivityTask, "0-27"},
	{connectors.ActivityNote, "0-46"},
	{connectors.ActivityMeeting, "0-47"},
	{connectors.ActivityCall, "0-48"},
	{connectors.ActivityEmail, "0-49"},
}

// defaultUIDomain is where the portal's pages are when the account details
// name no uiDomain.
const defaultUIDomain = "app.hubspot.com"

// RecordLinks reads the portal id and the UI domain (app.hubspot.com,
// app-eu1.hubspot.com, ...) from /account-info/v3/details, the endpoint
// the deals pull asks for the portal's currency, and returns the record
// pages of the portal. The sync asks once per warehouse (and on --full),
// so this costs one request then and none on other syncs. That endpoint
// needs the oauth scope: without it, or without a portalId in the answer,
// there are no links and the error says why.
func (c *Client) RecordLinks(ctx context.Context) ([]connectors.RecordLink, error) {
	var d struct {
		PortalID fstr `json:"portalId"`
		UIDomain fstr `json:"uiDomain"`
	}
	if _, err := c.http.DoJSON(ctx, &connectors.Request{URL: "/account-info/v3/details"}, &d); err != nil {
		return nil, c.http.Wrap("", 0, fmt.Errorf("read the portal id for record links (the oauth scope): %w", err))
	}
	portal := strings.TrimSpace(string(d.PortalID))
	if portal == "" || strings.ContainsAny(portal, "/?#") {
		return nil, errors.New("read the portal id for record links: the account details have no portalId")
	}
	domain := strings.TrimSpace(string(d.UIDomain))
	if domain == "" || strings.ContainsAny(domain, "/?#@:") {
		domain = defaultUIDomain
	}
	links := make([]connectors.RecordLink, 0, len(objectTypeIDs))
	for _, o := range objectTypeIDs {
		links = append(links, connectors.RecordLink{Kind: o.kind,
			URL: "https://" + domain + "/contacts/" + portal + "/record/" + o.typeID + "/" + connectors.LinkID})
	}
	return links, nil
}
