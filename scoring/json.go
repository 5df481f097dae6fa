package scoring

import (
	"encoding/json"
	"math"
)

// The Report keeps full precision, so that stored scorecards and any sums
// over them are exact; only the JSON of `crmkpi score --format json` rounds
// values, attainments, previous values, scores and the numbers in details to
// one decimal, as people read them. Targets and weights come from the config
// and are written as they are.

// round1 rounds x to one decimal; numbers too large to have a decimal are
// returned as they are.
func round1(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1e15 {
		return x
	}
	return math.Round(x*10) / 10
}

func round1p(x *float64) *float64 {
	if x == nil {
		return nil
	}
	v := round1(*x)
	return &v
}

// MarshalJSON writes k with its figures rounded to one decimal.
func (k KPI) MarshalJSON() ([]byte, error) {
	type plain KPI // no methods, so no recursion
	out := plain(k)
	out.Value, out.Attainment, out.Previous = round1p(k.Value), round1p(k.Attainment), round1p(k.Previous)
	if k.Details != nil {
		out.Details = make(map[string]any, len(k.Details))
		for key, v := range k.Details {
			if f, ok := v.(float64); ok {
				v = round1(f)
			}
			out.Details[key] = v
		}
	}
	return json.Marshal(out)
}

// MarshalJSON writes s with its score rounded to one decimal.
func (s Scorecard) MarshalJSON() ([]byte, error) {
	type plain Scorecard
	out := plain(s)
	out.Score = round1p(s.Score)
	return json.Marshal(out)
}
