package accesslog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slogLine is what slog writes for the same fields (through Slog): the
// layout this package must keep.
func slogLine(t *testing.T, format string, ln *Line) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if format == "json" {
		h = slog.NewJSONHandler(&buf, nil)
	}
	Slog(slog.New(h)).Log(ln)
	if buf.Len() == 0 {
		t.Fatal("Slog logged nothing at info")
	}
	return buf.String()
}

func TestSlogHonoursTheLevel(t *testing.T) {
	var buf bytes.Buffer
	Slog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))).Log(line("m"))
	if buf.Len() != 0 {
		t.Fatalf("a request line at warn level: %s", buf.String())
	}
}

func ours(format string, ln *Line) string {
	var buf bytes.Buffer
	New(&buf, format).Log(ln)
	return buf.String()
}

func line(model string) *Line {
	return &Line{
		Time:       time.Date(2026, 11, 23, 14, 25, 54, 326123456, time.UTC),
		RequestID:  "9a87378a2138-lz",
		Method:     []byte("POST"),
		Path:       []byte("/v1/chat/completions"),
		Status:     200,
		Team:       "e59e2671-a064-436a-a0fa-16ae96e5a0a1",
		Model:      model,
		Deployment: "dbed698e",
		Latency:    1166466 * time.Nanosecond,
		Duration:   3*time.Second + 1166466*time.Nanosecond,
		TokensIn:   11,
		TokensOut:  7,
	}
}

func TestTextIsSlogsLayout(t *testing.T) {
	for _, ln := range []*Line{
		line("my-team-model"),
		line(""),          // empty: quoted
		line("two words"), // space: quoted
		line(`say "hi"`),  // quote: quoted and escaped
		line("a=b"),       // '=': quoted
		{Time: line("").Time, Method: []byte("GET"), Path: []byte("/health/liveliness"), Status: 401, Stream: true},
	} {
		if got, want := ours("text", ln), slogLine(t, "text", ln); got != want {
			t.Errorf("model %q:\n got %s\nwant %s", ln.Model, got, want)
		}
	}
}

func TestJSONIsSlogsLayout(t *testing.T) {
	for _, model := range []string{"my-team-model", "", `quote " and \ backslash`, "tab\tnew\nline\r", "bell\x07", "ünïcode ✓", "<html>&"} {
		ln := line(model)
		got, want := ours("json", ln), slogLine(t, "json", ln)
		if !strings.HasSuffix(got, "}\n") || strings.Count(got, "\n") != 1 {
			t.Fatalf("model %q: not one line: %q", model, got)
		}
		var g, w map[string]any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("model %q: our line is not JSON: %v\n%s", model, err, got)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("model %q:\n got %s\nwant %s", model, got, want)
		}
	}
}

// A client's model name is arbitrary bytes: whatever it holds, a line
// stays one line, and JSON stays valid.
func TestHostileValuesStayOneLine(t *testing.T) {
	for _, model := range []string{"x\ny", "x\u2028y\u2029z", "bad\xffutf8", "nul\x00", `\`, "=\"= "} {
		ln := line(model)
		for _, format := range []string{"text", "json"} {
			got := ours(format, ln)
			if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") || strings.ContainsRune(got, '\u2028') && format == "json" {
				t.Errorf("%s, model %q: not one line: %q", format, model, got)
			}
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ours("json", ln)), &m); err != nil {
			t.Errorf("model %q: invalid JSON: %v", model, err)
			continue
		}
		if want := strings.ToValidUTF8(model, "\ufffd"); m["model"] != want {
			t.Errorf("model %q came back as %q", model, m["model"])
		}
	}
}

func BenchmarkLog(b *testing.B) {
	ln := line("my-team-model")
	for _, format := range []string{"text", "json"} {
		b.Run(format+"/accesslog", func(b *testing.B) {
			l := New(discard{}, format)
			b.ReportAllocs()
			for b.Loop() {
				l.Log(ln)
			}
		})
		b.Run(format+"/slog", func(b *testing.B) {
			var h slog.Handler = slog.NewTextHandler(discard{}, nil)
			if format == "json" {
				h = slog.NewJSONHandler(discard{}, nil)
			}
			l := Slog(slog.New(h))
			b.ReportAllocs()
			for b.Loop() {
				l.Log(ln)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
