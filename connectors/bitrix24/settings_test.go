package bitrix24

import (
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// TestBurstFromBucket: the burst is a fifth of the portal's bucket unless
// set, and the other HTTP settings take the vendor's defaults.
func TestBurstFromBucket(t *testing.T) {
	for _, tc := range []struct {
		bucket, burst, want int
	}{{0, 0, 10}, {250, 0, 50}, {3, 0, 1}, {250, 7, 7}} {
		c, err := New(Options{WebhookURL: "https://p.bitrix24.ru/rest/1/code1234/", Bucket: tc.bucket, HTTPOptions: connectors.HTTPOptions{Burst: tc.burst}})
		if err != nil {
			t.Fatal(err)
		}
		want := connectors.HTTPOptions{RateLimit: 2, Burst: tc.want, Timeout: time.Minute, MaxRetries: 8,
			MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxRetryAfter: 5 * time.Minute}
		if c.opts.HTTPOptions != want {
			t.Errorf("bucket %d, burst %d: HTTP settings %+v, want %+v", tc.bucket, tc.burst, c.opts.HTTPOptions, want)
		}
	}
}
