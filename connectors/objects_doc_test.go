package connectors_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
)

// TestDocumentedObjects checks docs/config.md's table of each type's
// objects, the names the config's objects take, against the connectors'
// own Objects.
func TestDocumentedObjects(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### Objects and since")
	if !ok {
		t.Fatal(`docs/config.md has no "### Objects and since"`)
	}
	nameRE := regexp.MustCompile("`([a-z]+)`")
	documented := map[string][]connectors.Object{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		typ := strings.Trim(strings.TrimSpace(cells[1]), "`")
		for _, m := range nameRE.FindAllStringSubmatch(cells[2], -1) {
			documented[typ] = append(documented[typ], connectors.Object(m[1]))
		}
	}
	hs, err := hubspot.New(hubspot.Options{Name: "hs", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	amo, err := amocrm.New(amocrm.Options{Name: "amo", BaseURL: "https://x.amocrm.ru", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	b24, err := bitrix24.New(bitrix24.Options{Name: "b24", WebhookURL: "https://x.bitrix24.ru/rest/1/x/"})
	if err != nil {
		t.Fatal(err)
	}
	for typ, c := range map[string]connectors.Connector{"hubspot": hs, "amocrm": amo, "bitrix24": b24} {
		if diff := cmp.Diff(c.Objects(), documented[typ]); diff != "" {
			t.Errorf("docs/config.md objects of %s (-code +doc):\n%s", typ, diff)
		}
	}
}
