package amocrm

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/scoring/scoringtest"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestKPIsFromActivityMapping syncs a small account from the fake into the
// warehouse and scores May 2026 for its manager, Anna (8000001), whose one
// client is the company Acme. Her activities there, in amoCRM's shapes:
//
//	May 4 10:00  sms_in "Есть скидка?"            question Q1
//	May 4 10:30  call_out, call_status 6 (no answer)
//	May 4 11:00  task, task_type_id 2 (meeting), completed
//	May 4 14:00  sms_out "Да, 5%"                 answers Q1: 4 h
//	May 5 09:00  incoming_chat_message            question Q2
//	May 5 09:15  call_out, call_status 7 (busy)
//	May 5 10:00  outgoing_chat_message            answers Q2: 1 h
//	May 12       task type 1 "Quarterly review #team", completed
//	May 13       task of a custom type "Offer #team", completed
//	May 14       task type 2 "Team lunch #team", not completed
//
// response_time = median(4, 1) = 2.5 h; the unanswered dials and the
// meeting-type task answer nothing. (Before: the SMS were dropped and the
// busy dial answered Q2, 0.25 h.)
// team_contribution = 2: the completed "#team" tasks of type 1 and of the
// custom type. (Before: type 1 was a call, 1.)
// cost_per_client = (3 messages × 20 + 2 calls × 300 + 4 tasks × 0) / 1
// client = 660; the incoming chat message has no owner. (Before: 2
// meetings × 2000 + 3 calls × 300 + 1 message × 20 = 4920.)
func TestKPIsFromActivityMapping(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		clk := connectortest.NewClock(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC))
		srv := newFake(t, clk)
		at := func(day, h, min int) int64 { return time.Date(2026, 5, day, h, min, 0, 0, time.UTC).Unix() }
		const anna, acme = 8000001, 40400001

		// Users shaped as the reference's sample (§6.7), Maria deactivated.
		srv.Put(amocrmtest.Users, amocrmtest.Object{"id": anna, "name": "Anna Petrova", "email": "anna@example.com", "lang": "en",
			"rights": amocrmtest.Object{"is_admin": true, "is_free": false, "is_active": true, "group_id": nil, "role_id": nil}})
		srv.Put(amocrmtest.Users, amocrmtest.Object{"id": 8000002, "name": "Maria Lopez", "email": "maria@example.com", "lang": "es",
			"rights": amocrmtest.Object{"is_admin": false, "is_free": false, "is_active": false, "group_id": 310001, "role_id": nil}})
		srv.SetPipelines([]amocrmtest.Object{amocrmtest.Pipeline(amocrmtest.SalesPipeline, "Sales", amocrmtest.Stage{ID: 61000001, Name: "Incoming"})})
		srv.SetTaskTypes([]amocrmtest.Object{amocrmtest.TaskType(1, "Связаться"), amocrmtest.TaskType(2, "Встреча"),
			amocrmtest.TaskType(amocrmtest.TaskTypeProposal, "Отправить КП")})
		srv.Put(amocrmtest.Companies, amocrmtest.Object{"id": acme, "name": "Acme", "responsible_user_id": anna,
			"created_at": at(1, 9, 0), "updated_at": at(1, 9, 0), "_embedded": amocrmtest.Object{"tags": []any{}}})
		note := func(id int, typ string, t int64, params amocrmtest.Object) {
			srv.Put(amocrmtest.CompanyNotes, amocrmtest.Object{"id": id, "entity_id": acme, "created_by": anna, "updated_by": anna,
				"created_at": t, "updated_at": t, "responsible_user_id": anna, "group_id": 0, "note_type": typ, "is_pinned": false, "params": params})
		}
		call := func(status int) amocrmtest.Object {
			return amocrmtest.Object{"uniq": "u", "duration": 0, "source": "telephony", "link": "", "phone": "+79990000001", "call_result": "", "call_status": status}
		}
		note(7700001, "sms_in", at(4, 10, 0), amocrmtest.Object{"text": "Есть скидка?", "phone": "+79990000001"})
		note(7700002, "call_out", at(4, 10, 30), call(6))
		note(7700003, "sms_out", at(4, 14, 0), amocrmtest.Object{"text": "Да, 5%", "phone": "+79990000001"})
		note(7700004, "call_out", at(5, 9, 15), call(7))
		chat := func(id, typ string, by int64, t int64) {
			srv.AddEvent(amocrmtest.Object{"id": id, "type": typ, "entity_id": acme, "entity_type": "company", "created_by": by, "created_at": t,
				"value_after": []any{amocrmtest.Object{"message": amocrmtest.Object{"id": "m-" + id, "origin": "telegram", "talk_id": 1}}}})
		}
		chat("01hzkpi0000000000000001", "incoming_chat_message", 0, at(5, 9, 0))
		chat("01hzkpi0000000000000002", "outgoing_chat_message", anna, at(5, 10, 0))
		task := func(id int, typ int64, text string, done bool, due int64) {
			srv.Put(amocrmtest.Tasks, amocrmtest.Object{"id": id, "created_by": anna, "updated_by": anna, "created_at": due - 86400, "updated_at": due,
				"responsible_user_id": anna, "group_id": 0, "entity_id": acme, "entity_type": "companies", "duration": 0,
				"is_completed": done, "task_type_id": typ, "text": text, "result": []any{}, "complete_till": due})
		}
		task(9000001, 2, "Встреча в офисе", true, at(4, 11, 0))
		task(9000002, 1, "Quarterly review #team", true, at(12, 12, 0))
		task(9000003, amocrmtest.TaskTypeProposal, "Offer #team", true, at(13, 12, 0))
		task(9000004, 2, "Team lunch #team", false, at(14, 12, 0))

		p := scoring.Period{Kind: scoring.Month, Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
		card := scoringtest.SyncAndScore(t, s, crmsync.Job{Connector: newConn(t, srv, clk, nil)}, clk.Now,
			scoring.Options{Location: time.UTC, Currency: "RUB"}, p, "anna@example.com")

		users := warehousetest.Users(t, s)
		var active []string
		for _, u := range users {
			active = append(active, u.Email+map[bool]string{true: " active", false: " inactive"}[u.Active])
		}
		if diff := cmp.Diff([]string{"anna@example.com active", "maria@example.com inactive"}, active); diff != "" {
			t.Errorf("users (-want +got):\n%s", diff)
		}

		type row struct {
			ID, Type, Direction, Subject, Owner, Company string
			At                                           time.Time
			Completed                                    bool
			Connected                                    *bool
		}
		acts := warehousetest.Activities(t, s, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
		var got []row
		for _, a := range acts {
			got = append(got, row{a.ID, a.Type, a.Direction, a.Subject, a.OwnerID, a.CompanyID, a.OccurredAt.UTC(), a.Completed, a.Connected})
		}
		u := func(day, h, min int) time.Time { return time.Unix(at(day, h, min), 0).UTC() }
		want := []row{
			{"note:7700001", "message", "inbound", "Есть скидка?", "8000001", "40400001", u(4, 10, 0), true, nil},
			{"note:7700002", "call", "outbound", "", "8000001", "40400001", u(4, 10, 30), true, bp(false)},
			{"task:9000001", "task", "", "Встреча в офисе", "8000001", "40400001", u(4, 11, 0), true, nil},
			{"note:7700003", "message", "outbound", "Да, 5%", "8000001", "40400001", u(4, 14, 0), true, nil},
			{"event:01hzkpi0000000000000001", "message", "inbound", "", "", "40400001", u(5, 9, 0), true, nil},
			{"note:7700004", "call", "outbound", "", "8000001", "40400001", u(5, 9, 15), true, bp(false)},
			{"event:01hzkpi0000000000000002", "message", "outbound", "", "8000001", "40400001", u(5, 10, 0), true, nil},
			{"task:9000002", "task", "", "Quarterly review #team", "8000001", "40400001", u(12, 12, 0), true, nil},
			{"task:9000003", "task", "", "Offer #team", "8000001", "40400001", u(13, 12, 0), true, nil},
			{"task:9000004", "task", "", "Team lunch #team", "8000001", "40400001", u(14, 12, 0), false, nil},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored activities (-want +got):\n%s", diff)
		}

		type figures struct {
			Value   float64
			Details map[string]any
		}
		pick := func(key string) figures {
			k := card.KPIs[key]
			if k == nil || k.Value == nil {
				t.Fatalf("%s has no value: %+v", key, k)
			}
			return figures{*k.Value, k.Details}
		}
		gotKPI := map[string]figures{
			kpi.ResponseTime:     pick(kpi.ResponseTime),
			kpi.TeamContribution: pick(kpi.TeamContribution),
			kpi.CostPerClient:    pick(kpi.CostPerClient),
		}
		wantKPI := map[string]figures{
			kpi.ResponseTime:     {2.5, map[string]any{"inbound": 2, "unanswered": 0}},
			kpi.TeamContribution: {2, map[string]any{"tasks": 2, "manual": false}},
			kpi.CostPerClient:    {660, map[string]any{"cost": 660.0, "clients": 1}},
		}
		if diff := cmp.Diff(wantKPI, gotKPI); diff != "" {
			t.Errorf("KPIs of anna@example.com (-want +got):\n%s", diff)
		}
	})
}

