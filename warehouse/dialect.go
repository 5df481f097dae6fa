package warehouse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect names returned by Store.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// sqliteTimeFormat is how SQLite stores every time: UTC, fixed width, nine
// fraction digits, so that comparing the text compares the times and the
// indexes on time columns serve range scans.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000000Z"

// dialect is the one place that knows how the two engines differ. All SQL of
// the package is built by its methods (or is plain SQL valid on both), and
// dialect_test.go snapshots what they generate.
type dialect struct {
	name string
	// maxParams is the engine's limit of bind parameters per statement.
	maxParams int
}

var (
	postgresDialect = &dialect{name: DialectPostgres, maxParams: 65535}
	sqliteDialect   = &dialect{name: DialectSQLite, maxParams: 32766}
)

// ph is the placeholder of the n-th (1-based) argument. SQLite's ?NNN, like
// PostgreSQL's $N, may be repeated in one statement.
func (d *dialect) ph(n int) string {
	if d.name == DialectPostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// greatest is the larger of two values of a column type.
func (d *dialect) greatest(a, b string) string {
	if d.name == DialectPostgres {
		return "GREATEST(" + a + ", " + b + ")"
	}
	// SQLite's max() with two arguments is the scalar max; with the
	// fixed-width time text it compares times.
	return "max(" + a + ", " + b + ")"
}

// timeArg converts a time to the argument the engine stores. Times are
// truncated to the microsecond on both engines: that is PostgreSQL's
// precision, and truncating (rather than letting PostgreSQL round) keeps
// the two engines and the comparisons between records identical.
func (d *dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.name == DialectPostgres {
		return t
	}
	return t.Format(sqliteTimeFormat)
}

// nullTimeArg is timeArg with the zero time stored as NULL.
func (d *dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// ptrTimeArg is timeArg with nil stored as NULL.
func (d *dialect) ptrTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.timeArg(*t)
}

// tableExists is a query returning one row with a count > 0 when the table
// named by argument 1 exists (in the search_path schema on PostgreSQL).
func (d *dialect) tableExists() string {
	if d.name == DialectPostgres {
		return "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1"
	}
	return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"
}

// values renders rows tuples of cols placeholders each, numbered from 1.
func (d *dialect) values(b *strings.Builder, rows, cols int) {
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("(")
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.bulkPh(n))
			n++
		}
		b.WriteString(")")
	}
}

// bulkPh is the placeholder of the n-th argument in a list of arguments
// numbered in order of appearance. On SQLite it is an anonymous "?", which
// takes the next number: binding a named ?NNN costs a scan of all the
// statement's names, which made a 1000-row insert quadratic (1.7 s).
func (d *dialect) bulkPh(n int) string {
	if d.name == DialectSQLite {
		return "?"
	}
	return d.ph(n)
}

// insert is a plain multi-row insert of rows rows into table.
func (d *dialect) insert(table, cols string, ncols, rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s)\nVALUES ", table, cols)
	d.values(&b, rows, ncols)
	return b.String()
}

// upsert is the multi-row insert of rows records into t. An existing row is
// replaced only by a record at least as new (equal updated_at re-applies,
// so a re-sync repairs a row), never by an older one.
func (d *dialect) upsert(t *table, rows int) string {
	var b strings.Builder
	cols := t.allColumns()
	fmt.Fprintf(&b, "INSERT INTO %s AS t (%s)\nVALUES ", t.name, strings.Join(cols, ", "))
	d.values(&b, rows, len(cols))
	d.upsertTail(&b, t)
	return b.String()
}

// upsertFrom is upsert reading the records from a staging table of the
// same columns (PostgreSQL's COPY path).
func (d *dialect) upsertFrom(t *table, staging string) string {
	var b strings.Builder
	cols := strings.Join(t.allColumns(), ", ")
	fmt.Fprintf(&b, "INSERT INTO %s AS t (%s)\nSELECT %s FROM %s", t.name, cols, cols, staging)
	d.upsertTail(&b, t)
	return b.String()
}

func (d *dialect) upsertTail(b *strings.Builder, t *table) {
	cols := t.allColumns()
	b.WriteString("\nON CONFLICT (connector, id) DO UPDATE SET ")
	for i, c := range cols[2:] {
		if i > 0 {
			b.WriteString(", ")
		}
		if c == "nps_seen_at" {
			// The time the warehouse first saw the current answer: set
			// when a score arrives or changes, kept otherwise.
			b.WriteString("nps_seen_at = CASE WHEN excluded.nps_score IS NOT NULL AND (t.nps_score IS NULL OR t.nps_score <> excluded.nps_score) THEN excluded.synced_at ELSE t.nps_seen_at END")
			continue
		}
		if c == "deactivated_at" {
			// When the warehouse saw the user turn inactive: unknown (NULL)
			// for a user first seen inactive, cleared on reactivation.
			b.WriteString("deactivated_at = CASE WHEN excluded.active THEN NULL WHEN t.active THEN excluded.synced_at ELSE t.deactivated_at END")
			continue
		}
		fmt.Fprintf(b, "%s = excluded.%s", c, c)
	}
	b.WriteString("\nWHERE excluded.updated_at >= t.updated_at")
}

