package notify

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/warehouse"
)

// TestAlerterTransitions drives an Alerter through a connector's life
// against slacktest, through the client crmkpi uses, with its state in a
// SQLite warehouse: one message per change of state, none per repeated
// Update, none repeated after a restart, a failed post tried again, and no
// secret in any request.
func TestAlerterTransitions(t *testing.T) {
	const hsToken = "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69"
	fs := newFakeSlack(t)
	path := "sqlite:" + filepath.Join(t.TempDir(), "w.db")
	open := func() *warehouse.Store {
		s, err := warehouse.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	newAlerter := func(s *warehouse.Store) *Alerter {
		return &Alerter{Client: NewClient(testToken, fs.GetAPIURL()), Channel: "C0ALERTS", Outbox: s,
			Redactor: redact.New(hsToken),
			Now:      func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) }}
	}
	ok := func(c string) AlertState { return AlertState{Connector: c, State: AlertOK} }
	failing := AlertState{Connector: "hs", State: AlertFailing, Objects: []string{"deals", "users"},
		Error: "hs deals page 1: HTTP 500: gateway echo <Authorization: Bearer " + hsToken[:30]}
	stale := AlertState{Connector: "hs", State: AlertStale, Objects: []string{"deals"}}
	const (
		failingText = ":large_red_circle: crmkpi: connector *hs* is failing (deals, users): hs deals page 1: HTTP 500: gateway echo &lt;Authorization: Bearer [REDACTED]. `crmkpi status` shows every object."
		staleText   = ":large_yellow_circle: crmkpi: connector *hs* is stale: no successful sync of deals within its stale_after. `crmkpi status` shows every object."
		okText      = ":large_green_circle: crmkpi: connector *hs* recovered: every object synced."
		amoText     = ":large_red_circle: crmkpi: connector *amo* is failing (deals): authentication failed (HTTP 401). `crmkpi status` shows every object."
	)
	amoFailing := AlertState{Connector: "amo", State: AlertFailing, Objects: []string{"deals"}, Error: "authentication failed (HTTP 401)"}

	s := open()
	a := newAlerter(s)
	steps := []struct {
		name    string
		alerter func() *Alerter
		before  func()
		states  []AlertState
		wantErr bool
		posts   []string // texts posted by this step
	}{
		{name: "first seen healthy: remembered silently", states: []AlertState{ok("hs"), ok("amo")}},
		{name: "turns failing", states: []AlertState{failing, ok("amo")}, posts: []string{failingText}},
		{name: "still failing, next tick", states: []AlertState{failing, ok("amo")}},
		{name: "and the next", states: []AlertState{failing, ok("amo")}},
		{name: "serve restarted, still failing", alerter: func() *Alerter {
			s.Close()
			s = open()
			return newAlerter(s)
		}, states: []AlertState{failing, ok("amo")}},
		{name: "turns stale", states: []AlertState{stale, ok("amo")}, posts: []string{staleText}},
		{name: "recovers", states: []AlertState{ok("hs"), ok("amo")}, posts: []string{okText}},
		{name: "still ok", states: []AlertState{ok("hs"), ok("amo")}},
		{name: "Slack fails the post", before: func() {
			fs.failNext("chat.postMessage", 1, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			})
		}, states: []AlertState{ok("hs"), amoFailing}, wantErr: true},
		{name: "tried again", states: []AlertState{ok("hs"), amoFailing}, posts: []string{amoText}},
		{name: "and not again", states: []AlertState{ok("hs"), amoFailing}},
	}
	seen := 0
	for _, st := range steps {
		if st.alerter != nil {
			a = st.alerter()
		}
		if st.before != nil {
			st.before()
		}
		err := a.Update(context.Background(), st.states)
		if (err != nil) != st.wantErr {
			t.Errorf("%s: Update = %v, want error %v", st.name, err, st.wantErr)
		}
		calls := fs.callsTo("chat.postMessage")
		var got []string
		for _, c := range calls[seen:] {
			if c.Form.Get("channel") != "C0ALERTS" {
				t.Errorf("%s: posted to %q, want C0ALERTS", st.name, c.Form.Get("channel"))
			}
			if st.wantErr {
				continue // the failed post
			}
			got = append(got, c.Form.Get("text"))
		}
		seen = len(calls)
		if diff := cmp.Diff(st.posts, got); diff != "" {
			t.Errorf("%s: posted (-want +got):\n%s", st.name, diff)
		}
	}
	s.Close()
	for _, c := range fs.callsTo("chat.postMessage") {
		form := c.Form.Encode()
		for _, secret := range []string{testToken, hsToken[:8], hsToken[8:16], hsToken[16:24], hsToken[22:30]} {
			if strings.Contains(form, secret) || strings.Contains(c.Form.Get("text"), secret) {
				t.Errorf("a post holds %q: %s", secret, form)
			}
		}
	}
}
