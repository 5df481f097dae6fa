package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

func TestExpiryWarnings(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mk := func(name string, exp time.Time) built {
		c, err := amocrm.New(amocrm.Options{Name: name, BaseURL: "https://example.amocrm.ru", Token: amocrmtest.LongLivedToken(exp)})
		if err != nil {
			t.Fatal(err)
		}
		return built{conn: c}
	}
	got := expiryWarnings([]built{
		mk("fresh", now.Add(90*24*time.Hour)),
		mk("soon", now.Add(5*24*time.Hour+time.Hour)),
		mk("gone", now.Add(-time.Hour)),
	}, now)
	want := []string{
		"soon: the token expires on 2026-12-03 (in 5 days); generate a new one",
		"gone: the token expired on 2026-11-28; generate a new one",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expiryWarnings (-want +got):\n%s", diff)
	}
}
