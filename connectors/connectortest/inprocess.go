package connectortest

import (
	"net/http"
	"net/http/httptest"
)

// InProcess returns a transport that serves each request by calling h,
// with no listener between them. A fake reached this way can run inside a
// testing/synctest bubble, whose clock stands still while any goroutine
// waits on a real socket. A fault that breaks the connection (FaultReset)
// answers as a truncated one, since there is no connection to hijack.
func InProcess(h http.Handler) http.RoundTripper { return inProcess{h} }

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	sreq := req.Clone(req.Context())
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:49152"
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
