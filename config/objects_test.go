package config

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

// hubspotObjects is the HubSpot connector's Objects, as the wiring passes
// them to SelectObjects.
var hubspotObjects = []connectors.Object{"users", "stages", "companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks"}

func TestObjectsAndSince(t *testing.T) {
	cfg, err := parseString(t, `timezone: Europe/Moscow
connectors:
  - name: hs
    type: hubspot
    token: t
    objects: [deals, calls, contacts]
    since: 2025-01-01
  - name: amo
    type: amocrm
    token: t
    base_url: https://x.amocrm.ru
    objects: tasks
    since: "2025-03-01T09:30:00Z"
  - name: b24
    type: bitrix24
    webhook_url: https://p.bitrix24.ru/rest/1/x/
`)
	if err != nil {
		t.Fatal(err)
	}
	msk, _ := time.LoadLocation("Europe/Moscow")
	hs, amo, b24 := cfg.Connectors[0], cfg.Connectors[1], cfg.Connectors[2]
	if diff := cmp.Diff([]string{"deals", "calls", "contacts"}, hs.Objects); diff != "" {
		t.Errorf("hs objects (-want +got):\n%s", diff)
	}
	wantAt := []Place{
		{Pos{"crmkpi.yaml", 6}, "connectors[0].objects[0]"},
		{Pos{"crmkpi.yaml", 6}, "connectors[0].objects[1]"},
		{Pos{"crmkpi.yaml", 6}, "connectors[0].objects[2]"},
	}
	if diff := cmp.Diff(wantAt, hs.ObjectsAt); diff != "" {
		t.Errorf("hs objects' places (-want +got):\n%s", diff)
	}
	// A date is midnight in the config's timezone: 2024-12-31 21:00 UTC.
	if want := time.Date(2025, 1, 1, 0, 0, 0, 0, msk); !hs.Since.Equal(want) || hs.Since.UTC() != time.Date(2024, 12, 31, 21, 0, 0, 0, time.UTC) {
		t.Errorf("hs since = %v, want %v", hs.Since, want)
	}
	if diff := cmp.Diff([]string{"tasks"}, amo.Objects); diff != "" {
		t.Errorf("amo objects (-want +got):\n%s", diff)
	}
	if want := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC); !amo.Since.Equal(want) {
		t.Errorf("amo since = %v, want %v", amo.Since, want)
	}
	if b24.Objects != nil || b24.ObjectsAt != nil || !b24.Since.IsZero() {
		t.Errorf("b24 without objects and since = %q %v %v, want nil, nil, zero", b24.Objects, b24.ObjectsAt, b24.Since)
	}
}

// TestSelectObjects checks the subsets a connector syncs, in the
// connector's order, with users always and stages with deals.
func TestSelectObjects(t *testing.T) {
	tests := []struct {
		objects []string
		want    []connectors.Object
	}{
		{nil, hubspotObjects},
		{[]string{"calls", "deals"}, []connectors.Object{"users", "stages", "deals", "calls"}},
		{[]string{"contacts"}, []connectors.Object{"users", "contacts"}},
		{[]string{"users", "stages"}, []connectors.Object{"users", "stages"}},
	}
	for _, tt := range tests {
		c := Connector{Name: "hs", Type: TypeHubSpot, Objects: tt.objects}
		got, err := c.SelectObjects(hubspotObjects)
		if err != nil {
			t.Fatalf("SelectObjects(%q): %v", tt.objects, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SelectObjects(%q) (-want +got):\n%s", tt.objects, diff)
		}
		for _, o := range hubspotObjects {
			if c.Syncs(string(o)) != slices.Contains(got, o) {
				t.Errorf("objects %q: Syncs(%s) = %v, disagrees with SelectObjects", tt.objects, o, c.Syncs(string(o)))
			}
		}
	}
}

// TestSelectObjectsUnknown checks that names the connector does not have
// are errors at their lines, all of them, listing the valid names.
func TestSelectObjectsUnknown(t *testing.T) {
	cfg, err := parseString(t, `connectors:
  - name: hs
    type: hubspot
    token: t
    objects:
      - deals
      - deal
      - activities
`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Connectors[0].SelectObjects(hubspotObjects)
	want := `crmkpi.yaml:7: connectors[0].objects[1]: unknown object "deal" for hubspot (want users, stages, companies, contacts, deals, calls, emails, meetings, notes, tasks)
crmkpi.yaml:8: connectors[0].objects[2]: unknown object "activities" for hubspot (want users, stages, companies, contacts, deals, calls, emails, meetings, notes, tasks)`
	if err == nil || err.Error() != want {
		t.Errorf("SelectObjects error =\n%v\nwant\n%s", err, want)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || list[0].Line != 7 {
		t.Errorf("SelectObjects error is %#v, want an ErrorList of 2 from line 7", err)
	}
	if !cfg.Syncs("hs", "deals") || cfg.Syncs("hs", "calls") || cfg.Syncs("other", "deals") {
		t.Errorf("Config.Syncs: hs deals %v, hs calls %v, other deals %v; want true, false, false",
			cfg.Syncs("hs", "deals"), cfg.Syncs("hs", "calls"), cfg.Syncs("other", "deals"))
	}
}
