package bitrix24test

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entity names one of the fake's record tables.
type Entity string

// The tables the fake serves. Each crm.*.list method reads one.
const (
	Deals      Entity = "deal"     // crm.deal.list
	Contacts   Entity = "contact"  // crm.contact.list
	Companies  Entity = "company"  // crm.company.list
	Activities Entity = "activity" // crm.activity.list
	Users      Entity = "user"     // user.get
	Statuses   Entity = "status"   // crm.status.list
)

// Record is one record in Bitrix24's own wire shape: UPPER_CASE keys and,
// for crm.* tables, strings for numbers ({"ID":"37","OPPORTUNITY":"19999.99"}).
// Seeding code may pass Go numbers and time.Time values; the fake renders
// them as Bitrix24 does (decimal strings, portal-offset ISO 8601).
type Record map[string]any

type row struct {
	fields Record
	mod    time.Time // DATE_MODIFY / LAST_UPDATED, parsed once for filters
}

// table keeps rows indexed by id and the ids sorted, so an ID-ordered scan
// from ">ID" is a binary search, which a 200k-row data set needs.
type table struct {
	entity  Entity
	rows    map[int64]*row
	ids     []int64
	nextID  int64
	created string // creation-time field
	mod     string // modified-time field ("" for users and statuses)
	crm     bool   // crm.* tables send numbers as strings
}

func newTable(e Entity) *table {
	t := &table{entity: e, rows: map[int64]*row{}, nextID: 1, crm: true, created: "DATE_CREATE", mod: "DATE_MODIFY"}
	switch e {
	case Activities:
		t.created, t.mod = "CREATED", "LAST_UPDATED"
	case Users:
		t.created, t.mod, t.crm = "DATE_REGISTER", "", false
	case Statuses:
		t.created, t.mod = "", ""
	}
	return t
}

func (t *table) put(id int64, r *row) {
	if _, ok := t.rows[id]; !ok {
		i := sort.Search(len(t.ids), func(i int) bool { return t.ids[i] >= id })
		if i == len(t.ids) {
			t.ids = append(t.ids, id)
		} else {
			t.ids = append(t.ids, 0)
			copy(t.ids[i+1:], t.ids[i:])
			t.ids[i] = id
		}
	}
	t.rows[id] = r
	if id >= t.nextID {
		t.nextID = id + 1
	}
}

func (t *table) remove(id int64) bool {
	if _, ok := t.rows[id]; !ok {
		return false
	}
	delete(t.rows, id)
	i := sort.Search(len(t.ids), func(i int) bool { return t.ids[i] >= id })
	if i < len(t.ids) && t.ids[i] == id {
		t.ids = append(t.ids[:i], t.ids[i+1:]...)
	}
	return true
}

// normalize renders seed values in the wire shape of the table.
func normalize(v any, crm bool, loc *time.Location) any {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x, loc)
	case *time.Time:
		if x == nil {
			return nil
		}
		return formatTime(*x, loc)
	case int:
		if crm {
			return strconv.Itoa(x)
		}
		return x
	case int64:
		if crm {
			return strconv.FormatInt(x, 10)
		}
		return x
	case float64:
		if crm {
			return strconv.FormatFloat(x, 'f', 2, 64)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = normalize(y, crm, loc)
		}
		return out
	case Record:
		return normalize(map[string]any(x), crm, loc)
	case []map[string]any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = normalize(y, crm, loc)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = normalize(y, crm, loc)
		}
		return out
	}
	return v
}

// formatTime renders t as Bitrix24 does: seconds, the portal's offset.
func formatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05-07:00")
}

// parseTime reads a datetime from a record or a filter. Values without an
// offset are wall-clock times in the portal's zone. A value with an offset
// is read as wall-clock time too, ignoring the offset: that is the behaviour
// reported in bitrix-tools/b24-rest-docs #215, and the strictest reading a
// client can meet, so a client that sends UTC to a +03:00 portal fails here
// as it would there.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "02.01.2006 15:04:05", "02.01.2006"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseRecordTime reads a time the fake itself stored; it honours the
// offset (the fake writes the portal's, so both readings agree).
func parseRecordTime(v any, loc *time.Location) time.Time {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	t, _ := parseTime(s, loc)
	return t
}

// cond is one filter condition, e.g. ">=DATE_MODIFY".
type cond struct {
	op    string // "=", "!", ">", ">=", "<", "<=", "%"
	field string
	vals  []string
}

func parseFilter(f map[string]any) []cond {
	var out []cond
	for k, v := range f {
		c := cond{op: "="}
		for _, op := range []string{">=", "<=", "!=", "=", ">", "<", "!", "%"} {
			if strings.HasPrefix(k, op) {
				c.op = op
				k = k[len(op):]
				break
			}
		}
		if c.op == "!=" {
			c.op = "!"
		}
		c.field = k
		switch x := v.(type) {
		case []any:
			for _, y := range x {
				c.vals = append(c.vals, scalar(y))
			}
		default:
			c.vals = []string{scalar(x)}
		}
		out = append(out, c)
	}
	return out
}

// match applies c to one record. Numbers compare as numbers, datetimes as
// times, anything else as strings, as MySQL would after PHP's casts; a
// value that is not a number where one is expected compares as 0 (so an
// unresolved "$result[...]" reference scans from the start, as MySQL's cast
// of a non-numeric string does).
func (c cond) match(r *row, loc *time.Location) bool {
	have := r.fields[c.field]
	if c.op == "=" || c.op == "!" {
		hit := false
		for _, v := range c.vals {
			if equalValue(have, v) {
				hit = true
				break
			}
		}
		return hit == (c.op == "=")
	}
	if len(c.vals) == 0 {
		return false
	}
	want := c.vals[0]
	if c.op == "%" {
		return strings.Contains(strings.ToLower(scalar(have)), strings.ToLower(want))
	}
	var cmp int
	if ht, ok := timeOf(have, loc); ok && looksLikeTime(want) {
		wt, _ := parseTime(want, loc)
		cmp = ht.Compare(wt)
	} else if hn, err := strconv.ParseFloat(scalar(have), 64); err == nil {
		wn, err := strconv.ParseFloat(want, 64)
		if err != nil {
			wn = 0
		}
		switch {
		case hn < wn:
			cmp = -1
		case hn > wn:
			cmp = 1
		}
	} else {
		cmp = strings.Compare(scalar(have), want)
	}
	switch c.op {
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	}
	return false
}

func equalValue(have any, want string) bool {
	switch h := have.(type) {
	case bool:
		w := strings.ToUpper(want)
		return h == (w == "Y" || w == "TRUE" || w == "1")
	case []any:
		for _, x := range h {
			if scalar(x) == want {
				return true
			}
		}
		return false
	}
	return scalar(have) == want
}

func looksLikeTime(s string) bool {
	return len(s) >= 10 && (s[4] == '-' || s[2] == '.')
}

func timeOf(v any, loc *time.Location) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || !looksLikeTime(s) {
		return time.Time{}, false
	}
	t := parseRecordTime(s, loc)
	return t, !t.IsZero()
}
