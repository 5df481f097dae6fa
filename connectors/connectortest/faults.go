// Package connectortest holds what the three fake CRMs and the tests of
// their connectors share: the fault middleware and request log every fake
// serves its knobs through (Faults), a gateway that echoes requests
// (EchoGateway), a settable clock, a log sink safe for concurrent writers
// (Buffer), the record-by-record projection that compares a connector's
// pages with its fake (Rows), and the conformance suite (Run) that
// exercises every connector the same way.
//
// It imports no fake and no connector, so that the fakes can build on it
// and every connector's tests, internal ones included, can use it.
package connectortest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind selects how a Fault misbehaves.
type FaultKind int

// Fault kinds. Each is what a CRM, or a proxy or gateway in front of it,
// really sends.
const (
	// FaultStatus answers Status in the fake's own error shape (its error
	// Code and Message, or its defaults for Status), or with Body when set.
	FaultStatus FaultKind = iota
	// FaultHTML answers an HTML page with Status (default 502), as proxies
	// and load balancers do.
	FaultHTML
	// FaultMalformed answers 200 with Body, or a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 with the first half of the real answer,
	// its Content-Length agreeing: a proxy that cut the body.
	FaultTruncated
	// FaultReset sends the real answer's headers, a Content-Length for all
	// of it and half of its body, then closes the connection.
	FaultReset
	// FaultSlow waits Delay, or until the client gives up, then answers
	// normally.
	FaultSlow
	// FaultEcho answers Status (default 502) with a text body repeating the
	// request, its line, every header (Authorization too) and its body, as
	// a misconfigured gateway does.
	FaultEcho
	// FaultNative is a misbehaviour of the fake's own, named by Code and
	// served by its Native hook (amoCRM's stuck pages).
	FaultNative
)

var kindNames = [...]string{"status", "html", "malformed", "truncated", "reset", "slow", "echo", "native"}

func (k FaultKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault describes one misbehaving answer, queued with Faults.Fail.
type Fault struct {
	Kind FaultKind
	// Endpoint restricts the fault to requests of one request-log key;
	// "" matches any request.
	Endpoint string
	// Status is the HTTP status of FaultStatus, FaultHTML and FaultEcho.
	Status int
	// Code and Message are the error code and text the fake writes in its
	// own error shape (FaultStatus), or the name of a FaultNative; "" takes
	// the fake's default for Status.
	Code, Message string
	// RetryAfter, when non-empty, is sent as the Retry-After header.
	RetryAfter string
	// Body replaces the body of FaultStatus and FaultMalformed.
	Body string
	// Delay is how long FaultSlow waits.
	Delay time.Duration
	// Hook, when set, runs as the fault is served, before it answers: a
	// test can cancel a pull while its request is in flight.
	Hook func(*http.Request)
}

func (f Fault) String() string {
	s := f.Kind.String()
	if f.Status != 0 {
		s += " " + strconv.Itoa(f.Status)
	}
	if f.Code != "" {
		s += " " + f.Code
	}
	if f.RetryAfter != "" {
		s += " Retry-After " + f.RetryAfter
	}
	return s
}

// Faults is a fake's fault queue and request log, and the middleware that
// serves them. A fake embeds it, which gives every fake the same knobs
// (Fail, ClearFaults, Hold) and counters (Requests, RequestCounts,
// TotalRequests, ResetCounts). Its methods are safe for concurrent use.
type Faults struct {
	// Key names a request in the log and in Fault.Endpoint: an endpoint,
	// a path or a REST method, as the fake counts them.
	Key func(*http.Request) string
	// Native writes FaultStatus (without Body) and FaultNative answers in
	// the fake's own shape; next serves the real answer. Without it a
	// FaultStatus answers {"error": Code, "message": Message}.
	Native func(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler)

	mu     sync.Mutex
	queue  []Fault
	counts map[string]int
	total  int
	gate   *Gate
}

// Gate holds a fake's requests from a set one on until a test opens it
// (Faults.Hold). A test that must act on a client in mid-work (stop it,
// kill its database connection) then finds it at a known point, waiting
// for an answer, however slowly a loaded machine runs either side.
type Gate struct {
	pass               int // requests still to let through, under the Faults' mu
	held, open         chan struct{}
	heldOnce, openOnce sync.Once
}

// Held is closed once a request waits at the gate.
func (g *Gate) Held() <-chan struct{} { return g.held }

// Open lets the held requests, and every later one, through. It may be
// called more than once.
func (g *Gate) Open() { g.openOnce.Do(func() { close(g.open) }) }

// wait holds r until the gate opens or r's client gives up, so that a
// killed client never keeps the server from closing.
func (g *Gate) wait(r *http.Request) {
	g.heldOnce.Do(func() { close(g.held) })
	select {
	case <-g.open:
	case <-r.Context().Done():
	}
}

// Hold lets the next n requests through and holds every later one, once
// logged, until the Gate it returns is opened. A new Hold replaces the
// gate before it, which stays as it is for the requests it holds.
func (x *Faults) Hold(n int) *Gate {
	x.mu.Lock()
	defer x.mu.Unlock()
	g := &Gate{pass: n, held: make(chan struct{}), open: make(chan struct{})}
	x.gate = g
	return g
}

// Fail queues n answers of fault f, served to the next matching requests in
// the order queued.
func (x *Faults) Fail(n int, f Fault) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for range n {
		x.queue = append(x.queue, f)
	}
}

