package scoring

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// The leavers: six managers in UTC, scored for August, October and
// November 2026 at now = 10 November. Each owns a company with a won deal
// of their own closed in June, so each is eligible in all three periods
// (a client active at the start).
//
//	m@x     amo/1 active; also wins DG (1000 RUB, 15 Oct) on ghost's CG
//	lea@x   amo/2 inactive, seen turning so on 20 Oct 12:00
//	two@x   amo/3 seen inactive 20 Sep, hub/3 "Two@X" 25 Oct: left 25 Oct
//	old@x   amo/4 first seen inactive: left at its last work, the call AO
//	        on 10 Oct (its task due 20 Nov is after now)
//	ghost@x amo/5 first seen inactive, never worked: CG and its deal DG0
//	        are m@x's deals' doing
//	back@x  amo/6 active, hub/6 inactive since 15 Sep: one user active
//
// August (starts before every leaving): all but ghost. October: the same
// (lea, two and old left in October). November: m and back only.
func leaversData() *dataset {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }
	dated := func(u rows.User, at time.Time) rows.User {
		u.Active, u.DeactivatedAt = false, nt(at)
		return u
	}
	gone := func(u rows.User) rows.User { u.Active = false; return u }
	won := func(id, owner, company string, amount float64, closed time.Time) rows.Deal {
		d := wonDeal(id, amount, "RUB", closed)
		d.OwnerID, d.CompanyID = owner, company
		return d
	}
	company := func(id, owner string) rows.Company {
		return rows.Company{Connector: "amo", ID: id, OwnerID: owner}
	}
	hubCompany := company("CT2", "3")
	hubCompany.Connector = "hub"
	return &dataset{
		Users: []rows.User{
			user("amo", "1", "m@x", "M"),
			dated(user("amo", "2", "lea@x", "Lea"), day(10, 20)),
			dated(user("amo", "3", "two@x", "Two"), day(9, 20)),
			dated(user("hub", "3", "Two@X", "Two"), day(10, 25)),
			gone(user("amo", "4", "old@x", "Old")),
			gone(user("amo", "5", "ghost@x", "Ghost")),
			user("amo", "6", "back@x", "Back"),
			dated(user("hub", "6", "back@x", "Back"), day(9, 15)),
		},
		Companies: []rows.Company{
			company("CM", "1"), company("CL", "2"), company("CT", "3"), hubCompany,
			company("CO", "4"), company("CG", "5"), company("CB", "6"),
		},
		Deals: []rows.Deal{
			won("DM0", "1", "CM", 500, day(6, 5)),
			won("DL", "2", "CL", 700, day(6, 1)),
			won("DT", "3", "CT", 800, day(6, 2)),
			won("DO", "4", "CO", 900, day(6, 3)),
			won("DG0", "1", "CG", 600, day(6, 4)),
			won("DB0", "6", "CB", 400, day(6, 6)),
			won("DG", "1", "CG", 1000, day(10, 15)),
		},
		Activities: []rows.Activity{
			{Connector: "amo", Type: rows.ActivityCall, Direction: rows.DirectionOutbound, OwnerID: "4", CompanyID: "CO", OccurredAt: day(10, 10)}, // AO
			{Connector: "amo", Type: rows.ActivityTask, Subject: "call back", OwnerID: "4", CompanyID: "CO", OccurredAt: day(11, 20)},              // TO
		},
	}
}

var leaversNow = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)

