// Package reliability holds crmkpi's fault-injection tests: CRM faults from
// the connectors' fakes (and from a rewriting transport for the faults no
// fake has a knob for) driven through the sync engine into the warehouse,
// warehouse faults, hostile CRM text carried through to Slack, and a load
// test of many connectors syncing at once. RELIABILITY.md at the repository
// root lists every fault tried, what crmkpi does about it and the test that
// shows it.
//
// The package has no non-test code besides this comment.
package reliability
