package notify

import (
	"context"
	"errors"
	"strings"

	"github.com/slack-go/slack"
)

// requiredScopes are the bot scopes Deliver uses: posting and updating,
// opening DMs, and finding managers by e-mail.
var requiredScopes = []struct{ scope, why string }{
	{"chat:write", "needed to post and update messages"},
	{"im:write", "needed to open direct messages to managers"},
	{"users:read.email", "needed to find managers without slack_id by e-mail (with users:read)"},
}

// Check tests the token with auth.test, writing nothing. It returns an error
// when Slack rejects the token or cannot be reached, and warnings for each
// required scope the token lacks, read from the X-OAuth-Scopes header.
func Check(ctx context.Context, c *slack.Client) (warnings []string, err error) {
	if c == nil {
		return nil, errors.New("slack check: no Slack client configured")
	}
	resp, err := c.AuthTestContext(ctx)
	if err != nil {
		return nil, apiError("auth.test", "", err)
	}
	// slack-go keeps auth.test's response headers, so the caller's client
	// needs no OptionOnResponseHeaders hook for this.
	header := resp.Header.Get("X-OAuth-Scopes")
	if header == "" {
		return []string{"slack: could not read the token's scopes (no X-OAuth-Scopes header); check chat:write, im:write and users:read.email by hand"}, nil
	}
	granted := map[string]bool{}
	for _, s := range strings.Split(header, ",") {
		granted[strings.TrimSpace(s)] = true
	}
	for _, rs := range requiredScopes {
		if !granted[rs.scope] {
			warnings = append(warnings, "slack: the token lacks the "+rs.scope+" scope, "+rs.why)
		}
	}
	return warnings, nil
}
