package scoring

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// approx tolerates the last bits of float arithmetic done in another order
// than the hand computation; anything a person would see differs by far
// more.
var approx = cmpopts.EquateApprox(1e-12, 1e-9)

func TestComputeFixture(t *testing.T) {
	got := computeFrom(fixtureData(), fixtureOptions(), fixturePeriod())
	if diff := cmp.Diff(wantFixture(), got, approx); diff != "" {
		t.Errorf("computeFrom(fixture) mismatch (-want +got):\n%s", diff)
	}
}
