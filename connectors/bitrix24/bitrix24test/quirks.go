package bitrix24test

import (
	"strings"
)

// The options in this file make the fake read the reference differently,
// as an independently written portal (or fake) may: a method left out,
// $result references resolved another way, fast mode or the ">ID" filter
// ignored, rows hidden after paging, envelopes shaped otherwise. Clients
// are tested against them to be sure they rely only on what every
// reasonable reading gives.

// RefMode is how batch resolves $result references.
type RefMode int

const (
	// RefsDecoded resolves references in the decoded parameters, whatever
	// their escaping (the default).
	RefsDecoded RefMode = iota
	// RefsRaw resolves them only in the raw command text, before it is
	// unescaped: only the documented literal form
	// filter[>ID]=$result[p1][49][ID] works.
	RefsRaw
	// RefsLiteral never resolves them: the text stays as sent.
	RefsLiteral
	// RefsStrict fails a sub-call whose reference does not resolve (past
	// the end of a short page) with 400 INVALID_REQUEST.
	RefsStrict
	// RefsRefused answers a whole batch that holds a reference with 400
	// INVALID_REQUEST, running none of it, as a portal that checks every
	// command before it runs one may.
	RefsRefused
)

type quirks struct {
	missing      map[string]bool
	refs         RefMode
	ignoreFast   bool
	ignoreIDScan bool
	ignoreStart  bool
	hidden       func(Record) bool
	edit         func(method string, env map[string]any)
}

// WithoutMethods makes the fake answer 404 ERROR_METHOD_NOT_FOUND to the
// named methods ("batch", "scope", "server.time", "crm.category.list"),
// as a request of their own and as batch sub-calls.
func WithoutMethods(methods ...string) Option {
	return func(s *Server) {
		if s.q.missing == nil {
			s.q.missing = map[string]bool{}
		}
		for _, m := range methods {
			s.q.missing[strings.ToLower(m)] = true
		}
	}
}

// WithRefMode sets how batch resolves $result references.
func WithRefMode(m RefMode) Option { return func(s *Server) { s.q.refs = m } }

// WithoutFastMode makes list methods treat start=-1 as start=0: every
// page counts its total and carries next.
func WithoutFastMode() Option { return func(s *Server) { s.q.ignoreFast = true } }

// WithoutIDFilter makes list methods ignore the ">ID" filter.
func WithoutIDFilter() Option { return func(s *Server) { s.q.ignoreIDScan = true } }

// WithoutStart makes list methods ignore start: every call reads from the
// first matching row (next and total are still sent).
func WithoutStart() Option { return func(s *Server) { s.q.ignoreStart = true } }

// WithHiddenRows drops rows for which hide is true from list pages after
// paging, as permission checks on a portal may: a page then has fewer
// than 50 rows while next (outside fast mode) says more remain.
func WithHiddenRows(hide func(Record) bool) Option { return func(s *Server) { s.q.hidden = hide } }

// WithEnvelopeEdit lets edit change every successful answer before it is
// written: method is the REST method ("batch" for batches), env the whole
// JSON object (result, total, next, time). Use it to drop total or
// time.date_start, or reshape result_next.
func WithEnvelopeEdit(edit func(method string, env map[string]any)) Option {
	return func(s *Server) { s.q.edit = edit }
}

func (s *Server) hideLocked(rows []any) []any {
	if s.q.hidden == nil {
		return rows
	}
	kept := rows[:0]
	for _, r := range rows {
		if !s.q.hidden(Record(r.(map[string]any))) {
			kept = append(kept, r)
		}
	}
	return kept
}
