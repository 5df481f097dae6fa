package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCmd(t, nil, args...)
		want := "crmkpi " + readBuildInfo().Version + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
		if code != 0 || stdout != want {
			t.Errorf("crmkpi %s = %d, %q (stderr %q); want 0, %q", args[0], code, stdout, stderr, want)
		}
	}
}

func TestBuildInfoString(t *testing.T) {
	b := buildInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123", Time: "2026-12-02T10:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	want := "crmkpi v1.2.3 (commit 0123456789ab, 2026-12-02T10:00:00Z, modified) go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	if got := b.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestBuildInfoMetric(t *testing.T) {
	g := buildInfoGauge(buildInfo{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26.8"})
	want := `
# HELP crmkpi_build_info A constant 1, labelled with the crmkpi version, VCS commit and Go version.
# TYPE crmkpi_build_info gauge
crmkpi_build_info{commit="abc",goversion="go1.26.8",version="v1.2.3"} 1
`
	if err := testutil.CollectAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(g); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
