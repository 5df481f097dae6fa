package redact

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactShapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nAuthorization: Bearer pat-eu1-7c3a\r\nHost: x",
			"GET / HTTP/1.1\r\nAuthorization: Bearer [REDACTED]\r\nHost: x"},
		{"Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic [REDACTED]"},
		{`{"headers":{"authorization":"Bearer a.b-c_d"}}`, `{"headers":{"authorization":"Bearer [REDACTED]"}}`},
		{`{\"Authorization\":\"Bearer abc\/def\"}`, `{\"Authorization\":\"Bearer [REDACTED]\"}`},
		{"token Bearer eyJ0eXAi.eyJzdWIi.c2ln at /x", "token Bearer [REDACTED] at /x"},
		{"bearer%20abcdef", "bearer%20[REDACTED]"},
		{"X-Api-Key: 12345678", "X-Api-Key: [REDACTED]"},
		{"/crm/v3/objects?hapikey=abc-123&limit=1", "/crm/v3/objects?hapikey=[REDACTED]&limit=1"},
		{"grant_type=refresh_token&refresh_token=def50200ab&client_secret=s3cr&redirect_uri=https%3A%2F%2Fa",
			"grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]&redirect_uri=https%3A%2F%2Fa"},
		{`{"access_token": "eyJ0", "refresh_token":"def5", "expires_in":86400}`,
			`{"access_token": "[REDACTED]", "refresh_token":"[REDACTED]", "expires_in":86400}`},
		{"/rest/crm.deal.list.json?auth=f0e1d2c3&start=50", "/rest/crm.deal.list.json?auth=[REDACTED]&start=50"},
		{`{"auth":"f0e1d2c3","cmd":{}}`, `{"auth":"[REDACTED]","cmd":{}}`},
		{"token=xoxb-1-2-abc&channel=C1", "token=[REDACTED]&channel=C1"},
		{"Cookie: a=b; sid=c\r\nAccept: */*", "Cookie: [REDACTED]\r\nAccept: */*"},
		// The config's errors name secret fields by path; what follows is
		// no value and must read whole ("environment variable …" did
		// not: the word became [REDACTED]).
		{"crmkpi.yaml:7: connectors[0].token: ${HUBSPOT_TOKEN} is not set in the environment",
			"crmkpi.yaml:7: connectors[0].token: ${HUBSPOT_TOKEN} is not set in the environment"},
		{"web.auth.token: environment variable X is not set", "web.auth.token: [REDACTED] variable X is not set"},
		{"https://acme.bitrix24.ru/rest/17/k7p2x9q4m1v8z3w6/crm.deal.list.json",
			"https://acme.bitrix24.ru/rest/17/[REDACTED]/crm.deal.list.json"},
		{`"url":"https:\/\/acme.bitrix24.ru\/rest\/17\/k7p2x9q4\/crm.deal.list"`,
			`"url":"https:\/\/acme.bitrix24.ru\/rest\/17\/[REDACTED]\/crm.deal.list"`},
		{"GET /rest/1/k7p2x9", "GET /rest/1/[REDACTED]"},
		{"u=https%3A%2F%2Facme.bitrix24.ru%2Frest%2F17%2Fk7p2x9q4%2Fcrm", "u=https%3A%2F%2Facme.bitrix24.ru%2Frest%2F17%2F[REDACTED]%2Fcrm"},
		{"postgres://crm:hunter2@db:5432/kpi", "postgres://crm:[REDACTED]@db:5432/kpi"},
		// Nothing that looks like a credential is touched.
		{"HTTP 503: upstream timed out; retry later", "HTTP 503: upstream timed out; retry later"},
		{"http://127.0.0.1:8080/api/v4/leads?page=2", "http://127.0.0.1:8080/api/v4/leads?page=2"},
		{`{"status":401,"title":"Unauthorized","detail":"Invalid token"}`, `{"status":401,"title":"Unauthorized","detail":"Invalid token"}`},
		// An already hidden value stays as it is.
		{"Authorization: Bearer [REDACTED]", "Authorization: Bearer [REDACTED]"},
		{"/rest/1/[REDACTED]/x", "/rest/1/[REDACTED]/x"},
	}
	for _, tt := range tests {
		if got := Shapes(tt.in); got != tt.want {
			t.Errorf("Shapes(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactKnownSecrets(t *testing.T) {
	r := New("pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69", "https://acme.bitrix24.ru/rest/17/k7p2x9q4m1v8z3w6/",
		"postgres://crm:hunter2hunter2@db/kpi", "a/b+c d")
	tests := []struct{ in, want string }{
		{"token pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69 refused", "token [REDACTED] refused"},
		// Pieces of 8 characters or more, wherever the secret was cut.
		{"echo: pat-eu1-7c3a9f…", "echo: [REDACTED]…"},
		{"echo: …4d21-9a8f-1e2d3c4b5a69 end", "echo: …[REDACTED] end"},
		{"x 7c3a9f12 y 9a8f-1e2d z", "x [REDACTED] y [REDACTED] z"},
		// Shorter pieces are too common to hide.
		{"x 7c3a9f1 y", "x 7c3a9f1 y"},
		// The code and password of URL secrets on their own, and their
		// pieces; the rest of the URL stays readable.
		{"code k7p2x9q4m1v8z3w6 and k7p2x9q4m1v8", "code [REDACTED] and [REDACTED]"},
		{"dial db: password hunter2hunter2 refused", "dial db: password [REDACTED] refused"},
		{"see https://acme.bitrix24.ru/rest/", "see https://acme.bitrix24.ru/rest/"},
		// URL- and JSON-escaped forms.
		{"q=a%2Fb%2Bc+d", "q=[REDACTED]"},
		{`"s":"a\/b+c d"`, `"s":"[REDACTED]"`},
	}
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestRedactShortSecrets: a secret shorter than 8 bytes is hidden where it
// stands alone, never inside a word, so a config with `token: t` still gets
// readable errors.
func TestRedactShortSecrets(t *testing.T) {
	r := New("t", "x", "pw-1")
	tests := []struct{ in, want string }{
		{"check account: context deadline exceeded (lookup example.amocrm.ru)", "check account: context deadline exceeded (lookup example.amocrm.ru)"},
		{"GET /api?key=t&limit=x HTTP/1.1", "GET /api?key=[REDACTED]&limit=[REDACTED] HTTP/1.1"},
		{`{"token":"t"} x`, `{"token":"[REDACTED]"} [REDACTED]`},
		{"/rest/1/pw-1/crm.deal.list pw-12 apw-1", "/rest/1/[REDACTED]/crm.deal.list pw-12 apw-1"},
		{"t", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestCut(t *testing.T) {
	r := New()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"upstream failed badly", 10, "upstream …"},
		{"upstream failed badly", 8, "upstream…"},
		// A token cut at the edge goes whole, known or not.
		{"id 0123456789abcdef", 10, "id …"},
		{"Authorization: Bearer abcdefgh", 25, "Authorization: Bearer …"},
		// So does a [REDACTED] marker.
		{"Authorization: Bearer abcdefgh", 26, "Authorization: Bearer …"},
		// The cut keeps UTF-8 whole.
		{"ошибка сервера", 5, "ош…"},
	}
	for _, tt := range tests {
		if got := r.Cut(tt.in, tt.n); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// realSecrets are secrets shaped like the real ones: a HubSpot private app
// token, an amoCRM long-lived token (a JWT), a Bitrix24 webhook code, an
// amoCRM OAuth refresh token, a HubSpot OAuth refresh token, a Bitrix24
// OAuth refresh token.
func realSecrets() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	hexOf := func(seed string, n int) string {
		var b strings.Builder
		for h := sha256.Sum256([]byte(seed)); b.Len() < n; h = sha256.Sum256(h[:]) {
			b.WriteString(hex.EncodeToString(h[:]))
		}
		return b.String()[:n]
	}
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(i*37 + 11)
	}
	return map[string]string{
		"hubspot pat": "pat-eu1-7c3a9f12-4b6e-4d21-9a8f-1e2d3c4b5a69",
		"amocrm jwt": b64([]byte(`{"typ":"JWT","alg":"RS256","jti":"4fcf8a1c2b"}`)) + "." +
			b64([]byte(`{"aud":"8c2e1f7a","jti":"4fcf8a1c2b","iat":1751892369,"exp":1814400000,"sub":"10283746","account_id":29384756,"scopes":["crm","notifications"]}`)) + "." +
			b64(sig),
		"bitrix24 webhook code":  "k7p2x9q4m1v8z3w6",
		"amocrm refresh token":   "def50200" + hexOf("amo", 640),
		"hubspot refresh token":  "eu1-5d3c-4b2a-9f8e-7d6c5b4a3f2e",
		"bitrix24 refresh token": hexOf("b24", 72),
	}
}

// echoes are the ways a CRM, gateway or proxy repeats a request in an error
// body, each holding secret s.
func echoes(s string) map[string]string {
	return map[string]string{
		"header lines": "upstream error, request was:\r\nPOST /api/v4/leads HTTP/1.1\r\nHost: acme.amocrm.ru\r\nAuthorization: Bearer " + s + "\r\nAccept: application/json\r\n",
		"json headers": `{"error":"bad gateway","request":{"method":"GET","headers":{"Accept":"application/json","Authorization":"Bearer ` + s + `"}}}`,
		"query":        `{"error":"INTERNAL","url":"/rest/crm.deal.list.json?auth=` + s + `&start=50"}`,
		"form body":    "could not parse grant_type=refresh_token&refresh_token=" + s + "&client_secret=" + s + "&client_id=app",
		"json fields":  `{"detail":"refused","body":{"client_id":"app","client_secret":"` + s + `","refresh_token":"` + s + `","grant_type":"refresh_token"}}`,
		"webhook path": `{"error":"ERROR_CORE","url":"https:\/\/acme.bitrix24.ru\/rest\/17\/` + s + `\/crm.deal.list.json","path":"/rest/17/` + s + `/crm.deal.list.json"}`,
	}
}

// TestRedactEchoCutEverywhere cuts every echo of every real-looking secret
// at every offset, as a proxy that truncates its echo does, and also moves
// the secret across the Snippet's own cut at every position. No 8-byte
// piece of the secret may survive, whether the redactor knows the secret
// or only its shape.
func TestRedactEchoCutEverywhere(t *testing.T) {
	for name, secret := range realSecrets() {
		known := New(secret)
		shapesOnly := New()
		for form, body := range echoes(secret) {
			check := func(how string, out string) {
				t.Helper()
				if p := Leak(out, secret); p != "" {
					t.Fatalf("%s in %s, %s: piece %q survives in %q", name, form, how, p, out)
				}
				if !utf8.ValidString(out) {
					t.Fatalf("%s in %s, %s: invalid UTF-8 %q", name, form, how, out)
				}
			}
			for k := 0; k <= len(body); k++ {
				cut := body[:k]
				check("known, proxy cut", known.Redact(cut))
				check("shape, proxy cut", shapesOnly.Redact(cut))
				check("known, proxy cut, snippet", known.Cut(cut, cutLen))
				check("shape, proxy cut, snippet", shapesOnly.Cut(cut, cutLen))
			}
			at := strings.Index(body, secret)
			for k := 0; k <= len(secret)+1; k++ {
				// Put the secret's k-th byte at the snippet's limit.
				pad := cutLen - at - k
				if pad < 0 {
					continue
				}
				long := strings.Repeat("a ", pad/2) + strings.Repeat(" ", pad%2) + body
				check("known, snippet cut", known.Cut(long, cutLen))
				check("shape, snippet cut", shapesOnly.Cut(long, cutLen))
			}
		}
		// Said bare, with no key or shape, only a known secret is found.
		bare := "upstream said " + secret + " is not valid here"
		for k := 0; k <= len(bare); k++ {
			if out := known.Cut(bare[:k], cutLen); Leak(out, secret) != "" {
				t.Fatalf("%s said bare, cut at %d: %q", name, k, out)
			}
		}
	}
}

// FuzzRedact hides a secret cut anywhere inside any text: no 8-byte piece
// of it survives Redact of the cut text, nor Cut of the whole.
func FuzzRedact(f *testing.F) {
	f.Add("Authorization: Bearer ", []byte("pat-eu1-7c3a9f12-4b6e-4d21"), "\r\n", 30, uint16(300))
	f.Add(`{"refresh_token":"`, []byte("def50200abcdef0123456789"), `"}`, 12, uint16(20))
	f.Add("/rest/1/", []byte("k7p2x9q4m1v8z3w6"), "/crm.deal.list", 9, uint16(10))
	f.Add("", []byte("aaaaaaaaaaaaaaaaaaaa"), "aaaa", 17, uint16(5))
	f.Fuzz(func(t *testing.T, prefix string, raw []byte, suffix string, cut int, n uint16) {
		// Secrets are made of token characters, as every CRM's are.
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
		if len(raw) < minFragment || len(raw) > 2048 {
			return
		}
		sec := make([]byte, len(raw))
		for i, c := range raw {
			sec[i] = alphabet[int(c)%len(alphabet)]
		}
		secret := string(sec)
		r := New(secret)
		body := prefix + secret + suffix
		if cut < 0 {
			cut = -cut
		}
		k := cut % (len(body) + 1)
		if out := r.Redact(body[:k]); Leak(out, secret) != "" {
			t.Fatalf("Redact(%q) = %q: a piece of %q survives", body[:k], out, secret)
		}
		limit := int(n) % 1024
		out := r.Cut(body, limit)
		if p := Leak(out, secret); p != "" {
			t.Fatalf("Cut(%q, %d) = %q: piece %q of %q survives", body, limit, out, p, secret)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Cut(%q, %d) = %q: invalid UTF-8", body, limit, out)
		}
		if len(out) > limit+len("…") {
			t.Fatalf("Cut(%q, %d) = %q: longer than the limit", body, limit, out)
		}
	})
}

// cutLen is the length connectors cut error bodies to.
const cutLen = 300

func TestLeak(t *testing.T) {
	const secret = "k7p2x9q4m1v8z3w6" // 16 bytes: 9 pieces of 8
	for _, tt := range []struct{ out, secret, want string }{
		{"nothing here", secret, ""},
		{"cut at x9q4m1v8 and more", secret, "x9q4m1v8"},
		{"k7p2x9q", secret, ""}, // 7 bytes: shorter than any hidden piece
		{"prefix " + secret, secret, "k7p2x9q4"},
		{"pw=abc1 end", "abc1", "abc1"}, // a short secret counts whole
		{"anything", "", ""},
	} {
		if got := Leak(tt.out, tt.secret); got != tt.want {
			t.Errorf("Leak(%q, %q) = %q, want %q", tt.out, tt.secret, got, tt.want)
		}
	}
}
