package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestLogPath(t *testing.T) {
	t.Parallel()
	s := &Server{} // no directory: only the {key} parameter and the sk- prefix
	const key = "sk-abcdefgh12345678wxyz"
	for _, c := range []struct {
		route, deployment, path, want string
	}{
		{"/v1/chat/completions", "", "/v1/chat/completions", "/v1/chat/completions"},
		{"/key/{key}/regenerate", "", "/key/" + key + "/regenerate", "/key/sk-...wxyz/regenerate"},
		{"/key/{key}/regenerate", "", "/key/plain-secret-value/regenerate", "/key/...alue/regenerate"},
		{"/key/{key}/regenerate", "", "/key/short/regenerate", "/key/.../regenerate"},
		{"", "", "/key/" + key + "/regenerat", "/key/sk-...wxyz/regenerat"},
		{"", "", "/x/SK-" + key[3:] + "//y/", "/x/...wxyz//y/"},
		{"", "", "/", "/"},
		{"", "", "", ""},
		{"/openai/deployments/{model}/chat/completions", "d1", "/openai/deployments/my-model/chat/completions", "/openai/deployments/my-model/chat/completions"},
		{"/openai/deployments/{model}/chat/completions", "", "/openai/deployments/" + key + "/chat/completions", "/openai/deployments/sk-...wxyz/chat/completions"},
		{"/debug/pprof/{path:*}", "", "/debug/pprof/heap", "/debug/pprof/heap"},
		{"/debug/pprof/{path:*}", "", "/debug/pprof/a/" + key, "/debug/pprof/a/sk-...wxyz"},
		{"", "", strings.Repeat("/a", 20), strings.Repeat("/a", 16) + "/[+4 segments]"},
	} {
		info := &requestInfo{route: c.route, deployment: c.deployment}
		if got := string(s.logPath(info, []byte(c.path))); got != c.want {
			t.Errorf("logPath(%q, route %q) = %q, want %q", c.path, c.route, got, c.want)
		}
	}
	info := &requestInfo{model: key}
	if got := s.logModel(info); got != "sk-...wxyz" {
		t.Errorf("logModel of an unresolved key = %q", got)
	}
	info = &requestInfo{model: "sk-configured-name", deployment: "d"}
	if got := s.logModel(info); got != "sk-configured-name" {
		t.Errorf("logModel of a resolved name = %q", got)
	}
}

// FuzzLogPath: never a panic, and no segment that starts with "sk-" (any
// case) is logged as more than its masked form.
func FuzzLogPath(f *testing.F) {
	for _, p := range []string{"/key/sk-abcdefgh12345678/regenerate", "/", "//", "/sk-", "/a/b/c", "/debug/pprof/x/y", "/openai/deployments/sk-x/chat/completions"} {
		f.Add(p, 0)
		f.Add(p, 1)
	}
	routes := []string{"", "/key/{key}/regenerate", "/openai/deployments/{model}/chat/completions", "/debug/pprof/{path:*}", "/v1/chat/completions"}
	s := &Server{}
	f.Fuzz(func(t *testing.T, path string, r int) {
		if r < 0 {
			r = -r
		}
		info := &requestInfo{route: routes[r%len(routes)]}
		out := string(s.logPath(info, []byte(path)))
		for _, seg := range strings.Split(out, "/") {
			if hasKeyPrefix([]byte(seg)) && !strings.HasPrefix(seg, "sk-...") {
				t.Fatalf("logPath(%q, %q) = %q: segment %q unmasked", path, info.route, out, seg)
			}
			if strings.HasPrefix(seg, "sk-...") && len(seg) > len("sk-...")+4 {
				t.Fatalf("logPath(%q, %q) = %q: segment %q longer than a mask", path, info.route, out, seg)
			}
		}
	})
}

// parseErr returns the error fasthttp's server parser gives for raw.
func parseErr(raw []byte) error {
	var req fasthttp.Request
	return req.Read(bufio.NewReaderSize(bytes.NewReader(raw), 4096))
}

func TestTransportErrorText(t *testing.T) {
	t.Parallel()
	const secret = "sk-master-secret-1234"
	for _, raw := range []string{
		"FROB / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret + "\x01\r\n\r\n",
		"GET /" + secret + " HTTP/1.1\r\nBad Line\r\n\r\n",
		"GET\r\nx-api-key: " + secret + "\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + secret + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\napi-key: " + secret + "\r\n" + strings.Repeat("x", 5000),
	} {
		err := parseErr([]byte(raw))
		if err == nil {
			continue
		}
		got := transportErrorText(err)
		if strings.Contains(got, secret) || strings.Contains(got, "sk-") || got == "" {
			t.Errorf("transportErrorText(%v) = %q", err, got)
		}
	}
	if got := transportErrorText(errors.New(`invalid header value "Bearer ` + secret + `"`)); got != "invalid header value" {
		t.Errorf("got %q", got)
	}
}

// FuzzTransportErrorText: whatever request bytes fasthttp fails to
// parse, the text logged and answered about it holds none of a secret
// header value placed in them.
func FuzzTransportErrorText(f *testing.F) {
	f.Add("GET / HTTP/1.1\r\nHost: x\r\n", "\r\n\r\n")
	f.Add("FROB / HTTP/1.1\r\n", "\x01\r\n\r\n")
	f.Add("GET\r\n", "\r\n\r\n")
	f.Add("POST / HTTP/1.1\r\nContent-Length: ", "\r\n\r\n")
	const secret = "Q7vX9mK2pL4wR8tZ"
	f.Fuzz(func(t *testing.T, head, tail string) {
		for _, h := range []string{"Authorization: Bearer ", "x-api-key: ", "api-key: ", ""} {
			err := parseErr([]byte(head + h + secret + tail))
			if err == nil {
				continue
			}
			if got := transportErrorText(err); strings.Contains(got, secret) || strings.Contains(got, secret[:8]) {
				t.Fatalf("transportErrorText(%v) = %q", err, got)
			}
		}
	})
}

func TestFasthttpLoggerDropsRequestBytes(t *testing.T) {
	t.Parallel()
	const secret = "sk-master-secret-9876"
	var buf bytes.Buffer
	l := fasthttpLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}
	l.Printf("error when serving connection %q<->%q: %v", local, remote,
		fmt.Errorf("error when reading request headers: %w", parseErr([]byte("GET / HTTP/1.1\r\nAuthorization: Bearer "+secret+"\x01\r\n\r\n"))))
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/key/" + secret + "/regenerate")
	l.Printf("%.3f %s - %s", 0.5, ctx.String(), "cannot serve path "+secret)
	l.Printf("The incoming connection cannot be served, because %d concurrent connections are served.", 10000)
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Errorf("fasthttp log line shows the secret:\n%s", out)
	}
	for _, want := range []string{"level=DEBUG", "127.0.0.1:5555", "invalid header value", "0.500 [not logged] - [not logged]", "level=WARN", "10000 concurrent"} {
		if !strings.Contains(out, want) {
			t.Errorf("fasthttp log lacks %q:\n%s", want, out)
		}
	}
}
