package connectortest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const realBody = `{"results":[{"id":"1"},{"id":"2"}]}`

// newFake serves realBody on every path behind the middleware.
func newFake(t *testing.T) (*Faults, *httptest.Server) {
	t.Helper()
	x := &Faults{}
	srv := httptest.NewServer(x.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, realBody)
	})))
	t.Cleanup(srv.Close)
	return x, srv
}

type answer struct {
	Status      int
	RetryAfter  string
	ContentType string
	Body        string
	Err         string
}

func get(t *testing.T, url string) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", url, strings.NewReader("q=1"))
	req.Header.Set("Authorization", "Bearer s3cr3t-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{Err: "request failed"}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), ContentType: resp.Header.Get("Content-Type"), Body: string(b)}
	if err != nil {
		a.Err = "body cut"
		if errors.Is(err, io.ErrUnexpectedEOF) {
			a.Err = "unexpected EOF"
		}
	}
	return a
}

// TestFaultKinds serves each kind once and checks the answer the client
// sees, then the real answer again once the queue is empty.
func TestFaultKinds(t *testing.T) {
	html502 := "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
	tests := []struct {
		fault Fault
		want  answer
	}{
		{Fault{Status: 503}, answer{Status: 503, ContentType: "application/json", Body: `{"error":"","message":""}`}},
		{Fault{Status: 500, Code: "BOOM", Message: "it broke"}, answer{Status: 500, ContentType: "application/json", Body: `{"error":"BOOM","message":"it broke"}`}},
		{Fault{Status: 429, RetryAfter: "2", Body: `{"x":1}`}, answer{Status: 429, RetryAfter: "2", ContentType: "application/json", Body: `{"x":1}`}},
		{Fault{Kind: FaultHTML}, answer{Status: 502, ContentType: "text/html; charset=utf-8", Body: html502}},
		{Fault{Kind: FaultMalformed, Body: "not json"}, answer{Status: 200, ContentType: "application/json", Body: "not json"}},
		{Fault{Kind: FaultTruncated}, answer{Status: 200, ContentType: "application/json", Body: realBody[:len(realBody)/2]}},
		{Fault{Kind: FaultReset}, answer{Status: 200, ContentType: "application/json", Body: realBody[:len(realBody)/2], Err: "unexpected EOF"}},
		{Fault{Kind: FaultSlow}, answer{Status: 200, ContentType: "application/json", Body: realBody}},
		{Fault{Kind: FaultEcho, Status: 400}, answer{Status: 400, ContentType: "text/plain; charset=utf-8",
			Body: "gateway error; the request was:\r\nGET /x?a=b HTTP/1.1\r\nAccept-Encoding: gzip\r\nAuthorization: Bearer s3cr3t-token\r\nContent-Length: 3\r\nUser-Agent: Go-http-client/1.1\r\n\r\nq=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			x, srv := newFake(t)
			x.Fail(1, tt.fault)
			if diff := cmp.Diff(tt.want, get(t, srv.URL+"/x?a=b")); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(answer{Status: 200, ContentType: "application/json", Body: realBody}, get(t, srv.URL+"/x")); diff != "" {
				t.Errorf("after the fault (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFaultQueueAndLog: faults serve in order, an Endpoint fault waits
// for its endpoint, Native writes the fake's own shape, and the log counts
// every request, faulted ones included.
func TestFaultQueueAndLog(t *testing.T) {
	x, srv := newFake(t)
	x.Native = func(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
		w.WriteHeader(f.Status)
		io.WriteString(w, "native "+f.Code)
	}
	x.Fail(1, Fault{Status: 502, Endpoint: "GET /b"})
	x.Fail(2, Fault{Status: 500, Code: "A"})
	if x.Pending() != 3 {
		t.Fatalf("Pending = %d, want 3", x.Pending())
	}
	var got []string
	for _, p := range []string{"/a", "/a", "/a", "/b", "/b"} {
		a := get(t, srv.URL+p)
		got = append(got, p+" "+http.StatusText(a.Status)+" "+a.Body)
	}
	want := []string{
		"/a Internal Server Error native A",
		"/a Internal Server Error native A",
		"/a OK " + realBody,
		"/b Bad Gateway native ",
		"/b OK " + realBody,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET /a": 3, "GET /b": 2}, x.RequestCounts()); diff != "" {
		t.Errorf("RequestCounts (-want +got):\n%s", diff)
	}
	if x.TotalRequests() != 5 || x.Requests("GET /a") != 3 {
		t.Errorf("TotalRequests = %d, Requests(GET /a) = %d, want 5 and 3", x.TotalRequests(), x.Requests("GET /a"))
	}
	x.Fail(4, Fault{Status: 500})
	x.ClearFaults()
	x.ResetCounts()
	if a := get(t, srv.URL+"/a"); a.Status != 200 || x.TotalRequests() != 1 || x.Pending() != 0 {
		t.Errorf("after ClearFaults and ResetCounts: status %d, total %d, pending %d; want 200, 1, 0", a.Status, x.TotalRequests(), x.Pending())
	}
}

// TestHold: after Hold(2) two requests are answered at once; the third
// waits, logged, until the gate opens, then gets the real answer, and so
// does every later one.
func TestHold(t *testing.T) {
	x, srv := newFake(t)
	get(t, srv.URL+"/a")
	g := x.Hold(2)
	t.Cleanup(g.Open)
	for range 2 {
		if a := get(t, srv.URL+"/a"); a.Body != realBody {
			t.Fatalf("a request before the gate: %+v, want the real answer", a)
		}
	}
	third := make(chan answer, 1)
	go func() { third <- get(t, srv.URL+"/b") }()
	<-g.Held()
	select {
	case a := <-third:
		t.Fatalf("the third request was answered before the gate opened: %+v", a)
	default:
	}
	if x.TotalRequests() != 4 || x.Requests("GET /b") != 1 {
		t.Errorf("held: TotalRequests = %d, Requests(GET /b) = %d, want 4 and 1", x.TotalRequests(), x.Requests("GET /b"))
	}
	g.Open()
	g.Open()
	if a := <-third; a.Status != 200 || a.Body != realBody {
		t.Errorf("the held request once opened: %+v, want 200 and the real answer", a)
	}
	if a := get(t, srv.URL+"/a"); a.Body != realBody {
		t.Errorf("a request after the gate opened: %+v, want the real answer", a)
	}
}

// TestEchoGatewayCutsThroughTheSecret: odd requests cut the echo inside
// the secret, even ones pad it across the 300-byte snippet.
func TestEchoGatewayCutsThroughTheSecret(t *testing.T) {
	const secret = "s3cr3t-token"
	g := NewEchoGateway(secret)
	defer g.Close()
	g.Answer(http.StatusInternalServerError)
	first, second := get(t, g.URL+"/x"), get(t, g.URL+"/x")
	if first.Status != 500 || strings.Contains(first.Body, secret) || !strings.HasSuffix(first.Body, "Bearer "+secret[:7]) {
		t.Errorf("first echo = %d %q, want 500 cut 7 bytes into the secret", first.Status, first.Body)
	}
	// Request 2 moves the cut 14 bytes, 2 into the 12-byte secret, which
	// then starts at 298.
	if at := strings.Index(second.Body, secret); at != 298 {
		t.Errorf("second echo has the secret at %d, want 298: %q", at, second.Body)
	}
	if g.Echoed() != 2 {
		t.Errorf("Echoed = %d, want 2", g.Echoed())
	}
}
