package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/crmkpi/crmkpi/warehouse"
)

// testToken must never show up in an error, a log line or output.
const testToken = "xoxb-1234-SECRET-TOKEN"

// call is one request the fake Slack received.
type call struct {
	Method string
	Form   url.Values
}

// fakeSlack adds what slacktest lacks (conversations.open, chat.update) and
// replaces the endpoints whose answers a test needs to control: slacktest's
// users.lookupByEmail always answers the same user, and its chat.postMessage
// can't be made to fail.
type fakeSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	calls []call
	ts    int
	users map[string]string // e-mail → user id; others are users_not_found
	// fail, when set, answers a method instead of the default handler; the
	// int is how many times (0 = always).
	fail map[string]*failure
}

type failure struct {
	times   int
	handler http.HandlerFunc
}

func newFakeSlack(t *testing.T) *fakeSlack {
	fs := &fakeSlack{
		users: map[string]string{"boris@example.com": "U0BORIS"},
		fail:  map[string]*failure{},
	}
	handle := func(method string, h http.HandlerFunc) func(slacktest.Customize) {
		return func(c slacktest.Customize) {
			c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				fs.mu.Lock()
				fs.calls = append(fs.calls, call{method, r.PostForm})
				f := fs.fail[method]
				if f != nil && f.times >= 0 {
					if f.times--; f.times == 0 {
						f.times = -1 // used up
					}
				} else {
					f = nil
				}
				fs.mu.Unlock()
				if f != nil {
					f.handler(w, r)
					return
				}
				h(w, r)
			})
		}
	}
	fs.Server = slacktest.NewTestServer(
		handle("chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			fs.mu.Lock()
			fs.ts++
			ts := fmt.Sprintf("1793523600.%06d", fs.ts)
			fs.mu.Unlock()
			answer(w, map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": ts})
		}),
		handle("chat.update", func(w http.ResponseWriter, r *http.Request) {
			answer(w, map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts"), "text": r.PostForm.Get("text")})
		}),
		handle("conversations.open", func(w http.ResponseWriter, r *http.Request) {
			answer(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(r.PostForm.Get("users"), "U")}})
		}),
		handle("users.lookupByEmail", func(w http.ResponseWriter, r *http.Request) {
			fs.mu.Lock()
			id, ok := fs.users[r.PostForm.Get("email")]
			fs.mu.Unlock()
			if !ok {
				answer(w, map[string]any{"ok": false, "error": "users_not_found"})
				return
			}
			answer(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": "x"}})
		}),
		handle("auth.test", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-OAuth-Scopes", "chat:write,users:read")
			answer(w, map[string]any{"ok": true, "user_id": "U0BOT", "team": "T"})
		}),
	)
	fs.Start()
	t.Cleanup(fs.Stop)
	return fs
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func slackError(code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { answer(w, map[string]any{"ok": false, "error": code}) }
}

// failNext makes the next times calls of method answer with h (0 = always).
func (fs *fakeSlack) failNext(method string, times int, h http.HandlerFunc) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fail[method] = &failure{times: times, handler: h}
}

func (fs *fakeSlack) callsTo(method string) []call {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []call
	for _, c := range fs.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (fs *fakeSlack) client() *slack.Client {
	return slack.New(testToken, slack.OptionAPIURL(fs.GetAPIURL()))
}

// memOutbox is an in-memory Outbox.
type memOutbox struct {
	mu   sync.Mutex
	rows map[[2]string]warehouse.SlackMessage
	fail error // returned by SaveSlackMessage when set
}

func (o *memOutbox) SlackMessage(_ context.Context, period, recipient string) (warehouse.SlackMessage, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.rows[[2]string{period, recipient}]
	return m, ok, nil
}

func (o *memOutbox) SaveSlackMessage(_ context.Context, m warehouse.SlackMessage) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	if o.rows == nil {
		o.rows = map[[2]string]warehouse.SlackMessage{}
	}
	o.rows[[2]string{m.PeriodKey, m.Recipient}] = m
	return nil
}

