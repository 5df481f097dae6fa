package scoring

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// The PostgreSQL scoring benchmark's data set: 200 managers (amo users 1-200,
// hub users 1-100 merged with amo's first 100 by e-mail), 100,000
// companies, 200,000 contacts, 1,000,000 deals and 10,000,000 activities
// over the 18 months from May 2025 to October 2026. Ids grow with time, as
// they do in a CRM, so the activities of a month sit together on disk.
const (
	benchSchema     = "crmkpi_bench_scoring"
	benchDataSet    = "scoring-bench v1: 200 managers, 100k companies, 200k contacts, 1M deals, 10M activities, 2025-05..2026-10"
	benchCompanies  = 100_000
	benchContacts   = 200_000
	benchDeals      = 1_000_000
	benchActivities = 10_000_000
)

// benchLoad fills a migrated, empty schema. Every record i belongs to
// connector amo when i is even and hub when odd, and refers only to records
// of its own connector. Indexes are dropped for the load and rebuilt from
// their definitions afterwards, which is far faster than maintaining them
// row by row and leaves the schema as Migrate made it.
var benchLoad = []string{
	`SET maintenance_work_mem = '256MB'`,
	`SET synchronous_commit = off`,
	`SELECT setseed(0.42)`,
	`INSERT INTO crm_users (connector, id, email, name, active, updated_at, synced_at)
	 SELECT 'amo', i::text, 'm' || i || '@example.com', 'Manager ' || i, true, now(), now() FROM generate_series(1, 200) i
	 UNION ALL
	 SELECT 'hub', i::text, 'M' || i || '@Example.com', 'Manager ' || i, true, now(), now() FROM generate_series(1, 100) i`,
	`INSERT INTO crm_companies (connector, id, name, owner_id, created_at, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Company ' || i,
	        CASE WHEN r1 < 0.05 THEN NULL WHEN i % 2 = 0 THEN (1 + floor(r2 * 200))::int::text ELSE (1 + floor(r2 * 100))::int::text END,
	        timestamptz '2024-01-01 00:00:00+00', now(), now()
	 FROM (SELECT i, random() r1, random() r2 FROM generate_series(1, 100000) i) s`,
	`INSERT INTO crm_contacts (connector, id, name, company_id, owner_id, nps_score, nps_at, created_at, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Contact ' || i,
	        CASE WHEN r1 < 0.9 THEN (2 * floor(r2 * 50000) + 2 - i % 2)::int::text END,
	        CASE WHEN r3 < 0.5 THEN NULL WHEN i % 2 = 0 THEN (1 + floor(r2 * 200))::int::text ELSE (1 + floor(r2 * 100))::int::text END,
	        CASE WHEN r4 < 0.1 THEN floor(r2 * 11) END,
	        CASE WHEN r4 < 0.1 THEN timestamptz '2025-05-01 00:00:00+00' + r3 * interval '549 days' END,
	        timestamptz '2024-01-01 00:00:00+00', now(), now()
	 FROM (SELECT i, random() r1, random() r2, random() r3, random() r4 FROM generate_series(1, 200000) i) s`,
	`INSERT INTO crm_deals (connector, id, name, pipeline, stage, status, amount, currency, owner_id, company_id, contact_id, created_at, closed_at, expense, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text, 'Deal ' || i, 'p1',
	        CASE WHEN r1 < 0.6 THEN 'won' WHEN r1 < 0.8 THEN 'lost' ELSE 'open' END,
	        CASE WHEN r1 < 0.6 THEN 'won' WHEN r1 < 0.8 THEN 'lost' ELSE 'open' END,
	        floor(r2 * 1000000), CASE WHEN r3 < 0.6 THEN 'RUB' WHEN r3 < 0.9 THEN 'USD' ELSE 'EUR' END,
	        CASE WHEN i % 2 = 0 THEN (1 + floor(r4 * 200))::int::text ELSE (1 + floor(r4 * 100))::int::text END,
	        CASE WHEN r5 < 0.9 THEN (2 * floor(r6 * 50000) + 2 - i % 2)::int::text END,
	        CASE WHEN r5 >= 0.9 OR r5 < 0.45 THEN (2 * floor(r6 * 100000) + 2 - i % 2)::int::text END,
	        created,
	        CASE WHEN r1 < 0.8 THEN created + r7 * interval '30 days' END,
	        CASE WHEN r7 < 0.1 THEN floor(r2 * 10000) END,
	        now(), now()
	 FROM (SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
	              timestamptz '2025-05-01 00:00:00+00' + ((i - 1) / 1000000.0 * 549 + random()) * interval '1 day' AS created
	       FROM generate_series(1, 1000000) i) s`,
	`INSERT INTO crm_activities (connector, id, type, direction, subject, owner_id, company_id, contact_id, deal_id, occurred_at, completed, updated_at, synced_at)
	 SELECT CASE WHEN i % 2 = 0 THEN 'amo' ELSE 'hub' END, i::text,
	        (ARRAY['call', 'email', 'meeting', 'message', 'note', 'task'])[1 + floor(r1 * 6)::int],
	        CASE WHEN r1 < 2.0 / 6 OR (r1 >= 3.0 / 6 AND r1 < 4.0 / 6) THEN CASE WHEN r2 < 0.5 THEN 'inbound' ELSE 'outbound' END END,
	        CASE WHEN r1 >= 5.0 / 6 AND r2 < 0.2 THEN '#team ' || i ELSE '' END,
	        CASE WHEN i % 2 = 0 THEN (1 + floor(r3 * 200))::int::text ELSE (1 + floor(r3 * 100))::int::text END,
	        CASE WHEN r4 < 1.0 / 3 THEN (2 * floor(r5 * 50000) + 2 - i % 2)::int::text END,
	        CASE WHEN r4 >= 1.0 / 3 AND r4 < 2.0 / 3 THEN (2 * floor(r5 * 100000) + 2 - i % 2)::int::text END,
	        CASE WHEN r4 >= 2.0 / 3 THEN (2 * least(499999, greatest(0, floor((i / 10.0 - r5 * 50000) / 2))) + 2 - i % 2)::int::text END,
	        timestamptz '2025-05-01 00:00:00+00' + ((i - 1) / 10000000.0 * 549 * 86400 + r6 * 3600) * interval '1 second',
	        r6 < 0.5, now(), now()
	 FROM (SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6 FROM generate_series(1, 10000000) i) s`,
}

