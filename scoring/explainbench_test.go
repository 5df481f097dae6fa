package scoring

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// The explain benchmark's data set: a team of ten managers on two
// connectors (amo users 1-10, hub users 1-10 merged by e-mail), of whom m1
// has 10,000 deals created in October 2026 (60% won and 20% lost in
// October, 20% open) on the 2,000 companies they own, over 12,000 deals of
// theirs in the twelve months before; the other nine have 58,500 deals
// over fourteen months on the other 8,000 companies. 20,000 contacts, and
// 60,000 activities in the window Compute reads (1 September to 8
// November), 20,000 of them m1's. Three currencies, EUR without a rate.
const (
	explainBenchSchema  = "crmkpi_bench_explain"
	explainBenchDataSet = "explain-bench v1: 10 managers, m1 with 10k deals in 2026-10; 10k companies, 20k contacts, 80.5k deals, 60k activities"
)

var explainBenchLoad = []string{
	`SET maintenance_work_mem = '256MB'`,
	`SET synchronous_commit = off`,
	`SELECT setseed(0.17)`,
	`INSERT INTO crm_users (connector, id, email, name, active, updated_at, synced_at)
	 SELECT 'amo', i::text, 'm' || i || '@example.com', 'Manager ' || i, true, now(), now() FROM generate_series(1, 10) i
	 UNION ALL
	 SELECT 'hub', i::text, 'M' || i || '@Example.com', 'Manager ' || i, true, now(), now() FROM generate_series(1, 10) i`,
	// Companies 1-2,000 are m1's; the rest the others', 5% with no owner.
	`INSERT INTO crm_companies (connector, id, name, owner_id, created_at, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Company ' || i,
	        CASE WHEN i <= 2000 THEN '1' WHEN r < 0.05 THEN NULL ELSE (2 + floor(r * 9))::int::text END,
	        timestamptz '2024-01-01 00:00:00+00', now(), now()
	 FROM (SELECT i, random() r FROM generate_series(1, 10000) i) s`,
	`INSERT INTO crm_contacts (connector, id, name, company_id, owner_id, nps_score, nps_at, created_at, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Contact ' || i,
	        (2 * floor(r1 * 5000) + 2 - i % 2)::int::text, (1 + floor(r2 * 10))::int::text,
	        CASE WHEN r3 < 0.1 THEN floor(r2 * 11) END,
	        CASE WHEN r3 < 0.1 THEN timestamptz '2026-08-01 00:00:00+00' + r1 * interval '100 days' END,
	        timestamptz '2024-01-01 00:00:00+00', now(), now()
	 FROM (SELECT i, random() r1, random() r2, random() r3 FROM generate_series(1, 20000) i) s`,
	// m1's October: created in October, closed before its end.
	`INSERT INTO crm_deals (connector, id, name, pipeline, stage, status, amount, currency, owner_id, company_id, created_at, closed_at, expense, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Deal ' || i, 'p1', st, st,
	        floor(r2 * 1000000), CASE WHEN r3 < 0.6 THEN 'RUB' WHEN r3 < 0.9 THEN 'USD' ELSE 'EUR' END, '1',
	        (2 * floor(r4 * 1000) + 2 - i % 2)::int::text, created,
	        CASE WHEN st <> 'open' THEN created + r5 * (timestamptz '2026-11-01 00:00:00+00' - created) END,
	        CASE WHEN r5 < 0.1 THEN floor(r2 * 10000) END, now(), now()
	 FROM (SELECT i, random() r2, random() r3, random() r4, random() r5,
	              CASE WHEN r1 < 0.6 THEN 'won' WHEN r1 < 0.8 THEN 'lost' ELSE 'open' END st,
	              timestamptz '2026-10-01 00:00:00+00' + r6 * interval '31 days' created
	       FROM (SELECT i, random() r1, random() r6 FROM generate_series(1, 10000) i) t) s`,
	// m1's twelve months before, and the others' fourteen months.
	`INSERT INTO crm_deals (connector, id, name, pipeline, stage, status, amount, currency, owner_id, company_id, created_at, closed_at, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Deal ' || i, 'p1', st, st,
	        floor(r2 * 1000000), CASE WHEN r3 < 0.6 THEN 'RUB' WHEN r3 < 0.9 THEN 'USD' ELSE 'EUR' END,
	        CASE WHEN i <= 22000 THEN '1' ELSE (2 + floor(r4 * 9))::int::text END,
	        CASE WHEN i <= 22000 THEN (2 * floor(r5 * 1000) + 2 - i % 2)::int::text ELSE (2000 + 2 * floor(r5 * 4000) + 2 - i % 2)::int::text END,
	        created, CASE WHEN st <> 'open' THEN created + r6 * interval '20 days' END, now(), now()
	 FROM (SELECT i, random() r2, random() r3, random() r4, random() r5, random() r6,
	              CASE WHEN r1 < 0.6 THEN 'won' WHEN r1 < 0.8 THEN 'lost' ELSE 'open' END st,
	              CASE WHEN i <= 22000 THEN timestamptz '2025-10-01 00:00:00+00' + r7 * interval '365 days'
	                   ELSE timestamptz '2025-09-01 00:00:00+00' + r7 * interval '425 days' END created
	       FROM (SELECT i, random() r1, random() r7 FROM generate_series(10001, 80500) i) t) s`,
	`INSERT INTO crm_activities (connector, id, type, direction, subject, owner_id, company_id, deal_id, occurred_at, completed, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text,
	        (ARRAY['call', 'email', 'meeting', 'message', 'note', 'task'])[1 + floor(r1 * 6)::int],
	        CASE WHEN r1 < 2.0 / 6 OR (r1 >= 3.0 / 6 AND r1 < 4.0 / 6) THEN CASE WHEN r2 < 0.5 THEN 'inbound' ELSE 'outbound' END END,
	        CASE WHEN r1 >= 5.0 / 6 AND r2 < 0.2 THEN '#team ' || i ELSE '' END,
	        CASE WHEN i <= 20000 THEN '1' ELSE (2 + floor(r3 * 9))::int::text END,
	        CASE WHEN i <= 20000 THEN (2 * floor(r4 * 1000) + 2 - i % 2)::int::text ELSE (2000 + 2 * floor(r4 * 4000) + 2 - i % 2)::int::text END,
	        CASE WHEN r5 < 0.3 THEN (2 * floor(r5 * 5000) + 2 - i % 2)::int::text END,
	        timestamptz '2026-09-01 00:00:00+00' + r6 * interval '68 days', r2 < 0.7, now(), now()
	 FROM (SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6 FROM generate_series(1, 60000) i) s`,
	`INSERT INTO crm_stages (connector, id, pipeline_id, pipeline_name, name, status, updated_at, synced_at)
	 SELECT c, st, 'p1', 'Sales', initcap(st), st, now(), now()
	 FROM (VALUES ('amo'), ('hub')) cs(c), (VALUES ('open'), ('won'), ('lost')) ss(st)`,
}

