package scoring

import (
	"slices"
	"testing"

	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// TestMeasures fails when kpi.Table and measures disagree: a KPI without a
// measure or a measure without a KPI, a pace for a KPI that is not paced,
// or details other than those its kpi.Def lists, with and without data.
func TestMeasures(t *testing.T) {
	for _, d := range kpi.Table {
		m, ok := measures[d.Key]
		if !ok {
			t.Errorf("%s: in kpi.Table, but measures has no measure for it", d.Key)
			continue
		}
		if m.value == nil || m.explain == nil {
			t.Errorf("%s: measure has no value or no explain", d.Key)
			continue
		}
		if m.pace != nil && !d.Paced {
			t.Errorf("%s: measure has a pace, but kpi.Def.Paced is false", d.Key)
		}
		want := slices.Sorted(slices.Values(d.Details))
		full := &stats{answers: 4, promoters: 2, detractors: 1, activeStart: 3, retained: 2, keyClients: 1, keyRev: 110, keyRevPrev: 100,
			won: 2, lost: 1, newDeals: 1, revenue: 300, expansionRev: 100, responses: []float64{2, 1}, unanswered: 1, tasks: 2, cost: 900, served: []int32{1, 2}}
		for name, s := range map[string]*stats{"no data": {}, "data": full} {
			v := m.value(s)
			if v.details == nil {
				t.Errorf("%s, %s: details nil, want a map (the JSON writes {})", d.Key, name)
			}
			var got []string
			for k := range v.details {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s, %s: scoring writes details %q, kpi.Def.Details lists %q", d.Key, name, got, want)
			}
		}
	}
	for key := range measures {
		if _, ok := kpi.Lookup(key); !ok {
			t.Errorf("measures has %q, which kpi.Table does not", key)
		}
	}
}
