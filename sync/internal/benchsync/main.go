// Command benchsync runs one sync of one connector (--full unless -full=false,
// then incremental from the cursors the warehouse holds) into a SQLite
// warehouse and prints what it cost as JSON on stdout. BenchmarkSync builds
// and starts it as a child process against the fakes it serves, so that the
// peak RSS the benchmark reads from the child's rusage is the sync's alone,
// without the fakes' data sets.
//
// Usage:
//
//	benchsync -connector hubspot|amocrm|bitrix24 -url URL -db FILE [-full=false] [-schema S [-drop]]
//
// $BENCHSYNC_DSN, when set to a postgres:// URL, replaces the SQLite file:
// the sync then writes into a new schema of that database, dropped at the
// end, so the child's RSS is the sync's without the database engine. With
// -schema the schema is named, created only if missing and dropped only
// with -drop, so that an incremental run can follow the full one in it.
//
// $BENCHSYNC_HEAPPROFILE names a file for a heap profile taken when the
// sync ends, $BENCHSYNC_PEAKPROFILE one for when the live heap peaked.
// The token (HubSpot, amoCRM) is read from $BENCHSYNC_TOKEN; for Bitrix24
// the URL is the inbound webhook URL. Connectors run at their defaults: the
// vendor's documented rate limit, burst and page sizes.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
	_ "github.com/lib/pq" // the "postgres" driver of createSchema
)

// Result is what the child prints; the benchmark decodes it.
type Result struct {
	Records     int            `json:"records"`
	Requests    int64          `json:"requests"`
	RateLimited int64          `json:"rate_limited"`
	Seconds     float64        `json:"seconds"`
	Objects     map[string]int `json:"objects"` // records by object
	ObjRequests map[string]int `json:"object_requests"`
	// PeakHeapLive is the largest live heap seen after a GC (sampled every
	// 50 ms); RSS is about twice it at the default GOGC.
	PeakHeapLive uint64 `json:"peak_heap_live"`
	// PeakRSS is the process's own peak resident set (VmHWM), in bytes.
	// The rusage Maxrss the parent reads after wait4 is not: Linux folds
	// the RSS of the address space a process leaves at exec into it
	// (exec_mmap, setmax_mm_hiwater_rss), and os/exec starts the child
	// with vfork semantics, so Maxrss is at least the benchmark's own
	// peak, fakes and their data sets included (golang/go#32054).
	PeakRSS uint64 `json:"peak_rss"`
}

// peakHeap samples the live heap until ctx ends and returns the largest.
// With path set it writes a heap profile there whenever the live heap
// grows 5% past its peak, so the last one shows what is live at the peak
// (the profile is as of the last GC, as the sample is).
func peakHeap(ctx context.Context, path string) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				if path != "" && v > peak.Load()+peak.Load()/20 {
					writeHeapProfile(path)
				}
				peak.Store(v)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { <-done; return peak.Load() }
}

type statser interface {
	connectors.Connector
	Stats() connectors.ClientStats
}

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchsync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("connector", "", "hubspot, amocrm or bitrix24")
	baseURL := fs.String("url", "", "the fake's base URL (Bitrix24: webhook URL)")
	db := fs.String("db", "", "SQLite file")
	full := fs.Bool("full", true, "a --full sync; false: incremental from the stored cursors")
	schemaName := fs.String("schema", "", "PostgreSQL: the schema to use, kept unless -drop")
	dropSchema := fs.Bool("drop", false, "PostgreSQL: drop the -schema at the end")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	token := os.Getenv("BENCHSYNC_TOKEN")
	var conn statser
	var err error
	switch *kind {
	case "hubspot":
		conn, err = hubspot.New(hubspot.Options{Name: "hs", BaseURL: *baseURL, Token: token})
	case "amocrm":
		conn, err = amocrm.New(amocrm.Options{Name: "amo", BaseURL: *baseURL, Token: token})
	case "bitrix24":
		conn, err = bitrix24.New(bitrix24.Options{Name: "b24", WebhookURL: *baseURL})
	default:
		fmt.Fprintf(stderr, "benchsync: unknown connector %q\n", *kind)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchsync:", err)
		return 1
	}
	dsn, schema := "sqlite:"+*db, ""
	if v := os.Getenv("BENCHSYNC_DSN"); v != "" {
		dsn, schema = v, fmt.Sprintf("benchsync_%d", os.Getpid())
		keep := false
		if *schemaName != "" {
			schema, keep = *schemaName, !*dropSchema
		}
		drop, err := createSchema(ctx, dsn, schema)
		if err != nil {
			fmt.Fprintln(stderr, "benchsync:", err)
			return 1
		}
		if !keep {
			defer drop()
		}
	}
	s, err := warehouse.OpenSchema(ctx, dsn, schema)
	if err != nil {
		fmt.Fprintln(stderr, "benchsync:", err)
		return 1
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "benchsync:", err)
		return 1
	}
	e := &crmsync.Engine{Store: s}
	sctx, stop := context.WithCancel(ctx)
	heap := peakHeap(sctx, os.Getenv("BENCHSYNC_PEAKPROFILE"))
	start := time.Now()
	sum, err := e.Run(ctx, []crmsync.Job{{Connector: conn, Full: *full}})
	stop()
	if err == nil {
		err = sum.Err()
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchsync: sync:", err)
		return 1
	}
	res := Result{Seconds: time.Since(start).Seconds(), Objects: map[string]int{}, ObjRequests: map[string]int{}}
	for _, c := range sum.Connectors {
		for _, o := range c.Objects {
			res.Records += o.Records
			res.Objects[string(o.Object)] = o.Records
			res.ObjRequests[string(o.Object)] = o.Requests
		}
	}
	st := conn.Stats()
	res.Requests, res.RateLimited = st.Requests, st.RateLimited
	res.PeakHeapLive = heap()
	if res.PeakRSS, err = peakRSS(); err != nil {
		fmt.Fprintln(stderr, "benchsync:", err)
		return 1
	}
	if path := os.Getenv("BENCHSYNC_HEAPPROFILE"); path != "" {
		// What the sync still holds at its end, for a data set whose
		// RSS grows with it.
		runtime.GC()
		writeHeapProfile(path)
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

func writeHeapProfile(path string) {
	if f, err := os.Create(path); err == nil {
		pprof.WriteHeapProfile(f)
		f.Close()
	}
}

// createSchema creates schema, unless it exists, in the PostgreSQL database
// of dsn and returns a func that drops it.
func createSchema(ctx context.Context, dsn, schema string) (drop func(), err error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	return func() {
		db.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}, nil
}

// peakRSS returns VmHWM from /proc/self/status: the peak resident set of
// this program image, which starts from zero at exec.
func peakRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
