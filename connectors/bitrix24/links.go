package bitrix24

import (
	"context"
	"errors"

	"github.com/crmkpi/crmkpi/connectors"
)

var _ connectors.RecordLinker = (*Client)(nil)

// RecordLinks returns the record pages of the portal: its host alone, from
// the webhook URL (whose path is the secret and never leaves this
// function) or the OAuth base URL, then /crm/deal/details/ID/,
// /crm/contact/details/ID/ and /crm/company/details/ID/. It sends no
// request. Activities open through the deal, company or contact whose
// timeline shows them.
func (c *Client) RecordLinks(context.Context) ([]connectors.RecordLink, error) {
	raw := c.opts.WebhookURL
	if raw == "" {
		raw = c.opts.BaseURL
	}
	origin := connectors.Origin(raw)
	if origin == "" {
		return nil, errors.New("record links: the portal address is not an http(s) URL")
	}
	return []connectors.RecordLink{
		{Kind: connectors.LinkDeal, URL: origin + "/crm/deal/details/" + connectors.LinkID + "/"},
		{Kind: connectors.LinkContact, URL: origin + "/crm/contact/details/" + connectors.LinkID + "/"},
		{Kind: connectors.LinkCompany, URL: origin + "/crm/company/details/" + connectors.LinkID + "/"},
	}, nil
}
