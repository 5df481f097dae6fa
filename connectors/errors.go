package connectors

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error locates a failure: which connector, which object, which page.
// Like fs.PathError, it wraps the cause.
type Error struct {
	Connector string
	Object    Object
	Page      int // 1-based page number of the pull; 0 when not paging
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Connector)
	if e.Object != "" {
		b.WriteString(" ")
		b.WriteString(string(e.Object))
	}
	if e.Page > 0 {
		fmt.Fprintf(&b, " page %d", e.Page)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// AuthError means the CRM refused the credentials (401/403, a revoked or
// expired token, a wrong domain). It is never retried.
type AuthError struct {
	Status int
	// Detail is the CRM's own explanation, with secrets redacted.
	Detail string
}

func (e *AuthError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("authentication failed (HTTP %d): %s", e.Status, e.Detail)
	}
	return fmt.Sprintf("authentication failed (HTTP %d)", e.Status)
}

// RateLimitError means the CRM kept refusing for rate reasons after every
// retry, or refused in a way that must not be retried (a daily quota, an IP
// ban).
type RateLimitError struct {
	Status     int
	RetryAfter time.Duration // what the CRM asked for; 0 when it did not say
	Detail     string
	// Fatal is true when waiting will not help within this run (HubSpot's
	// daily limit, amoCRM's IP ban).
	Fatal bool
}

func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("rate limited (HTTP %d)", e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// ResponseError is an HTTP error status that is neither auth nor rate limit.
type ResponseError struct {
	Status int
	// Snippet is the start of the body (HTML bodies are summarised), with
	// secrets redacted.
	Snippet string
}

func (e *ResponseError) Error() string {
	if e.Snippet == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Snippet)
}

// MalformedError means the CRM answered 2xx with a body we cannot decode, or
// one that breaks the API's own rules (a cursor that does not advance, a
// filter that was ignored).
type MalformedError struct {
	Detail string
	Err    error
}

func (e *MalformedError) Error() string {
	if e.Err != nil {
		return "malformed response: " + e.Detail + ": " + e.Err.Error()
	}
	return "malformed response: " + e.Detail
}

func (e *MalformedError) Unwrap() error { return e.Err }

// IsAuth reports whether err is, or wraps, an *AuthError.
func IsAuth(err error) bool {
	var a *AuthError
	return errors.As(err, &a)
}
