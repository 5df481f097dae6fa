package connectors

import (
	"context"
	"net/url"
	"strings"
)

// RecordLinker is implemented by connectors that know where their records
// open in the CRM's web app, so that crmkpi explain and the scorecard pages
// can link each record they show. The sync engine asks once, when the
// warehouse has no links of the connector yet and on every --full sync,
// and stores the answer beside the records; nothing reads a CRM to draw a
// link.
type RecordLinker interface {
	// RecordLinks returns the link of each kind of record the CRM has a
	// page for, in the account the connector reads: read from the CRM
	// where the account's address is not in the config (HubSpot's portal
	// id), built from the config otherwise. The links never carry a
	// secret (a Bitrix24 webhook's path). An error means the CRM could not
	// say; the sync goes on without links and asks again next time.
	RecordLinks(ctx context.Context) ([]RecordLink, error)
}

// RecordLink is where records of one kind open in the CRM's web app: URL
// with "{id}" standing for the record's id.
type RecordLink struct {
	// Kind is LinkDeal, LinkCompany, LinkContact, or an activity type
	// (ActivityCall, ...) for CRMs whose activities have pages of their
	// own. An activity of a type with no link opens through its deal,
	// company or contact, whose timeline shows it.
	Kind string
	URL  string
}

// The kinds of RecordLink besides the activity types.
const (
	LinkDeal    = "deal"
	LinkCompany = "company"
	LinkContact = "contact"
)

// LinkID is the placeholder of a RecordLink's URL that the record's id
// replaces.
const LinkID = "{id}"

// Origin is the scheme and host of a configured URL ("https://x.amocrm.ru"
// for "https://x.amocrm.ru/api/v4/"), without its path, query or user
// info, which for a Bitrix24 webhook hold the secret; "" when raw is not an
// absolute http(s) URL.
func Origin(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
