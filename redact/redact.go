package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted is what every hidden secret becomes.
const Redacted = "[REDACTED]"

// minFragment is the shortest part of a known secret that is hidden on its
// own: a CRM or proxy that echoes a request and cuts its echo leaves a
// piece of a token that no longer matches the whole. Shorter pieces are
// too common to tell from ordinary text.
const minFragment = 8

// Redactor hides secrets in text before it is kept (sync_runs.error) or
// printed (stderr, logs, Slack). It hides, in this order: every known
// secret and its URL- and JSON-escaped forms; every value that has the
// shape of a credential whoever it belongs to (Authorization and Bearer
// values, access_token, refresh_token, client_secret and similar fields in
// JSON, query strings and form bodies, the code of a Bitrix24 webhook path
// /rest/N/CODE/, a password in a URL); and every run of 8 or more
// characters of a known secret, wherever it was cut. The zero value hides
// shapes only. A Redactor is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string            // longest first, escaped forms included
	windows map[string]struct{} // every minFragment-byte window of the opaque secrets
}

// New returns a Redactor that knows secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add makes r hide secrets from now on. Empty strings are ignored. A URL
// (a Bitrix24 webhook, a DSN) is hidden whole, and its password and
// webhook code on their own; its fragments are not, since they hold host
// names and paths.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		r.add(s)
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

