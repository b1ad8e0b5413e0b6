package main

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// sessionsUnnamed keeps session ids out of what mcp-go logs: an id lets
// whoever holds it act in its session. mcp-go names them in attributes
// ("session", "sessionID") and inside error text ("… for session <id>: …").
type sessionsUnnamed struct{ slog.Handler }

// sessionInText is a session id after the word that introduces it; ids
// are long, so "session ID" or "session terminated" stay as they are.
// Compiled on first use, not at every start.
var sessionInText = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(\bsession(?:[ _-]?id)?(?:\s+|\s*[:=]\s*)["']?)[A-Za-z0-9_.-]{16,}`)
})

func redactSessions(text string) string {
	if !strings.Contains(strings.ToLower(text), "session") {
		return text
	}
	return sessionInText().ReplaceAllString(text, "${1}[REDACTED]")
}

func unnameSession(a slog.Attr) slog.Attr {
	if strings.Contains(strings.ToLower(a.Key), "session") {
		return slog.String(a.Key, "[REDACTED]")
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactSessions(v.String()))
	case slog.KindGroup:
		group := v.Group()
		attrs := make([]any, len(group))
		for i, member := range group {
			attrs[i] = unnameSession(member)
		}
		return slog.Group(a.Key, attrs...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, redactSessions(err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h sessionsUnnamed) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redactSessions(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(unnameSession(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h sessionsUnnamed) WithAttrs(attrs []slog.Attr) slog.Handler {
	unnamed := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		unnamed[i] = unnameSession(a)
	}
	return sessionsUnnamed{h.Handler.WithAttrs(unnamed)}
}

func (h sessionsUnnamed) WithGroup(name string) slog.Handler {
	return sessionsUnnamed{h.Handler.WithGroup(name)}
}
