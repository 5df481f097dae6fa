package sync

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLogProgress checks the structured progress lines written when stderr
// is not a terminal: at most one per Interval, with the rate and an ETA
// where the CRM told a total.
func TestLogProgress(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	l := &LogProgress{
		Logger:   slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})),
		Interval: 10 * time.Second,
		Now:      func() time.Time { return now },
	}
	l.Begin("hub", "deals")
	now = now.Add(5 * time.Second)
	l.Page("hub", "deals", 100, 1000) // within the interval: no line
	now = now.Add(5 * time.Second)
	l.Page("hub", "deals", 100, 1000) // 200 records in 10 s: 20/s, 800 left: 40 s
	now = now.Add(10 * time.Second)
	l.Page("hub", "deals", 300, 0) // 500 in 20 s: 25/s, total kept: 500 left: 20 s
	l.End("hub", "deals", nil)

	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, m)
	}
	want := []map[string]any{
		{"level": "INFO", "msg": "sync started", "connector": "hub", "object": "deals"},
		{"level": "INFO", "msg": "sync progress", "connector": "hub", "object": "deals", "records": 200.0, "records_per_second": 20.0, "eta_seconds": 40.0},
		{"level": "INFO", "msg": "sync progress", "connector": "hub", "object": "deals", "records": 500.0, "records_per_second": 25.0, "eta_seconds": 20.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress lines (-want +got):\n%s", diff)
	}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
