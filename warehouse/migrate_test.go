package warehouse_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestMigrateConcurrently migrates one fresh database from four Stores
// (four processes' worth of connections) at once: every Migrate succeeds.
// On PostgreSQL, where they used to fail on each other's CREATE TABLE,
// one applies every migration and the others, having waited for it, find
// nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	latest, err := warehousetest.NewSQLite(t).SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var every []int
	for v := 1; v <= latest; v++ {
		every = append(every, v)
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			var dsn, schema string
			if kind == "sqlite" {
				dsn = "sqlite:" + filepath.Join(t.TempDir(), "fresh.db")
			} else {
				dsn, schema = warehousetest.PostgresURL(), warehousetest.EmptySchema(t)
			}
			stores := make([]*warehouse.Store, 4)
			for i := range stores {
				s, err := warehouse.OpenSchema(ctx, dsn, schema)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				stores[i] = s
			}
			applied := make([][]int, len(stores))
			errs := make([]error, len(stores))
			var wg gosync.WaitGroup
			for i, s := range stores {
				wg.Go(func() { applied[i], errs[i] = s.Migrate(ctx) })
			}
			wg.Wait()
			var all []int
			for i, err := range errs {
				if err != nil {
					t.Errorf("Migrate %d: %v", i, err)
				}
				all = append(all, applied[i]...)
			}
			slices.Sort(all)
			if diff := cmp.Diff(every, all); diff != "" {
				t.Errorf("versions applied by all Migrates together (-want +got):\n%s", diff)
			}
			if kind == "postgres" {
				var got []string
				for _, a := range applied {
					got = append(got, fmt.Sprint(a))
				}
				slices.Sort(got)
				if diff := cmp.Diff([]string{fmt.Sprint(every), "[]", "[]", "[]"}, got); diff != "" {
					t.Errorf("versions applied by each Migrate (-want +got):\n%s", diff)
				}
			}
			for i, s := range stores {
				if v, err := s.SchemaVersion(ctx); err != nil || v != latest {
					t.Errorf("store %d: SchemaVersion = %d, %v; want %d", i, v, err, latest)
				}
			}
		})
	}
}
