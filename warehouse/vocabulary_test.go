package warehouse_test

import (
	"testing"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// TestVocabulary pins the words package rows says the tables store to those
// the connectors send and the warehouse stores as they are: rows cannot
// import connectors (scoring, which reads rows, must not depend on it), so
// the two lists are written twice and this test keeps them one.
func TestVocabulary(t *testing.T) {
	for _, tt := range []struct{ stored, sent string }{
		{rows.DealOpen, connectors.StatusOpen},
		{rows.DealWon, connectors.StatusWon},
		{rows.DealLost, connectors.StatusLost},
		{rows.ActivityCall, connectors.ActivityCall},
		{rows.ActivityEmail, connectors.ActivityEmail},
		{rows.ActivityMeeting, connectors.ActivityMeeting},
		{rows.ActivityMessage, connectors.ActivityMessage},
		{rows.ActivityNote, connectors.ActivityNote},
		{rows.ActivityTask, connectors.ActivityTask},
		{rows.DirectionInbound, connectors.DirectionInbound},
		{rows.DirectionOutbound, connectors.DirectionOutbound},
		{rows.KindDeal, connectors.LinkDeal},
		{rows.KindCompany, connectors.LinkCompany},
		{rows.KindContact, connectors.LinkContact},
		{rows.LinkID, connectors.LinkID},
	} {
		if tt.stored != tt.sent {
			t.Errorf("rows has %q where connectors has %q", tt.stored, tt.sent)
		}
	}
}
