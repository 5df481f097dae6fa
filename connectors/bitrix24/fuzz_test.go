package bitrix24

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// FuzzDecode feeds arbitrary bytes to everything that reads a Bitrix24
// answer: the row mappers, the batch envelope, error bodies, datetimes and
// operating_reset_at. None may panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{sampleDeals, sampleContacts, sampleStages, sampleActivities, sampleUsers} {
		var rs []json.RawMessage
		json.Unmarshal([]byte(s), &rs)
		for _, r := range rs {
			f.Add(string(r))
		}
	}
	f.Add(`{"result":{"result":{"c00":[{"ID":"1"}]},"result_error":[],"result_total":{"c00":1},"result_next":[]},"time":{"date_start":"2024-08-29T10:34:19+03:00","operating_reset_at":1725292715}}`)
	f.Add(`{"error":"OPERATION_TIME_LIMIT","error_description":"x","time":{"operating_reset_at":"2024-08-26T16:11:37+03:00"}}`)
	f.Add(`{"ID":{},"DATE_MODIFY":"{}","OPPORTUNITY":"1e400","EMAIL":[{"VALUE":5}],"UF_CRM_KEY":{"a":1}}`)
	f.Add(`24.08.2023 13:19:39`)
	f.Add(`[]`)
	m := testMapper()
	c := &Client{opts: Options{Now: func() time.Time { return seenT }}}
	f.Fuzz(func(t *testing.T, s string) {
		raw := json.RawMessage(s)
		m.deal(raw)
		m.contact(raw)
		m.company(raw)
		m.activity(raw)
		m.user(raw)
		m.stage(raw, "1", "x")
		p := &connectors.Page{}
		var rows []json.RawMessage
		if json.Unmarshal(raw, &rows) == nil {
			m.mapRows(connectors.ObjectDeals, rows, p)
		}
		parseTime(s, msk)
		parseResetAt(raw)
		var pm connectors.Map
		json.Unmarshal(raw, &pm)
		for _, st := range []int{200, 400, 401, 429, 503} {
			c.classify(st, http.Header{}, []byte(s))
		}
		var env envelope
		if json.Unmarshal(raw, &env) == nil {
			c.learn(timeOf(env.Time))
			decodeRows(env.Result)
			scopeList(env.Result)
		}
	})
}
