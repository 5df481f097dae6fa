package connectortest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	gosync "sync"
)

// Transport sits between a connector and its fake. It sees every request
// before it is sent (before) and may replace the answer (rewrite), for the
// faults that need to know a CRM's page shapes (a Fixture's Records,
// SetRecords and SameCursor do): a paging cursor that repeats, an empty page
// that still says "more", records repeated across pages, data that changes
// between two pages of one pull. It is safe for concurrent use.
type Transport struct {
	next http.RoundTripper

	mu gosync.Mutex
	// before runs before each request is sent; n counts requests from 1.
	before func(n int, req *http.Request, body []byte)
	// rewrite may replace a 2xx JSON answer; nil leaves it as is.
	rewrite func(n int, req *http.Request, reqBody []byte, status int, body []byte) []byte
	n       int
}

// NewTransport returns a Transport over a clone of http.DefaultTransport,
// without hooks.
func NewTransport() *Transport {
	return &Transport{next: http.DefaultTransport.(*http.Transport).Clone()}
}

// Set installs hooks; either may be nil.
func (f *Transport) Set(before func(int, *http.Request, []byte), rewrite func(int, *http.Request, []byte, int, []byte) []byte) {
	f.mu.Lock()
	f.before, f.rewrite = before, rewrite
	f.mu.Unlock()
}

// Clear removes the hooks: the fault is over.
func (f *Transport) Clear() { f.Set(nil, nil) }

// CloseIdleConnections closes the idle connections of the transport below.
func (f *Transport) CloseIdleConnections() {
	if c, ok := f.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip runs the hooks around the request.
func (f *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
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

// JSONMap decodes a JSON object, numbers as json.Number, or returns nil.
func JSONMap(b []byte) map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// MustJSON encodes v, which must encode.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
