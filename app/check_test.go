package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/notify"
)

func TestCheckCause(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err  error
		want string
	}{
		{&connectors.Error{Connector: "hs", Object: "users", Err: &connectors.AuthError{Status: 401, Detail: "expired"}}, "401 unauthorized"},
		{fmt.Errorf("check users: %w", &connectors.AuthError{Status: 403}), "403 forbidden"},
		{&connectors.RateLimitError{Status: 429}, "429 too many requests"},
		{&connectors.TransportError{Op: "Get", Msg: "dial tcp: connect: connection refused", Reason: "connection refused"}, "connection refused"},
		// Retried until the deadline: the last attempt names the cause.
		{&connectors.Error{Connector: "hs", Err: &connectors.DeadlineError{Err: context.DeadlineExceeded,
			Last: &connectors.TransportError{Op: "Get", Msg: "lookup crm.invalid: no such host", Reason: "no such host"}}}, "no such host"},
		{&connectors.DeadlineError{Err: context.DeadlineExceeded, Last: &connectors.ResponseError{Status: 503}}, "503 service unavailable"},
		{&connectors.DeadlineError{Err: context.DeadlineExceeded, Last: &connectors.TransportError{Op: "Get", Msg: "timeout", Reason: "timeout"}}, "timeout after 20s"},
		{fmt.Errorf("list owners: %w", context.DeadlineExceeded), "timeout after 20s"},
		// Errors from the warehouse driver and slack-go keep their chain.
		{fmt.Errorf("ping warehouse: %w", refused), "connection refused"},
		{&notify.APIError{Method: "auth.test", Err: refused}, "connection refused"},
		{&notify.APIError{Method: "auth.test", Code: "invalid_auth", Err: errors.New("invalid_auth")}, "invalid_auth"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "TLS handshake"},
		{&connectors.MalformedError{Detail: "decode JSON body"}, "malformed response"},
		{errors.New("something else"), ""},
	}
	for _, tt := range tests {
		if got := CheckCause(tt.err, 20*time.Second); got != tt.want {
			t.Errorf("CheckCause(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
