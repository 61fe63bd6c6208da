// Package logsafe keeps what a library logs about values it was handed
// out of the log: Handler wraps a slog.Handler so that attributes holding
// arbitrary values (a message struct, a byte slice) are logged by their
// type, never by their contents.
//
// Why: protoactor logs dead letters and supervision failures with
// slog.Any("message", msg), and the gateway's messages carry request
// bodies (actors.Chat.Body) and configuration snapshots (which hold the
// resolved master key). At info level a dead letter would print them.
package logsafe

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Handler returns h with every attribute value of kind Any (and every
// group member's) replaced by its Go type, e.g. "*actors.Chat". Strings,
// numbers, booleans, times, durations and errors (their text: a panic's
// reason) pass; so do fmt.Stringer values whose type is listed in keep
// (by the "%T" name, e.g. "*actor.PID").
func Handler(h slog.Handler, keep ...string) slog.Handler {
	k := make(map[string]bool, len(keep))
	for _, t := range keep {
		k[t] = true
	}
	return &handler{h: h, keep: k}
}

type handler struct {
	h    slog.Handler
	keep map[string]bool
}

func (s *handler) Enabled(ctx context.Context, l slog.Level) bool { return s.h.Enabled(ctx, l) }

func (s *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(s.attr(a))
		return true
	})
	return s.h.Handle(ctx, out)
}

func (s *handler) WithAttrs(as []slog.Attr) slog.Handler {
	safe := make([]slog.Attr, len(as))
	for i, a := range as {
		safe[i] = s.attr(a)
	}
	return &handler{h: s.h.WithAttrs(safe), keep: s.keep}
}

func (s *handler) WithGroup(name string) slog.Handler {
	return &handler{h: s.h.WithGroup(name), keep: s.keep}
}

func (s *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		safe := make([]any, len(g))
		for i, m := range g {
			safe[i] = s.attr(m)
		}
		return slog.Group(a.Key, safe...)
	case slog.KindAny:
		x := v.Any()
		switch x.(type) {
		case nil, time.Time, time.Duration:
			return slog.Attr{Key: a.Key, Value: v}
		case error:
			return slog.String(a.Key, x.(error).Error())
		}
		t := fmt.Sprintf("%T", x)
		if s.keep[t] {
			if st, ok := x.(fmt.Stringer); ok {
				return slog.String(a.Key, st.String())
			}
		}
		return slog.String(a.Key, t)
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
