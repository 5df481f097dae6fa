package scoring

import (
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

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
	r := computeFrom(d, Options{Currency: "RUB"}, octUTC)
	for _, c := range []struct {
		key  string
		want float64
	}{{kpi.ClosedWon, 3}, {kpi.NewDeals, 2}, {kpi.Penetration, 100 * 500.0 / 4500}} {
		if got, _ := kpiOf(t, r, c.key); got != c.want {
			t.Errorf("%s = %v, want %v", c.key, got, c.want)
		}
	}
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
	r := computeFrom(d, Options{Currency: "RUB"}, octUTC)
	for _, c := range []struct {
		key  string
		want float64
	}{{kpi.ClosedWon, 2}, {kpi.NewDeals, 1}, {kpi.Penetration, 0}} {
		if got, _ := kpiOf(t, r, c.key); got != c.want {
			t.Errorf("%s = %v, want %v", c.key, got, c.want)
		}
	}
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
	r := computeFrom(d, Options{Currency: "RUB", LookbackDays: 20}, octUTC)
	if v, prev := kpiOf(t, r, kpi.KeyClientGrowth); v != 50 || prev != 100 {
		t.Errorf("key_client_growth = %v, previous %v; want 50, previous 100", v, prev)
	}
}
