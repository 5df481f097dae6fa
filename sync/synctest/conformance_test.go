package synctest_test

import (
	"testing"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
)

// TestConformance runs the conformance suite on each connector against
// its fake.
func TestConformance(t *testing.T) {
	for _, f := range synctest.Fixtures {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, f.New)
		})
	}
}
