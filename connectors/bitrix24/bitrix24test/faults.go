package bitrix24test

import (
	"net/http"
	"time"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// The faults of Bitrix24's own shapes, for Fail (the embedded
// connectortest.Faults). Each answers like Bitrix24, or a proxy in front of
// it, does; a FaultStatus is written as {"error": Code,
// "error_description": Message}.
var (
	// FaultServerError answers 500 {"error":"INTERNAL_SERVER_ERROR",...}.
	FaultServerError = connectortest.Fault{Status: http.StatusInternalServerError, Code: "INTERNAL_SERVER_ERROR", Message: "Internal server error"}
	// FaultHTML answers 502 with an HTML page, as an overloaded portal's
	// proxy does.
	FaultHTML = connectortest.Fault{Kind: connectortest.FaultHTML, Status: http.StatusBadGateway}
	// FaultQueryLimit answers 503 {"error":"QUERY_LIMIT_EXCEEDED",...}.
	FaultQueryLimit = connectortest.Fault{Status: http.StatusServiceUnavailable, Code: "QUERY_LIMIT_EXCEEDED", Message: "Too many requests"}
	// FaultTooManyRetryAfter answers a bare 429 with Retry-After: 1.
	FaultTooManyRetryAfter = connectortest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
	// FaultTooMany answers a bare 429 without Retry-After.
	FaultTooMany = connectortest.Fault{Status: http.StatusTooManyRequests}
	// FaultOperationTimeLimit answers 429 OPERATION_TIME_LIMIT with a time
	// block whose operating_reset_at is the one set by SetOperatingResetAt.
	FaultOperationTimeLimit = connectortest.Fault{Status: http.StatusTooManyRequests, Code: "OPERATION_TIME_LIMIT", Message: "Method is blocked due to operation time limit."}
	// FaultUnauthorized answers 401 {"error":"NO_AUTH_FOUND",...}.
	FaultUnauthorized = connectortest.Fault{Status: http.StatusUnauthorized, Code: "NO_AUTH_FOUND", Message: "Wrong authorization data"}
	// FaultExpiredToken answers 401 {"error":"expired_token",...}.
	FaultExpiredToken = connectortest.Fault{Status: http.StatusUnauthorized, Code: "expired_token", Message: "The access token provided has expired."}
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed = connectortest.Fault{Kind: connectortest.FaultMalformed, Body: "this is not JSON"}
	// FaultTruncated answers 200 with the real answer's JSON cut in half.
	FaultTruncated = connectortest.Fault{Kind: connectortest.FaultTruncated}
	// FaultReset promises the whole body, sends half of it and drops the
	// connection.
	FaultReset = connectortest.Fault{Kind: connectortest.FaultReset}
	// FaultSlow waits two seconds before serving the request normally, to
	// trip a client's timeout.
	FaultSlow = connectortest.Fault{Kind: connectortest.FaultSlow, Delay: 2 * time.Second}
	// FaultEmptyCode answers 400 with an empty error code and a
	// description, as method-level errors do.
	FaultEmptyCode = connectortest.Fault{Status: http.StatusBadRequest, Message: "Parameter 'filter' must be array."}
	// FaultLowercaseQueryLimit answers 503 with the code in lower case
	// (the portal mixes cases).
	FaultLowercaseQueryLimit = connectortest.Fault{Status: http.StatusServiceUnavailable, Code: "query_limit_exceeded", Message: "Too many requests"}
	// FaultAccessDenied answers 400 with an empty code and "Access
	// denied.", a crm.*.list call by a user without read permission.
	FaultAccessDenied = connectortest.Fault{Status: http.StatusBadRequest, Message: "Access denied."}
	// FaultPlanAccessDenied answers 403 ACCESS_DENIED: REST API on a free
	// plan.
	FaultPlanAccessDenied = connectortest.Fault{Status: http.StatusForbidden, Code: "ACCESS_DENIED", Message: "REST API is available only on commercial plans."}
	// FaultInvalidCredentials answers 403 INVALID_CREDENTIALS: the user
	// lacks the rights.
	FaultInvalidCredentials = connectortest.Fault{Status: http.StatusForbidden, Code: "INVALID_CREDENTIALS", Message: "Invalid request credentials"}
	// FaultInsufficientScope answers 403 insufficient_scope.
	FaultInsufficientScope = connectortest.Fault{Status: http.StatusForbidden, Code: "insufficient_scope", Message: "The request requires higher privileges than provided by the webhook token"}
	// FaultUserAccessError answers 403 user_access_error.
	FaultUserAccessError = connectortest.Fault{Status: http.StatusForbidden, Code: "user_access_error", Message: "The user does not have access to the application"}
	// FaultPortalDeleted answers 500 PORTAL_DELETED.
	FaultPortalDeleted = connectortest.Fault{Status: http.StatusInternalServerError, Code: "PORTAL_DELETED", Message: "Portal was deleted"}
)

// SetOperatingResetAt sets the operating_reset_at the time blocks report
// (zero: ten minutes after the clock's now).
func (s *Server) SetOperatingResetAt(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.operating = t
}

// nativeFault writes a FaultStatus as Bitrix24 does: {"error": Code,
// "error_description": Message}, a 429 without either bare, and a fault
// without either as the portal's usual error for its status.
func (s *Server) nativeFault(w http.ResponseWriter, r *http.Request, f connectortest.Fault, next http.Handler) {
	code, desc := f.Code, f.Message
	if code == "" && desc == "" {
		switch f.Status {
		case http.StatusTooManyRequests:
			w.WriteHeader(f.Status)
			return
		case http.StatusUnauthorized:
			code, desc = "NO_AUTH_FOUND", "Wrong authorization data"
		case http.StatusServiceUnavailable:
			code, desc = "QUERY_LIMIT_EXCEEDED", "Too many requests"
		case http.StatusInternalServerError:
			code, desc = "INTERNAL_SERVER_ERROR", "Internal server error"
		default:
			desc = http.StatusText(f.Status)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeErrorLocked(w, &apiError{f.Status, code, desc})
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
