package connectors

import (
	"testing"
	"time"
)

func TestNextWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	from, end := at("2026-11-01T09:00:00Z"), at("2026-11-01T10:00:00Z")
	for _, tc := range []struct {
		name   string
		latest time.Time
		want   time.Time
	}{
		// Clocks agree: the latest change is near our now.
		{"recent change", at("2026-11-01T09:59:50Z"), at("2026-11-01T09:59:00Z")},
		// The CRM's clock an hour behind ours: its next changes are
		// stamped before our now, so the window starts at its latest.
		{"clock behind", at("2026-11-01T09:00:30Z"), at("2026-11-01T09:00:30Z")},
		// A CRM clock ahead of ours changes nothing.
		{"clock ahead", at("2026-11-01T11:00:00Z"), at("2026-11-01T09:59:00Z")},
		// Nothing read: the window stays where it was.
		{"nothing read", time.Time{}, from},
	} {
		if got := NextWindow(from, end, time.Minute, tc.latest); !got.Equal(tc.want) {
			t.Errorf("%s: NextWindow = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPageLatestUpdate(t *testing.T) {
	at := func(h int) Meta {
		return Meta{UpdatedAt: time.Date(2026, 11, 1, h, 0, 0, 0, time.FixedZone("", 3*3600))}
	}
	p := &Page{Companies: []Company{{Meta: at(9)}}, Deals: []Deal{{Meta: at(11)}, {Meta: at(10)}}, Activities: []Activity{{Meta: at(8)}}}
	if got, want := p.LatestUpdate(), time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("LatestUpdate = %v, want %v in UTC", got, want)
	}
	if got := (&Page{}).LatestUpdate(); !got.IsZero() {
		t.Errorf("empty page: LatestUpdate = %v, want zero", got)
	}
}
