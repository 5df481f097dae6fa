package scoring

import (
	"cmp"
	"strings"
)

// compareID orders two record ids of one connector as people read them:
// ids of digits alone, which every CRM here hands out, by their numbers
// (9 before 10, where text order has 10 first), any other pair as text.
// The tie rules of docs/kpis.md ("the higher deal id", "the lower
// (connector, id)") mean this order.
func compareID(a, b string) int {
	if digitsOnly(a) && digitsOnly(b) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if c := cmp.Or(cmp.Compare(len(ta), len(tb)), strings.Compare(ta, tb)); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
