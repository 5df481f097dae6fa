package scoring

import (
	"context"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// everywhere runs check on the Report of d in memory and stored in each
// warehouse engine, which must all agree with the hand computation.
func everywhere(t *testing.T, d *dataset, opts Options, p Period, check func(t *testing.T, r *Report)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) { check(t, computeFrom(d, opts, p)) })
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		storeAll(t, s, d)
		r, err := Compute(context.Background(), s, opts, p)
		if err != nil {
			t.Fatalf("Compute: %v", err)
		}
		check(t, r)
	})
}

// kpiOf is the value and previous value of KPI key on the one scorecard
// of r; -1 stands for nil.
func kpiOf(t *testing.T, r *Report, key string) (value, previous float64) {
	t.Helper()
	if len(r.Managers) != 1 {
		t.Fatalf("got %d scorecards, want 1", len(r.Managers))
	}
	k := r.Managers[0].KPIs[key]
	value, previous = -1, -1
	if k.Value != nil {
		value = *k.Value
	}
	if k.Previous != nil {
		previous = *k.Previous
	}
	return value, previous
}

// TestNewBusinessSameInstant: KPIS.md's new-business deal is a won deal
// whose client had no won deal closed before it. C1 has none before
// October; D1 and D2 are won at the same instant, so neither had one
// before it and both are new business. D3, later, is expansion.
//
//	D1 C1 1000 RUB closed 10-10 12:00  new
//	D2 C1 3000 RUB closed 10-10 12:00  new
//	D3 C1  500 RUB closed 10-20 12:00  expansion
//
// closed_won 3, new_deals 2, penetration 100 × 500 / 4500.
func TestNewBusinessSameInstant(t *testing.T) {
	d := mini([]rows.Deal{wonDeal("D1", 1000, "RUB", oct(10, 12)), wonDeal("D2", 3000, "RUB", oct(10, 12)), wonDeal("D3", 500, "RUB", oct(20, 12))}, nil)
	everywhere(t, d, Options{Currency: "RUB"}, octUTC, func(t *testing.T, r *Report) {
		for _, c := range []struct {
			key  string
			want float64
		}{{kpi.ClosedWon, 3}, {kpi.NewDeals, 2}, {kpi.Penetration, 100 * 500.0 / 4500}} {
			if got, _ := kpiOf(t, r, c.key); got != c.want {
				t.Errorf("%s = %v, want %v", c.key, got, c.want)
			}
		}
	})
}

// TestClientlessDealNotExpansion: a won deal with neither a company nor a
// contact has no client, so it is no expansion deal (no client of it had a
// won deal before) and no new-business deal either; it is the manager's
// revenue all the same.
//
//	D1 C1       1000 RUB closed 10-10  new business
//	D2 (none)   3000 RUB closed 10-12  neither
//
// closed_won 2, new_deals 1, penetration 100 × 0 / 4000 = 0.
func TestClientlessDealNotExpansion(t *testing.T) {
	none := wonDeal("D2", 3000, "RUB", oct(12, 12))
	none.CompanyID = ""
	d := mini([]rows.Deal{wonDeal("D1", 1000, "RUB", oct(10, 12)), none}, nil)
	everywhere(t, d, Options{Currency: "RUB"}, octUTC, func(t *testing.T, r *Report) {
		for _, c := range []struct {
			key  string
			want float64
		}{{kpi.ClosedWon, 2}, {kpi.NewDeals, 1}, {kpi.Penetration, 0}} {
			if got, _ := kpiOf(t, r, c.key); got != c.want {
				t.Errorf("%s = %v, want %v", c.key, got, c.want)
			}
		}
	})
}

