package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// hostileNames are CRM user names (and deal titles, activity subjects)
// carried from a CRM to Slack. Each is unique, so it identifies its manager.
var hostileNames = []string{
	`O'Brien "Q" \ back\slash; x'; DROP TABLE crm_users; --`,
	`<script>alert("pwned")</script> &amp; <!channel> <@U123> <#C1|x> <http://evil|click>`,
	"Nul\x00Byte Manager",
	"Émoji 🚀👩‍👩‍👧 𝕏 \U0001F600 صفقة \u202Eevil\u202C שלום Ğ̸̢̛a̵͓̓l̷̰̈ \u4e2d\U00010348\U000E0041\U000F0000\U0010FFFD",
	megaName,
}

// megaName is 96 KiB of UTF-8 with markup: over any Slack limit many times
// and over the 64 KiB that trips line and token buffers, yet quick to carry
// through the connector's JSON under -race.
var megaName = "Mega " + strings.Repeat("Ω<", 1<<15)

// TestHostileTextEndToEnd carries hostile user names, deal titles and task
// subjects from the Bitrix24 fake through the connector and the sync into
// the warehouse, through scoring.Compute, and into Slack's Block Kit
// (ManagerMessage, TeamMessage, DryRun): every message is valid JSON,
// passes notify.Validate, escapes the names (no raw <script>, <!channel>
// or <@U123>) and truncates them within Slack's limits. In the warehouse
// the text is byte-equal on SQLite; on PostgreSQL a NUL in a text column
// becomes U+FFFD and the raw record keeps it losslessly in a
// {"crmkpi_raw_json": …} envelope.
func TestHostileTextEndToEnd(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *warehouse.Store) {
		clk := synctest.NewClock(time.Date(2024, 10, 2, 12, 0, 0, 0, time.UTC))
		srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0))
		t.Cleanup(srv.Close)
		var users, cos, deals, acts []bitrix24test.Record
		for i, name := range hostileNames {
			id := fmt.Sprint(i + 1)
			users = append(users, bitrix24test.Record{"ID": id, "ACTIVE": true, "NAME": name, "LAST_NAME": "",
				"EMAIL": fmt.Sprintf("m%d@example.com", i+1), "USER_TYPE": "employee"})
			// The mega name goes to Slack as a user name and to the
			// warehouse as a deal title too; companies and tasks get its
			// start, which keeps the test quick.
			short := name
			if len(short) > 4096 {
				short = short[:4096]
			}
			cos = append(cos, bitrix24test.Record{"ID": i + 1, "TITLE": short, "ASSIGNED_BY_ID": id})
			deals = append(deals, bitrix24test.Record{"ID": i + 1, "TITLE": name, "CATEGORY_ID": "0", "STAGE_ID": "WON",
				"STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "OPPORTUNITY": "1000.00", "CURRENCY_ID": "RUB",
				"DATE_CREATE": "2024-09-01T10:00:00+03:00", "CLOSEDATE": "2024-09-10T00:00:00+03:00",
				"ASSIGNED_BY_ID": id, "COMPANY_ID": i + 1})
			acts = append(acts, bitrix24test.Record{"ID": i + 1, "OWNER_ID": i + 1, "OWNER_TYPE_ID": "2", "TYPE_ID": "3",
				"SUBJECT": short + " #team", "START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00",
				"DEADLINE": "2024-09-05T13:25:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": id, "DIRECTION": "2"})
		}
		srv.AddMany(bitrix24test.Users, users)
		srv.AddMany(bitrix24test.Companies, cos)
		srv.AddMany(bitrix24test.Deals, deals)
		srv.AddMany(bitrix24test.Activities, acts)
		b24, err := bitrix24.New(bitrix24.Options{Name: "crm", WebhookURL: srv.WebhookURL(), HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		// Long names are slow under -race on a shared machine; the
		// deadline only guards against an endless loop.
		if sum := syncRunWithin(t, s, clk, b24, false, 3*time.Minute); sum.Failed() {
			t.Fatalf("sync failed: %v", sum.Err())
		}

		// The warehouse: byte-equal, but for NUL on PostgreSQL.
		pg := s.Dialect() == warehouse.DialectPostgres
		stored := func(text string) string {
			if pg {
				return strings.ReplaceAll(text, "\x00", "\uFFFD")
			}
			return text
		}
		ctx := context.Background()
		ds := warehousetest.Deals(t, s)
		got := map[string]string{}
		for _, d := range ds {
			got[d.ID] = d.Name
		}
		for i, name := range hostileNames {
			if g, want := got[fmt.Sprint(i+1)], stored(name); g != want {
				t.Errorf("deal %d: stored title differs (len %d, want len %d): %.80q", i+1, len(g), len(want), g)
			}
		}
		db := synctest.DB(t, s)
		var raw string
		if err := db.QueryRow("SELECT CAST(raw AS TEXT) FROM crm_deals WHERE connector = 'crm' AND id = '3'").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatalf("raw of deal 3 is not JSON: %v", err)
		}
		if pg {
			env, ok := rec["crmkpi_raw_json"].(string)
			if !ok {
				t.Fatalf("raw of deal 3 on PostgreSQL = %.200s, want a crmkpi_raw_json envelope", raw)
			}
			if err := json.Unmarshal([]byte(env), &rec); err != nil {
				t.Fatalf("enveloped raw of deal 3 is not JSON: %v", err)
			}
		}
		if rec["TITLE"] != hostileNames[2] {
			t.Errorf("raw TITLE of deal 3 = %q, want %q (lossless)", rec["TITLE"], hostileNames[2])
		}

		// Scoring: every hostile user is a manager, named as stored.
		p, err := scoring.ParsePeriod("2024-09", scoring.Month, time.UTC, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		r, err := scoring.Compute(ctx, s, scoring.Options{Currency: "RUB"}, p)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, sc := range r.Managers {
			names[sc.Name] = true
		}
		for _, name := range hostileNames {
			if !names[strings.TrimSpace(stored(name))] {
				t.Errorf("no scorecard named %.60q", stored(name))
			}
		}

		// Slack: valid, escaped, within limits.
		in := notify.RenderInput{Period: p, Currency: "RUB"}
		var msgs []notify.Message
		for _, sc := range r.Managers {
			msgs = append(msgs, notify.ManagerMessage(sc, in))
		}
		msgs = append(msgs, notify.TeamMessage(r, "", in)...)
		for i, m := range msgs {
			if err := notify.Validate(m); err != nil {
				t.Errorf("message %d: Validate: %v", i, err)
			}
			b, err := json.Marshal(m.Blocks)
			if err != nil {
				t.Fatalf("message %d: marshal blocks: %v", i, err)
			}
			checkSlackJSON(t, fmt.Sprintf("message %d", i), append(b, m.Text...))
		}
		var dry bytes.Buffer
		if err := (&notify.Notifier{Channel: "C0SALES", DirectMessages: true}).DryRun(&dry, r, in); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(dry.Bytes()) || !utf8.Valid(dry.Bytes()) {
			t.Fatalf("DryRun output is not valid UTF-8 JSON")
		}
		if dry.Len() > len(megaName) {
			t.Errorf("DryRun wrote %d bytes: the %d-byte name was not truncated", dry.Len(), len(megaName))
		}
		var doc struct {
			Messages []struct {
				Text   string          `json:"text"`
				Blocks json.RawMessage `json:"blocks"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(dry.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		all := ""
		for i, m := range doc.Messages {
			var blocks []any
			if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
				t.Errorf("DryRun message %d: blocks: %v", i, err)
			}
			all += m.Text + string(m.Blocks)
			// Decoded text, as Slack reads it.
			checkSlackText(t, fmt.Sprintf("DryRun message %d", i), m.Text+jsonStrings(blocks))
		}
		if !strings.Contains(all, `&lt;script&gt;`) && !strings.Contains(all, `\u0026lt;script\u0026gt;`) {
			t.Errorf("DryRun has no escaped &lt;script&gt;")
		}
	})
}

// checkSlackJSON checks a marshalled message: valid UTF-8 and, decoded,
// free of raw markup.
func checkSlackJSON(t *testing.T, where string, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		t.Errorf("%s: not valid UTF-8", where)
	}
	var blocks []any
	i := bytes.LastIndexByte(b, ']')
	if err := json.Unmarshal(b[:i+1], &blocks); err != nil {
		t.Errorf("%s: blocks are not JSON: %v", where, err)
		return
	}
	checkSlackText(t, where, string(b[i+1:])+jsonStrings(blocks))
}

// checkSlackText fails on Slack markup that came from a CRM unescaped.
func checkSlackText(t *testing.T, where, text string) {
	t.Helper()
	for _, raw := range []string{"<script>", "<!channel>", "<@U123>", "<#C1|x>", "<http://evil|click>", "\x00"} {
		if strings.Contains(text, raw) {
			t.Errorf("%s: raw %q reaches Slack", where, raw)
		}
	}
	if strings.Contains(text, "<script") || strings.Contains(text, "Ω<") {
		t.Errorf("%s: an unescaped < from a CRM name", where)
	}
}

// jsonStrings joins every string inside v.
func jsonStrings(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			b.WriteByte('\n')
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