func month(t *testing.T, spec string) Period {
	t.Helper()
	p, err := ParsePeriod(spec, Month, time.UTC, leaversNow)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func keysOf(r *Report) []string {
	var out []string
	for _, sc := range r.Managers {
		out = append(out, sc.Manager)
	}
	slices.Sort(out)
	return out
}

// TestDeactivated checks who is ranked in each period, with the leavers
// dated and with every inactive user first seen inactive (old@x's October
// call, outside the activities read when August is scored, is found
// through LastActivity), and that m@x's scorecard is the one it is when
// nobody has left: the leavers' clients and deals stay theirs.
func TestDeactivated(t *testing.T) {
	opts := Options{Currency: "RUB", Now: leaversNow}
	// Undated, lea@x and two@x leave at their last work: their June deals.
	for _, tt := range []struct {
		spec           string
		dated, undated []string
	}{
		{"2026-08", []string{"back@x", "lea@x", "m@x", "old@x", "two@x"}, []string{"back@x", "m@x", "old@x"}},
		{"2026-10", []string{"back@x", "lea@x", "m@x", "old@x", "two@x"}, []string{"back@x", "m@x", "old@x"}},
		{"2026-11", []string{"back@x", "m@x"}, []string{"back@x", "m@x"}},
	} {
		p := month(t, tt.spec)
		if diff := cmp.Diff(tt.dated, keysOf(computeFrom(leaversData(), opts, p))); diff != "" {
			t.Errorf("%s dated: managers with scorecards (-want +got):\n%s", tt.spec, diff)
		}
		undated := leaversData()
		for i := range undated.Users {
			undated.Users[i].DeactivatedAt = sql.NullTime{}
		}
		if diff := cmp.Diff(tt.undated, keysOf(computeFrom(undated, opts, p))); diff != "" {
			t.Errorf("%s undated: managers with scorecards (-want +got):\n%s", tt.spec, diff)
		}
	}

	// m@x in October, by hand: DG is expansion on CG (DG0 before it),
	// 1000 of 1000 → penetration 100; closed_won 1, new_deals 0; m@x's
	// clients are CM only (CG is ghost's): active at start and end → 100.
	p := month(t, "2026-10")
	r := computeFrom(leaversData(), opts, p)
	m := scorecard(t, r, "m@x")
	got := map[string]any{}
	for _, key := range []string{kpi.ClosedWon, kpi.NewDeals, kpi.Penetration, kpi.Retention} {
		got[key] = *m.KPIs[key].Value
	}
	wantVals := map[string]any{kpi.ClosedWon: 1.0, kpi.NewDeals: 0.0, kpi.Penetration: 100.0, kpi.Retention: 100.0}
	if diff := cmp.Diff(wantVals, got); diff != "" {
		t.Errorf("m@x October (-want +got):\n%s", diff)
	}
	everyoneActive := leaversData()
	for i := range everyoneActive.Users {
		everyoneActive.Users[i].Active, everyoneActive.Users[i].DeactivatedAt = true, sql.NullTime{}
	}
	all := computeFrom(everyoneActive, opts, p)
	if diff := cmp.Diff(scorecard(t, all, "m@x"), m); diff != "" {
		t.Errorf("m@x's scorecard changes when the others leave (-all active +some left):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"back@x", "ghost@x", "lea@x", "m@x", "old@x", "two@x"}, keysOf(all)); diff != "" {
		t.Errorf("everyone active: managers with scorecards (-want +got):\n%s", diff)
	}
}

func scorecard(t *testing.T, r *Report, key string) Scorecard {
	t.Helper()
	for _, sc := range r.Managers {
		if sc.Manager == key {
			return sc
		}
	}
	t.Fatalf("no scorecard for %s in %v", key, keysOf(r))
	return Scorecard{}
}

// TestDeactivatedWarehouse runs the leavers through a real warehouse, on
// both engines. Stored in one sync, every inactive user is first seen
// inactive, so the dated ones leave at their last work too; old@x's
// October call is outside the activities read for August and is found by
// LastActivity.
func TestDeactivatedWarehouse(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		storeAll(t, s, leaversData())
		opts := Options{Currency: "RUB", Now: leaversNow}
		for spec, want := range map[string][]string{
			"2026-08": {"back@x", "m@x", "old@x"},
			"2026-10": {"back@x", "m@x", "old@x"},
			"2026-11": {"back@x", "m@x"},
		} {
			r, err := Compute(context.Background(), s, opts, month(t, spec))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, keysOf(r)); diff != "" {
				t.Errorf("%s: managers with scorecards (-want +got):\n%s", spec, diff)
			}
		}
	})
}