// waitRecorder is a retry handler of the production policy whose waits
// are recorded in waits instead of slept.
type waitRecorder struct {
	next  slack.RetryHandler
	waits *[]time.Duration
}

func (w waitRecorder) ShouldRetry(st *slack.RetryState, req *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	retry, d := w.next.ShouldRetry(st, req, resp, err)
	if retry {
		*w.waits = append(*w.waits, d)
	}
	return retry, 0
}

// testNotifier posts to channel C0SALES, the enterprise team to C0ENT and
// DMs everyone, through a client with crmkpi's retry policy (RetryConfig);
// its log goes to logs and rate-limit waits are recorded in waits instead
// of slept.
func testNotifier(fs *fakeSlack, logs io.Writer, waits *[]time.Duration) *Notifier {
	retry := RetryConfig()
	for i, h := range retry.Handlers {
		retry.Handlers[i] = waitRecorder{h, waits}
	}
	return &Notifier{
		Client:         newClient(testToken, fs.GetAPIURL(), retry),
		Channel:        "C0SALES",
		TeamChannels:   map[string]string{"enterprise": "C0ENT"},
		DirectMessages: true,
		Outbox:         &memOutbox{},
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:            func() time.Time { return time.Date(2026, 11, 1, 9, 5, 0, 0, time.UTC) },
	}
}

// channelNotifier is testNotifier posting the team scorecard to its one
// channel alone, for the tests of what a single Slack call does.
func channelNotifier(fs *fakeSlack, waits *[]time.Duration) *Notifier {
	n := testNotifier(fs, io.Discard, waits)
	n.DirectMessages, n.TeamChannels = false, nil
	return n
}

// deliverSample delivers the sample report with n.
func deliverSample(ctx context.Context, n *Notifier) (*Summary, error) {
	r := sampleReport()
	return n.Deliver(ctx, r, sampleInput(r))
}

