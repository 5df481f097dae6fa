package bitrix24test

import (
	"bufio"
	"fmt"
	"net/http"
	"time"
)

// Fault is a failure the fake answers with instead of serving a request.
type Fault int

// The faults. Each answers like Bitrix24 (or a proxy in front of it) does.
const (
	// FaultServerError answers 500 {"error":"INTERNAL_SERVER_ERROR",...}.
	FaultServerError Fault = iota
	// FaultHTML answers 502 with an HTML page, as an overloaded portal's
	// proxy does.
	FaultHTML
	// FaultQueryLimit answers 503 {"error":"QUERY_LIMIT_EXCEEDED",...}.
	FaultQueryLimit
	// FaultTooManyRetryAfter answers a bare 429 with Retry-After: 1.
	FaultTooManyRetryAfter
	// FaultTooMany answers a bare 429 without Retry-After.
	FaultTooMany
	// FaultOperationTimeLimit answers 429 OPERATION_TIME_LIMIT with a time
	// block whose operating_reset_at is the one set by SetOperatingResetAt.
	FaultOperationTimeLimit
	// FaultUnauthorized answers 401 {"error":"NO_AUTH_FOUND",...}.
	FaultUnauthorized
	// FaultExpiredToken answers 401 {"error":"expired_token",...}.
	FaultExpiredToken
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 with JSON cut in half.
	FaultTruncated
	// FaultReset promises a long body, sends part of it and drops the
	// connection.
	FaultReset
	// FaultSlow waits two seconds before serving the request normally, to
	// trip a client's timeout.
	FaultSlow
	// FaultEmptyCode answers 400 with an empty error code and a
	// description, as method-level errors do.
	FaultEmptyCode
	// FaultLowercaseQueryLimit answers 503 with the code in lower case
	// (the portal mixes cases).
	FaultLowercaseQueryLimit
	// FaultAccessDenied answers 400 with an empty code and "Access
	// denied.", a crm.*.list call by a user without read permission.
	FaultAccessDenied
	// FaultPlanAccessDenied answers 403 ACCESS_DENIED: REST API on a free
	// plan.
	FaultPlanAccessDenied
	// FaultInvalidCredentials answers 403 INVALID_CREDENTIALS: the user
	// lacks the rights.
	FaultInvalidCredentials
	// FaultInsufficientScope answers 403 insufficient_scope.
	FaultInsufficientScope
	// FaultUserAccessError answers 403 user_access_error.
	FaultUserAccessError
	// FaultPortalDeleted answers 500 PORTAL_DELETED.
	FaultPortalDeleted
)

type fault struct{ f Fault }

// FailNext makes the next n requests fail with f. Calls queue up in order.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{f})
	}
}

// SetOperatingResetAt sets the operating_reset_at the time blocks report
// (zero: ten minutes after the clock's now).
func (s *Server) SetOperatingResetAt(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.operating = t
}

func (s *Server) popFaultLocked() (fault, bool) {
	if len(s.faults) == 0 {
		return fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// serveFault writes f's answer and reports whether the request is done
// (FaultSlow only delays it).
func (s *Server) serveFault(w http.ResponseWriter, f fault) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.f {
	case FaultServerError:
		s.writeErrorLocked(w, &apiError{http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error"})
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
	case FaultQueryLimit:
		s.writeErrorLocked(w, &apiError{http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests"})
	case FaultLowercaseQueryLimit:
		s.writeErrorLocked(w, &apiError{http.StatusServiceUnavailable, "query_limit_exceeded", "Too many requests"})
	case FaultTooManyRetryAfter:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case FaultTooMany:
		w.WriteHeader(http.StatusTooManyRequests)
	case FaultOperationTimeLimit:
		s.writeErrorLocked(w, &apiError{http.StatusTooManyRequests, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."})
	case FaultUnauthorized:
		s.writeErrorLocked(w, &apiError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"})
	case FaultExpiredToken:
		s.writeErrorLocked(w, &apiError{http.StatusUnauthorized, "expired_token", "The access token provided has expired."})
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "this is not JSON")
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"result":[{"ID":"1","TITLE":"cut`)
	case FaultReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return true
		}
		writeReset(buf)
		conn.Close()
	case FaultSlow:
		s.mu.Unlock()
		time.Sleep(2 * time.Second)
		s.mu.Lock()
		return false
	case FaultEmptyCode:
		s.writeErrorLocked(w, &apiError{http.StatusBadRequest, "", "Parameter 'filter' must be array."})
	case FaultAccessDenied:
		s.writeErrorLocked(w, &apiError{http.StatusBadRequest, "", "Access denied."})
	case FaultPlanAccessDenied:
		s.writeErrorLocked(w, &apiError{http.StatusForbidden, "ACCESS_DENIED", "REST API is available only on commercial plans."})
	case FaultInvalidCredentials:
		s.writeErrorLocked(w, &apiError{http.StatusForbidden, "INVALID_CREDENTIALS", "Invalid request credentials"})
	case FaultInsufficientScope:
		s.writeErrorLocked(w, &apiError{http.StatusForbidden, "insufficient_scope", "The request requires higher privileges than provided by the webhook token"})
	case FaultUserAccessError:
		s.writeErrorLocked(w, &apiError{http.StatusForbidden, "user_access_error", "The user does not have access to the application"})
	case FaultPortalDeleted:
		s.writeErrorLocked(w, &apiError{http.StatusInternalServerError, "PORTAL_DELETED", "Portal was deleted"})
	}
	return true
}

func writeReset(buf *bufio.ReadWriter) {
	fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
	fmt.Fprint(buf, `{"result":[{"ID":"1"`)
	buf.Flush()
}

// ClearFaults drops the faults still queued.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// FailSubCalls makes the second sub-call of each of the next len(codes)
// batches fail with the given error codes (QUERY_LIMIT_EXCEEDED,
// ACCESS_DENIED, ...), reported in result_error as Bitrix24 does, with
// HTTP 200; with halt=1 the calls after it do not run.
func (s *Server) FailSubCalls(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subFaults = append(s.subFaults, codes...)
}
