package warehouse_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// designTables is DESIGN.md's "Warehouse tables", the contract analysts
// query: each table's canonical columns, and for the record tables the
// columns every one has besides them.
var designTables = map[string][]string{
	"crm_users":      {"email", "name", "active"},
	"crm_companies":  {"name", "owner_id", "key_client", "created_at"},
	"crm_contacts":   {"name", "email", "company_id", "owner_id", "nps_score", "nps_at", "created_at"},
	"crm_deals":      {"name", "pipeline", "stage", "status", "amount", "currency", "owner_id", "company_id", "contact_id", "created_at", "closed_at", "expense"},
	"crm_activities": {"type", "direction", "subject", "owner_id", "company_id", "contact_id", "deal_id", "occurred_at", "completed", "duration_s", "connected"},
	"crm_stages":     {"pipeline_id", "pipeline_name", "name", "status", "sort"},
	"sync_state":     {"connector", "object", "cursor", "updated_at"},
	"sync_runs":      {"id", "connector", "object", "started_at", "finished_at", "status", "records", "error"},
	"scorecards":     {"period_kind", "period_start", "manager", "kpi", "value", "target", "attainment", "reason", "computed_at"},
}

// recordCommon is what DESIGN.md gives every record table: the key
// (connector, id), raw, updated_at, deleted and synced_at.
var recordCommon = []string{"connector", "id", "raw", "updated_at", "deleted", "synced_at"}

// extraColumns are the columns crmkpi keeps beyond the contract (README,
// "For analysts"); any other one is a divergence from DESIGN.md.
var extraColumns = map[string][]string{
	"crm_users":    {"deactivated_at"},
	"crm_contacts": {"nps_seen_at"},
}

var designKeys = map[string][]string{
	"sync_state": {"connector", "object"},
	"sync_runs":  {"id"},
	"scorecards": {"period_kind", "period_start", "manager", "kpi"},
}

// TestDesignTables checks every table of DESIGN.md on both dialects: its
// columns exactly (no missing one, none unlisted), its primary key, and the
// types the contract names: raw is jsonb on PostgreSQL and JSON text on
// SQLite, deleted a boolean, times timestamps with a zone.
func TestDesignTables(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var s *warehouse.Store
			if kind == "sqlite" {
				s = warehousetest.NewSQLite(t)
			} else {
				s = warehousetest.NewPostgres(t)
			}
			for table, canon := range designTables {
				cols := warehousetest.Columns(t, s, table)
				want := slices.Clone(canon)
				key := designKeys[table]
				if strings.HasPrefix(table, "crm_") {
					want = append(slices.Clone(recordCommon), canon...)
					key = []string{"connector", "id"}
				}
				want = append(want, extraColumns[table]...)
				var names, keys []string
				types := map[string]string{}
				notNull := map[string]bool{}
				for _, c := range cols {
					names = append(names, c.Name)
					types[c.Name] = strings.ToLower(c.Type)
					notNull[c.Name] = c.NotNull
					if c.Key {
						keys = append(keys, c.Name)
					}
				}
				slices.Sort(names)
				slices.Sort(want)
				if diff := cmp.Diff(want, names); diff != "" {
					t.Errorf("%s columns (-DESIGN.md +%s):\n%s", table, kind, diff)
				}
				slices.Sort(keys)
				key = slices.Sorted(slices.Values(key))
				if diff := cmp.Diff(key, keys); diff != "" {
					t.Errorf("%s primary key (-DESIGN.md +%s):\n%s", table, kind, diff)
				}
				if !strings.HasPrefix(table, "crm_") {
					continue
				}
				wantRaw, wantBool, wantTime := "jsonb", "boolean", "timestamp with time zone"
				if kind == "sqlite" {
					wantRaw, wantBool, wantTime = "text", "integer", "text"
				}
				for col, want := range map[string]string{"raw": wantRaw, "deleted": wantBool, "updated_at": wantTime, "synced_at": wantTime} {
					if types[col] != want {
						t.Errorf("%s.%s is %s, want %s", table, col, types[col], want)
					}
				}
				if !notNull["deleted"] || !notNull["updated_at"] || !notNull["synced_at"] {
					t.Errorf("%s: deleted, updated_at and synced_at may be null", table)
				}
			}
		})
	}
}
