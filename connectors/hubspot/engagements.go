package hubspot

import (
	"html"
	"strings"
)

// Call outcomes: the internal values of HubSpot's default call
// dispositions (hs_call_disposition), from HubSpot's calls guide, and
// whether each means the call reached the other side. A live message was
// left with a person, so the call connected; a voicemail reached a machine.
// A portal's custom outcomes have GUIDs of their own, which say nothing
// here: the call's status decides for them.
var dispositionConnected = map[string]bool{
	"f240bbac-87c9-4f6e-bf70-924b57d47db7": true,  // Connected
	"a4c4c377-d246-4b32-a13b-75a56a4cd0ff": true,  // Left live message
	"b2cf5968-551e-4856-9783-52b3da59a7d0": false, // Left voicemail
	"73a0d17f-1163-4015-bdd5-ec830791da20": false, // No answer
	"9d9162e7-6cf3-4944-bf63-4dff82258764": false, // Busy
	"17b47fee-58de-441e-a44c-c6300d46f273": false, // Wrong number
	// The labels, for a server that sends them instead of the GUIDs.
	"connected": true, "left live message": true, "left voicemail": false,
	"no answer": false, "busy": false, "wrong number": false,
}

// statusConnected reads hs_call_status (BUSY, CALLING_CRM_USER, CANCELED,
// COMPLETED, CONNECTING, FAILED, IN_PROGRESS, NO_ANSWER, QUEUED, RINGING in
// HubSpot's calls guide; HOLD, MISSED and UNKNOWN besides in the calling
// extensions' final statuses). A call talking or on hold has connected; one
// still queued, ringing or connecting has not yet, and when it does its
// status changes, which moves its modified time, so the next sync reads it
// again.
var statusConnected = map[string]bool{
	"COMPLETED": true, "IN_PROGRESS": true, "HOLD": true,
	"NO_ANSWER": false, "BUSY": false, "FAILED": false, "CANCELED": false, "MISSED": false,
	"QUEUED": false, "RINGING": false, "CONNECTING": false, "CALLING_CRM_USER": false,
}

// callConnected says whether a call reached the other side: by its
// outcome when that is one of HubSpot's defaults (the rep's own record of
// what happened: a call logged COMPLETED with outcome "No answer" reached
// no one), else by its status; nil when neither says (no status, UNKNOWN,
// a value HubSpot does not document).
func callConnected(status, disposition string) *bool {
	if v, ok := dispositionConnected[strings.ToLower(strings.TrimSpace(disposition))]; ok {
		return &v
	}
	if v, ok := statusConnected[strings.ToUpper(strings.TrimSpace(status))]; ok {
		return &v
	}
	return nil
}

// taskSubject is a task's text: its subject, and its body when the body's
// text says something the subject does not. HubSpot often fills the body
// with the subject again (as HTML), which stored twice would read
// "Follow up\n<p>Follow up</p>". The body is kept as text, since it is
// HTML and the subject column holds text; the #team tag may be in either.
func taskSubject(subject, body string) string {
	subject = collapse(subject)
	text := htmlText(body)
	switch {
	case text == "" || text == subject:
		return subject
	case subject == "":
		return text
	}
	return subject + "\n" + text
}

// blockTags are the HTML elements that separate words; the others (b, i,
// span, a, ...) may sit inside one, as in "#<b>team</b>".
var blockTags = map[string]bool{
	"address": true, "article": true, "blockquote": true, "br": true, "dd": true, "div": true, "dl": true, "dt": true,
	"footer": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "header": true, "hr": true,
	"li": true, "ol": true, "p": true, "pre": true, "section": true, "table": true, "td": true, "th": true, "tr": true, "ul": true,
}

// htmlText is the text of an HTML fragment as a reader sees it: tags
// removed (block elements leave a space), entities decoded, runs of white
// space (&nbsp; included) collapsed to one space. A '<' that starts no tag
// ("a < b") is text.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '<' || i+1 == len(s) || !startsTag(s[i+1]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			b.WriteString(s[i:]) // an unclosed tag: keep what there is
			break
		}
		if blockTags[tagName(s[i+1:i+end])] {
			b.WriteByte(' ')
		}
		i += end + 1
	}
	return collapse(html.UnescapeString(b.String()))
}

func startsTag(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// tagName is the lower-case element name of a tag's inside ("/P", "br/",
// "div class=x").
func tagName(in string) string {
	in = strings.TrimPrefix(in, "/")
	if i := strings.IndexAny(in, " \t\r\n/"); i >= 0 {
		in = in[:i]
	}
	return strings.ToLower(in)
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