// TestDeactivatedAtWarehouse deactivates lea@x in a second sync, so that
// the warehouse dates it (deactivated_at, the sync's time T), and scores
// the month that contains T, where lea@x still has her scorecard, and the
// month after, where she has none. The data is placed around T, which
// comes from the warehouse's clock.
func TestDeactivatedAtWarehouse(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		lea := connectors.User{Meta: connectors.Meta{ID: "2", UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, Email: "lea@x", Name: "Lea", Active: true}
		m := connectors.User{Meta: connectors.Meta{ID: "1", UpdatedAt: lea.UpdatedAt}, Email: "m@x", Active: true}
		if err := s.ApplyPage(ctx, "amo", connectors.ObjectUsers, &connectors.Page{Users: []connectors.User{lea, m}}); err != nil {
			t.Fatal(err)
		}
		lea.Active, lea.UpdatedAt = false, lea.UpdatedAt.Add(time.Hour)
		if err := s.ApplyPage(ctx, "amo", connectors.ObjectUsers, &connectors.Page{Users: []connectors.User{lea}}); err != nil {
			t.Fatal(err)
		}
		var left time.Time
		if err := s.ScanUsers(ctx, func(r *rows.User) error {
			if r.ID == "2" {
				if r.Active || !r.DeactivatedAt.Valid {
					t.Fatalf("lea after the second sync: %+v, want inactive with deactivated_at", *r)
				}
				left = r.DeactivatedAt.Time
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Both own a client active from 60 days before T on.
		closed := left.AddDate(0, 0, -60)
		deal := func(id, owner, company string) connectors.Deal {
			return connectors.Deal{Meta: connectors.Meta{ID: id, UpdatedAt: closed}, Status: connectors.StatusWon, Amount: f64(100), Currency: "RUB",
				OwnerID: owner, CompanyID: company, CreatedAt: closed.Add(-time.Hour), ClosedAt: tp(closed)}
		}
		pages := map[connectors.Object]*connectors.Page{
			connectors.ObjectCompanies: {Companies: []connectors.Company{{Meta: connectors.Meta{ID: "CL", UpdatedAt: closed}, OwnerID: "2"},
				{Meta: connectors.Meta{ID: "CM", UpdatedAt: closed}, OwnerID: "1"}}},
			connectors.ObjectDeals: {Deals: []connectors.Deal{deal("DL", "2", "CL"), deal("DM", "1", "CM")}},
		}
		for obj, p := range pages {
			if err := s.ApplyPage(ctx, "amo", obj, p); err != nil {
				t.Fatal(err)
			}
		}
		opts := Options{Currency: "RUB", Now: left.AddDate(0, 2, 0)}
		p, err := ParsePeriod("current", Month, time.UTC, left)
		if err != nil {
			t.Fatal(err)
		}
		next, err := ParsePeriod("current", Month, time.UTC, p.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			p    Period
			want []string
		}{{p, []string{"lea@x", "m@x"}}, {next, []string{"m@x"}}} {
			r, err := Compute(ctx, s, opts, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keysOf(r)); diff != "" {
				t.Errorf("%s (lea left %s): managers with scorecards (-want +got):\n%s", tt.p.Label(), left, diff)
			}
		}
	})
}

// TestExcludeAndOnlyListed scores the fixture with Boris excluded (written
// in another case), then with only the listed managers: the others get no
// scorecard and Anna's is exactly the fixture's. Config keys that match no
// CRM user are a warning each, naming where the config has them, before
// the currency warnings.
func TestExcludeAndOnlyListed(t *testing.T) {
	full := wantFixture()
	anna, carl, amo99 := full.Managers[0], full.Managers[2], full.Managers[3]

	opts := fixtureOptions()
	opts.Exclude = []string{"Boris@Example.COM", "nobody@example.com"}
	opts.Refs = []Ref{
		{Key: "anna@example.com", Where: "crmkpi.yaml:12: managers[0]"},
		{Key: "bob@example.com", Where: "crmkpi.yaml:14: managers[2]"},
		{Key: "Boris@Example.COM", Where: "crmkpi.yaml:20: scoring.exclude[0]"},
		{Key: "nobody@example.com", Where: "crmkpi.yaml:20: scoring.exclude[1]"},
		{Key: "dora@example.com", Where: "crmkpi.yaml:21: scoring.exclude[2]"}, // deleted, still a CRM user
		{Key: "amo:99", Where: "crmkpi.yaml:30: scoring.manual.2026-10"},       // an owner without a user record
		{Key: "hub:77", Where: "crmkpi.yaml:31: scoring.manual.2026-10"},
	}
	got := computeFrom(fixtureData(), opts, fixturePeriod())
	want := wantFixture()
	want.Managers = []Scorecard{anna, carl, amo99}
	want.Warnings = append([]string{
		"crmkpi.yaml:14: managers[2]: bob@example.com matches no CRM user",
		"crmkpi.yaml:20: scoring.exclude[1]: nobody@example.com matches no CRM user",
		"crmkpi.yaml:31: scoring.manual.2026-10: hub:77 matches no CRM user",
	}, want.Warnings...)
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("Boris excluded (-want +got):\n%s", diff)
	}

	opts = fixtureOptions()
	opts.OnlyListed = true
	got = computeFrom(fixtureData(), opts, fixturePeriod())
	want = wantFixture()
	want.Managers = []Scorecard{anna}
	// Boris's and Carl's deals no longer sit on a scorecard; D5 (EUR) is
	// Anna's, HD3 (unknown) Carl's.
	want.Warnings = want.Warnings[1:]
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("only listed (-want +got):\n%s", diff)
	}
}
