// Package web serves the scorecard pages for managers: the team
// leaderboard of a period (/), one manager's KPIs, each with a trend chart
// (/managers/{key}) and the records behind one number
// (/managers/{key}/kpis/{kpi}, also as CSV and JSON).
//
// The pages are rendered on the server with html/template; the charts are
// inline SVG drawn here and the style sheet is embedded, so the pages need
// no JavaScript, no CDN and no build step, and work offline. They only
// read: every route answers GET and HEAD, anything else is 405.
//
// The data comes through Source, which the application layer implements
// over the warehouse and scoring; webtest has an in-memory one. Handler
// refuses an address other than loopback without web.auth from the
// config: the pages show what people are paid on.
package web