// benchStore returns a Store on the benchmark schema, loaded. With
// CRMKPI_BENCH_KEEP=1 a schema already holding this data set is reused and
// left in place at the end; otherwise the schema is built afresh and
// dropped when the benchmark ends.
func benchStore(b *testing.B) *warehouse.Store {
	b.Helper()
	return benchStoreOf(b, benchSchema, benchDataSet, benchLoad)
}

// benchStoreOf is benchStore for any data set: schema holds the one that
// label names, loaded by the statements of load.
func benchStoreOf(b *testing.B, benchSchema, benchDataSet string, benchLoad []string) *warehouse.Store {
	b.Helper()
	ctx := context.Background()
	url := warehousetest.PostgresURL()
	c, err := pq.NewConnector(url)
	if err != nil {
		b.Fatalf("CRMKPI_TEST_POSTGRES: %v", err)
	}
	admin := sql.OpenDB(c)
	b.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(ctx); err != nil {
		b.Skipf("PostgreSQL at %s does not answer: %v", warehouse.RedactDSN(url), err)
	}
	keep := os.Getenv("CRMKPI_BENCH_KEEP") == "1"
	var comment sql.NullString
	err = admin.QueryRowContext(ctx, "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", benchSchema).Scan(&comment)
	exists := err == nil
	if err != nil && err != sql.ErrNoRows {
		b.Fatalf("look for schema %s: %v", benchSchema, err)
	}
	if !keep {
		b.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+benchSchema+" CASCADE"); err != nil {
				b.Errorf("drop schema %s: %v", benchSchema, err)
			}
		})
	}
	reuse := keep && exists && comment.String == benchDataSet
	if !reuse {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+benchSchema+" CASCADE"); err != nil {
			b.Fatalf("drop schema %s: %v", benchSchema, err)
		}
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+benchSchema); err != nil {
			b.Fatalf("create schema %s: %v", benchSchema, err)
		}
	}
	s, err := warehouse.OpenSchema(ctx, url, benchSchema)
	if err != nil {
		b.Fatalf("open schema %s: %v", benchSchema, err)
	}
	b.Cleanup(func() { s.Close() })
	if reuse {
		b.Logf("reusing schema %s (%s)", benchSchema, benchDataSet)
		return s
	}
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatalf("migrate %s: %v", benchSchema, err)
	}
	start := time.Now()
	if err := benchFill(ctx, url, benchSchema, benchLoad); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("COMMENT ON SCHEMA %s IS %s", benchSchema, pq.QuoteLiteral(benchDataSet))); err != nil {
		b.Fatalf("mark schema %s: %v", benchSchema, err)
	}
	b.Logf("loaded %s in %s", benchDataSet, time.Since(start).Round(time.Second))
	return s
}

