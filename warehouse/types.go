package warehouse

import "time"

// Run statuses in sync_runs.
const (
	RunRunning   = "running"
	RunSucceeded = "ok"
	RunFailed    = "failed"
	// RunInterrupted is a run stopped by a signal or by its context's
	// end, or found running by a later holder of its connector after its
	// own holder was gone (killed, or cut off from the warehouse).
	RunInterrupted = "interrupted"
)

// SlackMessage is the outbox row of one posted Slack message, so a second
// notify for the same period updates the message instead of posting again.
type SlackMessage struct {
	PeriodKey string // e.g. "month:2026-10-01"
	Recipient string // manager key, or "channel:#sales-kpi" / "team:enterprise"
	Channel   string // the channel id Slack answered with (D... for DMs)
	TS        string
	Hash      string // hash of the payload, to skip unchanged updates
	UpdatedAt time.Time
}

// ObjectStatus is what `crmkpi status` shows for one connector and object.
type ObjectStatus struct {
	Connector string
	Object    string
	// LastRun is the newest row of sync_runs for this object.
	LastRunID  int64
	StartedAt  time.Time
	FinishedAt *time.Time
	Status     string // RunRunning, RunSucceeded, RunFailed or RunInterrupted
	Records    int
	Error      string
	// LastSuccess is the finish time of the newest succeeded run, nil if none.
	LastSuccess *time.Time
	// LastFailure is the finish time of the newest failed run, nil if none:
	// with LastSuccess it says whether the object is failing while a newer
	// run is still going.
	LastFailure *time.Time
	// NewestData is the newest updated_at stored for this object, nil if
	// no rows (for objects that map to a record table).
	NewestData *time.Time
}
