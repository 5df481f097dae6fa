package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version is the release, set at build time by the Dockerfile and release
// builds (-ldflags "-X main.version=v1.2.3"); otherwise the module version
// the Go tool stamped, "(devel)" for a build from a work tree.
var version = ""

// buildInfo is what `crmkpi version` prints and crmkpi_build_info labels.
type buildInfo struct {
	Version, Commit, Time, GoVersion string
	Modified                         bool
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	if b.Version == "" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is one line: "crmkpi v1.2.3 (commit 0123abcd4567, 2026-12-02T10:00:00Z, modified) go1.26.8 linux/amd64".
func (b buildInfo) String() string {
	s := "crmkpi " + b.Version
	if b.Commit != "" {
		s += " (commit " + b.Commit[:min(len(b.Commit), 12)]
		if b.Time != "" {
			s += ", " + b.Time
		}
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + b.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// buildInfoGauge is crmkpi_build_info, always 1, labelled with the build,
// so dashboards can tell which version of crmkpi produced the metrics.
func buildInfoGauge(b buildInfo) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "crmkpi_build_info",
		Help: "A constant 1, labelled with the crmkpi version, VCS commit and Go version.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(b.Version, b.Commit, b.GoVersion).Set(1)
	return g
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "version", "version")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	fmt.Fprintln(e.stdout, readBuildInfo())
	return nil
}