// BenchmarkExplainPostgres explains m1's October 2026 over the data set
// above on PostgreSQL, as crmkpi explain --format json does: the one
// scoring computation with m1 traced, the deleted records, names and
// links, and the JSON written (to io.Discard). closed_won lists all 10,000
// of m1's October deals; cost_per_client their 7,000 activities of October
// and the clients served. "compute" is Compute alone on the same data,
// the scoring the explanation is built on.
//
//	CRMKPI_BENCH_KEEP=1 go test -run '^$' -bench ExplainPostgres -benchtime 5x ./scoring
func BenchmarkExplainPostgres(b *testing.B) {
	s := benchStoreOf(b, explainBenchSchema, explainBenchDataSet, explainBenchLoad)
	ctx := context.Background()
	for conn, host := range map[string]string{"amo": "https://bench.amocrm.ru", "hub": "https://app.hubspot.com/contacts/1"} {
		if err := s.SaveRecordLinks(ctx, conn, []connectors.RecordLink{{Kind: "deal", URL: host + "/deal/{id}"}, {Kind: "company", URL: host + "/company/{id}"}}); err != nil {
			b.Fatal(err)
		}
	}
	opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90}, Now: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	p := Period{Kind: Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	b.Run("compute", func(b *testing.B) {
		for b.Loop() {
			if _, err := Compute(ctx, s, opts, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, key := range []string{kpi.ClosedWon, kpi.CostPerClient} {
		b.Run(key, func(b *testing.B) {
			var e *Explanation
			for b.Loop() {
				var err error
				if e, err = Explain(ctx, s, opts, p, "m1@example.com", key); err != nil {
					b.Fatal(err)
				}
				if err := json.NewEncoder(io.Discard).Encode(e); err != nil {
					b.Fatal(err)
				}
			}
			if key == kpi.ClosedWon && len(e.Records) < 10000 {
				b.Fatalf("%d records, want m1's 10,000 deals and more", len(e.Records))
			}
			b.ReportMetric(float64(len(e.Records)), "records")
			b.ReportMetric(float64(len(e.Records))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
