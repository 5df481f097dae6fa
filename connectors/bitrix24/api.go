package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

const (
	maxBatch = 50 // sub-calls per batch (51st: ERROR_BATCH_LENGTH_EXCEEDED)
	pageSize = 50 // every *.list page, fixed by the API
)

// envelope is the answer of every method: result plus paging and timing.
type envelope struct {
	Result json.RawMessage `json:"result"`
	Total  json.RawMessage `json:"total"`
	Next   json.RawMessage `json:"next"`
	Time   *timeBlock      `json:"time"`
}

// timeBlock is the "time" object; operating_reset_at is a Unix number in
// limits.md and an ISO string in the crm.activity.list sample.
type timeBlock struct {
	DateStart        string          `json:"date_start"`
	OperatingResetAt json.RawMessage `json:"operating_reset_at"`
}

// errorBody is every error answer: {"error":"CODE","error_description":"…"}.
type errorBody struct {
	Error       string     `json:"error"`
	Description string     `json:"error_description"`
	Time        *timeBlock `json:"time"`
}

// call runs one method. Every method here only reads, so every request is
// idempotent and retried on 5xx and broken connections.
func (c *Client) call(ctx context.Context, method string, params map[string]any) (*envelope, error) {
	var env envelope
	_, err := c.http.Do(ctx, &connectors.Request{
		Method:     http.MethodPost,
		URL:        method,
		JSON:       params,
		Idempotent: true,
		Decode: func(status int, body []byte) error {
			env = envelope{}
			if err := json.Unmarshal(body, &env); err != nil {
				return err
			}
			if len(env.Result) == 0 {
				return errors.New("no result in answer")
			}
			c.learn(env.Time)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &env, nil
}

// learn records the portal's offset and operating_reset_at from a time
// block.
func (c *Client) learn(tb *timeBlock) {
	if tb == nil {
		return
	}
	if t, err := time.Parse(time.RFC3339, tb.DateStart); err == nil {
		_, off := t.Zone()
		c.offset.Store(int64(off))
		c.offsetKnown.Store(true)
	}
	if t, ok := parseResetAt(tb.OperatingResetAt); ok {
		c.resetAt.Store(t.Unix())
	}
}

// parseResetAt reads operating_reset_at as a Unix number (or numeric
// string) or as an ISO 8601 datetime.
func parseResetAt(raw json.RawMessage) (time.Time, bool) {
	s, ok := rawString(raw)
	if !ok || s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || f > 1e11 {
			return time.Time{}, false
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// classify reads Bitrix24's error bodies. Codes are matched without regard
// to case (the portal mixes them); status alone is not trusted, since
// QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT share 503.
func (c *Client) classify(status int, h http.Header, body []byte) connectors.Verdict {
	if status >= 200 && status < 300 {
		return connectors.Verdict{}
	}
	var eb errorBody
	if err := json.Unmarshal(bytes.TrimSpace(body), &eb); err != nil || (eb.Error == "" && eb.Description == "") {
		// HTML from an overloaded portal, an empty body: the generic
		// rules retry a 5xx and report anything else by status.
		return connectors.Verdict{}
	}
	v := c.verdictFor(status, eb)
	v.Handled = true
	return v
}

func (c *Client) verdictFor(status int, eb errorBody) connectors.Verdict {
	code := strings.ToLower(strings.TrimSpace(eb.Error))
	detail := eb.Error
	if eb.Description != "" {
		if detail != "" {
			detail += ": "
		}
		detail += eb.Description
	}
	switch code {
	case "query_limit_exceeded":
		// Refused before it ran: always safe to repeat, after backoff.
		return connectors.Verdict{Retry: true, Err: &connectors.RateLimitError{Status: status, Detail: detail}}
	case "operation_time_limit":
		wait := c.operatingWait(eb.Time)
		return connectors.Verdict{Retry: true, Wait: wait, Err: &connectors.RateLimitError{Status: status, RetryAfter: wait, Detail: detail}}
	case "overload_limit":
		// A manual block by Bitrix24 support: waiting will not help.
		return connectors.Verdict{Err: &connectors.RateLimitError{Status: status, Detail: detail, Fatal: true}}
	case "expired_token":
		if c.tok != nil && c.tok.canRefresh() {
			c.tok.markExpired()
			return connectors.Verdict{Retry: true, Wait: time.Millisecond, Err: &connectors.AuthError{Status: status, Detail: detail}}
		}
		return connectors.Verdict{Err: &connectors.AuthError{Status: status, Detail: detail}}
	case "no_auth_found", "invalid_token", "wrong_auth_type", "access_denied", "insufficient_scope",
		"invalid_credentials", "user_access_error", "authorization_error", "invalid_grant",
		"invalid_client", "payment_required":
		return connectors.Verdict{Err: &connectors.AuthError{Status: status, Detail: detail}}
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return connectors.Verdict{Err: &connectors.AuthError{Status: status, Detail: detail}}
	}
	if status >= 500 || status == http.StatusRequestTimeout {
		return connectors.Verdict{Retry: true, Err: &connectors.ResponseError{Status: status, Snippet: detail}}
	}
	// Method-level errors, the empty code included ("Parameter 'filter'
	// must be array."), are the caller's mistake: report, do not retry.
	return connectors.Verdict{Err: &connectors.ResponseError{Status: status, Snippet: detail}}
}

// operatingWait is how long until the method is unblocked: the answer's
// own operating_reset_at, else the last one seen, else a minute (the
// limit's bucket width).
func (c *Client) operatingWait(tb *timeBlock) time.Duration {
	now := c.opts.Now()
	var reset time.Time
	if tb != nil {
		if t, ok := parseResetAt(tb.OperatingResetAt); ok {
			reset = t
		}
	}
	if reset.IsZero() {
		if s := c.resetAt.Load(); s > 0 && time.Unix(s, 0).After(now) {
			reset = time.Unix(s, 0)
		}
	}
	if reset.IsZero() {
		return time.Minute
	}
	d := reset.Sub(now)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// ---- batch ----

// subCall is one command of a batch.
type subCall struct {
	method string
	params map[string]any
}

// batchResult holds the sub-results of a batch by command key.
type batchResult struct {
	results map[string]json.RawMessage
	totals  map[string]json.RawMessage
}

// cmdKey names the i-th command; zero-padded so that any encoder's key
// order is the sending order, which $result chains depend on.
func cmdKey(i int) string { return fmt.Sprintf("c%02d", i) }

// batch runs calls in one HTTP request with halt=1. A failed sub-call fails
// the whole batch with an error naming it; QUERY_LIMIT_EXCEEDED in a
// sub-call retries the whole batch (nothing after it ran).
func (c *Client) batch(ctx context.Context, calls []subCall) (*batchResult, error) {
	if len(calls) > maxBatch {
		return nil, fmt.Errorf("batch of %d calls exceeds %d", len(calls), maxBatch)
	}
	cmd := make(map[string]string, len(calls))
	for i, sc := range calls {
		cmd[cmdKey(i)] = sc.method + "?" + phpQuery(sc.params)
	}
	var out batchResult
	var subErr error
	_, err := c.http.Do(ctx, &connectors.Request{
		Method:     http.MethodPost,
		URL:        "batch",
		JSON:       map[string]any{"halt": 1, "cmd": cmd},
		Idempotent: true,
		Decode: func(status int, body []byte) error {
			out, subErr = batchResult{}, nil
			// One pass over the body: pages can be megabytes.
			var env struct {
				Result struct {
					Result      phpMap `json:"result"`
					ResultError phpMap `json:"result_error"`
					ResultTotal phpMap `json:"result_total"`
				} `json:"result"`
				Time *timeBlock `json:"time"`
			}
			if err := json.Unmarshal(body, &env); err != nil {
				return err
			}
			c.learn(env.Time)
			out.results, out.totals = env.Result.Result, env.Result.ResultTotal
			errs := env.Result.ResultError
			keys := make([]string, 0, len(errs))
			for k := range errs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				var eb errorBody
				json.Unmarshal(errs[k], &eb)
				method := k
				if i, err := strconv.Atoi(strings.TrimPrefix(k, "c")); err == nil && i < len(calls) {
					method = calls[i].method
				}
				if strings.EqualFold(eb.Error, "QUERY_LIMIT_EXCEEDED") {
					// Returned as a decode error so the shared client
					// retries the batch with backoff.
					return fmt.Errorf("batch command %s (%s): QUERY_LIMIT_EXCEEDED", k, method)
				}
				v := c.verdictFor(http.StatusOK, eb)
				subErr = fmt.Errorf("batch command %s (%s): %w", k, method, v.Err)
				break
			}
			for i := range calls {
				if _, ok := out.results[cmdKey(i)]; !ok && subErr == nil {
					return fmt.Errorf("batch command %s missing from answer", cmdKey(i))
				}
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if subErr != nil {
		return nil, subErr
	}
	return &out, nil
}

// phpMap is a PHP array that json_encode wrote as an object keyed by
// command, or as [] when empty.
type phpMap map[string]json.RawMessage

// UnmarshalJSON accepts an object, a list (keys become indexes) or null.
func (m *phpMap) UnmarshalJSON(b []byte) error {
	v, err := phpObject(b)
	*m = v
	return err
}

// phpObject decodes a PHP array that json_encode wrote as an object, or as
// [] when empty.
func phpObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}, nil
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		m := make(map[string]json.RawMessage, len(list))
		for i, v := range list {
			m[strconv.Itoa(i)] = v
		}
		return m, nil
	}
	var m map[string]json.RawMessage
	err := json.Unmarshal(raw, &m)
	return m, err
}

// phpQuery encodes params the way PHP's http_build_query does, which is how
// batch sub-calls are written: filter[>ID]=5&select[0]=ID. Keys are sorted
// so the same call is always the same text.
func phpQuery(params map[string]any) string {
	var b strings.Builder
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(prefix+"["+k+"]", x[k])
			}
		case map[string]string:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(prefix+"["+k+"]", x[k])
			}
		case []string:
			for i, s := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", s)
			}
		default:
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(prefix))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(fmt.Sprint(x)))
		}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		walk(k, params[k])
	}
	return b.String()
}

func decodeResult(raw json.RawMessage, out any) error {
	return json.Unmarshal(raw, out)
}
