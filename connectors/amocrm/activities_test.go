package amocrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// decodeWith maps one list body with the mapper mp (phase 0).
func decodeWith(t *testing.T, obj connectors.Object, mp *mapper, body string) *connectors.Page {
	t.Helper()
	c := &Client{opts: Options{PageSize: pageLimit}}
	ls, err := c.lists(obj, mp, typesList)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := decodeList([]byte(body), &ls[0])
	if err != nil {
		t.Fatalf("decode %s: %v", obj, err)
	}
	return lp.page
}

// Every task is a task, whatever its task_type_id: 1 (follow-up, the
// default of a new task), 2 (meeting) and a custom id. The type id stays in
// Raw as amoCRM sent it; the name from account?with=task_types is added
// as crmkpi_task_type_name, and left out for an id the account does not
// name. The records are the reference's §6.5 sample plus a custom type.
func TestMapTaskOfEveryType(t *testing.T) {
	t1 := `{"id": 9000001, "created_by": 8000001, "updated_by": 8000001, "created_at": 1717990000,
     "updated_at": 1718000000, "responsible_user_id": 8000001, "group_id": 0, "entity_id": 20500002,
     "entity_type": "leads", "duration": 0, "is_completed": true, "task_type_id": 1,
     "text": "Call back", "result": {"text": "Agreed on demo"}, "complete_till": 1718003599,
     "account_id": 30000001, "_links": {"self": {"href": "https://example.amocrm.ru/api/v4/tasks/9000001"}}}`
	t2 := `{"id": 9000002, "created_by": 8000002, "updated_by": 8000002, "created_at": 1718000100,
     "updated_at": 1718000100, "responsible_user_id": 8000002, "group_id": 0, "entity_id": 50500002,
     "entity_type": "contacts", "duration": 3600, "is_completed": false, "task_type_id": 2,
     "text": "Demo meeting", "result": [], "complete_till": 1718190000,
     "account_id": 30000001, "_links": {"self": {"href": "https://example.amocrm.ru/api/v4/tasks/9000002"}}}`
	t3 := `{"id": 9000003, "created_by": 8000001, "updated_by": 8000001, "created_at": 1718000200,
     "updated_at": 1718000300, "responsible_user_id": 8000001, "group_id": 0, "entity_id": 40400001,
     "entity_type": "companies", "duration": 0, "is_completed": true, "task_type_id": 2797514,
     "text": "Send the offer #team", "result": {"text": "Sent"}, "complete_till": 1718003600,
     "account_id": 30000001, "_links": {"self": {"href": "https://example.amocrm.ru/api/v4/tasks/9000003"}}}`
	t4 := `{"id": 9000004, "updated_at": 1718000400, "responsible_user_id": 8000002, "entity_id": 20500001,
     "entity_type": "leads", "is_completed": false, "task_type_id": 2797999, "text": "Unnamed type",
     "result": [], "complete_till": 1718003700}`
	body := `{"_page":1,"_embedded":{"tasks":[` + t1 + "," + t2 + "," + t3 + "," + t4 + `]}}`
	mp := testMapper()
	mp.taskTypes = map[int64]string{1: "Связаться", 2: "Встреча", 2797514: "Отправить КП"}
	got := decodeWith(t, ObjectTasks, mp, body)

	named := func(raw, name string) json.RawMessage {
		return json.RawMessage(strings.TrimSuffix(raw, "}") + `,"crmkpi_task_type_name":"` + name + `"}`)
	}
	want := []connectors.Activity{
		{Meta: connectors.Meta{ID: "task:9000001", UpdatedAt: unix(1718000000), Raw: named(t1, "Связаться")}, Type: "task",
			Subject: "Call back", OwnerID: "8000001", DealID: "20500002", OccurredAt: unix(1718003599), Completed: true},
		{Meta: connectors.Meta{ID: "task:9000002", UpdatedAt: unix(1718000100), Raw: named(t2, "Встреча")}, Type: "task",
			Subject: "Demo meeting", OwnerID: "8000002", ContactID: "50500002", OccurredAt: unix(1718190000), DurationS: ip(3600)},
		{Meta: connectors.Meta{ID: "task:9000003", UpdatedAt: unix(1718000300), Raw: named(t3, "Отправить КП")}, Type: "task",
			Subject: "Send the offer #team", OwnerID: "8000001", CompanyID: "40400001", OccurredAt: unix(1718003600), Completed: true},
		{Meta: connectors.Meta{ID: "task:9000004", UpdatedAt: unix(1718000400), Raw: json.RawMessage(t4)}, Type: "task",
			Subject: "Unnamed type", OwnerID: "8000002", DealID: "20500001", OccurredAt: unix(1718003700)},
	}
	if diff := cmp.Diff(want, got.Activities); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
	for _, a := range got.Activities {
		if !json.Valid(a.Raw) {
			t.Errorf("%s: raw is no JSON: %s", a.ID, a.Raw)
		}
	}

	// Without the account's task types (the account read failed), every
	// raw record is as amoCRM sent it.
	plain := decodeWith(t, ObjectTasks, testMapper(), body)
	for i, raw := range []string{t1, t2, t3, t4} {
		if a := plain.Activities[i]; string(a.Raw) != raw || a.Type != "task" {
			t.Errorf("%s without names: type %s raw %s", a.ID, a.Type, a.Raw)
		}
	}
}

