package amocrm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

func oauthConn(t *testing.T, srv *amocrmtest.Server, clk *clock, store connectors.TokenStore, seed string) *Client {
	t.Helper()
	return newConn(t, srv, clk, func(o *Options) {
		o.Token = ""
		o.OAuth = &OAuth{ClientID: "cid", ClientSecret: "csecret", RedirectURI: "https://app.example/cb", RefreshToken: seed}
		o.TokenStore = store
	})
}

func TestOAuthRefreshPersistsRotatedToken(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, amocrmtest.WithOAuth("cid", "csecret"))
	srv.Seed(amocrmtest.SeedConfig{Users: 3, Seed: 9})
	seed := srv.OAuthRefreshToken()
	store := &connectortest.TokenStore{}
	c := oauthConn(t, srv, clk, store, seed)

	r := pull(t, c, connectors.ObjectUsers, "")
	if len(r.merged.Users) != 3 {
		t.Fatalf("users = %d, want 3", len(r.merged.Users))
	}
	saved, ok, _ := store.LoadToken(context.Background(), "amo")
	if !ok || saved.RefreshToken == seed || saved.AccessToken == "" || !saved.Expiry.Equal(clk.Now().Add(24*time.Hour)) {
		t.Fatalf("saved token = %+v, want a rotated pair expiring in 24h", saved)
	}
	if srv.OAuthRefreshes() != 1 {
		t.Errorf("refreshes = %d, want 1", srv.OAuthRefreshes())
	}
	// The new pair was used, so the seed is dead now: only the store can
	// carry the account on.
	if srv.ValidRefreshToken(seed) {
		t.Error("the seed refresh token is still valid after the new pair was used")
	}

	// A new process: the stored pair wins over the config's (dead) seed,
	// and the access token is reused without a refresh.
	c2 := oauthConn(t, srv, clk, store, seed)
	pull(t, c2, connectors.ObjectUsers, "")
	if srv.OAuthRefreshes() != 1 {
		t.Errorf("refreshes after restart = %d, want 1", srv.OAuthRefreshes())
	}
	// A day later the access token has expired: one refresh, saved again.
	clk.Advance(25 * time.Hour)
	pull(t, c2, connectors.ObjectUsers, "")
	saved2, _, _ := store.LoadToken(context.Background(), "amo")
	if srv.OAuthRefreshes() != 2 || saved2.RefreshToken == saved.RefreshToken || len(store.Saved("amo")) != 2 {
		t.Errorf("after expiry: refreshes %d, saves %d, rotated %v; want 2, 2, true", srv.OAuthRefreshes(), len(store.Saved("amo")), saved2.RefreshToken != saved.RefreshToken)
	}
}

// The process "dies" right after the refreshed pair is saved (its context
// is cancelled before the new access token is used). A new Client on the
// same store carries on; nothing is lost.
func TestOAuthCrashAfterRefresh(t *testing.T) {
	for _, expireFirst := range []bool{false, true} {
		name := "stored access token reused"
		if expireFirst {
			name = "stored refresh token used"
		}
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk, amocrmtest.WithOAuth("cid", "csecret"))
			srv.Seed(amocrmtest.SeedConfig{Users: 2, Seed: 10})
			seed := srv.OAuthRefreshToken()
			ctx, cancel := context.WithCancel(context.Background())
			store := &connectortest.TokenStore{AfterSave: cancel}
			c := oauthConn(t, srv, clk, store, seed)
			err := c.Pull(ctx, connectors.ObjectUsers, "", func(context.Context, *connectors.Page) error { return nil })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Pull = %v, want context.Canceled", err)
			}
			if n := srv.Requests("/api/v4/users"); n != 0 {
				t.Fatalf("users requests = %d, want 0 (died before using the token)", n)
			}
			store.AfterSave = nil
			if expireFirst {
				clk.Advance(25 * time.Hour)
			}
			c2 := oauthConn(t, srv, clk, store, seed)
			r := pull(t, c2, connectors.ObjectUsers, "")
			if len(r.merged.Users) != 2 {
				t.Fatalf("users = %d, want 2", len(r.merged.Users))
			}
			want := 1
			if expireFirst {
				want = 2
			}
			if srv.OAuthRefreshes() != want {
				t.Errorf("refreshes = %d, want %d", srv.OAuthRefreshes(), want)
			}
		})
	}
}

// A save that fails leaves the new pair unused; the old refresh token stays
// valid (Kommo's grace rule), so the next run refreshes from it again.
func TestOAuthSaveFailureDoesNotLockOut(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, amocrmtest.WithOAuth("cid", "csecret"))
	srv.Seed(amocrmtest.SeedConfig{Users: 2, Seed: 11})
	seed := srv.OAuthRefreshToken()
	store := &connectortest.TokenStore{FailSave: errors.New("warehouse down")}
	c := newConn(t, srv, clk, func(o *Options) {
		o.Token = ""
		o.OAuth = &OAuth{ClientID: "cid", ClientSecret: "csecret", RefreshToken: seed}
		o.TokenStore = store
		o.MaxRetries = -1
	})
	_, err := tryPull(c, connectors.ObjectUsers, "", -1)
	if err == nil || !strings.Contains(err.Error(), "save the refreshed OAuth token") {
		t.Fatalf("Pull = %v, want the save error", err)
	}
	if n := srv.Requests("/api/v4/users"); n != 0 {
		t.Errorf("users requests = %d, want 0: an unsaved token must not be used", n)
	}
	if !srv.ValidRefreshToken(seed) {
		t.Fatal("the seed refresh token died although the new pair was never used")
	}
	store.FailSave = nil
	r := pull(t, oauthConn(t, srv, clk, store, seed), connectors.ObjectUsers, "")
	if len(r.merged.Users) != 2 {
		t.Errorf("users = %d, want 2", len(r.merged.Users))
	}
}

func TestOAuthRevokedRefresh(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, amocrmtest.WithOAuth("cid", "csecret"))
	seed := srv.OAuthRefreshToken()
	srv.RevokeTokens()
	c := oauthConn(t, srv, clk, &connectortest.TokenStore{}, seed)
	_, err := tryPull(c, connectors.ObjectUsers, "", -1)
	if !connectors.IsAuth(err) || !strings.Contains(err.Error(), "OAuth refresh refused") {
		t.Fatalf("err = %v, want an OAuth refusal", err)
	}
	for _, s := range []string{seed, "csecret"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error contains a secret %q: %v", s, err)
		}
	}
	if n := srv.Requests("/oauth2/access_token"); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}
