package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goyaml "github.com/goccy/go-yaml"
	goyamlparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// maxEntries bounds the mapping entries walked, counting those pulled in
// again by aliases and merge keys, so a "billion laughs" file fails fast
// instead of exhausting memory.
const maxEntries = 100_000

// maxMergeDepth bounds merges of merges; an anchor merged into itself
// would otherwise recurse until maxEntries.
const maxMergeDepth = 32

// decoder walks a yaml.Node tree into a Config. It never stops at the first
// problem: each is appended to errs, and the walk goes on with the next key.
type decoder struct {
	file    string
	lookup  func(string) (string, bool)
	errs    ErrorList
	entries int // mapping entries walked, against maxEntries
	depth   int // merge keys being followed, against maxMergeDepth
	now     func() time.Time
}

// clock is the time dates in the file are judged against.
func (d *decoder) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into a positioned Error. yaml.v3
// gives no column, and its line is the start of the enclosing construct,
// zero-based (the line above a broken flow mapping), so the position comes
// from goccy/go-yaml's parser, which reports the token it stopped at; the
// message stays yaml.v3's, which decoding agrees with. A tab in the
// indentation gets a message that says what to do.
func (d *decoder) syntaxError(data []byte, err error) {
	msg := err.Error()
	e := &Error{File: d.file, Syntax: true}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line, col, ok := locateSyntaxError(data); ok {
		e.Line, e.Column = line, col
	}
	if line, col, ok := indentTab(data); ok && (strings.Contains(msg, "tab") || e.Line == line) {
		e.Line, e.Column = line, col
		msg = "tabs are not allowed: indent with spaces"
	}
	e.Msg = "yaml: " + msg
	d.errs = append(d.errs, e)
}

// locateSyntaxError returns where goccy/go-yaml's parser stops on data.
func locateSyntaxError(data []byte) (line, col int, ok bool) {
	_, err := goyamlparser.ParseBytes(data, 0)
	var se *goyaml.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line <= 0 {
		return 0, 0, false
	}
	return se.Token.Position.Line, max(se.Token.Position.Column, 1), true
}

// indentTab returns the first tab in the leading white space of a line,
// where YAML forbids it, skipping block scalars' contents only roughly
// (yaml.v3 has already failed, so a false hit costs nothing but a hint).
func indentTab(data []byte) (line, col int, ok bool) {
	for i, l := range strings.Split(string(data), "\n") {
		for j, r := range l {
			if r == '\t' {
				return i + 1, j + 1, true
			}
			if r != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

// Sentinels stand in for the braces of a ${VAR} while YAML is parsed:
// DESIGN.md's own example writes `auth: {token: ${CRMKPI_WEB_TOKEN}}`, and in
// a flow mapping YAML would read the variable's "}" as the mapping's end.
// Private-use runes are printable to YAML and no indicator of it, count one
// column each like the braces they replace, and are put back in every node
// before anything reads a value.
const (
	varOpen  = '\uE000'
	varClose = '\uE001'
)

var varRE = regexp.MustCompile(`\$\{[^{}\n]*\}`)

// protectVars replaces the braces of every ${...} in data by the sentinels.
// A file that already holds a sentinel rune is left alone, so restoring
// cannot turn the file's own text into braces.
func protectVars(data []byte) []byte {
	if bytes.ContainsRune(data, varOpen) || bytes.ContainsRune(data, varClose) {
		return data
	}
	return varRE.ReplaceAllFunc(data, func(m []byte) []byte {
		out := make([]byte, 0, len(m)+4)
		out = append(out, '$')
		out = utf8.AppendRune(out, varOpen)
		out = append(out, m[2:len(m)-1]...)
		return utf8.AppendRune(out, varClose)
	})
}

var varRestorer = strings.NewReplacer(string(varOpen), "{", string(varClose), "}")

// restoreVars puts the braces protectVars took back into n and below.
func restoreVars(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Value = varRestorer.Replace(n.Value)
	for _, c := range n.Content {
		restoreVars(c, seen)
	}
}

// decodeFile parses data into nodes and then into a Config.
func (d *decoder) decodeFile(data []byte) *Config {
	data = protectVars(data)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		d.syntaxError(data, err)
		return nil
	}
	restoreVars(&doc, map[*yaml.Node]bool{})
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "a second YAML document; the config is one document")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(data, err)
	}
	cfg := Default()
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return cfg
		}
		root = root.Content[0]
	}
	if root.Kind == 0 || isNull(root) {
		return cfg
	}
	d.decodeConfig(root, cfg)
	return cfg
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "nothing"
}