// goldenBlocks compares the blocks form value of a request with the blocks
// of a golden payload file as decoded JSON.
func goldenBlocks(t *testing.T, c call, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Text   string `json:"text"`
		Blocks any    `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &got); err != nil {
		t.Fatalf("%s to %s: blocks are not JSON: %v", c.Method, c.Form.Get("channel"), err)
	}
	if diff := cmp.Diff(want.Blocks, got); diff != "" {
		t.Errorf("%s to %s: blocks differ from %s (-want +got):\n%s", c.Method, c.Form.Get("channel"), file, diff)
	}
	if c.Form.Get("text") != want.Text {
		t.Errorf("%s to %s: text %q, want %q", c.Method, c.Form.Get("channel"), c.Form.Get("text"), want.Text)
	}
}

func TestDeliverPostsThenUpdates(t *testing.T) {
	fs := newFakeSlack(t)
	var logs bytes.Buffer
	var waits []time.Duration
	n := testNotifier(fs, &logs, &waits)
	r := sampleReport()
	in := sampleInput(r)
	ctx := t.Context()

	sum, err := n.Deliver(ctx, r, in)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	want := &Summary{Posted: 4, NoSlackUser: []string{"hubspot-eu:901"}}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("first Deliver summary (-want +got):\n%s", diff)
	}

	posts := fs.callsTo("chat.postMessage")
	var channels []string
	for _, p := range posts {
		channels = append(channels, p.Form.Get("channel"))
		for _, k := range []string{"unfurl_links", "unfurl_media"} {
			if p.Form.Get(k) != "false" {
				t.Errorf("post to %s: %s = %q, want false", p.Form.Get("channel"), k, p.Form.Get(k))
			}
		}
		if !strings.Contains(p.Form.Get("metadata"), metadataEventType) {
			t.Errorf("post to %s: metadata %q lacks the event type", p.Form.Get("channel"), p.Form.Get("metadata"))
		}
	}
	// Boris is found by e-mail, Anna has a slack_id, Carl has neither.
	if diff := cmp.Diff([]string{"C0SALES", "C0ENT", "D0BORIS", "D0ANNA"}, channels); diff != "" {
		t.Errorf("posted to channels (-want +got):\n%s", diff)
	}
	goldenBlocks(t, posts[0], "team_all.json")
	goldenBlocks(t, posts[1], "team_enterprise.json")
	goldenBlocks(t, posts[2], "dm_boris.json")
	goldenBlocks(t, posts[3], "dm_anna.json")
	if got := len(fs.callsTo("users.lookupByEmail")); got != 2 { // boris, carl
		t.Errorf("users.lookupByEmail called %d times, want 2", got)
	}

	// The same report again: nothing changed, nothing is sent.
	sum, err = n.Deliver(ctx, r, in)
	if err != nil {
		t.Fatalf("second Deliver: %v", err)
	}
	if diff := cmp.Diff(&Summary{Unchanged: 4, NoSlackUser: []string{"hubspot-eu:901"}}, sum); diff != "" {
		t.Errorf("second Deliver summary (-want +got):\n%s", diff)
	}

	// Fresher data: every message is updated in place, none posted again.
	in.LastSync = in.LastSync.Add(time.Hour)
	sum, err = n.Deliver(ctx, r, in)
	if err != nil {
		t.Fatalf("third Deliver: %v", err)
	}
	if diff := cmp.Diff(&Summary{Updated: 4, NoSlackUser: []string{"hubspot-eu:901"}}, sum); diff != "" {
		t.Errorf("third Deliver summary (-want +got):\n%s", diff)
	}
	if got := len(fs.callsTo("chat.postMessage")); got != 4 {
		t.Errorf("chat.postMessage called %d times in all, want 4", got)
	}
	updates := fs.callsTo("chat.update")
	if len(updates) != 4 {
		t.Fatalf("chat.update called %d times, want 4", len(updates))
	}
	for i, u := range updates {
		if u.Form.Get("channel") != channels[i] || u.Form.Get("ts") != fmt.Sprintf("1793523600.%06d", i+1) {
			t.Errorf("update %d went to %s ts %s, want the posted message in %s", i, u.Form.Get("channel"), u.Form.Get("ts"), channels[i])
		}
		if u.Form.Get("blocks") == "" || u.Form.Get("text") == "" {
			t.Errorf("update %d lacks text or blocks: chat.update with text alone drops the blocks", i)
		}
	}
	if got := len(fs.callsTo("conversations.open")); got != 2 {
		t.Errorf("conversations.open called %d times, want 2 (updates reuse the stored D… channel)", got)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the log shows the token:\n%s", logs.String())
	}
}

func TestDeliverWaitsOutRateLimit(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := channelNotifier(fs, &waits)
	fs.failNext("chat.postMessage", 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	sum, err := deliverSample(t.Context(), n)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if sum.Posted != 1 {
		t.Errorf("Posted = %d, want 1", sum.Posted)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if got := len(fs.callsTo("chat.postMessage")); got != 2 {
		t.Errorf("chat.postMessage called %d times, want 2 (429, then success)", got)
	}
}

// cancelOnRetry is a retry handler of the production policy that stops
// the run just as the client begins to wait, the wait it asked for left
// whole.
type cancelOnRetry struct {
	next   slack.RetryHandler
	cancel context.CancelFunc
}

func (c cancelOnRetry) ShouldRetry(st *slack.RetryState, req *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	retry, d := c.next.ShouldRetry(st, req, resp, err)
	if retry {
		c.cancel()
	}
	return retry, d
}

// TestDeliverRealWaitHonoursContext: a 429's Retry-After of an hour is
// waited out only until the caller's context ends (slack-go's own wait;
// were it to sleep the hour, the test would time out); then Deliver
// reports the cancellation, having posted nothing.
func TestDeliverRealWaitHonoursContext(t *testing.T) {
	fs := newFakeSlack(t)
	n := testNotifier(fs, io.Discard, new([]time.Duration))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	retry := RetryConfig()
	for i, h := range retry.Handlers {
		retry.Handlers[i] = cancelOnRetry{h, cancel}
	}
	n.Client = newClient(testToken, fs.GetAPIURL(), retry)
	n.DirectMessages, n.TeamChannels = false, nil
	fs.failNext("chat.postMessage", 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := deliverSample(ctx, n)
	if want := "chat.postMessage C0SALES: context canceled"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Deliver = %v, want a failure %q", err, want)
	}
	if got := len(fs.callsTo("chat.postMessage")); got != 1 {
		t.Errorf("chat.postMessage called %d times, want 1 (the 429)", got)
	}
}

// TestDeliverGivesUpAfterRetries: a 429 that persists is retried
// maxRateLimitRetries times, each after Retry-After (or 30 s without it),
// and then reported as still rate limited.
func TestDeliverGivesUpAfterRetries(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := channelNotifier(fs, &waits)
	fs.failNext("chat.postMessage", 100, func(w http.ResponseWriter, r *http.Request) {
		if len(fs.callsTo("chat.postMessage"))%2 == 0 {
			w.Header().Set("Retry-After", "2")
		}
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := deliverSample(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "rate_limited: still rate limited after retrying") {
		t.Errorf("Deliver = %v, want rate_limited after retrying", err)
	}
	if got := len(fs.callsTo("chat.postMessage")); got != 1+maxRateLimitRetries {
		t.Errorf("chat.postMessage called %d times, want %d", got, 1+maxRateLimitRetries)
	}
	want := []time.Duration{defaultRetryAfter, 2 * time.Second, defaultRetryAfter, 2 * time.Second, defaultRetryAfter}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestDeliverDoesNotRetryServerErrors(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := channelNotifier(fs, &waits)
	fs.failNext("chat.postMessage", 0, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>oops</html>", http.StatusInternalServerError)
	})
	_, err := deliverSample(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "not retried") {
		t.Errorf("Deliver = %v, want a server error that says it was not retried", err)
	}
	if got := len(fs.callsTo("chat.postMessage")); got != 1 {
		t.Errorf("chat.postMessage called %d times, want 1: a retry after a 5xx could post twice", got)
	}
}

func TestDeliverUnknownEmail(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := testNotifier(fs, io.Discard, &waits)
	n.Channel, n.TeamChannels = "", nil
	r := sampleReport()
	r.Managers[1].SlackID = "" // Anna now needs a lookup too
	fs.users["anna@example.com"] = "U0ANNA"
	r.Managers[2].Email = "" // and Carl has no e-mail at all
	x := r.Managers[0]
	x.Manager, x.Email, x.Name = "ghost@example.com", "Ghost@Example.com", "Ghost"
	r.Managers = append(r.Managers, x)

	sum, err := n.Deliver(t.Context(), r, sampleInput(r))
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	want := &Summary{Posted: 2, NoSlackUser: []string{"hubspot-eu:901", "ghost@example.com"}}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	var looked []string
	for _, c := range fs.callsTo("users.lookupByEmail") {
		looked = append(looked, c.Form.Get("email"))
	}
	if diff := cmp.Diff([]string{"boris@example.com", "anna@example.com", "ghost@example.com"}, looked); diff != "" {
		t.Errorf("looked up (-want +got):\n%s", diff)
	}
}

func TestDeliverErrors(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		code      string
		wantInErr []string
		wantPosts int // chat.postMessage calls in all
	}{
		{"channel not found", "chat.postMessage", "channel_not_found",
			[]string{"channel:C0SALES: chat.postMessage C0SALES: channel_not_found: the channel does not exist", "check notify.slack.channel"}, 4},
		{"not in channel", "chat.postMessage", "not_in_channel",
			[]string{"chat.postMessage C0SALES: not_in_channel: the bot is not a member of the channel; invite it"}, 4},
		{"invalid auth stops early", "chat.postMessage", "invalid_auth",
			[]string{"invalid_auth: Slack rejected the bot token; check notify.slack.token", "team:enterprise: not attempted"}, 1},
		{"missing scope for lookups", "users.lookupByEmail", "missing_scope",
			[]string{"users.lookupByEmail: missing_scope"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeSlack(t)
			var logs bytes.Buffer
			var waits []time.Duration
			n := testNotifier(fs, &logs, &waits)
			times := 1
			if tt.code == "invalid_auth" || tt.method == "users.lookupByEmail" {
				times = 0
			}
			fs.failNext(tt.method, times, slackError(tt.code))
			r := sampleReport()
			sum, err := n.Deliver(t.Context(), r, sampleInput(r))
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("Deliver error = %v, want a *DeliveryError", err)
			}
			for _, want := range tt.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Deliver error = %q, want it to contain %q", err, want)
				}
			}
			if len(sum.Failed) == 0 {
				t.Errorf("Summary.Failed is empty")
			}
			if got := len(fs.callsTo("chat.postMessage")); got != tt.wantPosts {
				t.Errorf("chat.postMessage called %d times, want %d", got, tt.wantPosts)
			}
			all := err.Error() + logs.String()
			for _, f := range sum.Failed {
				all += f.Error
			}
			if strings.Contains(all, testToken) {
				t.Errorf("the token leaked into errors or logs:\n%s", all)
			}
		})
	}
}

func TestDeliverRepostsDeletedMessage(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := channelNotifier(fs, &waits)
	r := sampleReport()
	in := sampleInput(r)
	if _, err := n.Deliver(t.Context(), r, in); err != nil {
		t.Fatal(err)
	}
	fs.failNext("chat.update", 1, slackError("message_not_found"))
	in.LastSync = in.LastSync.Add(time.Hour)
	sum, err := n.Deliver(t.Context(), r, in)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if sum.Posted != 1 || len(fs.callsTo("chat.postMessage")) != 2 {
		t.Errorf("after message_not_found: Posted = %d, posts in all = %d; want the message posted again", sum.Posted, len(fs.callsTo("chat.postMessage")))
	}
	row, _, _ := n.Outbox.SlackMessage(t.Context(), in.Period.Key(), "channel:C0SALES")
	if row.TS != "1793523600.000002" {
		t.Errorf("outbox ts = %q, want the new message's", row.TS)
	}
}

func TestDeliverOutboxFailure(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := channelNotifier(fs, &waits)
	n.Outbox = &memOutbox{fail: errors.New("database is locked")}
	_, err := deliverSample(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "could not record it") || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("Deliver = %v, want an error saying the post was not recorded", err)
	}
}

func TestCheck(t *testing.T) {
	fs := newFakeSlack(t)
	warnings, err := Check(t.Context(), fs.client())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := []string{
		"slack: the token lacks the im:write scope, needed to open direct messages to managers",
		"slack: the token lacks the users:read.email scope, needed to find managers without slack_id by e-mail (with users:read)",
	}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("Check warnings (-want +got):\n%s", diff)
	}

	fs.failNext("auth.test", 0, slackError("invalid_auth"))
	_, err = Check(t.Context(), fs.client())
	if err == nil || !strings.Contains(err.Error(), "auth.test: invalid_auth: Slack rejected the bot token") {
		t.Errorf("Check with a bad token = %v, want an invalid_auth error with a hint", err)
	}
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("Check error shows the token: %v", err)
	}
}

func TestCheckUnreachable(t *testing.T) {
	c := slack.New(testToken, slack.OptionAPIURL("http://127.0.0.1:1/api/"))
	_, err := Check(t.Context(), c)
	if err == nil {
		t.Fatal("Check against a closed port succeeded")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("Check error shows the token: %v", err)
	}
}

func TestDeliverCancelled(t *testing.T) {
	fs := newFakeSlack(t)
	var waits []time.Duration
	n := testNotifier(fs, io.Discard, &waits)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sum, err := deliverSample(ctx, n)
	if err == nil {
		t.Fatal("Deliver with a cancelled context succeeded")
	}
	if got := len(sum.Failed); got != 5 {
		t.Errorf("%d failures, want all 5 recipients", got)
	}
	if !slices.ContainsFunc(sum.Failed, func(f Failure) bool { return strings.Contains(f.Error, "context canceled") }) {
		t.Errorf("failures don't name the cancellation: %v", sum.Failed)
	}
}

// TestDeliverEmptyPeriod: a period with no scorecard posts nothing, not
// even a summary, and calls Slack not at all; its dry run is an empty list
// of messages.
func TestDeliverEmptyPeriod(t *testing.T) {
	fs := newFakeSlack(t)
	var logs bytes.Buffer
	var waits []time.Duration
	n := testNotifier(fs, &logs, &waits)
	r := sampleReport()
	r.Managers = nil
	sum, err := n.Deliver(t.Context(), r, sampleInput(r))
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if diff := cmp.Diff(&Summary{}, sum); diff != "" {
		t.Errorf("Deliver summary (-want +got):\n%s", diff)
	}
	fs.mu.Lock()
	calls := fs.calls
	fs.mu.Unlock()
	if len(calls) != 0 {
		t.Errorf("Slack was called for an empty period: %+v", calls)
	}
	if !Empty(r) || Empty(sampleReport()) || !Empty(nil) {
		t.Errorf("Empty(no managers) = %v, Empty(sample) = %v, Empty(nil) = %v; want true, false, true", Empty(r), Empty(sampleReport()), Empty(nil))
	}
	for name, dry := range map[string]func(*bytes.Buffer) error{
		"DryRun": func(b *bytes.Buffer) error { return n.DryRun(b, r, sampleInput(r)) },
		"DryRun with DMs": func(b *bytes.Buffer) error {
			return (&Notifier{Channel: "C0", DirectMessages: true}).DryRun(b, r, sampleInput(r))
		},
	} {
		var b bytes.Buffer
		if err := dry(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := b.String(), "{\n  \"messages\": []\n}\n"; got != want {
			t.Errorf("%s of an empty period = %q, want %q", name, got, want)
		}
	}
}

// TestDeliverEmptyTeam: a team channel whose team has no scorecard in the
// period gets nothing, and the summary says which team; everyone else is
// posted to as usual.
func TestDeliverEmptyTeam(t *testing.T) {
	fs := newFakeSlack(t)
	var logs bytes.Buffer
	var waits []time.Duration
	n := testNotifier(fs, &logs, &waits)
	n.TeamChannels = map[string]string{"enterprise": "C0ENT", "smb": "C0SMB"}
	sum, err := deliverSample(t.Context(), n)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	want := &Summary{Posted: 4, NoSlackUser: []string{"hubspot-eu:901"}, EmptyTeams: []string{"smb"}}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("Deliver summary (-want +got):\n%s", diff)
	}
	var channels []string
	for _, p := range fs.callsTo("chat.postMessage") {
		channels = append(channels, p.Form.Get("channel"))
	}
	if diff := cmp.Diff([]string{"C0SALES", "C0ENT", "D0BORIS", "D0ANNA"}, channels); diff != "" {
		t.Errorf("posted to channels (-want +got):\n%s", diff)
	}
}

// TestNoTadaWithoutData: a summary whose managers have no KPI with data
// does not celebrate every KPI being on target.
func TestNoTadaWithoutData(t *testing.T) {
	r := sampleReport()
	r.Managers = r.Managers[2:] // Carl: every KPI n/a
	raw, _ := json.Marshal(TeamMessage(r, "", sampleInput(r))[0].Blocks)
	if got := string(raw); strings.Contains(got, ":tada:") || !strings.Contains(got, "No KPI has data for this period.") {
		t.Errorf("summary of managers without data:\n%s", got)
	}
}
