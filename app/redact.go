package app

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/warehouse"
)

// The connectors' clients redact what they return; the process redacts
// again where text leaves it (stderr, logs, sync_runs.error), with every
// secret of the config, so an error made anywhere else (a warehouse
// driver, a library) cannot carry one out either.

// configSecrets returns every Secret value in cfg: tokens, webhook URLs,
// OAuth client secrets and refresh tokens, and the password of the DSN
// (the rest of a DSN, a host or a SQLite path, is no secret and is named
// in messages).
func configSecrets(cfg *config.Config) []string {
	var out []string
	if u, err := url.Parse(cfg.Warehouse.DSN.Value()); err == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	dsn := reflect.ValueOf(&cfg.Warehouse.DSN).Pointer()
	secretType := reflect.TypeFor[config.Secret]()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Value())
			}
		case reflect.String:
			if v.CanAddr() && v.Addr().Pointer() == dsn {
				return
			}
			if v.Type() == secretType && v.String() != "" {
				out = append(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(cfg))
	return out
}

// redactHandler redacts the message and every string, error and
// Stringer attribute of the records it passes on.
type redactHandler struct {
	next slog.Handler
	r    *redact.Redactor
}

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return redactHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{next: h.next.WithGroup(name), r: h.r}
}

func (h redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.r.Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.r.Redact(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactWriter redacts each Write on its own: the run summary writes one
// line per call, and a secret never spans lines.
type redactWriter struct {
	w io.Writer
	r *redact.Redactor
}

func (w redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactedRuns is the warehouse with the error text of finished runs
// redacted before it is stored.
type redactedRuns struct {
	*warehouse.Store
	r *redact.Redactor
}

func (s redactedRuns) FinishRun(ctx context.Context, id int64, finished time.Time, status string, records int, errText string) error {
	return s.Store.FinishRun(ctx, id, finished, status, records, s.r.Redact(errText))
}
