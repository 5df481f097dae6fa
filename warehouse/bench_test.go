package warehouse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

const (
	benchRows = 100_000
	benchPage = 1000
)

// benchDeals are n realistic deals: every column set, a raw record of
// about 300 bytes, owners and companies spread as in a mid-size CRM.
func benchDeals(n int) []connectors.Deal {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]connectors.Deal, n)
	for i := range out {
		id := fmt.Sprint(1_000_000 + i)
		closed := base.Add(time.Duration(i) * time.Minute)
		raw, _ := json.Marshal(map[string]any{"id": id, "name": "Deal " + id, "price": i % 100_000, "status_id": 142,
			"pipeline_id": 7, "responsible_user_id": i % 50, "created_at": base.Unix(), "updated_at": closed.Unix(),
			"custom_fields_values": []map[string]any{{"field_id": 512399, "values": []map[string]any{{"value": i % 1000}}}}})
		out[i] = connectors.Deal{
			Meta: connectors.Meta{ID: id, UpdatedAt: closed, Raw: raw},
			Name: "Deal " + id, PipelineID: "7", StageID: "7:142", Status: connectors.StatusWon,
			Amount: ptr(float64(i%100_000) + 0.5), Currency: "RUB", OwnerID: fmt.Sprint(i % 50),
			CompanyID: fmt.Sprint(i % 5000), ContactID: fmt.Sprint(i % 20000), CreatedAt: base,
			ClosedAt: &closed, Expense: ptr(float64(i % 1000)),
		}
	}
	return out
}

// upsertAll stores deals in pages of benchPage under a connector name of
// its own, so every row is an insert into a growing, indexed table.
func upsertAll(b *testing.B, s *warehouse.Store, connector string, deals []connectors.Deal) {
	ctx := context.Background()
	for i := 0; i < len(deals); i += benchPage {
		p := connectors.Page{Deals: deals[i:min(i+benchPage, len(deals))], Cursor: fmt.Sprint(i)}
		if err := s.ApplyPage(ctx, connector, connectors.ObjectDeals, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsert(b *testing.B) {
	deals := benchDeals(benchRows)
	for _, tc := range []struct {
		name string
		open func(testing.TB) *warehouse.Store
		copy bool
	}{
		{"postgres-insert", warehousetest.NewPostgres, false},
		{"postgres-copy", warehousetest.NewPostgres, true},
		{"sqlite", warehousetest.NewSQLite, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.open(b)
			warehouse.SetCopyUpsert(s, tc.copy)
			n := 0
			for b.Loop() {
				upsertAll(b, s, fmt.Sprintf("bench%d", n), deals)
				n++
			}
			b.ReportMetric(float64(n*benchRows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkUpsertUpdate re-applies the same 100k deals, so every row is an
// update that the updated_at guard lets through.
func BenchmarkUpsertUpdate(b *testing.B) {
	deals := benchDeals(benchRows)
	s := warehousetest.NewPostgres(b)
	upsertAll(b, s, "bench", deals)
	for b.Loop() {
		upsertAll(b, s, "bench", deals)
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCopy is the yardstick for BenchmarkUpsert/postgres: a plain COPY
// of the same rows into an unindexed temporary table.
func BenchmarkCopy(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		name := "temp-unindexed"
		if indexed {
			name = "table-like-crm_deals"
		}
		b.Run(name, func(b *testing.B) {
			deals := benchDeals(benchRows)
			s := warehousetest.NewPostgres(b)
			ctx := context.Background()
			for b.Loop() {
				if err := warehouse.CopyDeals(ctx, s, "bench", deals, indexed); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
