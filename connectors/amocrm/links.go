package amocrm

import (
	"context"
	"errors"

	"github.com/crmkpi/crmkpi/connectors"
)

var _ connectors.RecordLinker = (*Client)(nil)

// RecordLinks returns the record pages of the account at base_url's host:
// https://SUBDOMAIN.amocrm.ru/leads/detail/ID for deals, /contacts/detail/ID
// and /companies/detail/ID. It sends no request. Calls, notes, tasks and
// chat messages have no page of their own: they open through the lead,
// company or contact whose feed shows them.
func (c *Client) RecordLinks(context.Context) ([]connectors.RecordLink, error) {
	origin := connectors.Origin(c.opts.BaseURL)
	if origin == "" {
		return nil, errors.New("record links: base_url is not an http(s) URL")
	}
	return []connectors.RecordLink{
		{Kind: connectors.LinkDeal, URL: origin + "/leads/detail/" + connectors.LinkID},
		{Kind: connectors.LinkContact, URL: origin + "/contacts/detail/" + connectors.LinkID},
		{Kind: connectors.LinkCompany, URL: origin + "/companies/detail/" + connectors.LinkID},
	}, nil
}
