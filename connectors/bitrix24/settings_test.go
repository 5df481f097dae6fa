package bitrix24

import (
	"testing"

	"github.com/crmkpi/crmkpi/connectors"
)

// TestBurstFromBucket: the burst is a fifth of the portal's bucket unless
// set, the rate is the bucket's drain of 2 a second, and the other HTTP
// settings are the shared defaults (whose values TestDocsAgree in
// connectors holds to docs/config.md).
func TestBurstFromBucket(t *testing.T) {
	for _, tc := range []struct {
		bucket, burst, want int
	}{{0, 0, 10}, {250, 0, 50}, {3, 0, 1}, {250, 7, 7}} {
		c, err := New(Options{WebhookURL: "https://p.bitrix24.ru/rest/1/code1234/", Bucket: tc.bucket, HTTPOptions: connectors.HTTPOptions{Burst: tc.burst}})
		if err != nil {
			t.Fatal(err)
		}
		want := connectors.DefaultHTTP
		want.RateLimit, want.Burst = 2, tc.want
		if c.opts.HTTPOptions != want {
			t.Errorf("bucket %d, burst %d: HTTP settings %+v, want %+v", tc.bucket, tc.burst, c.opts.HTTPOptions, want)
		}
	}
}
