package logsafe

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type message struct {
	Body []byte
	Key  string
}

type pid struct{ id string }

func (p *pid) String() string { return "pid:" + p.id }

func TestHandlerLogsTypesNotContents(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(Handler(h, "*logsafe.pid")).With("component", "actors", slog.Any("ctx", &message{Key: "sk-with-secret"}))
		msg := &message{Body: []byte(`{"prompt":"zebra-secret"}`), Key: "sk-master-secret"}
		log.Info("[DeadLetter]", slog.Any("pid", &pid{"a1"}), slog.Any("message", msg), slog.Any("raw", []byte("Authorization: Bearer sk-raw")),
			slog.Group("g", slog.Any("inner", *msg)), slog.Any("reason", errors.New("boom")), slog.Int("n", 3))
		out := buf.String()
		for _, s := range []string{"zebra-secret", "sk-master-secret", "sk-raw", "sk-with-secret"} {
			if strings.Contains(out, s) {
				t.Errorf("%s: log contains %q: %s", format, s, out)
			}
		}
		for _, s := range []string{"*logsafe.message", "logsafe.message", "[]uint8", "pid:a1", "boom", "component", "actors", "3"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s: log lacks %q: %s", format, s, out)
			}
		}
	}
}