// entry is one key: value pair of a mapping.
type entry struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the entries of the mapping n in file order, with the
// entries of "<<" merge keys after them where not overridden. Keys that
// appear twice are reported. expandKeys expands ${VAR} in keys, for maps
// whose keys the user chooses (currencies, teams, periods); schema keys are
// never expanded. It reports and returns false when n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, expandKeys bool) ([]entry, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping, got %s", orTop(path), kindName(n))
		return nil, false
	}
	var out []entry
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if d.entries++; d.entries > maxEntries {
			d.errorf(k, "too many entries (aliases expand to more than %d)", maxEntries)
			return out, false
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: want a string key, got %s", orTop(path), kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := k.Value
		if expandKeys {
			var ok bool
			if key, ok = d.expand(k, join(path, k.Value)); !ok {
				continue
			}
		}
		if first, dup := seen[key]; dup {
			d.errorf(k, "%s: duplicate key (first at line %d)", join(path, key), first.Line)
			continue
		}
		seen[key] = k
		out = append(out, entry{key, k, v})
	}
	for _, m := range merges {
		m = resolve(m)
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if resolve(src).Kind != yaml.MappingNode {
				d.errorf(src, "%s: merge key (<<) wants a mapping, got %s", orTop(path), kindName(src))
				continue
			}
			if d.depth++; d.depth > maxMergeDepth {
				d.errorf(src, "%s: merge keys (<<) nested more than %d deep", orTop(path), maxMergeDepth)
				return out, false
			}
			es, ok := d.mapping(src, path, expandKeys)
			d.depth--
			if !ok {
				return out, false
			}
			for _, e := range es {
				if _, dup := seen[e.key]; !dup {
					seen[e.key] = e.k
					out = append(out, e)
				}
			}
		}
	}
	return out, true
}

// field decodes the value of one known key. It returns false when it
// reported a problem with the value, so that checks which combine keys do
// not report the same problem again.
type field func(v *yaml.Node, path string) bool

// fields walks the mapping n, calling each key's field function and
// reporting unknown keys. It returns the value node of every key present and
// the keys whose value was wrong.
func (d *decoder) fields(n *yaml.Node, path string, known map[string]field) (present map[string]*yaml.Node, bad map[string]bool) {
	present, bad = map[string]*yaml.Node{}, map[string]bool{}
	es, ok := d.mapping(n, path, false)
	if !ok {
		bad[""] = true
		return present, bad
	}
	for _, e := range es {
		f, ok := known[e.key]
		if !ok && path == "" && strings.HasPrefix(e.key, "x-") {
			// Top-level "x-" keys hold YAML anchors for merge keys, as in
			// Docker Compose files; they are not read.
			continue
		}
		if !ok {
			d.unknownKey(e.k, join(path, e.key), "key", slices.Collect(maps.Keys(known)))
			continue
		}
		present[e.key] = e.v
		if !f(e.v, join(path, e.key)) {
			bad[e.key] = true
		}
	}
	return present, bad
}

// unknownKey reports k as an unknown what, suggesting the nearest of names.
func (d *decoder) unknownKey(k *yaml.Node, path, what string, names []string) {
	best, bestDist := "", 3
	for _, name := range names {
		if dist := editDistance(k.Value, name); dist < bestDist || dist == bestDist && name < best {
			best, bestDist = name, dist
		}
	}
	if best != "" {
		d.errorf(k, "%s: unknown %s (did you mean %s?)", path, what, best)
		return
	}
	if what == "KPI" {
		d.errorf(k, "%s: unknown KPI (want one of %s)", path, strings.Join(names, ", "))
		return
	}
	d.errorf(k, "%s: unknown %s", path, what)
}

