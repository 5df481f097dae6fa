package reliability

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	gosync "sync"
)

// faultTransport sits between a connector and its fake. It sees every
// request before it is sent (before) and may replace the answer (rewrite),
// for the faults the fakes have no knob for: a paging cursor that repeats,
// an empty page that still says "more", records repeated across pages, data
// that changes between two pages of one pull.
type faultTransport struct {
	next http.RoundTripper

	mu gosync.Mutex
	// before runs before each request is sent; n counts requests from 1.
	before func(n int, req *http.Request, body []byte)
	// rewrite may replace a 2xx JSON answer; nil leaves it as is.
	rewrite func(n int, req *http.Request, reqBody []byte, status int, body []byte) []byte
	n       int
}

func newFaultTransport() *faultTransport {
	return &faultTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
}

// set installs hooks; either may be nil.
func (f *faultTransport) set(before func(int, *http.Request, []byte), rewrite func(int, *http.Request, []byte, int, []byte) []byte) {
	f.mu.Lock()
	f.before, f.rewrite = before, rewrite
	f.mu.Unlock()
}

// clear removes the hooks: the fault is over.
func (f *faultTransport) clear() { f.set(nil, nil) }

func (f *faultTransport) CloseIdleConnections() {
	if c, ok := f.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.GetBody != nil {
		b, err := req.GetBody()
		if err == nil {
			reqBody, _ = io.ReadAll(b)
			b.Close()
		}
	}
	f.mu.Lock()
	f.n++
	n, before, rewrite := f.n, f.before, f.rewrite
	f.mu.Unlock()
	if before != nil {
		before(n, req, reqBody)
	}
	resp, err := f.next.RoundTrip(req)
	if err != nil || rewrite == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if nb := rewrite(n, req, reqBody, resp.StatusCode, body); nb != nil {
		body = nb
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// jsonMap decodes a JSON object, or returns nil.
func jsonMap(b []byte) map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