// tombstone flags rows deleted records of t: an existing row keeps its
// columns and gets deleted = true and the later of the two updated_at; a
// missing row is inserted as a bare tombstone so that an older copy of the
// record arriving later cannot resurrect it. Arguments per row: connector,
// id, updated_at, synced_at.
func (d *dialect) tombstone(t *table, rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s AS t (connector, id, updated_at, synced_at, deleted)\nVALUES ", t.name)
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "(%s, %s, %s, %s, true)", d.bulkPh(n), d.bulkPh(n+1), d.bulkPh(n+2), d.bulkPh(n+3))
		n += 4
	}
	fmt.Fprintf(&b, "\nON CONFLICT (connector, id) DO UPDATE SET deleted = true, updated_at = %s, synced_at = excluded.synced_at",
		d.greatest("t.updated_at", "excluded.updated_at"))
	return b.String()
}

// link sets cols of the rows whose ids come in a VALUES list: rows rows of
// (id, cols...) from argument 3 on, with argument 1 the connector and 2 the
// sync time. A NULL value clears the column. Links never insert.
func (d *dialect) link(t *table, cols []string, rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s AS t SET ", t.name)
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = v.%s", c, c)
	}
	fmt.Fprintf(&b, ", synced_at = %s\nFROM (", d.ph(2))
	if d.name == DialectSQLite {
		// SQLite names VALUES columns column1, column2, ...; a VALUES list
		// (unlike UNION ALL) has no 500-term limit.
		b.WriteString("SELECT column1 AS id")
		for i, c := range cols {
			fmt.Fprintf(&b, ", column%d AS %s", i+2, c)
		}
		b.WriteString(" FROM (")
	}
	b.WriteString("VALUES ")
	n := 3
	for r := range rows {
		if r > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("(")
		for c := range len(cols) + 1 {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.bulkPh(n))
			if d.name == DialectPostgres {
				// Values in a FROM list have no column to take their
				// type from; every link column is text.
				b.WriteString("::text")
			}
			n++
		}
		b.WriteString(")")
	}
	if d.name == DialectPostgres {
		fmt.Fprintf(&b, ") AS v (id, %s)", strings.Join(cols, ", "))
	} else {
		b.WriteString(")) AS v")
	}
	fmt.Fprintf(&b, "\nWHERE t.connector = %s AND t.id = v.id", d.ph(1))
	return b.String()
}

// markMissing flags deleted the live rows of t whose id is not in the
// temporary table live_ids (PostgreSQL) or in the JSON array argument 4
// (SQLite). Arguments: 1 connector, 2 deletion time, 3 sync time.
func (d *dialect) markMissing(t *table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s AS t SET deleted = true, updated_at = %s, synced_at = %s\nWHERE t.connector = %s AND NOT t.deleted AND ",
		t.name, d.greatest("t.updated_at", d.ph(2)), d.ph(3), d.ph(1))
	if d.name == DialectPostgres {
		// An anti-join against an analysed temporary table: for a million
		// ids PostgreSQL picks a hash anti-join that spills to disk if it
		// must, where NOT IN over a function result would fall back to
		// rescanning a subplan per row once past work_mem.
		b.WriteString("NOT EXISTS (SELECT 1 FROM live_ids l WHERE l.id = t.id)")
	} else {
		// SQLite builds a temporary index for an IN (SELECT ...) list.
		b.WriteString("t.id NOT IN (SELECT value FROM json_each(" + d.ph(4) + "))")
	}
	return b.String()
}

// setCursor upserts one sync_state row. Arguments: connector, object,
// cursor, updated_at.
func (d *dialect) setCursor() string {
	return fmt.Sprintf("INSERT INTO sync_state (connector, object, cursor, updated_at) VALUES (%s, %s, %s, %s)\n"+
		"ON CONFLICT (connector, object) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
		d.ph(1), d.ph(2), d.ph(3), d.ph(4))
}

// startRun inserts a sync_runs row and returns its id.
func (d *dialect) startRun() string {
	return fmt.Sprintf("INSERT INTO sync_runs (connector, object, started_at, status, records) VALUES (%s, %s, %s, %s, 0) RETURNING id",
		d.ph(1), d.ph(2), d.ph(3), d.ph(4))
}

// q rewrites a query written with $N placeholders into the dialect's.
// Queries with no dialect differences are now written once with ? and
// passed through sqlx's Rebind (Store.db.Rebind); q remains for the ones
// still in the $N form.
func (d *dialect) q(query string) string {
	if d.name == DialectPostgres {
		return query
	}
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		if query[i] == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
