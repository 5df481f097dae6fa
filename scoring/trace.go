package scoring

import (
	"time"

	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// tracer records, while the model computes every manager's figures, what
// the computation does with the records of one manager in P: which it
// counted and the decisions that placed each one in or out. Explain builds
// its rows from these notes, so that the records and the arithmetic it
// shows are those the score was computed from, not a second reading of
// the rules. The model calls it only when Explain set model.tr, and only
// for that manager and for P (tracing); nothing it records changes a
// figure.
type tracer struct {
	key string // the manager's key
	mgr int32  // its index in model.managers, -1 until the model has it
	// near0 and near1 bound the records listed as just outside P: a
	// week either side of it.
	near0, near1 int64

	// acts are the activities of the window read that the manager owns or
	// that are on the manager's clients, as read (with their ids), with
	// what the model made of them in notes.
	acts  []rows.Activity
	notes []actNote
	// answerBy is, per client of the manager, 1 + the index in acts of the
	// earliest answer of the owner seen so far (the activities come latest
	// first), as model.answerAt holds its time.
	answerBy map[int32]int32

	// unkeptDeals are deals of the manager the model did not keep: none
	// of its figures can need them, but explain lists those closed just
	// after P as outside it.
	unkeptDeals []unkeptDeal

	// What periodStats did for P.
	answers  []int32 // indexes in model.nps of the answers on the manager's clients
	clients  []clientNote
	ranked   []rankNote // the manager's clients ranked by revenue in the lookback
	keys     []int32    // the key clients
	keyDeals []keyDealNote
	own      []dealNote
	fixed    float64 // the fixed cost of P
	stats    stats   // the manager's figures for P, as kpiValues took them
}

// nearby is how far outside P explain lists records as left out for
// their time: enough to show on which side of a boundary a record fell.
const nearby = 7 * 24 * time.Hour

func newTracer(key string, p Period) *tracer {
	return &tracer{key: key, mgr: -1, answerBy: map[int32]int32{},
		near0: micros(p.Start.Add(-nearby)), near1: micros(p.End.Add(nearby))}
}

// near reports whether t (Unix microseconds) is within nearby of P.
func (t *tracer) near(at int64) bool { return at >= t.near0 && at < t.near1 }

// actNote is what the model made of one traced activity.
type actNote struct {
	client, owner int32 // -1 for none
	flags         uint8
	// inP is set when the activity occurred in P.
	inP bool
	// For an inbound activity in P on the manager's clients: responded is
	// set, hours is what it added to the median, answeredAt the time of
	// the client owner's earliest answer at or after it (noTime for none)
	// and answer 1 + the index of that answer in acts (0 for none).
	responded  bool
	hours      float64
	answeredAt int64
	answer     int32
}

type unkeptDeal struct {
	row    rows.Deal
	client int32
}

// clientNote is one client of the manager in the retention count.
type clientNote struct {
	c                      int32
	activeStart, activeEnd bool
}

// rankNote is one client in the key-client ranking: its revenue in the
// lookback and rank; key when within the top.
type rankNote struct {
	c    int32
	rev  float64
	rank int
	key  bool
}

// keyDealNote is one won deal of a key client summed into the revenue of
// P (window 0) or of P-1 (window 1).
type keyDealNote struct {
	d      int32
	window int
	rev    float64
	ok     bool
}

// dealNote is one deal of the manager in the own-deals loop of P.
type dealNote struct {
	d            int32
	closedIn     bool
	rev, exp     float64
	revOK, expOK bool
}

// tracing is the tracer when the model computes period k for Explain, nil
// otherwise: only P is explained.
func (m *model) tracing(k int) *tracer {
	if m.tr == nil || k != 0 || m.tr.mgr < 0 {
		return nil
	}
	return m.tr
}

// activity records a traced activity and returns 1 + its index.
func (t *tracer) activity(r *rows.Activity, client, owner int32, flags uint8) int32 {
	t.acts = append(t.acts, *r)
	t.notes = append(t.notes, actNote{client: client, owner: owner, flags: flags, answeredAt: noTime})
	return int32(len(t.acts))
}

// response records what an inbound activity in P added to the median.
func (t *tracer) response(a act, hours float64, answeredAt int64) {
	n := &t.notes[a.tr-1]
	n.responded, n.hours, n.answeredAt = true, hours, answeredAt
	if answeredAt != noTime {
		n.answer = t.answerBy[a.client]
	}
}

// unkept records a deal of the manager the model did not keep, when it
// closed near P.
func (t *tracer) unkept(r *rows.Deal, client int32) {
	if r.ClosedAt.Valid && t.near(micros(r.ClosedAt.Time)) {
		t.unkeptDeals = append(t.unkeptDeals, unkeptDeal{row: *r, client: client})
	}
}