// ClearFaults drops the faults queued and not yet served.
func (x *Faults) ClearFaults() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.queue = nil
}

// Pending is how many queued faults are not served yet.
func (x *Faults) Pending() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.queue)
}

// Requests is how many requests the fake received under key, whatever it
// answered: refused and faulted ones count too.
func (x *Faults) Requests(key string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.counts[key]
}

// RequestCounts returns a copy of the per-key counts.
func (x *Faults) RequestCounts() map[string]int {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]int, len(x.counts))
	for k, v := range x.counts {
		out[k] = v
	}
	return out
}

// TotalRequests is how many requests the fake received.
func (x *Faults) TotalRequests() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.total
}

// ResetCounts zeroes the request log.
func (x *Faults) ResetCounts() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.counts, x.total = nil, 0
}

func (x *Faults) key(r *http.Request) string {
	if x.Key == nil {
		return r.Method + " " + r.URL.Path
	}
	return x.Key(r)
}

// Record logs r and returns its key; a request past a Hold waits at its
// gate first.
func (x *Faults) Record(r *http.Request) string {
	k := x.key(r)
	x.mu.Lock()
	if x.counts == nil {
		x.counts = map[string]int{}
	}
	x.counts[k]++
	x.total++
	g := x.gate
	if g != nil && g.pass > 0 {
		g.pass--
		g = nil
	}
	x.mu.Unlock()
	if g != nil {
		g.wait(r)
	}
	return k
}

// Next takes the first queued fault that matches key off the queue.
func (x *Faults) Next(key string) (Fault, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, f := range x.queue {
		if f.Endpoint == "" || f.Endpoint == key {
			x.queue = slices.Delete(x.queue, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

// Wrap is the whole middleware: it logs each request, then serves the next
// matching fault, or next when none is queued.
func (x *Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.ServeNext(w, r, x.Record(r), next)
	})
}

// ServeNext serves the next fault queued for key, or next when none is.
// Fakes that must refuse some requests before any fault (amoCRM's IP ban)
// call Record, then ServeNext.
func (x *Faults) ServeNext(w http.ResponseWriter, r *http.Request, key string, next http.Handler) {
	if f, ok := x.Next(key); ok {
		x.Serve(w, r, f, next)
		return
	}
	next.ServeHTTP(w, r)
}

// Serve answers r with fault f; next serves the real answer, which slow,
// truncated and reset answers are made of.
func (x *Faults) Serve(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	if f.Hook != nil {
		f.Hook(r)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch f.Kind {
	case FaultSlow:
		// The server notices a client that gave up only once it has read
		// the request body: read it first, and hand next a copy.
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
		next.ServeHTTP(w, r)
	case FaultStatus, FaultNative:
		switch {
		case f.Kind == FaultStatus && f.Body != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			io.WriteString(w, f.Body)
		case x.Native != nil:
			x.Native(w, r, f, next)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			fmt.Fprintf(w, `{"error":%q,"message":%q}`, f.Code, f.Message)
		}
	case FaultHTML:
		st := f.Status
		if st == 0 {
			st = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(st)
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>",
			st, http.StatusText(st), st, http.StatusText(st))
	case FaultMalformed:
		body := f.Body
		if body == "" {
			body = `{"result": [{"id": "1", "name": "Ord` + "\x00" + `}}} this is not JSON`
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	case FaultTruncated, FaultReset:
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		half := body[:len(body)/2]
		if f.Kind == FaultReset && reset(w, rec, len(body), half) {
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(rec.Code)
		w.Write(half)
	case FaultEcho:
		st := f.Status
		if st == 0 {
			st = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(st)
		io.WriteString(w, Echo(r))
	default:
		panic("connectortest: unknown fault kind " + f.Kind.String())
	}
}

// reset writes the status line and headers of rec with a Content-Length of
// full, then half of the body, and closes the connection. Without a
// connection to close (an in-process transport) it reports false, and the
// caller answers the half body as a truncated one.
func reset(w http.ResponseWriter, rec *httptest.ResponseRecorder, full int, half []byte) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return false
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(full+100))
	h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(half)
	buf.Flush()
	return true
}

// Echo renders r as a gateway that echoes it does: the request line, every
// header in name order (Authorization too) and the body. It reads r.Body.
func Echo(r *http.Request) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "gateway error; the request was:\r\n%s %s HTTP/1.1\r\n", r.Method, r.URL.RequestURI())
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, strings.Join(r.Header[k], ", "))
	}
	b.WriteString("\r\n")
	if r.Body != nil {
		io.Copy(&b, r.Body)
	}
	return b.String()
}
