package bitrix24test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const maxBatch = 50

// refPattern matches a reference to an earlier sub-call's result, such as
// $result[p1][49][ID].
var refPattern = regexp.MustCompile(`\$result\[([^\]]+)\]((?:\[[^\]]*\])*)`)

// batchLocked runs the sub-calls of a batch in the order they were sent,
// substituting $result references, and answers in Bitrix24's shape:
// result, result_error, result_total, result_next, result_time, each an
// object keyed by command, or [] when empty (a PHP array quirk).
func (s *Server) batchLocked(params map[string]any, body []byte) (any, *apiError) {
	cmds := pMap(params, "cmd")
	if cmds == nil {
		if l, ok := lookupCI(params, "cmd").([]any); ok {
			cmds = map[string]any{}
			for i, v := range l {
				cmds[strconv.Itoa(i)] = v
			}
		}
	}
	if len(cmds) > maxBatch {
		return nil, &apiError{http.StatusBadRequest, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded"}
	}
	halt := pInt(params, "halt", 0) != 0
	order := cmdOrder(body, cmds)
	if s.q.refs == RefsRefused {
		for _, key := range order {
			if c := scalar(cmds[key]); strings.Contains(c, "$result") || strings.Contains(strings.ToLower(c), "%24result") {
				return nil, &apiError{http.StatusBadRequest, "INVALID_REQUEST", "Command " + key + ": bad filter value"}
			}
		}
	}

	results := map[string]any{}
	errs := map[string]any{}
	totals := map[string]any{}
	nexts := map[string]any{}
	times := map[string]any{}
	subFault := ""
	if len(s.subFaults) > 0 {
		subFault, s.subFaults = s.subFaults[0], s.subFaults[1:]
	}
commands:
	for i, key := range order {
		if i == 1 && subFault != "" {
			errs[key] = map[string]any{"error": subFault, "error_description": "Injected sub-call failure"}
			if halt {
				break
			}
			continue
		}
		raw := scalar(cmds[key])
		method, query, _ := strings.Cut(raw, "?")
		method = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(method), ".json"))
		// References are resolved on decoded values, so both the raw
		// "$result[..]" form and its percent-escaped form work; one that
		// cannot be resolved stays literal text, as Bitrix24 leaves it.
		if s.q.refs == RefsRaw {
			query = refPattern.ReplaceAllStringFunc(query, func(ref string) string {
				if v, ok := resolveRef(ref, results); ok {
					return v
				}
				return ref
			})
		}
		p, err := parsePHPQuery(query)
		if err != nil {
			errs[key] = map[string]any{"error": "INVALID_REQUEST", "error_description": err.Error()}
			if halt {
				break
			}
			continue
		}
		switch s.q.refs {
		case RefsDecoded:
			resolveRefs(p, results)
		case RefsStrict:
			resolveRefs(p, results)
			if strings.Contains(query, "result") && strings.Contains(scalar(pMap(p, "filter")[">ID"]), "$result") {
				errs[key] = map[string]any{"error": "INVALID_REQUEST", "error_description": "Unresolved reference"}
				if halt {
					break commands
				}
				continue commands
			}
		}
		if method == "batch" {
			errs[key] = map[string]any{"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"}
			if halt {
				break
			}
			continue
		}
		out, aerr := s.callLocked(method, p)
		if aerr != nil {
			errs[key] = map[string]any{"error": aerr.code, "error_description": aerr.desc}
			if halt {
				break
			}
			continue
		}
		results[key] = out.result
		if out.paged {
			totals[key] = out.total
			if out.hasNext {
				nexts[key] = out.next
			}
		}
		times[key] = s.timeBlockLocked(method)
	}
	return map[string]any{
		"result":       phpArray(results),
		"result_error": phpArray(errs),
		"result_total": phpArray(totals),
		"result_next":  phpArray(nexts),
		"result_time":  phpArray(times),
	}, nil
}

// phpArray renders an empty map as [], as PHP's json_encode does.
func phpArray(m map[string]any) any {
	if len(m) == 0 {
		return []any{}
	}
	return m
}

// resolveRefs replaces values that are whole $result references with the
// value they point at, walking nested parameters.
func resolveRefs(p map[string]any, results map[string]any) {
	for k, v := range p {
		switch x := v.(type) {
		case string:
			if val, ok := resolveRef(x, results); ok {
				p[k] = val
			}
		case map[string]any:
			resolveRefs(x, results)
		case []any:
			for i, y := range x {
				if s, ok := y.(string); ok {
					if val, ok := resolveRef(s, results); ok {
						x[i] = val
					}
				}
			}
		}
	}
}

func resolveRef(s string, results map[string]any) (string, bool) {
	m := refPattern.FindStringSubmatch(s)
	if m == nil || m[0] != s {
		return "", false
	}
	var cur any = results[m[1]]
	if cur == nil {
		return "", false
	}
	for _, part := range strings.Split(strings.Trim(m[2], "[]"), "][") {
		if part == "" {
			continue
		}
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return "", false
			}
			cur = c[i]
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return "", false
			}
			cur = v
		default:
			return "", false
		}
	}
	return scalar(cur), true
}

// cmdOrder lists the batch's command keys in the order the client sent
// them; Go maps forget it and Bitrix24 runs sub-calls in sending order.
func cmdOrder(body []byte, cmds map[string]any) []string {
	var keys []string
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '{' {
		keys = jsonObjectKeys(b, "cmd")
	} else {
		type pos struct {
			key string
			at  int
		}
		var ps []pos
		for k := range cmds {
			at := bytes.Index(body, []byte("cmd["+k+"]"))
			if at < 0 {
				at = bytes.Index(body, []byte("cmd%5B"+k+"%5D"))
			}
			ps = append(ps, pos{k, at})
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].at < ps[j].at })
		for _, p := range ps {
			keys = append(keys, p.key)
		}
	}
	if len(keys) != len(cmds) {
		keys = keys[:0]
		for k := range cmds {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	return keys
}

// jsonObjectKeys returns the keys of the object at field of the top-level
// JSON object, in document order.
func jsonObjectKeys(b []byte, field string) []string {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		name, _ := t.(string)
		if !strings.EqualFold(name, field) {
			var skip json.RawMessage
			if d.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := d.Token(); err != nil || t != json.Delim('{') {
			return nil
		}
		var keys []string
		for d.More() {
			t, err := d.Token()
			if err != nil {
				return nil
			}
			k, _ := t.(string)
			keys = append(keys, k)
			var skip json.RawMessage
			if d.Decode(&skip) != nil {
				return nil
			}
		}
		return keys
	}
	return nil
}