// TestPreviousGrowthShortLookback: the previous value of key-client growth
// compares P-1 with P-2, which a lookback shorter than a period does not
// cover. lookback_days 20, October 2026 in UTC:
//
//	Da C1 1000 closed 08-05 (P-2, before P-1's lookback, which starts 08-12)
//	Db C1 2000 closed 08-20 (P-2, in P-1's lookback: C1 key for P-1)
//	Dc C1 3000 closed 09-10 (P-1, before P's lookback, which starts 09-11)
//	Dd C1 3000 closed 09-15 (P-1, in P's lookback: C1 key for P)
//	De C1 9000 closed 10-10 (P)
//
// P: 100 × (9000 − 6000) / 6000 = 50. P-1: 100 × (6000 − 3000) / 3000 =
// 100 (Da counts in P-2's revenue, whatever the lookback).
func TestPreviousGrowthShortLookback(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }
	d := mini([]rows.Deal{
		wonDeal("Da", 1000, "RUB", day(8, 5)), wonDeal("Db", 2000, "RUB", day(8, 20)),
		wonDeal("Dc", 3000, "RUB", day(9, 10)), wonDeal("Dd", 3000, "RUB", day(9, 15)), wonDeal("De", 9000, "RUB", day(10, 10)),
	}, nil)
	everywhere(t, d, Options{Currency: "RUB", LookbackDays: 20}, octUTC, func(t *testing.T, r *Report) {
		if v, prev := kpiOf(t, r, kpi.KeyClientGrowth); v != 50 || prev != 100 {
			t.Errorf("key_client_growth = %v, previous %v; want 50, previous 100", v, prev)
		}
	})
}

func TestCompareID(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"9", "10", -1}, {"10", "9", 1}, {"10", "10", 0}, {"007", "7", -1}, {"7", "007", 1}, {"0", "00", -1},
		{"D9", "D10", 1}, {"9", "D1", -1}, {"", "1", -1}, {"123456789012345678901", "99", 1},
	} {
		if got := compareID(c.a, c.b); got != c.want {
			t.Errorf("compareID(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestIDTiesNumeric: the tie rules of docs/kpis.md read numeric CRM ids
// as numbers.
//
// Owner fallback: company 5 has no owner; its deals 9 (won 09-10, a@x's)
// and 10 (open, b@x's) were created at the same instant, and the higher
// id is 10, so b@x owns company 5: an active client at the start of
// October, the only reason anyone gets a scorecard.
//
// Key clients: c@x owns companies 9 and 10, each with 1000 won in
// September; key_clients.top 1 takes the lower id, 9. October: 9 wins
// 500, 10 wins 2000, so growth is 100 × (500 − 1000) / 1000 = −50.
func TestIDTiesNumeric(t *testing.T) {
	sep := func(d int) time.Time { return time.Date(2026, 9, d, 12, 0, 0, 0, time.UTC) }
	won := func(id, company, owner string, amount float64, closed time.Time) rows.Deal {
		return rows.Deal{Connector: "amo", ID: id, Status: rows.DealWon, Amount: nf(amount), Currency: "RUB",
			OwnerID: owner, CompanyID: company, CreatedAt: sep(1), ClosedAt: nt(closed)}
	}
	fallback := &dataset{
		Users:     []rows.User{user("amo", "1", "a@x", "A"), user("amo", "2", "b@x", "B")},
		Companies: []rows.Company{{Connector: "amo", ID: "5"}},
		Deals: []rows.Deal{won("9", "5", "1", 100, sep(10)),
			{Connector: "amo", ID: "10", Status: rows.DealOpen, OwnerID: "2", CompanyID: "5", CreatedAt: sep(1)}},
	}
	t.Run("fallback", func(t *testing.T) {
		everywhere(t, fallback, Options{Currency: "RUB"}, octUTC, func(t *testing.T, r *Report) {
			if len(r.Managers) != 1 || r.Managers[0].Manager != "b@x" {
				var got []string
				for _, sc := range r.Managers {
					got = append(got, sc.Manager)
				}
				t.Errorf("scorecards %v, want [b@x] (deal 10 is the most recently created)", got)
			}
		})
	})

	keys := &dataset{
		Users:     []rows.User{user("amo", "3", "c@x", "C")},
		Companies: []rows.Company{{Connector: "amo", ID: "9", OwnerID: "3"}, {Connector: "amo", ID: "10", OwnerID: "3"}},
		Deals: []rows.Deal{won("D1", "9", "3", 1000, sep(10)), won("D2", "10", "3", 1000, sep(10)),
			won("D3", "9", "3", 500, oct(10, 12)), won("D4", "10", "3", 2000, oct(10, 12))},
	}
	t.Run("key", func(t *testing.T) {
		everywhere(t, keys, Options{Currency: "RUB", KeyClientsTop: 1}, octUTC, func(t *testing.T, r *Report) {
			if v, _ := kpiOf(t, r, kpi.KeyClientGrowth); v != -50 {
				t.Errorf("key_client_growth = %v, want -50 (key client 9)", v)
			}
		})
	})
}
