package connectors_test

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
)

// docTables reads docs/config.md's tables: the rows of the table that
// follows each line starting with one of heads, as cells without their
// backquotes, keyed by head and then by the row's key.
func docTables(t *testing.T, heads ...string) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	head, inTable := "", false
	for _, line := range strings.Split(string(b), "\n") {
		for _, h := range heads {
			if strings.HasPrefix(line, h) {
				head, inTable = h, false
				out[h] = map[string][]string{}
			}
		}
		switch {
		case strings.HasPrefix(line, "|"):
			inTable = true
			if strings.HasPrefix(line, "| `") && head != "" {
				cells := strings.Split(strings.Trim(line, "|"), "|")
				for i := range cells {
					cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
				}
				out[head][cells[0]] = cells[1:]
			}
		case inTable:
			head, inTable = "", false // the table ended
		}
	}
	for _, h := range heads {
		if len(out[h]) == 0 {
			t.Fatalf("docs/config.md has no table after %q", h)
		}
	}
	return out
}

// show writes a default as docs/config.md does: 1m, 500ms, 24h, 7, 9.5.
func show(v any) string {
	switch v := v.(type) {
	case time.Duration:
		for _, u := range []struct {
			d    time.Duration
			unit string
		}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
			if v%u.d == 0 {
				return strconv.FormatInt(int64(v/u.d), 10) + u.unit
			}
		}
		return strconv.FormatInt(v.Milliseconds(), 10) + "ms"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	return reflect.ValueOf(v).String()
}

// TestDocsAgree fails when docs/config.md's defaults and the connectors'
// disagree: every connection setting (connectors.HTTPOptions, by its yaml
// name) has a row with each vendor's default, and so has every setting
// one vendor owns.
func TestDocsAgree(t *testing.T) {
	const conn, hs, b24, common = "Connection settings", "HubSpot only", "Bitrix24 only", "Keys common to every type"
	docs := docTables(t, conn, hs, b24, common)

	vendors := []connectors.HTTPOptions{hubspot.DefaultHTTP, amocrm.DefaultHTTP, bitrix24.DefaultHTTP}
	want := map[string][]string{}
	v := reflect.ValueOf(connectors.HTTPOptions{})
	for i := range v.NumField() {
		key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		for _, d := range vendors {
			want[key] = append(want[key], show(reflect.ValueOf(d.Or(connectors.DefaultHTTP)).Field(i).Interface()))
		}
	}
	got := map[string][]string{}
	for key, cells := range docs[conn] {
		if len(cells) != 5 {
			t.Fatalf("docs/config.md %s row %s has %d cells, want 6 (key, type, hubspot, amocrm, bitrix24, meaning)", conn, key, len(cells)+1)
		}
		got[key] = cells[1:4]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/config.md's connection settings disagree with the connectors' defaults (-code +docs):\n%s", diff)
	}

	owned := []struct {
		table, key string
		def        any
	}{
		{hs, "associations_every", hubspot.DefaultAssociationsEvery},
		{hs, "search_rate_limit", float64(hubspot.DefaultSearchRateLimit)},
		{hs, "rate_tier", hubspot.DefaultRateTier},
		{b24, "reconcile_every", time.Duration(bitrix24.DefaultReconcileEvery)},
		{b24, "bucket", bitrix24.DefaultBucket},
	}
	for _, o := range owned {
		row, ok := docs[o.table][o.key]
		if !ok || len(row) < 2 {
			t.Errorf("docs/config.md %s has no row for %s", o.table, o.key)
			continue
		}
		if got, want := row[1], show(o.def); got != want {
			t.Errorf("docs/config.md %s: %s defaults to %q, the connector to %q", o.table, o.key, got, want)
		}
	}
	overlap := "hubspot " + show(hubspot.DefaultOverlap) + ", amocrm " + show(amocrm.DefaultOverlap) + ", bitrix24 " + show(time.Duration(bitrix24.DefaultOverlap))
	if row := docs[common]["overlap"]; len(row) < 2 || strings.ReplaceAll(row[1], "`", "") != overlap {
		t.Errorf("docs/config.md: overlap defaults to %q, the connectors to %q", row, overlap)
	}
}
