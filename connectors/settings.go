package connectors

import (
	"log/slog"
	"reflect"
	"time"
)

// HTTPOptions are the HTTP settings every connector has. The config reads
// them from a connector's entry by their yaml names (every one a number or
// duration ≥ 0, docs/config.md "Connection settings"), and each vendor's
// Options embeds them. A zero field means the vendor's default: each
// vendor's New fills zeros from its own DefaultHTTP (NewClient, used
// directly, from DefaultHTTP below). Adding a setting is adding a
// field here (with its yaml name), its row in docs/config.md, and the code
// that reads it.
type HTTPOptions struct {
	// RateLimit is the steady request rate, requests per second, that
	// every attempt of the connector shares, retries included.
	RateLimit float64 `yaml:"rate_limit"`
	// Burst is how many requests may go at once above RateLimit.
	Burst int `yaml:"burst"`
	// Timeout bounds one attempt, headers and body.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is how many times a retryable failure is retried; a
	// negative value (for tests) means none.
	MaxRetries int `yaml:"max_retries"`
	// MinBackoff and MaxBackoff bound the exponential backoff used when
	// the server does not say how long to wait.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// MaxRetryAfter is the longest server-requested wait the client sits
	// through; a longer one fails at once with a *RateLimitError, so a run
	// never hangs for an hour on one answer.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
}

// DefaultHTTP holds the defaults no vendor overrides; each vendor's
// DefaultHTTP is this with its own values over it.
var DefaultHTTP = HTTPOptions{
	Burst:         1,
	Timeout:       time.Minute,
	MaxRetries:    8,
	MinBackoff:    500 * time.Millisecond,
	MaxBackoff:    30 * time.Second,
	MaxRetryAfter: 5 * time.Minute,
}

// Or returns o with each zero field taken from def. It walks the fields so
// that a new setting needs no line here.
func (o HTTPOptions) Or(def HTTPOptions) HTTPOptions {
	v := reflect.ValueOf(&o).Elem()
	d := reflect.ValueOf(def)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	return o
}

// Logger returns log (a discarding one when nil) with the connector's name
// as its "connector" attribute. Each vendor's New calls it once and hands
// the result to NewClient, so every line of a connector, its HTTP client's
// included, names it exactly once.
func Logger(log *slog.Logger, connector string) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log.With("connector", connector)
}
