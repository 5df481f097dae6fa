package warehouse_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestHostileText stores what PostgreSQL cannot hold as is: a NUL in a name
// and JSON escapes jsonb refuses. The sync must not fail on such a record;
// SQLite keeps everything byte for byte, PostgreSQL replaces NUL in text
// columns with U+FFFD and keeps the raw JSON losslessly in an envelope.
func TestHostileText(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		raws := []string{
			`{"id":"1","name":"a\u0000b"}`,
			`{"id":"2","name":"lone \ud800 high"}`,
			`{"id":"3","name":"lone \udc00 low"}`,
			`{"id":"4","name":"pair \ud83d\ude00 ok","esc":"\\u0000 is text"}`,
		}
		var us []connectors.User
		for i, r := range raws {
			us = append(us, connectors.User{Meta: connectors.Meta{ID: string(rune('1' + i)), UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Raw: json.RawMessage(r)},
				Name: "x\x00y", Email: "e@example.com"})
		}
		if err := s.ApplyPage(ctx, "c", connectors.ObjectUsers, &connectors.Page{Users: us}); err != nil {
			t.Fatalf("ApplyPage: %v", err)
		}
		got := warehousetest.Users(t, s)
		if len(got) != len(raws) {
			t.Fatalf("read %d users, want %d", len(got), len(raws))
		}
		wantName := "x\x00y"
		if s.Dialect() == warehouse.DialectPostgres {
			wantName = "x\uFFFDy"
		}
		for i, u := range got {
			if u.Name != wantName {
				t.Errorf("user %d name = %q, want %q", i, u.Name, wantName)
			}
			var orig string
			if s.Dialect() == warehouse.DialectPostgres && i < 3 {
				var env map[string]string
				if err := json.Unmarshal(u.Raw, &env); err != nil {
					t.Fatalf("user %d raw %s: %v", i, u.Raw, err)
				}
				orig = env["crmkpi_raw_json"]
			} else {
				var a, b any
				json.Unmarshal(u.Raw, &a)
				json.Unmarshal([]byte(raws[i]), &b)
				ab, _ := json.Marshal(a)
				bb, _ := json.Marshal(b)
				if string(ab) != string(bb) {
					t.Errorf("user %d raw = %s, want %s", i, u.Raw, raws[i])
				}
				continue
			}
			if orig != raws[i] {
				t.Errorf("user %d raw envelope holds %q, want %q", i, orig, raws[i])
			}
		}
	})
}