// A lead deleted and then restored counts again, though the restore left
// its updated_at at the deletion (the reference does not say a restore
// bumps it; the fake's Restore does not): the lead_restored event has the
// connector read it again by id. Anna's May: leads 1 (1000, May 10) and
// 2 (500, May 20), both won for Acme. After the deletion of lead 2 she
// has one won deal; after its restore, two again, and the restored lead
// is stored whole, as amoCRM sends it.
func TestRestoredLeadCountsAgain(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		clk := connectortest.NewClock(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC))
		srv := newFake(t, clk)
		at := func(day int) int64 { return time.Date(2026, 5, day, 12, 0, 0, 0, time.UTC).Unix() }
		const anna, acme = 8000001, 40400001
		srv.Put(amocrmtest.Users, amocrmtest.Object{"id": anna, "name": "Anna Petrova", "email": "anna@example.com",
			"rights": amocrmtest.Object{"is_active": true}})
		srv.SetPipelines([]amocrmtest.Object{amocrmtest.Pipeline(amocrmtest.SalesPipeline, "Sales", amocrmtest.Stage{ID: 61000001, Name: "Incoming"})})
		srv.Put(amocrmtest.Companies, amocrmtest.Object{"id": acme, "name": "Acme", "responsible_user_id": anna, "created_at": at(1), "updated_at": at(1)})
		lead := func(id, price int64, day int) {
			srv.Put(amocrmtest.Leads, amocrmtest.Object{"id": id, "name": fmt.Sprint("Order ", id), "price": price, "responsible_user_id": anna,
				"status_id": 142, "pipeline_id": amocrmtest.SalesPipeline, "created_at": at(1), "updated_at": at(day), "closed_at": at(day),
				"_embedded": amocrmtest.Object{"tags": []any{}, "companies": []any{amocrmtest.Object{"id": acme}}}})
		}
		lead(1, 1000, 10)
		lead(2, 500, 20)
		p := scoring.Period{Kind: scoring.Month, Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
		o := scoring.Options{Location: time.UTC, Currency: "RUB"}
		conn := newConn(t, srv, clk, nil)
		won := func() float64 {
			card := scoringtest.SyncAndScore(t, s, crmsync.Job{Connector: conn}, clk.Now, o, p, "anna@example.com")
			k := card.KPIs[kpi.ClosedWon]
			if k == nil || k.Value == nil {
				t.Fatalf("closed_won has no value: %+v", k)
			}
			return *k.Value
		}
		if n := won(); n != 2 {
			t.Fatalf("closed_won before the deletion = %v, want 2", n)
		}
		clk.Advance(time.Hour)
		srv.Delete(amocrmtest.Leads, 2)
		clk.Advance(time.Hour)
		if n := won(); n != 1 {
			t.Fatalf("closed_won after the deletion = %v, want 1", n)
		}
		clk.Advance(time.Hour)
		restoredAt := clk.Now().Truncate(time.Second).UTC()
		srv.Restore(amocrmtest.Leads, 2)
		clk.Advance(time.Hour)
		if n := won(); n != 2 {
			t.Errorf("closed_won after the restore = %v, want 2", n)
		}
		type row struct {
			ID, Status, Company string
			Amount              float64
			Closed, Updated     time.Time
		}
		var got []row
		for _, d := range warehousetest.Deals(t, s) {
			got = append(got, row{d.ID, d.Status, d.CompanyID, *d.Amount, d.ClosedAt.UTC(), d.UpdatedAt.UTC()})
		}
		u := func(day int) time.Time { return time.Unix(at(day), 0).UTC() }
		want := []row{
			{"1", "won", "40400001", 1000, u(10), u(10)},
			// Stored at the restore's time: it must win over the deletion.
			{"2", "won", "40400001", 500, u(20), restoredAt},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored deals (-want +got):\n%s", diff)
		}
	})
}
