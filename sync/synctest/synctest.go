// Package synctest compares a warehouse with the fake CRMs record by record,
// for the sync engine's end-to-end tests and the crmkpi process tests.
//
// The expected rows are derived from each fake's own data, in the CRM's
// shape, by the rules the CRM documents (HubSpot stage metadata, amoCRM
// statuses 142/143, Bitrix24 STAGE_SEMANTIC_ID), not by the connectors'
// mapping code, so a mapping bug shows up as a difference rather than
// agreeing with itself.
package synctest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// Row, Rows and Tombstone are connectortest's, which compares a
// connector's pages the same way.
type (
	Row  = connectortest.Row
	Rows = connectortest.Rows
)

// Tombstone marks keys deleted in want, keeping the values they had in
// before: the warehouse flags a deleted record and keeps its last columns.
func Tombstone(want, before Rows, keys ...string) { connectortest.Tombstone(want, before, keys...) }

// DB opens a second, plain database/sql view of s (the same SQLite file or
// PostgreSQL schema), closed when the test ends.
func DB(t testing.TB, s *warehouse.Store) *sql.DB {
	t.Helper()
	var dsn string
	if s.Dialect() == warehouse.DialectSQLite {
		dsn = "sqlite:" + s.Path()
	} else {
		dsn = SchemaDSN(warehousetest.PostgresURL(), s.Schema())
	}
	return OpenDSN(t, dsn)
}

