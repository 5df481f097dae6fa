package bitrix24test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// parsePHPQuery reads a query string the way PHP's parse_str does, which is
// how Bitrix24 reads GET parameters and the sub-calls of a batch:
// "filter[>ID]=5&select[0]=ID&select[]=TITLE" becomes
// {"filter":{">ID":"5"},"select":["ID","TITLE"]}.
func parsePHPQuery(q string) (map[string]any, error) {
	root := map[string]any{}
	for _, pair := range strings.Split(q, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("bad query key %q", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("bad query value for %q", key)
		}
		insertPHP(root, splitPHPKey(key), val)
	}
	return normalizePHP(root).(map[string]any), nil
}

func splitPHPKey(k string) []string {
	i := strings.IndexByte(k, '[')
	if i <= 0 {
		return []string{k}
	}
	parts := []string{k[:i]}
	rest := k[i:]
	for strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		parts = append(parts, rest[1:j])
		rest = rest[j+1:]
	}
	return parts
}

func insertPHP(m map[string]any, path []string, v string) {
	for i, p := range path {
		if p == "" {
			p = strconv.Itoa(len(m))
		}
		if i == len(path)-1 {
			m[p] = v
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
}

// normalizePHP turns maps whose keys are all indexes into lists, as PHP
// arrays with 0..n-1 keys behave as lists.
func normalizePHP(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	allIdx := len(m) > 0
	for k, x := range m {
		m[k] = normalizePHP(x)
		if _, err := strconv.Atoi(k); err != nil {
			allIdx = false
		}
	}
	if !allIdx {
		return m
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		n, _ := strconv.Atoi(k)
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[strconv.Itoa(k)])
	}
	return out
}

// param helpers read values that arrive as JSON types or as PHP strings.

func pMap(p map[string]any, key string) map[string]any {
	if v, ok := lookupCI(p, key).(map[string]any); ok {
		return v
	}
	return nil
}

func pList(p map[string]any, key string) []string {
	switch v := lookupCI(p, key).(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, scalar(x))
		}
		return out
	case map[string]any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, scalar(x))
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

func pInt(p map[string]any, key string, def int) int {
	v := lookupCI(p, key)
	if v == nil {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(scalar(v)))
	if err != nil {
		return def
	}
	return n
}

func pString(p map[string]any, key string) string {
	return scalar(lookupCI(p, key))
}

// lookupCI finds key in p, falling back to a case-insensitive match:
// Bitrix24 accepts "filter" and "FILTER" alike.
func lookupCI(p map[string]any, key string) any {
	if v, ok := p[key]; ok {
		return v
	}
	for k, v := range p {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// scalar renders a JSON or PHP value as the string PHP would compare.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "Y"
		}
		return "N"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		return x.String()
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}