func (r *Redactor) add(s string) {
	if s == "" || slices.Contains(r.secrets, s) {
		return
	}
	r.secrets = append(r.secrets, s)
	for _, v := range []string{url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(s, "/", `\/`)} {
		if v != s && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
	if strings.Contains(s, "://") || strings.HasPrefix(s, "/") {
		for _, part := range urlSecrets(s) {
			r.add(part)
		}
		return
	}
	if len(s) < minFragment {
		return
	}
	if r.windows == nil {
		r.windows = map[string]struct{}{}
	}
	for i := 0; i+minFragment <= len(s); i++ {
		r.windows[s[i:i+minFragment]] = struct{}{}
	}
}

// urlSecrets returns the secret parts of a URL or path: the password of
// its user info and the code of a Bitrix24 webhook path.
func urlSecrets(s string) []string {
	var out []string
	if u, err := url.Parse(s); err == nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
		s = u.Path
	}
	parts := strings.Split(strings.Trim(s, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "rest" && isDigits(parts[i+1]) {
			out = append(out, parts[i+2])
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Credential shapes. Each is found by its keys, searched for as plain
// text, then read from the key's end: an anchored regular expression for
// what comes between key and value (kept short, so it stays cheap), then a
// scan of the value, which is hidden. Both steps are linear in the text.
// An empty value hides nothing: it is already [REDACTED] or was cut off.

// sep is what joins a key to its value in a header line ("Key: v"), a
// query or form ("key=v"), JSON ("key":"v") or JSON inside JSON.
const sep = `\\?["']?\s*[:=]\s*\\?["']?`

type shape struct {
	keys []string // lower case; matched without regard to ASCII case
	// word requires a key to start a word: "auth" but not "oauth".
	word bool
	// lead matches from the key's end to the value's start.
	lead *regexp.Regexp
	// value returns the end of the value starting at s[i].
	value func(s string, i int) int
	// closing, when not 0, must follow the value (the @ of user info).
	closing byte
}

// maxLead bounds the text lead is matched against.
const maxLead = 256

var shapes = []shape{
	// A password in a URL's user info: scheme://user:PASSWORD@host.
	{keys: []string{"://"}, lead: regexp.MustCompile(`^[^/\s:@"'<>]*:`), value: until("@/\"'<>[ \t\r\n"), closing: '@'},
	// Authorization-like header lines and fields, the scheme word kept:
	// "Authorization: Bearer X", "authorization":"Basic X".
	{keys: []string{"authorization", "x-api-key", "api-key", "api_key", "apikey", "hapikey"}, word: true,
		lead: regexp.MustCompile(`^(?i)` + sep + `(?:(?:bearer|basic|token|oauth|digest)(?:\s+|%20|\+))?`), value: tokenValue},
	// Cookies: the whole header value.
	{keys: []string{"cookie"}, word: true, lead: regexp.MustCompile(`^` + sep), value: until("\r\n\"\\[")},
	// A bearer token anywhere: "Bearer X", "bearer%20X".
	{keys: []string{"bearer"}, word: true, lead: regexp.MustCompile(`^(?:\s+|%20|\+)`), value: tokenValue},
	// Credential fields in JSON, query strings and form bodies.
	{keys: []string{"access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "auth", "token",
		"password", "passwd", "secret", "api_secret", "session_id"}, word: true, lead: regexp.MustCompile(`^` + sep), value: tokenValue},
	// A Bitrix24 webhook path /rest/USER/CODE, plain, JSON-escaped or
	// URL-encoded.
	{keys: []string{"/rest"}, lead: regexp.MustCompile(`^\\?/[0-9]+\\?/`), value: while("-._~+=%")},
	{keys: []string{"%2frest%2f"}, lead: regexp.MustCompile(`^(?i)[0-9]+%2F`), value: while("-._~+=")},
}

// tokenValue scans a run of token characters, where a JSON-escaped slash
// (\/) continues it as PHP (Bitrix24, amoCRM) writes one.
func tokenValue(s string, i int) int {
	for i < len(s) {
		switch {
		case isAlnum(s[i]) || strings.IndexByte("-._~+/=%", s[i]) >= 0:
			i++
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '/':
			i += 2
		default:
			return i
		}
	}
	return i
}

// while scans letters, digits and the bytes of extra.
func while(extra string) func(string, int) int {
	return func(s string, i int) int {
		for i < len(s) && (isAlnum(s[i]) || strings.IndexByte(extra, s[i]) >= 0) {
			i++
		}
		return i
	}
}

// until scans up to one of the bytes of stop.
func until(stop string) func(string, int) int {
	return func(s string, i int) int {
		for i < len(s) && strings.IndexByte(stop, s[i]) < 0 {
			i++
		}
		return i
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Redact returns s with every secret and every credential-shaped value
// replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return redactShapes(s)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if len(sec) < minFragment {
			s = replaceWord(s, sec)
		} else {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	s = redactShapes(s)
	return r.redactFragments(s)
}

// replaceWord hides sec where no letter, digit or underscore touches it on
// either side. A secret shorter than minFragment (a test token "t", a
// password "pw") is as common as a word's own letters: hidden everywhere it
// would turn "context deadline exceeded" into "con[REDACTED]ext ..." and say
// which letters the secret has, while it still never shows where it stands
// as a value (Bearer t, "token":"t", /rest/1/pw/).
func replaceWord(s, sec string) string {
	var b strings.Builder
	for from := 0; ; {
		i := strings.Index(s[from:], sec)
		if i < 0 {
			if from == 0 {
				return s
			}
			b.WriteString(s[from:])
			return b.String()
		}
		i += from
		end := i + len(sec)
		b.WriteString(s[from:i])
		if (i > 0 && isWordByte(s[i-1])) || (end < len(s) && isWordByte(s[end])) {
			b.WriteString(sec)
		} else {
			b.WriteString(Redacted)
		}
		from = end
	}
}

// Shapes hides credential-shaped values only, for text whose
// secrets are not known.
func Shapes(s string) string { return redactShapes(s) }

func redactShapes(s string) string {
	for _, sh := range shapes {
		s = sh.redact(s)
	}
	return s
}

func (sh shape) redact(s string) string {
	lower := asciiLower(s)
	// Every value of this shape, as [start, end) pairs in s.
	var spans [][2]int
	for _, key := range sh.keys {
		for from := 0; ; {
			i := strings.Index(lower[from:], key)
			if i < 0 {
				break
			}
			i += from
			from = i + 1
			if sh.word && i > 0 && isWordByte(s[i-1]) {
				continue
			}
			at := i + len(key)
			m := sh.lead.FindStringIndex(s[at:min(len(s), at+maxLead)])
			if m == nil {
				continue
			}
			vs := at + m[1]
			ve := sh.value(s, vs)
			if ve == vs || (sh.closing != 0 && (ve == len(s) || s[ve] != sh.closing)) {
				continue
			}
			spans = append(spans, [2]int{vs, ve})
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[0] < last { // inside a value hidden already
			last = max(last, sp[1])
			continue
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(Redacted)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so that offsets in the
// result are offsets in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// redactFragments replaces every maximal run of text made of windows of a
// known secret: such a run is a piece of the secret at least minFragment
// long.
func (r *Redactor) redactFragments(s string) string {
	if len(r.windows) == 0 || len(s) < minFragment {
		return s
	}
	var b strings.Builder
	last := 0     // end of what is copied to b
	covered := -1 // end of the current run of windows
	start := 0
	for i := 0; i+minFragment <= len(s); i++ {
		if _, ok := r.windows[s[i:i+minFragment]]; !ok {
			continue
		}
		if i > covered {
			if covered >= 0 {
				b.WriteString(s[last:start])
				b.WriteString(Redacted)
				last = covered
			}
			start = i
		}
		covered = i + minFragment
	}
	if covered < 0 {
		return s
	}
	b.WriteString(s[last:start])
	b.WriteString(Redacted)
	b.WriteString(s[covered:])
	return b.String()
}

// cutMargin is how much text beyond the limit Cut redacts before cutting,
// so that a secret or credential value that starts before the limit is
// seen whole. It is longer than any token the CRMs issue.
const cutMargin = 4096

// Cut redacts s and cuts it to at most n bytes (plus "…" when cut).
// Redacting first matters: a cut through a secret leaves a part that no
// longer matches it. A token cut at the edge is dropped whole, so no
// piece of any credential, known or not, is left at the end; the result is
// valid UTF-8.
func (r *Redactor) Cut(s string, n int) string {
	cut := false
	if len(s) > n+cutMargin {
		s, cut = cutToken(s, n+cutMargin), true
	}
	s = r.Redact(s)
	if len(s) > n {
		s, cut = cutToken(s, n), true
	}
	s = strings.ToValidUTF8(s, "?")
	if cut {
		s += "…"
	}
	return s
}

// cutToken returns the start of s, at most n bytes long, without a
// partial token at its end: when the cut falls inside a run of token
// characters, the whole run goes.
func cutToken(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if isTokenByte(s[i]) {
		for i > 0 && isTokenByte(s[i-1]) {
			i--
		}
	}
	// Nor a piece of a [REDACTED] marker, which would read as text.
	if j := strings.LastIndexByte(s[max(0, i-len(Redacted)):i], '['); j >= 0 {
		j += max(0, i-len(Redacted))
		if strings.HasPrefix(s[j:], Redacted) && j+len(Redacted) > i {
			i = j
		}
	}
	return s[:i]
}

// isTokenByte reports whether c may be part of a token, a code or a
// base64 value.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(`-._~+/=%\`, c) >= 0
}

// Leak returns the first piece of secret, as long as the shortest piece a
// Redactor hides, that out still holds, or "" when none is left: the
// check behind "no piece of a token survives", for tests and audits of
// text that left through a Redactor.
func Leak(out, secret string) string {
	if len(secret) < minFragment {
		if secret != "" && strings.Contains(out, secret) {
			return secret
		}
		return ""
	}
	pieces := make(map[string]struct{}, len(secret))
	for i := 0; i+minFragment <= len(secret); i++ {
		pieces[secret[i:i+minFragment]] = struct{}{}
	}
	for i := 0; i+minFragment <= len(out); i++ {
		if _, ok := pieces[out[i:i+minFragment]]; ok {
			return out[i : i+minFragment]
		}
	}
	return ""
}
