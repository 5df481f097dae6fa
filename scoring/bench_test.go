package scoring

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// benchDataset is a large account book: 200 managers over two connectors,
// 20,000 companies, 40,000 contacts, 100,000 deals over two years and
// 1,000,000 activities in the window Compute reads for October 2026
// (September to 7 November).
func benchDataset() *dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	conns := []string{"amo", "hub"}
	d := &dataset{}
	for i := range 200 {
		d.Users = append(d.Users, rows.User{Connector: conns[i%2], ID: fmt.Sprint(i), Active: true, Email: fmt.Sprintf("m%d@example.com", i/2*2+i%2*(i%4/2))})
	}
	user := func(c int) string { return fmt.Sprint(rng.IntN(100)*2 + c) }
	const companies, contacts = 20000, 40000
	for i := range companies {
		c := i % 2
		d.Companies = append(d.Companies, rows.Company{Connector: conns[c], ID: fmt.Sprint(i), OwnerID: user(c)})
	}
	for i := range contacts {
		c := i % 2
		ct := rows.Contact{Connector: conns[c], ID: fmt.Sprint(i), CompanyID: fmt.Sprint(rng.IntN(companies/2)*2 + c), OwnerID: user(c)}
		if rng.IntN(10) == 0 {
			ct.NPSScore = nf(float64(rng.IntN(11)))
			ct.NPSAt = nt(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(100 * 24 * time.Hour)))))
		}
		d.Contacts = append(d.Contacts, ct)
	}
	base := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100000 {
		c := i % 2
		created := base.Add(time.Duration(rng.Int64N(int64(730 * 24 * time.Hour))))
		dl := rows.Deal{Connector: conns[c], ID: fmt.Sprint(i), OwnerID: user(c),
			CompanyID: fmt.Sprint(rng.IntN(companies/2)*2 + c), Amount: nf(float64(rng.IntN(1000000))), Currency: []string{"RUB", "USD", "EUR"}[rng.IntN(3)],
			CreatedAt: created, Status: rows.DealOpen}
		switch rng.IntN(5) {
		case 0, 1, 2:
			dl.Status = rows.DealWon
		case 3:
			dl.Status = rows.DealLost
		}
		if dl.Status != rows.DealOpen {
			dl.ClosedAt = nt(created.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))))
		}
		d.Deals = append(d.Deals, dl)
	}
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	span := int64(67 * 24 * time.Hour)
	types := []string{"call", "email", "meeting", "message", "note", "task"}
	dirs := []string{"inbound", "outbound"}
	for i := range 1000000 {
		c := i % 2
		a := rows.Activity{Connector: conns[c], Type: types[rng.IntN(6)], Direction: dirs[rng.IntN(2)],
			OwnerID: user(c), OccurredAt: from.Add(time.Duration(rng.Int64N(span))), Completed: rng.IntN(2) == 0}
		switch rng.IntN(3) {
		case 0:
			a.CompanyID = fmt.Sprint(rng.IntN(companies/2)*2 + c)
		case 1:
			a.ContactID = fmt.Sprint(rng.IntN(contacts/2)*2 + c)
		default:
			a.DealID = fmt.Sprint(rng.IntN(50000)*2 + c)
		}
		if a.Type == "task" && rng.IntN(5) == 0 {
			a.Subject = "#team " + fmt.Sprint(i)
		}
		d.Activities = append(d.Activities, a)
	}
	return d
}

// BenchmarkCompute scores October 2026 (and September beside it) on the
// data set in memory: the model and the scans' pipeline, without a
// database.
func BenchmarkCompute(b *testing.B) {
	d := benchDataset()
	opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90}}
	p := Period{Kind: Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	var r *Report
	for b.Loop() {
		r = computeFrom(d, opts, p)
	}
	b.ReportMetric(float64(len(d.Deals)+len(d.Activities))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if len(r.Managers) == 0 {
		b.Fatal("no scorecards")
	}
}