// SchemaDSN adds search_path=schema to a postgres:// URL, so every
// connection made from it (a child crmkpi's included) works in schema.
func SchemaDSN(pgURL, schema string) string {
	u, err := url.Parse(pgURL)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenDSN opens a warehouse DSN (sqlite:PATH or postgres://...) with
// database/sql, closed when the test ends. The drivers must be registered
// by the test binary ("sqlite" and "postgres").
func OpenDSN(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", p+"?_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("postgres", dsn)
	}
	if err != nil {
		t.Fatalf("open %s: %v", warehouse.RedactDSN(dsn), err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tables and the columns read into Row, in Row's order: name, owner,
// status, amount, type, active.
var tables = []struct{ key, table, cols string }{
	{"users", "crm_users", "name, NULL, NULL, NULL, NULL, active"},
	{"companies", "crm_companies", "name, owner_id, NULL, NULL, NULL, NULL"},
	{"contacts", "crm_contacts", "name, owner_id, NULL, NULL, NULL, NULL"},
	{"deals", "crm_deals", "name, owner_id, status, amount, NULL, NULL"},
	{"activities", "crm_activities", "NULL, owner_id, NULL, NULL, type, NULL"},
}

// Read returns every record of connector in the warehouse, deleted ones
// included. A key seen twice is an error, though the primary key should
// make it impossible.
func Read(ctx context.Context, db *sql.DB, connector string) (Rows, error) {
	out := Rows{}
	for _, tb := range tables {
		q := fmt.Sprintf("SELECT id, %s, deleted FROM %s WHERE connector = '%s'", tb.cols, tb.table, strings.ReplaceAll(connector, "'", "''"))
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", tb.table, err)
		}
		for rows.Next() {
			var (
				id                       string
				name, owner, status, typ sql.NullString
				amount                   sql.NullFloat64
				active                   sql.NullBool
				deleted                  bool
			)
			if err := rows.Scan(&id, &name, &owner, &status, &amount, &typ, &active, &deleted); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read %s: %w", tb.table, err)
			}
			k := tb.key + "/" + id
			if _, dup := out[k]; dup {
				rows.Close()
				return nil, fmt.Errorf("%s stored twice", k)
			}
			r := Row{Name: name.String, Owner: owner.String, Status: status.String, Type: typ.String, Active: active.Bool, Deleted: deleted}
			if amount.Valid {
				r.Amount = strconv.FormatFloat(amount.Float64, 'f', -1, 64)
			}
			out[k] = r
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run is one row of sync_runs.
type Run struct {
	ID                int64
	Object, Status    string
	Started, Finished time.Time // Finished is zero while running
	Records           int
	Error             string
}

// Runs returns the sync_runs rows of connector in id order.
func Runs(ctx context.Context, db *sql.DB, connector string) ([]Run, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT id, object, status, started_at, finished_at, records, coalesce(error, '') FROM sync_runs WHERE connector = '%s' ORDER BY id", connector))
	if err != nil {
		return nil, fmt.Errorf("read sync_runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished any
		if err := rows.Scan(&r.ID, &r.Object, &r.Status, &started, &finished, &r.Records, &r.Error); err != nil {
			return nil, fmt.Errorf("read sync_runs: %w", err)
		}
		if r.Started, err = anyTime(started); err != nil {
			return nil, err
		}
		if r.Finished, err = anyTime(finished); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// anyTime reads a timestamptz (PostgreSQL) or the warehouse's UTC text
// (SQLite).
func anyTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return x, nil
	case string:
		return time.Parse(time.RFC3339Nano, x)
	case []byte:
		return time.Parse(time.RFC3339Nano, string(x))
	}
	return time.Time{}, fmt.Errorf("time of type %T", v)
}

func amount(s string) string {
	if s == "" {
		return ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "bad:" + s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func name(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// HubSpot is what the warehouse should hold for srv: owners as users
// (archived ones inactive), companies, contacts, deals and the five
// engagement types as activities; archived records flagged deleted.
func HubSpot(srv *hubspottest.Server) Rows {
	out := Rows{}
	for _, o := range srv.Owners() {
		n := name(o.FirstName, o.LastName)
		if n == "" {
			n = o.Email
		}
		out["users/"+o.ID] = Row{Name: n, Active: !o.Archived}
	}
	// HubSpot: a closed stage with probability 1 is won, other closed
	// stages lost (reference/hubspot.md, pipelines).
	status := map[string]string{}
	for _, p := range srv.Pipelines() {
		for _, s := range p.Stages {
			status[s.ID] = s.Status()
		}
	}
	for _, typ := range hubspottest.ObjectTypes {
		for _, r := range srv.Records(typ) {
			p := r.Properties
			row := Row{Owner: p["hubspot_owner_id"], Deleted: r.Archived}
			key := "activities/" + r.ID
			switch typ {
			case hubspottest.Companies:
				key, row.Name = "companies/"+r.ID, p["name"]
			case hubspottest.Contacts:
				key, row.Name = "contacts/"+r.ID, name(p["firstname"], p["lastname"])
			case hubspottest.Deals:
				key, row.Name, row.Status, row.Amount = "deals/"+r.ID, p["dealname"], status[p["dealstage"]], amount(p["amount"])
			default:
				row.Type = strings.TrimSuffix(typ, "s")
			}
			out[key] = row
		}
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func owner(v any) string {
	s := str(v)
	if s == "0" {
		return ""
	}
	return s
}

// AmoCRM is what the warehouse should hold for srv: users, companies,
// contacts, leads as deals (142 won, 143 lost), and tasks, the notes of
// the activity types (calls, mail, SMS, common) and chat message events as
// activities, ids prefixed task:, note:, event:. Records deleted in the
// fake are gone from it: add them with Tombstone.
func AmoCRM(srv *amocrmtest.Server) Rows {
	out := Rows{}
	for _, o := range srv.Objects(amocrmtest.Users) {
		rights, _ := o["rights"].(map[string]any)
		active, _ := rights["is_active"].(bool)
		out["users/"+str(o["id"])] = Row{Name: str(o["name"]), Active: active}
	}
	for _, o := range srv.Objects(amocrmtest.Companies) {
		out["companies/"+str(o["id"])] = Row{Name: strings.TrimSpace(str(o["name"])), Owner: owner(o["responsible_user_id"])}
	}
	for _, o := range srv.Objects(amocrmtest.Contacts) {
		out["contacts/"+str(o["id"])] = Row{Name: strings.TrimSpace(str(o["name"])), Owner: owner(o["responsible_user_id"])}
	}
	for _, o := range srv.Objects(amocrmtest.Leads) {
		st := "open"
		switch str(o["status_id"]) {
		case "142":
			st = "won"
		case "143":
			st = "lost"
		}
		out["deals/"+str(o["id"])] = Row{Name: str(o["name"]), Owner: owner(o["responsible_user_id"]), Status: st, Amount: amount(str(o["price"]))}
	}
	for _, o := range srv.Objects(amocrmtest.Tasks) {
		// A task is a to-do whatever its task_type_id (reference §2).
		out["activities/task:"+str(o["id"])] = Row{Owner: owner(o["responsible_user_id"]), Type: "task"}
	}
	for _, e := range []amocrmtest.Entity{amocrmtest.LeadNotes, amocrmtest.ContactNotes, amocrmtest.CompanyNotes} {
		for _, o := range srv.Objects(e) {
			typ := map[string]string{"call_in": "call", "call_out": "call", "amomail_message": "email", "common": "note",
				"sms_in": "message", "sms_out": "message"}[str(o["note_type"])]
			if typ == "" {
				continue // service messages and the like are no activity
			}
			own := owner(o["responsible_user_id"])
			if own == "" {
				own = owner(o["created_by"])
			}
			out["activities/note:"+str(o["id"])] = Row{Owner: own, Type: typ}
		}
	}
	for _, o := range srv.Objects(amocrmtest.Events) {
		switch str(o["type"]) {
		case "incoming_chat_message":
			out["activities/event:"+str(o["id"])] = Row{Type: "message"}
		case "outgoing_chat_message":
			out["activities/event:"+str(o["id"])] = Row{Type: "message", Owner: owner(o["created_by"])}
		}
	}
	return out
}

// Bitrix24 is what the warehouse should hold for srv: users, companies,
// contacts, deals (STAGE_SEMANTIC_ID S won, F lost) and activities
// (TYPE_ID 1 meeting, 2 call, 3 task, 4 email). Records deleted in the
// fake are gone from it: add them with Tombstone.
func Bitrix24(srv *bitrix24test.Server) Rows {
	out := Rows{}
	for _, r := range srv.All(bitrix24test.Users) {
		out["users/"+str(r["ID"])] = Row{Name: name(str(r["NAME"]), str(r["LAST_NAME"])), Active: r["ACTIVE"] == true || r["ACTIVE"] == "Y" || r["ACTIVE"] == "true"}
	}
	for _, r := range srv.All(bitrix24test.Companies) {
		out["companies/"+str(r["ID"])] = Row{Name: str(r["TITLE"]), Owner: owner(r["ASSIGNED_BY_ID"])}
	}
	for _, r := range srv.All(bitrix24test.Contacts) {
		out["contacts/"+str(r["ID"])] = Row{Name: name(str(r["NAME"]), str(r["SECOND_NAME"]), str(r["LAST_NAME"])), Owner: owner(r["ASSIGNED_BY_ID"])}
	}
	for _, r := range srv.All(bitrix24test.Deals) {
		st := map[string]string{"S": "won", "F": "lost"}[strings.ToUpper(str(r["STAGE_SEMANTIC_ID"]))]
		if st == "" {
			st = "open"
		}
		out["deals/"+str(r["ID"])] = Row{Name: str(r["TITLE"]), Owner: owner(r["ASSIGNED_BY_ID"]), Status: st, Amount: amount(str(r["OPPORTUNITY"]))}
	}
	for _, r := range srv.All(bitrix24test.Activities) {
		typ := map[string]string{"1": "meeting", "2": "call", "3": "task", "4": "email"}[str(r["TYPE_ID"])]
		out["activities/"+str(r["ID"])] = Row{Owner: owner(r["RESPONSIBLE_ID"]), Type: typ}
	}
	return out
}

// Clock is a settable clock shared by a fake, its connector and the engine.
type Clock = connectortest.Clock

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return connectortest.NewClock(t) }

// SeedBitrix24 fills srv with two users (one deactivated) and n each of
// companies, contacts, deals (new, won and lost in turn) and calls, for the
// tests that need a Bitrix24 portal of a given size and no more.
func SeedBitrix24(srv *bitrix24test.Server, n int) {
	srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com"},
	})
	var cos, cts, ds, as []bitrix24test.Record
	for i := 1; i <= n; i++ {
		owner := []string{"1", "6"}[i%2]
		cos = append(cos, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": owner})
		cts = append(cts, bitrix24test.Record{"ID": i, "NAME": "Contact", "LAST_NAME": fmt.Sprint(i), "COMPANY_ID": i, "ASSIGNED_BY_ID": owner})
		ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "STAGE_ID": []string{"NEW", "WON", "LOSE"}[i%3],
			"STAGE_SEMANTIC_ID": []string{"P", "S", "F"}[i%3], "OPPORTUNITY": fmt.Sprintf("%d.50", i*10), "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": owner})
		as = append(as, bitrix24test.Record{"ID": i, "OWNER_ID": i, "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "SUBJECT": "Call",
			"START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00", "COMPLETED": "Y", "RESPONSIBLE_ID": owner, "DIRECTION": "2"})
	}
	srv.AddMany(bitrix24test.Companies, cos)
	srv.AddMany(bitrix24test.Contacts, cts)
	srv.AddMany(bitrix24test.Deals, ds)
	srv.AddMany(bitrix24test.Activities, as)
}
