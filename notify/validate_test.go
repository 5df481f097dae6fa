package notify

import (
	"math"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestValidate(t *testing.T) {
	sec := func(text string) slack.Block { return slack.NewSectionBlock(mrkdwn(text), nil, nil) }
	fields := func(n, size int) slack.Block {
		var fs []*slack.TextBlockObject
		for range n {
			fs = append(fs, mrkdwn(strings.Repeat("x", size)))
		}
		return slack.NewSectionBlock(nil, fs, nil)
	}
	many := func(n int) []slack.Block {
		var bs []slack.Block
		for range n {
			bs = append(bs, slack.NewDividerBlock())
		}
		return bs
	}
	ctxEls := func(n int) slack.Block {
		var es []slack.MixedElement
		for range n {
			es = append(es, mrkdwn("x"))
		}
		return slack.NewContextBlock("", es...)
	}
	tests := []struct {
		name    string
		m       Message
		wantErr string // "" for valid
	}{
		{"valid", Message{Text: "hi", Blocks: []slack.Block{sec("*ok* <!date^1^{date}|x> <@U1> &amp; &lt;")}}, ""},
		{"no text", Message{Blocks: []slack.Block{sec("x")}}, "fallback text is empty"},
		{"no blocks", Message{Text: "x"}, "no blocks"},
		{"50 blocks", Message{Text: "x", Blocks: many(50)}, ""},
		{"51 blocks", Message{Text: "x", Blocks: many(51)}, "51 blocks, more than 50"},
		{"section 3000", Message{Text: "x", Blocks: []slack.Block{sec(strings.Repeat("é", 3000))}}, ""},
		{"section 3001", Message{Text: "x", Blocks: []slack.Block{sec(strings.Repeat("é", 3001))}}, "3001 characters, more than 3000"},
		{"10 fields of 2000", Message{Text: "x", Blocks: []slack.Block{fields(5, 2000)}}, ""},
		{"11 fields", Message{Text: "x", Blocks: []slack.Block{fields(11, 1)}}, "11 fields, more than 10"},
		{"field 2001", Message{Text: "x", Blocks: []slack.Block{fields(1, 2001)}}, "2001 characters, more than 2000"},
		{"header 150", Message{Text: "x", Blocks: []slack.Block{slack.NewHeaderBlock(plain(strings.Repeat("😀", 150)))}}, ""},
		{"header 151", Message{Text: "x", Blocks: []slack.Block{slack.NewHeaderBlock(plain(strings.Repeat("a", 151)))}}, "151 characters, more than 150"},
		{"mrkdwn header", Message{Text: "x", Blocks: []slack.Block{slack.NewHeaderBlock(mrkdwn("a"))}}, "header text must be plain_text"},
		{"context 10", Message{Text: "x", Blocks: []slack.Block{ctxEls(10)}}, ""},
		{"context 11", Message{Text: "x", Blocks: []slack.Block{ctxEls(11)}}, "11 elements, more than 10"},
		{"long block_id", Message{Text: "x", Blocks: []slack.Block{slack.NewContextBlock(strings.Repeat("i", 256), mrkdwn("x"))}}, "block_id has 256 characters"},
		{"duplicate block_id", Message{Text: "x", Blocks: []slack.Block{slack.NewContextBlock("a", mrkdwn("x")), slack.NewContextBlock("a", mrkdwn("y"))}}, `duplicate block_id "a"`},
		{"raw <", Message{Text: "x", Blocks: []slack.Block{sec("Boris <AT&amp;T")}}, "unescaped <"},
		{"raw &", Message{Text: "x", Blocks: []slack.Block{sec("AT&T")}}, "unescaped &"},
		{"raw >", Message{Text: "x", Blocks: []slack.Block{sec("a > b")}}, "unescaped >"},
		{"raw & in text", Message{Text: "AT&T", Blocks: []slack.Block{sec("x")}}, "fallback text: unescaped &"},
		{"empty section text", Message{Text: "x", Blocks: []slack.Block{sec(" ")}}, "empty text"},
		{"too much text", Message{Text: "x", Blocks: []slack.Block{sec(strings.Repeat("x", 3000)), sec(strings.Repeat("x", 3000)), sec(strings.Repeat("x", 3000)), sec(strings.Repeat("x", 3000)), sec("x")}}, "12001 characters of text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.m)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{signed(2, 0), "+2"},
		{signed(-4.26, 1), "-4.3"},
		{signed(0, 1), "0.0"},
		{sparkline([]float64{1, 2, 3, 4, 5, 6, 7, 8}), "▁▂▃▄▅▆▇█"},
		{sparkline([]float64{50, math.NaN(), 50}), "▄·▄"},
		{sparkline([]float64{math.NaN()}), ""},
		{trendArrow(1) + trendArrow(-1) + trendArrow(0), "▲▼▶"},
		{esc("<AT&T>"), "&lt;AT&amp;T&gt;"},
		{escTrunc("AT&T Corp", 8), "AT&amp;…"},
		{escTrunc("AT&T", 5), "AT…"}, // never half an entity
		{escTrunc("short", 10), "short"},
		{truncRunes("abc&amp;def", 6), "abc…"},
		{signedCount(-1, "deal", "deals"), "-1 deal"},
		{count(7, "deal", "deals"), "7 deals"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestDetailNumbers(t *testing.T) {
	d := map[string]any{"i": 3, "f": 2.5, "i64": int64(7), "s": "x", "nan": math.NaN(), "nil": nil}
	for key, want := range map[string]float64{"i": 3, "f": 2.5, "i64": 7} {
		if got, ok := detail(d, key); !ok || got != want {
			t.Errorf("detail(%q) = %v, %v; want %v, true", key, got, ok, want)
		}
	}
	for _, key := range []string{"s", "nan", "nil", "missing"} {
		if _, ok := detail(d, key); ok {
			t.Errorf("detail(%q) is ok, want no number", key)
		}
	}
}
