package connectortest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
)

func TestTokenStore(t *testing.T) {
	ctx := context.Background()
	s := &TokenStore{}
	if _, ok, err := s.LoadToken(ctx, "amo"); ok || err != nil {
		t.Fatalf("LoadToken on an empty store = %v, %v; want nothing", ok, err)
	}
	afters := 0
	s.AfterSave = func() { afters++ }
	a, b := connectors.Token{AccessToken: "a1", RefreshToken: "r1"}, connectors.Token{AccessToken: "a2", RefreshToken: "r2"}
	for _, tok := range []connectors.Token{a, b} {
		if err := s.SaveToken(ctx, "amo", tok); err != nil {
			t.Fatal(err)
		}
	}
	s.FailSave = errors.New("warehouse down")
	if err := s.SaveToken(ctx, "amo", connectors.Token{AccessToken: "a3"}); err != s.FailSave {
		t.Errorf("SaveToken with FailSave = %v, want %v", err, s.FailSave)
	}
	if got, ok, _ := s.LoadToken(ctx, "amo"); !ok || got != b {
		t.Errorf("LoadToken = %+v, %v; want the last saved %+v", got, ok, b)
	}
	if diff := cmp.Diff([]connectors.Token{a, b}, s.Saved("amo")); diff != "" {
		t.Errorf("Saved (-want +got):\n%s", diff)
	}
	if afters != 2 {
		t.Errorf("AfterSave ran %d times, want 2 (not after the failed save)", afters)
	}
	if _, ok, _ := s.LoadToken(ctx, "b24"); ok || len(s.Saved("b24")) != 0 {
		t.Errorf("another connector sees amo's tokens")
	}
}
