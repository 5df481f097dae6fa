package notify

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/scoring"
)

// sampleExplanation is Anna's closed_won of October 2026 with three
// records: one that counts, one in a currency without a rate, and a
// deleted one whose CRM name is a spreadsheet formula with a control
// character in it.
func sampleExplanation() *scoring.Explanation {
	at := func(d, h int) *time.Time { t := time.Date(2026, 10, d, h, 0, 0, 0, msk); return &t }
	return &scoring.Explanation{
		Manager: "anna@example.com", Name: "Anna Petrova", KPI: "closed_won", Label: "Successfully closed deals", Unit: "deals",
		Period:   sampleReport().Period,
		Currency: "RUB", Value: f(2), Formula: "2 won deals",
		Records: []scoring.ExplainedRecord{
			{Kind: "deal", Connector: "amo", ID: "D2", Name: "Acme renewal", Client: "Acme", Time: at(1, 1), Stage: "Won",
				Amount: f(50000), Currency: "RUB", Reporting: f(50000), Owner: "anna@example.com", Counts: true, Why: "won in the period",
				Link: "https://example.amocrm.ru/leads/detail/D2"},
			{Kind: "deal", Connector: "amo", ID: "D5", Name: "Beta euro", Client: "Beta", Time: at(31, 23), Stage: "Won",
				Amount: f(2000.5), Currency: "EUR", Owner: "anna@example.com", Counts: true,
				Why: "won in the period; no fx rate for EUR into RUB, so it is left out of revenue only"},
			{Kind: "deal", Connector: "amo", ID: "D10", Name: "=HYPERLINK(\"http://evil\")\x1b[2J", Client: "Acme", Time: at(10, 10),
				Stage: "won", Amount: f(999999), Currency: "RUB", Reporting: f(999999), Owner: "anna@example.com", Why: "deleted in the CRM"},
		},
	}
}

func TestWriteExplanationCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExplanationCSV(&b, sampleExplanation()); err != nil {
		t.Fatal(err)
	}
	want := `counts,kind,connector,id,name,client,time,stage,amount,currency,amount_reporting,figure,owner,why,link
true,deal,amo,D2,Acme renewal,Acme,2026-10-01T01:00:00+03:00,Won,50000,RUB,50000,,anna@example.com,won in the period,https://example.amocrm.ru/leads/detail/D2
true,deal,amo,D5,Beta euro,Beta,2026-10-31T23:00:00+03:00,Won,2000.5,EUR,,,anna@example.com,"won in the period; no fx rate for EUR into RUB, so it is left out of revenue only",
false,deal,amo,D10,"'=HYPERLINK(""http://evil"")` + "\x1b" + `[2J",Acme,2026-10-10T10:00:00+03:00,won,999999,RUB,999999,,anna@example.com,deleted in the CRM,
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("CSV mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteExplanationGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExplanation(&b, sampleExplanation()); err != nil {
		t.Fatal(err)
	}
	goldenText(t, "explain.txt", b.String())
	e := sampleExplanation()
	e.Value, e.Reason, e.Records, e.Formula = nil, s("no revenue in the period"), nil, "n/a: no revenue in the period"
	b.Reset()
	if err := WriteExplanation(&b, e); err != nil {
		t.Fatal(err)
	}
	want := "Anna Petrova — Successfully closed deals — October 2026\nValue: n/a (no revenue in the period)\nHow: n/a: no revenue in the period\nNo records.\n"
	if b.String() != want {
		t.Errorf("n/a explanation = %q, want %q", b.String(), want)
	}
}
