package config

import (
	"strings"
	"testing"
)

// TestMinListingShare: connectors[].min_listing_share is a percent above 0
// and at most 100; unset it is 0, the sync engine's default (50%).
func TestMinListingShare(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    float64
		wantErr string
	}{
		{"", 0, ""},
		{"min_listing_share: 30", 30, ""},
		{"min_listing_share: 100", 100, ""},
		{"min_listing_share: 0", 0, "c.yaml:3: connectors[0].min_listing_share: must be positive"},
		{"min_listing_share: 150", 0, "c.yaml:3: connectors[0].min_listing_share: must be at most 100 (percent)"},
	} {
		src := "connectors:\n  - {name: b24, type: bitrix24, webhook_url: \"https://p.bitrix24.ru/rest/1/s/\"}\n"
		if tc.value != "" {
			src = "connectors:\n  - name: b24\n    " + tc.value + "\n    type: bitrix24\n    webhook_url: https://p.bitrix24.ru/rest/1/s/\n"
		}
		cfg, err := Parse(strings.NewReader(src), "c.yaml")
		switch {
		case tc.wantErr != "":
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: error %v, want %q", tc.value, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case cfg.Connectors[0].MinListingShare != tc.want:
			t.Errorf("%q: MinListingShare = %v, want %v", tc.value, cfg.Connectors[0].MinListingShare, tc.want)
		}
	}
}
