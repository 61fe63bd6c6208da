package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// fasthttp's own log lines and transport errors quote what the peer sent:
// "error when reading request headers: ... contents: \"POST / HTTP/1.1\r\n
// Authorization: Bearer sk-...\"", "invalid header value %q", and
// RequestCtx.String() (the full URI, a key in the path included). The
// server's Logger and ErrorHandler therefore go through this file, which
// keeps fasthttp's description and drops every byte the peer sent, at any
// log level.

// transportErrorText returns what may be logged or answered about a
// transport error: fasthttp's description up to the first quoted request
// bytes. Nothing that came from the connection survives: fasthttp quotes
// every such value (%q), and bufferSnippet follows "contents:".
func transportErrorText(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, stop := range []string{`"`, "'", "`", "contents:", "body=", "\n", "\r"} {
		if i := strings.Index(msg, stop); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = strings.TrimRight(msg, " :,;(")
	msg = strings.TrimSuffix(msg, " in")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	low := strings.ToLower(msg)
	if msg == "" || strings.Contains(low, "sk-") || strings.Contains(low, "bearer") || strings.Contains(low, "authorization") || strings.Contains(low, "api-key") {
		return "the request could not be parsed"
	}
	return msg
}

// fasthttpLogger is fasthttp.Server.Logger: every argument that may carry
// request bytes (strings, byte slices, errors, the request context) is
// replaced before formatting; numbers, durations and addresses are kept.
// Connection errors (a client's malformed request) are debug lines; the
// server's own conditions (connection limit reached, accept errors) warn.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	level := slog.LevelWarn
	if strings.HasPrefix(format, "error when serving connection") {
		level = slog.LevelDebug
	}
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, "fasthttp: "+fmt.Sprintf(format, safeLogArgs(args)...))
}

// safeLogArgs returns args with everything that may hold request bytes
// replaced.
func safeLogArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case net.Addr:
			out[i] = v.String()
		case error:
			out[i] = transportErrorText(v)
		case time.Duration:
			out[i] = v
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
			out[i] = v
		default: // strings, []byte, a *RequestCtx, anything else
			out[i] = "[not logged]"
		}
	}
	return out
}
