package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crmkpi/crmkpi/connectors"
)

// Syncs reports whether c syncs the object obj: every object when c lists
// none, else the ones listed and the ones they cannot do without. Users
// are always synced, since every KPI finds a record's manager through its
// owner's user (the e-mail that managers are keyed by): a connector
// without them attributes nothing to anyone. Stages come with deals: the
// stage names of crm_stages, one request (HubSpot reads them for the deals
// anyway).
func (c *Connector) Syncs(obj string) bool {
	if len(c.Objects) == 0 || slices.Contains(c.Objects, obj) {
		return true
	}
	switch connectors.Object(obj) {
	case connectors.ObjectUsers:
		return true
	case connectors.ObjectStages:
		return slices.Contains(c.Objects, string(connectors.ObjectDeals))
	}
	return false
}

// SelectObjects returns the objects of all, a connector's Objects in its
// order, that c syncs (Syncs). Every name of c.Objects that all lacks is
// an error at its line that lists the valid names, returned together as an
// ErrorList. The config cannot check the names itself: they are each
// connector's own (HubSpot calls and emails, amoCRM tasks, notes and
// events), known once it is built.
func (c *Connector) SelectObjects(all []connectors.Object) ([]connectors.Object, error) {
	var errs ErrorList
	for i, name := range c.Objects {
		if slices.Contains(all, connectors.Object(name)) {
			continue
		}
		e, path := &Error{}, "objects"
		if i < len(c.ObjectsAt) {
			e.File, e.Line, path = c.ObjectsAt[i].File, c.ObjectsAt[i].Line, c.ObjectsAt[i].Path
		}
		e.Msg = fmt.Sprintf("%s: unknown object %s for %s (want %s)", path, quote(name), c.Type, joinObjects(all))
		errs = append(errs, e)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	var out []connectors.Object
	for _, o := range all {
		if c.Syncs(string(o)) {
			out = append(out, o)
		}
	}
	return out, nil
}

// Syncs reports whether the connector called connector syncs obj; a
// connector the config does not have syncs nothing.
func (c *Config) Syncs(connector, obj string) bool {
	cc := c.Connector(connector)
	return cc != nil && cc.Syncs(obj)
}

func joinObjects(all []connectors.Object) string {
	s := make([]string, len(all))
	for i, o := range all {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}
