package bitrix24

import (
	"context"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

func TestOAuthRefreshOnExpiredToken(t *testing.T) {
	clk := newClock(t0)
	const id, secret, refresh = "local.app", "app-secret-4711", "refresh-initial-0815"
	srv := newFake(t, clk, bitrix24test.WithOAuth(id, secret, refresh))
	seed(srv, 60)
	store := &connectortest.TokenStore{}
	access := srv.IssueAccessToken()
	newOAuth := func() *Client {
		return newClient(t, srv, clk, func(o *Options) {
			o.WebhookURL, o.BaseURL, o.Token, o.TokenStore = "", srv.URL+"/rest/", access, store
			o.OAuth = &OAuth{ClientID: id, ClientSecret: secret, RefreshToken: refresh, TokenURL: srv.URL + "/oauth/token/"}
		})
	}
	c := newOAuth()
	// A valid token: no refresh.
	if r := pull(t, c, connectors.ObjectDeals, ""); len(r.deals) != 60 || srv.TokensIssued() != 0 {
		t.Fatalf("pulled %d deals with %d refreshes, want 60 with 0", len(r.deals), srv.TokensIssued())
	}
	// Expired: one refresh, saved, and the call goes on.
	srv.ExpireAccessTokens()
	if r := pull(t, c, connectors.ObjectDeals, ""); len(r.deals) != 60 {
		t.Fatalf("pulled %d deals after expiry, want 60", len(r.deals))
	}
	if srv.TokensIssued() != 1 || len(store.Saved("b24")) != 1 {
		t.Errorf("refreshes %d, saves %d; want 1 and 1", srv.TokensIssued(), len(store.Saved("b24")))
	}
	saved, _, _ := store.LoadToken(context.Background(), "b24")
	if saved.RefreshToken == refresh || saved.AccessToken == "" || saved.Expiry.IsZero() {
		t.Errorf("saved token %+v, want a rotated one", saved)
	}
	// A new process starts from the stored token, not the config's (whose
	// refresh token is dead now).
	srv.ExpireAccessTokens()
	c2 := newOAuth()
	if r := pull(t, c2, connectors.ObjectUsers, ""); srv.TokensIssued() != 2 || len(r.users) != 2 {
		t.Errorf("second process: %d refreshes, %d users; want 2 and 2", srv.TokensIssued(), len(r.users))
	}
	// Refresh refused: an auth error without any secret in it.
	srv.ExpireAccessTokens()
	srv.RevokeRefreshTokens()
	err := c2.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	if !connectors.IsAuth(err) || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v, want an auth failure naming invalid_grant", err)
	}
	last, _, _ := store.LoadToken(context.Background(), "b24")
	for _, s := range []string{secret, refresh, access, last.RefreshToken, last.AccessToken} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows secret %q: %v", s, err)
		}
	}
}

func TestCheckOAuth(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk, bitrix24test.WithOAuth("a", "b", "r"))
	c := newClient(t, srv, clk, func(o *Options) {
		o.WebhookURL, o.BaseURL = "", srv.URL+"/rest/"
		o.OAuth = &OAuth{ClientID: "a", ClientSecret: "b", RefreshToken: "r", TokenURL: srv.URL + "/oauth/token/"}
	})
	if _, err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if srv.TokensIssued() != 1 {
		t.Errorf("refreshes = %d, want 1 (no token to start with)", srv.TokensIssued())
	}
}
