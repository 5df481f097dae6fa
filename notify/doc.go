// Package notify renders scorecards for people and delivers them to Slack.
//
// Managers read crmkpi only through Slack, so the rendering here is the
// product's face: [ManagerMessage] builds one manager's direct message,
// [TeamMessage] a channel's leaderboard, and [WriteTable] the same content for
// a terminal. Every Block Kit message is checked by [Validate] against
// Slack's limits before it is sent.
//
// [Notifier.Deliver] posts the messages idempotently: an outbox row per
// (period, recipient) remembers the channel and timestamp of each posted
// message, so a second run for the same period updates the message with
// chat.update instead of posting it twice.
//
// Strings that come from a CRM (names, teams) are escaped for Slack
// (&, < and >) wherever they appear; the mrkdwn this package writes itself
// (<!date^...>, *bold*) is not.
package notify
