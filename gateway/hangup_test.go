package gateway

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serveTCP runs a bench gateway (upstream answering after delay) on a
// loopback TCP listener and returns its address.
func serveTCP(t *testing.T, delay time.Duration) string {
	t.Helper()
	s := benchServerDelayed(t, slog.New(slog.NewTextHandler(io.Discard, nil)), delay)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String()
}

func rawChatRequest() string {
	return fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", benchKey, len(benchBody), benchBody)
}

// TestHangupWatchKeepsPipelinedRequests: the watch of a unary call never
// reads the client's socket, so a request pipelined behind the call in
// flight is served after it, and the connection stays usable.
func TestHangupWatchKeepsPipelinedRequests(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, 50*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	read := func(what string) {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"model":"bench-model"`) {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, body)
		}
	}
	// Two requests in one write: the second waits in the socket while the
	// first is watched.
	if _, err := io.WriteString(conn, rawChatRequest()+rawChatRequest()); err != nil {
		t.Fatal(err)
	}
	read("first pipelined")
	read("second pipelined")
	// Then the same connection, one request at a time (keep-alive), the
	// second sent while the first is in flight.
	for i := range 3 {
		if _, err := io.WriteString(conn, rawChatRequest()); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			time.Sleep(10 * time.Millisecond)
			if _, err := io.WriteString(conn, rawChatRequest()); err != nil {
				t.Fatal(err)
			}
			read("sent during a call")
		}
		read(fmt.Sprintf("keep-alive %d", i))
	}
}

// TestHangupWatchEndsWithTheCall: a call whose client stays gets its
// answer; the watch's goroutine is gone when the handler returns (stop
// waits for it), even when the client sent half of its next request.
func TestHangupWatchEndsWithTheCall(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, 3*hangupDelay) // long enough to be watched
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	next := rawChatRequest()
	if _, err := io.WriteString(conn, rawChatRequest()+next[:20]); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("answer: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if _, err := io.WriteString(conn, next[20:]); err != nil {
		t.Fatal(err)
	}
	if resp, err = http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the request completed after the call: %v %v", resp, err)
	}
}

// BenchmarkHangupWatch is what the watch adds to a unary call on a TCP
// connection that ends within hangupDelay: a timer started and stopped.
func BenchmarkHangupWatch(b *testing.B) {
	ctx := benchConnCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		h := watchHangup(ctx)
		if h == nil {
			b.Skip("no hang-up watch on this platform")
		}
		h.stop()
	}
}

// BenchmarkHangupWatchStarted is what the watch adds to a call that lasts
// longer than hangupDelay: start (a goroutine, a poll(2), a deadline) and
// stop (two deadlines and the goroutine's wake-up).
func BenchmarkHangupWatchStarted(b *testing.B) {
	ctx := benchConnCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		h := watchHangup(ctx)
		if h == nil {
			b.Skip("no hang-up watch on this platform")
		}
		if h.timer.Stop() {
			go h.run()
		}
		for running := false; !running; {
			h.mu.Lock()
			running = h.state == watchRunning
			h.mu.Unlock()
			runtime.Gosched()
		}
		h.stop()
	}
}

// benchConnCtx is a request context on the server side of a loopback TCP
// connection.
func benchConnCtx(b *testing.B) *fasthttp.RequestCtx {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { server.Close() })
	var ctx fasthttp.RequestCtx
	ctx.Init2(server, nil, false)
	return &ctx
}
