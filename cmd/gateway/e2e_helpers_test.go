package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatewayProc is a gateway started in-process through the same serve()
// that `gateway serve` runs, listening on a free loopback port.
type gatewayProc struct {
	addr string
	logs *syncBuffer
	stop func() int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startGateway runs serve with args plus a free --addr and waits until it
// listens. The gateway is stopped at the end of the test.
func startGateway(t *testing.T, args ...string) *gatewayProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	ready := make(chan string, 1)
	code := make(chan int, 1)
	args = append(args, "--addr", "127.0.0.1:0")
	go func() { code <- serve(ctx, args, logs, func(addr string) { ready <- addr }) }()
	g := &gatewayProc{logs: logs}
	select {
	case g.addr = <-ready:
	case c := <-code:
		cancel()
		t.Fatalf("gateway exited with %d before listening:\n%s", c, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("gateway did not start:\n%s", logs.String())
	}
	var once sync.Once
	exit := 0
	g.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(40 * time.Second):
				t.Errorf("gateway did not stop")
			}
		})
		return exit
	}
	t.Cleanup(func() { g.stop() })
	return g
}

func (g *gatewayProc) url(path string) string { return "http://" + g.addr + path }

// logsSoFar returns the log with every line logged before the call: it
// sends a request with a fresh x-request-id and waits for that request's
// own line (the log writer keeps lines in order).
func (g *gatewayProc) logsSoFar(t *testing.T) string {
	t.Helper()
	id := fmt.Sprintf("log-barrier-%d", time.Now().UnixNano())
	g.do(t, "GET", "/health/liveliness", "", nil, "x-request-id", id)
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := g.logs.String()
		if strings.Contains(logs, id) {
			return logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request line of %s was not logged within 5s:\n%s", id, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finalLogs stops the gateway and returns everything it logged: the log
// writer batches lines, and stopping writes the last batch.
func (g *gatewayProc) finalLogs() string {
	g.stop()
	return g.logs.String()
}

// do sends a request with an optional bearer key, JSON body and header
// pairs and returns status, decoded body (if JSON) and raw body.
func (g *gatewayProc) do(t *testing.T, method, path, key string, body any, headers ...string) (int, map[string]any, []byte) {
	t.Helper()
	code, _, raw := g.doH(t, method, path, key, body, headers...)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return code, m, raw
}

// doH is do for callers that need the answer's headers: it returns
// status, headers and raw body.
func (g *gatewayProc) doH(t *testing.T, method, path, key string, body any, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		if b != "" {
			rd = strings.NewReader(b)
		}
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, g.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// postOversized sends only the headers of a POST whose Content-Length is
// size and reads the answer. The gateway refuses from the Content-Length
// alone; a raw connection reads that answer without racing the server's
// close against a client still uploading the body.
func (g *gatewayProc) postOversized(t *testing.T, path, key string, size int) (int, map[string]any, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"model\":", path, key, size)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

// errorOf returns the envelope's error object, failing if it is not one.
func errorOf(t *testing.T, m map[string]any, raw []byte) map[string]any {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an OpenAI error envelope: %s", raw)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error envelope lacks %q: %s", k, raw)
		}
	}
	return e
}

// anthropicErrorOf checks that an error answer is in Anthropic's shape
// ({"type": "error", "error": {"type", "message"}}) and returns its error.
func anthropicErrorOf(t *testing.T, m map[string]any, raw []byte) map[string]any {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok || m["type"] != "error" {
		t.Fatalf("not an Anthropic error: %s", raw)
	}
	for _, k := range []string{"message", "type"} {
		if _, ok := e[k].(string); !ok {
			t.Fatalf("Anthropic error lacks %q: %s", k, raw)
		}
	}
	return e
}

// writeFiles writes name -> content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// upstreamRequest is one request the fake upstream received.
type upstreamRequest struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

// fakeUpstream is an in-process OpenAI-compatible upstream that records
// every request it receives.
type fakeUpstream struct {
	t   *testing.T
	srv *http.Server
	url string

	mu       sync.Mutex
	requests []upstreamRequest

	// handler, when set, answers instead of the default chat completion.
	handler func(w http.ResponseWriter, r *http.Request, body map[string]any) bool
	// streamGate, when set, is waited on after the first stream chunk.
	streamGate chan struct{}
	// streamDone receives how each streamed answer ended.
	streamDone chan string
	// trickle, when set, makes a stream send 200 chunks 50 ms apart after
	// the first, stopping early if the request is cancelled.
	trickle bool
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeUpstream{t: t, url: "http://" + ln.Addr().String(), streamDone: make(chan string, 16)}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve)}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func (f *fakeUpstream) last() upstreamRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("the fake upstream received no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeUpstream) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, upstreamRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()
	if f.handler != nil && f.handler(w, r, body) {
		return
	}
	model, _ := body["model"].(string)
	if stream, _ := body["stream"].(bool); stream {
		f.stream(w, r, model)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-up","object":"chat.completion","created":1700000000,"model":%q,`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":"upstream says hi"},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`, model)
}

func (f *fakeUpstream) stream(w http.ResponseWriter, r *http.Request, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := func(content string) {
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-up\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":%q,"+
			"\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", model, content)
		fl.Flush()
	}
	chunk("first")
	if f.trickle {
		for i := 0; i < 200; i++ {
			select {
			case <-r.Context().Done():
				f.streamDone <- "cancelled"
				return
			case <-time.After(50 * time.Millisecond):
			}
			chunk("more")
		}
		f.streamDone <- "finished"
		return
	}
	if f.streamGate != nil {
		select {
		case <-f.streamGate:
		case <-r.Context().Done():
			f.streamDone <- "cancelled"
			return
		case <-time.After(10 * time.Second):
			f.streamDone <- "gate timeout"
			return
		}
	}
	chunk("second")
	chunk("third")
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
	f.streamDone <- "finished"
}
