package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/internal/golden"
)

// TestGeneratedSQL snapshots every statement the dialects build, so a change
// to the SQL shows up in review as a diff of testdata/*.sql.
func TestGeneratedSQL(t *testing.T) {
	for _, d := range []*dialect{postgresDialect, sqliteDialect} {
		t.Run(d.name, func(t *testing.T) {
			var b strings.Builder
			section := func(name, sql string) {
				b.WriteString("-- " + name + "\n" + sql + ";\n\n")
			}
			for _, tb := range tables {
				section("upsert "+tb.name+" (2 rows)", d.upsert(tb, 2))
				section("tombstone "+tb.name+" (2 rows)", d.tombstone(tb, 2))
				section("mark missing "+tb.name, d.markMissing(tb))
				if len(tb.linkCols) > 0 {
					section("link "+tb.name+" (2 rows)", d.link(tb, tb.linkCols, 2))
				}
			}
			section("set cursor", d.setCursor())
			section("start run", d.startRun())
			section("insert scorecards (2 rows)", d.insert("scorecards", scorecardCols, 9, 2))
			section("table exists", d.tableExists())
			section("schema_migrations", d.createMigrationsTable())
			golden.Text(t, filepath.Join("testdata", "sql_"+d.name+".golden"), b.String())
		})
	}
}

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		d    *dialect
		in   string
		want string
	}{
		{postgresDialect, "a = $1 AND b = $12", "a = $1 AND b = $12"},
		{sqliteDialect, "a = $1 AND b = $12", "a = ?1 AND b = ?12"},
		{sqliteDialect, "cost$ = '$x'", "cost$ = '$x'"},
	} {
		if got := tc.d.q(tc.in); got != tc.want {
			t.Errorf("%s.q(%q) = %q, want %q", tc.d.name, tc.in, got, tc.want)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/002_b.up.sql": file("B"), "m/001_a.up.sql": file("A")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/001_a.up.sql": file("A"), "m/003_c.up.sql": file("C")}, nil, "a gap"},
		{"duplicate", fstest.MapFS{"m/001_a.up.sql": file("A"), "m/1_b.up.sql": file("B")}, nil, "duplicate version 1"},
		{"not from 1", fstest.MapFS{"m/002_a.up.sql": file("A")}, nil, "a gap"},
		{"bad name", fstest.MapFS{"m/001_a.sql": file("A")}, nil, "not NNN_name.up.sql"},
		{"empty", fstest.MapFS{"m/.keep": nil, "x": file("")}, nil, "not NNN_name.up.sql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadMigrations = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
	for _, d := range []string{"postgres", "sqlite"} {
		if _, err := loadMigrations(migrationFiles, "migrations/"+d); err != nil {
			t.Errorf("embedded %s migrations: %v", d, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dsn, want string
	}{
		{"mysql://u:s3cret@h/db", "unknown scheme"},
		{"postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "ping warehouse"},
		{"postgres://u:s3cret@h:port/db", "parse warehouse dsn"},
		{"postgres://u:s3cret@127.0.0.1:5432/db?password=s3cret&sslmode=disable&bogus_param=1", ""},
		{"sqlite:", "want sqlite:PATH"},
		{"sqlite:/a?b", "want sqlite:PATH"},
	} {
		s, err := Open(ctx, tc.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", tc.dsn, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) = %v, which shows the password", tc.dsn, err)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:pw@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db?password=pw&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable"},
		{"postgres://u:pw@h:port/db", "postgres://u:xxxxx@h:port/db"},
		{"sqlite:x.db", "sqlite:x.db"},
	} {
		if got := RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