// editDistance is the Levenshtein distance, for "did you mean".
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "config"
	}
	return path
}

// expand returns the scalar's value with ${VAR} expanded, reporting each
// missing variable at the scalar's line.
func (d *decoder) expand(n *yaml.Node, path string) (string, bool) {
	s, missing, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.errorf(n, "%s: %v", path, err)
		return "", false
	}
	for _, name := range missing {
		d.errorf(n, "%s: ${%s} is not set in the environment", path, name)
	}
	return s, len(missing) == 0
}

// expandEnv replaces ${VAR} by the variable's value and ${VAR:-default} by
// the value, or default when VAR is unset or empty. "$${" is a literal "${";
// any other "$" is kept as it is, so passwords with a "$" need no escaping.
// It returns the names of unset variables that have no default.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	var missing []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), missing, nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", nil, errors.New(`unterminated "${"`)
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", nil, fmt.Errorf("bad variable name %q in ${...}", name)
		}
		v, ok := lookup(name)
		switch {
		case hasDef && v == "":
			b.WriteString(def)
		case ok:
			b.WriteString(v)
		default:
			missing = append(missing, name)
		}
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !('A' <= r && r <= 'Z') && !('a' <= r && r <= 'z') && (i == 0 || !('0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

// scalar returns the scalar n with ${VAR} expanded, as a node that yaml.v3
// can decode. An expanded value is typed by its text, as if written plain
// in the file, so `rate_limit: "${RATE}"` is a number when $RATE is one.
func (d *decoder) scalar(n *yaml.Node, path, want string) (*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: want %s, got %s", path, want, kindName(n))
		return nil, false
	}
	if !strings.Contains(n.Value, "${") {
		return n, true
	}
	s, ok := d.expand(n, path)
	if !ok {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: n.Line, Column: n.Column}, true
}

// str decodes any scalar as a string; null is "".
func (d *decoder) str(n *yaml.Node, path string, dst *string) bool {
	s, ok := d.scalar(n, path, "a string")
	if !ok {
		return false
	}
	if s.ShortTag() == "!!null" {
		*dst = ""
		return true
	}
	*dst = s.Value
	return true
}

func (d *decoder) secret(n *yaml.Node, path string, dst *Secret) bool {
	var s string
	ok := d.str(n, path, &s)
	*dst = Secret(s)
	return ok
}

// quote shows a value in an error message, cut short.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

func (d *decoder) float(n *yaml.Node, path string, dst *float64) bool {
	s, ok := d.scalar(n, path, "a number")
	if !ok {
		return false
	}
	var f float64
	if err := s.Decode(&f); err != nil || s.ShortTag() == "!!null" || s.ShortTag() == "!!bool" {
		d.errorf(s, "%s: want a number, got %s", path, quote(s.Value))
		return false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(s, "%s: want a finite number", path)
		return false
	}
	*dst = f
	return true
}

func (d *decoder) int(n *yaml.Node, path string, dst *int) bool {
	s, ok := d.scalar(n, path, "an integer")
	if !ok {
		return false
	}
	// yaml.v3 truncates a float into an int; 2.5 must be an error instead.
	var i int
	if err := s.Decode(&i); err != nil || s.ShortTag() != "!!int" {
		d.errorf(s, "%s: want an integer, got %s", path, quote(s.Value))
		return false
	}
	*dst = i
	return true
}

func (d *decoder) bool(n *yaml.Node, path string, dst *bool) bool {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false
	}
	switch s.Value {
	case "true", "True", "TRUE":
		*dst = true
	case "false", "False", "FALSE":
		*dst = false
	default:
		d.errorf(s, "%s: want true or false, got %s", path, quote(s.Value))
		return false
	}
	return true
}

// duration decodes a positive Go duration such as "30s" or "24h".
func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) bool {
	var s string
	if !d.str(n, path, &s) {
		return false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, "%s: bad duration %s (want e.g. \"30s\", \"10m\", \"24h\")", path, quote(s))
		return false
	}
	if v <= 0 {
		d.errorf(n, "%s: must be positive", path)
		return false
	}
	*dst = v
	return true
}