// benchFill runs benchLoad on one connection of its own (setseed and the
// SET commands hold for a session), with the indexes of the record tables
// dropped and then rebuilt.
func benchFill(ctx context.Context, url, benchSchema string, benchLoad []string) error {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return err
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	cfg.Runtime["search_path"] = benchSchema
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var defs []string
	rows, err := conn.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE 'crm\_%' AND indexname NOT LIKE '%\_pkey'`, benchSchema)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, "DROP INDEX "+n); err != nil {
			return fmt.Errorf("drop index %s: %w", n, err)
		}
	}
	for _, q := range benchLoad {
		t := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load: %.60s: %w", q, err)
		}
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "bench load %.60q: %s\n", strings.Join(strings.Fields(q), " "), time.Since(t).Round(time.Millisecond))
		}
	}
	for _, def := range defs {
		if _, err := conn.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("rebuild index: %s: %w", def, err)
		}
	}
	for _, t := range []string{"crm_users", "crm_companies", "crm_contacts", "crm_deals", "crm_activities"} {
		if _, err := conn.ExecContext(ctx, "VACUUM ANALYZE "+t); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return nil
}

// BenchmarkScorePostgres scores October 2026 (with September beside it)
// over the data set of benchStore: the whole of Compute, reads included.
// Besides the time it reports, for the worst run, the peak of heap memory
// in use by Go objects (sampled every millisecond from runtime/metrics,
// live and not yet collected alike), the peak RSS of the process and its
// growth over the RSS before the run (Linux only: VmHWM, reset through
// /proc/self/clear_refs), and the CPU time of the Go process per run.
//
//	go test -run '^$' -bench ScorePostgres -benchtime 3x ./scoring
func BenchmarkScorePostgres(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90}}
	p := Period{Kind: Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var peakHeap, peakRSS, growth uint64
	var cpu time.Duration
	var r *Report
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		before := procStatus("VmRSS")
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
		stop := sampleHeap()
		cpu0 := cpuTime()
		b.StartTimer()
		var err error
		r, err = Compute(ctx, s, opts, p)
		b.StopTimer()
		cpu += cpuTime() - cpu0
		heap := stop()
		if err != nil {
			b.Fatalf("Compute: %v", err)
		}
		hwm := procStatus("VmHWM")
		peakHeap, peakRSS = max(peakHeap, heap), max(peakRSS, hwm)
		if hwm > before {
			growth = max(growth, hwm-before)
		}
		b.StartTimer()
	}
	if len(r.Managers) == 0 {
		b.Fatal("no scorecards")
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(growth)/(1<<20), "RSS-growth-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(r.Managers)), "scorecards")
}

// sampleHeap samples the bytes of heap objects (live or not yet swept)
// every millisecond until the returned function is called, which returns
// the largest sample.
func sampleHeap() func() uint64 {
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// procStatus reads a "kB" line of /proc/self/status in bytes; 0 where there
// is none.
func procStatus(key string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return n << 10
	}
	return 0
}