func TestAnnotate(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{`{"id":1}`, `{"id":1,"crmkpi_task_type_name":"Встреча \"A\""}`},
		{`{ }`, `{ "crmkpi_task_type_name":"Встреча \"A\""}`},
		{` {"id":1} `, `{"id":1,"crmkpi_task_type_name":"Встреча \"A\""}`},
		{`{"id":1,"crmkpi_task_type_name":"x"}`, `{"id":1,"crmkpi_task_type_name":"x"}`}, // never a second one
		{`[1]`, `[1]`},
		{``, ``},
	} {
		if got := annotate(json.RawMessage(tt.raw), taskTypeNameKey, `Встреча "A"`); string(got) != tt.want {
			t.Errorf("annotate(%s) = %s, want %s", tt.raw, got, tt.want)
		}
	}
}

// SMS notes are messages (sms_in inbound, sms_out outbound, params.text the
// subject; SDK SmsNote params text and phone), and a call says from
// params.call_status whether it connected: 4 (talked) yes; 1, 2, 3, 5, 6,
// 7 no; absent, 8 (undefined), unknown or odd values: not said. The calls
// are the reference's §6.6 sample shape.
func TestMapSMSAndCallStatus(t *testing.T) {
	note := func(id int, typ, params string) string {
		return fmt.Sprintf(`{"id": %d, "entity_id": 20500001, "created_by": 8000001, "updated_by": 8000001,
		 "created_at": 1718000500, "updated_at": 1718000501, "responsible_user_id": 8000002, "group_id": 0,
		 "note_type": %q, "is_pinned": false, "account_id": 30000001, "params": %s}`, id, typ, params)
	}
	call := func(id int, typ, status string) string {
		p := `{"uniq": "a1b2c3", "duration": 183, "source": "telephony", "link": "", "phone": "+79990000001", "call_result": "Разговор состоялся"`
		if status != "" {
			p += `, "call_status": ` + status
		}
		return note(id, typ, p+"}")
	}
	notes := []string{
		note(1, "sms_in", `{"text": "Когда будет счёт?", "phone": "+79990000001"}`),
		note(2, "sms_out", `{"text": "Счёт отправлен", "phone": "+79990000001"}`),
	}
	statuses := []string{"1", "2", "3", "4", "5", "6", "7", "8", "", "null", `"4"`, `"6"`, "9", "true", `{}`}
	for i, st := range statuses {
		typ := "call_out"
		if i%2 == 1 {
			typ = "call_in"
		}
		notes = append(notes, call(10+i, typ, st))
	}
	got := decodeWith(t, ObjectNotes, testMapper(), `{"_embedded":{"notes":[`+strings.Join(notes, ",")+`]}}`)

	base := func(id int, typ, dir, subject string) connectors.Activity {
		return connectors.Activity{Meta: m(fmt.Sprint("note:", id), unix(1718000501)), Type: typ, Direction: dir, Subject: subject,
			OwnerID: "8000002", DealID: "20500001", OccurredAt: unix(1718000500), Completed: true}
	}
	want := []connectors.Activity{
		base(1, "message", "inbound", "Когда будет счёт?"),
		base(2, "message", "outbound", "Счёт отправлен"),
	}
	connected := map[string]*bool{"1": bp(false), "2": bp(false), "3": bp(false), "4": bp(true), "5": bp(false), "6": bp(false),
		"7": bp(false), `"4"`: bp(true), `"6"`: bp(false)}
	for i, st := range statuses {
		dir := "outbound"
		if i%2 == 1 {
			dir = "inbound"
		}
		a := base(10+i, "call", dir, "Разговор состоялся")
		a.DurationS, a.Connected = ip(183), connected[st]
		want = append(want, a)
	}
	if diff := cmp.Diff(want, got.Activities, ignoreRaw); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// SMS notes and chat message events, pulled from the fake: both paths give
// messages; an unanswered call stays a call, stored as not connected.
func TestPullMessagesBothPaths(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	at := clk.Now().Add(-2 * time.Hour).Unix()
	srv.Put(amocrmtest.ContactNotes, amocrmtest.Object{"id": 7700101, "entity_id": 50500001, "created_by": 0, "updated_by": 0,
		"created_at": at, "updated_at": at, "responsible_user_id": 8000001, "group_id": 0, "note_type": "sms_in", "is_pinned": false,
		"params": amocrmtest.Object{"text": "Есть скидка?", "phone": "+79990000001"}})
	srv.Put(amocrmtest.ContactNotes, amocrmtest.Object{"id": 7700102, "entity_id": 50500001, "created_by": 8000001, "updated_by": 8000001,
		"created_at": at + 60, "updated_at": at + 60, "responsible_user_id": 8000001, "group_id": 0, "note_type": "call_out", "is_pinned": false,
		"params": amocrmtest.Object{"uniq": "x1", "duration": 0, "source": "telephony", "link": "", "phone": "+79990000001", "call_result": "", "call_status": 6}})
	srv.Put(amocrmtest.ContactNotes, amocrmtest.Object{"id": 7700103, "entity_id": 50500001, "created_by": 8000001, "updated_by": 8000001,
		"created_at": at + 120, "updated_at": at + 120, "responsible_user_id": 8000001, "group_id": 0, "note_type": "sms_out", "is_pinned": false,
		"params": amocrmtest.Object{"text": "Да, 5%", "phone": "+79990000001"}})
	srv.AddEvent(amocrmtest.Object{"id": "01hzchat0000000000000001", "type": "incoming_chat_message", "entity_id": 50500001, "entity_type": "contact",
		"created_by": 0, "created_at": at + 180, "value_after": []any{amocrmtest.Object{"message": amocrmtest.Object{"id": "m-1", "origin": "telegram", "talk_id": 1}}}})
	srv.AddEvent(amocrmtest.Object{"id": "01hzchat0000000000000002", "type": "outgoing_chat_message", "entity_id": 50500001, "entity_type": "contact",
		"created_by": 8000001, "created_at": at + 240, "value_after": []any{amocrmtest.Object{"message": amocrmtest.Object{"id": "m-2", "origin": "telegram", "talk_id": 1}}}})
	c := newConn(t, srv, clk, nil)

	got := append(pull(t, c, ObjectNotes, "").merged.Activities, pull(t, c, ObjectEvents, "").merged.Activities...)
	want := []connectors.Activity{
		{Meta: m("note:7700101", unix(at)), Type: "message", Direction: "inbound", Subject: "Есть скидка?", OwnerID: "8000001",
			ContactID: "50500001", OccurredAt: unix(at), Completed: true},
		{Meta: m("note:7700102", unix(at+60)), Type: "call", Direction: "outbound", OwnerID: "8000001",
			ContactID: "50500001", OccurredAt: unix(at + 60), Completed: true, DurationS: ip(0), Connected: bp(false)},
		{Meta: m("note:7700103", unix(at+120)), Type: "message", Direction: "outbound", Subject: "Да, 5%", OwnerID: "8000001",
			ContactID: "50500001", OccurredAt: unix(at + 120), Completed: true},
		{Meta: m("event:01hzchat0000000000000001", unix(at+180)), Type: "message", Direction: "inbound",
			ContactID: "50500001", OccurredAt: unix(at + 180), Completed: true},
		{Meta: m("event:01hzchat0000000000000002", unix(at+240)), Type: "message", Direction: "outbound", OwnerID: "8000001",
			ContactID: "50500001", OccurredAt: unix(at + 240), Completed: true},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Errorf("activities (-want +got):\n%s", diff)
	}
}

// The names of the task types come from one GET /api/v4/account?with=task_types
// per Client, shared with the deals' currency; a task type the account
// does not list, an account without task types, or an account read that
// fails leave the name out and the tasks in.
func TestTaskTypeNames(t *testing.T) {
	put := func(srv *amocrmtest.Server) {
		for i, typ := range []int64{1, 2, amocrmtest.TaskTypeProposal, 2797999} {
			srv.Put(amocrmtest.Tasks, amocrmtest.Object{"id": 9000001 + i, "text": fmt.Sprint("t", i), "updated_at": 1718000000 + i,
				"responsible_user_id": 8000001, "entity_type": "leads", "entity_id": 20500001, "task_type_id": typ,
				"is_completed": false, "complete_till": 1718003600, "result": []any{}})
		}
	}
	names := func(r result) []string {
		var out []string
		for _, a := range r.merged.Activities {
			var w map[string]any
			d := json.NewDecoder(bytes.NewReader(a.Raw))
			d.UseNumber()
			if err := d.Decode(&w); err != nil {
				t.Fatalf("%s raw: %v", a.ID, err)
			}
			n, _ := w[taskTypeNameKey].(string)
			out = append(out, fmt.Sprintf("%s %s %v %q", a.ID, a.Type, w["task_type_id"], n))
		}
		return out
	}

	t.Run("named", func(t *testing.T) {
		clk := newClock()
		srv := newFake(t, clk)
		srv.SetTaskTypes([]amocrmtest.Object{amocrmtest.TaskType(1, "Связаться"), amocrmtest.TaskType(2, "Встреча"),
			amocrmtest.TaskType(amocrmtest.TaskTypeProposal, "Отправить КП")})
		put(srv)
		srv.Put(amocrmtest.Leads, amocrmtest.Object{"id": 20500001, "name": "L", "price": 10, "status_id": 142, "pipeline_id": 7000001})
		c := newConn(t, srv, clk, nil)
		if d := pull(t, c, connectors.ObjectDeals, "").merged.Deals; len(d) != 1 || d[0].Currency != "RUB" {
			t.Fatalf("deals = %+v, want one in RUB", d)
		}
		want := []string{`task:9000001 task 1 "Связаться"`, `task:9000002 task 2 "Встреча"`,
			`task:9000003 task 2797514 "Отправить КП"`, `task:9000004 task 2797999 ""`}
		if diff := cmp.Diff(want, names(pull(t, c, ObjectTasks, ""))); diff != "" {
			t.Errorf("tasks (-want +got):\n%s", diff)
		}
		// A second run of the same Client asks nothing again.
		pull(t, c, ObjectTasks, "")
		if n := srv.Requests("/api/v4/account"); n != 1 {
			t.Errorf("account requests = %d, want 1 for the currency and the task types", n)
		}
	})
	t.Run("account lists none", func(t *testing.T) {
		clk := newClock()
		srv := newFake(t, clk)
		srv.SetTaskTypes(nil)
		put(srv)
		want := []string{`task:9000001 task 1 ""`, `task:9000002 task 2 ""`, `task:9000003 task 2797514 ""`, `task:9000004 task 2797999 ""`}
		if diff := cmp.Diff(want, names(pull(t, newConn(t, srv, clk, nil), ObjectTasks, ""))); diff != "" {
			t.Errorf("tasks (-want +got):\n%s", diff)
		}
	})
	t.Run("account read fails", func(t *testing.T) {
		clk := newClock()
		srv := newFake(t, clk)
		put(srv)
		account := 0
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v4/account" {
				account++
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(500)
				w.Write([]byte(`{"title":"ErrInternalServer","type":"https://httpstatus.es/500","status":500,"detail":"Internal server error","trace_id":"0f0e"}`))
				return
			}
			proxy(srv.URL).ServeHTTP(w, r)
		}))
		defer ts.Close()
		c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL; o.MaxRetries = 1 })
		want := []string{`task:9000001 task 1 ""`, `task:9000002 task 2 ""`, `task:9000003 task 2797514 ""`, `task:9000004 task 2797999 ""`}
		if diff := cmp.Diff(want, names(pull(t, c, ObjectTasks, ""))); diff != "" {
			t.Errorf("tasks (-want +got):\n%s", diff)
		}
		tried := account
		pull(t, c, ObjectTasks, "")
		if tried == 0 || account != tried {
			t.Errorf("account requests: %d in the first pull, %d after the second; want some, then no more", tried, account)
		}
	})
}
