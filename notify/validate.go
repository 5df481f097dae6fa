package notify

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block Kit limits (docs.slack.dev/reference/block-kit). slack-go checks
// hardly any of them, and Slack answers invalid_blocks for the whole
// message, so Validate checks them before anything is sent. Lengths are
// counted in runes, as slack-go's TextBlockObject.Validate does.
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxFields       = 10
	maxFieldText    = 2000
	maxHeaderText   = 150
	maxContextElems = 10
	maxBlockID      = 255
	// maxBlocksText is the total text of all blocks. Slack's cap is
	// undocumented; msg_blocks_too_long was seen from about 12,000 characters.
	maxBlocksText = 12000
	// maxFallbackText keeps the fallback text under the 4,000 characters
	// chat.update's msg_too_long names.
	maxFallbackText = 4000
)

// Validate reports every way m breaks Slack's message limits or this
// package's escaping rule, joined into one error; nil when m can be sent.
// It checks: 1–50 blocks; header plain_text of 1–150 characters; section
// text ≤3000; ≤10 fields of ≤2000; ≤10 context elements; block_ids ≤255
// and unique; the total block text; a non-empty fallback text; and that
// every text escapes &, < and > except in Slack's own <!…>, <@…>, <#…> and
// <http…> tokens.
func Validate(m Message) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(m.Text) == "" {
		bad("fallback text is empty")
	}
	if n := utf8.RuneCountInString(m.Text); n > maxFallbackText {
		bad("fallback text has %d characters, more than %d", n, maxFallbackText)
	}
	if err := checkEscaped(m.Text); err != nil {
		bad("fallback text: %w", err)
	}
	switch n := len(m.Blocks); {
	case n == 0:
		bad("message has no blocks")
	case n > maxBlocks:
		bad("message has %d blocks, more than %d", n, maxBlocks)
	}

	total := 0
	text := func(where string, t *slack.TextBlockObject, limit int) {
		if t == nil {
			bad("%s: missing text", where)
			return
		}
		if t.Type != slack.PlainTextType && t.Type != slack.MarkdownType {
			bad("%s: text type %q", where, t.Type)
		}
		n := utf8.RuneCountInString(t.Text)
		total += n
		switch {
		case strings.TrimSpace(t.Text) == "":
			bad("%s: empty text", where)
		case n > limit:
			bad("%s: %d characters, more than %d", where, n, limit)
		}
		if err := checkEscaped(t.Text); err != nil {
			bad("%s: %w", where, err)
		}
	}

	ids := map[string]bool{}
	for i, b := range m.Blocks {
		where := fmt.Sprintf("block %d (%s)", i, b.BlockType())
		if id := b.ID(); id != "" {
			if n := utf8.RuneCountInString(id); n > maxBlockID {
				bad("%s: block_id has %d characters, more than %d", where, n, maxBlockID)
			}
			if ids[id] {
				bad("%s: duplicate block_id %q", where, id)
			}
			ids[id] = true
		}
		switch x := b.(type) {
		case *slack.HeaderBlock:
			text(where, x.Text, maxHeaderText)
			if x.Text != nil && x.Text.Type != slack.PlainTextType {
				bad("%s: header text must be plain_text", where)
			}
		case *slack.SectionBlock:
			if x.Text == nil && len(x.Fields) == 0 {
				bad("%s: neither text nor fields", where)
			}
			if x.Text != nil {
				text(where, x.Text, maxSectionText)
			}
			if len(x.Fields) > maxFields {
				bad("%s: %d fields, more than %d", where, len(x.Fields), maxFields)
			}
			for j, f := range x.Fields {
				text(fmt.Sprintf("%s field %d", where, j), f, maxFieldText)
			}
		case *slack.ContextBlock:
			els := x.ContextElements.Elements
			switch {
			case len(els) == 0:
				bad("%s: no elements", where)
			case len(els) > maxContextElems:
				bad("%s: %d elements, more than %d", where, len(els), maxContextElems)
			}
			for j, e := range els {
				if t, ok := e.(*slack.TextBlockObject); ok {
					text(fmt.Sprintf("%s element %d", where, j), t, maxSectionText)
				}
			}
		case *slack.DividerBlock:
		default:
			bad("%s: block type this package does not send", where)
		}
	}
	if total > maxBlocksText {
		bad("blocks hold %d characters of text, more than %d", total, maxBlocksText)
	}
	return errors.Join(errs...)
}

// checkEscaped reports a raw &, < or > that is not part of an entity or of
// one of Slack's own tokens. Any such character must have come from CRM
// text that was not escaped.
func checkEscaped(s string) error {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			rest := s[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				return fmt.Errorf("unescaped & at byte %d", i)
			}
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return fmt.Errorf("unescaped < at byte %d", i)
			}
			tok := s[i+1 : i+end]
			if strings.ContainsRune(tok, '<') || !(strings.HasPrefix(tok, "!") || strings.HasPrefix(tok, "@") ||
				strings.HasPrefix(tok, "#") || strings.HasPrefix(tok, "http")) {
				return fmt.Errorf("unescaped < at byte %d", i)
			}
			i += end
		case '>':
			return fmt.Errorf("unescaped > at byte %d", i)
		}
	}
	return nil
}
