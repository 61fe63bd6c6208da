package providers_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/wire"
)

const testKey = "sk-test-0123456789abcdef"

var client = providers.NewClient()

// provider posts to base + "/chat/completions?key=secret" with a bearer key.
func provider(base string) providers.Provider {
	return providers.NewHTTP(client, func(call *providers.Call, req *fasthttp.Request) error {
		d := call.Deployment
		req.SetRequestURI(base + "/chat/completions?key=" + d.APIKey)
		req.Header.Set("Authorization", "Bearer "+d.APIKey)
		return nil
	})
}

func call(timeout time.Duration) *providers.Call {
	return &providers.Call{
		Deployment: &configs.Deployment{ModelName: "gpt-test", APIKey: testKey},
		Body:       []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`),
		Deadline:   time.Now().Add(timeout),
	}
}

// wireErr asserts err is a *wire.Error with status and no secret in it.
func wireErr(t *testing.T, err error, status int) *wire.Error {
	t.Helper()
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		t.Fatalf("error = %v (%T), want *wire.Error", err, err)
	}
	if we.Status != status {
		t.Fatalf("status = %d, want %d (%v)", we.Status, status, we)
	}
	if strings.Contains(we.Message, testKey) || strings.Contains(we.Message, "key=") {
		t.Fatalf("message leaks the key or URL query: %q", we.Message)
	}
	return we
}

func TestCompleteOK(t *testing.T) {
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"id":"x"}`)
	})
	c := call(5 * time.Second)
	resp, err := provider(up.URL).Complete(c)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.ContentType != "application/json" || string(resp.Body) != `{"id":"x"}` {
		t.Fatalf("response = %+v", resp)
	}
	got := up.Last(t)
	if got.Method != "POST" || got.Header["content-type"] != "application/json" || string(got.Body) != string(c.Body) {
		t.Fatalf("request = %+v", got)
	}
}

func TestCompleteStatusErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		retryAfter string
		wantType   string
		wantMsg    string
		wantRetry  int
	}{
		{"openai envelope echoing the key", `{"error":{"message":"Incorrect API key provided: ` + testKey + `.","type":"invalid_request_error","param":null}}`,
			401, "", "invalid_request_error", "Incorrect API key provided: sk-t****cdef.", 0},
		{"string error", `{"error":"model not found"}`, 404, "", wire.TypeNotFound, "model not found", 0},
		{"plain text", "upstream overloaded " + testKey, 503, "", wire.TypeUpstream, "upstream overloaded sk-t****cdef", 0},
		{"rate limit", `{"error":{"message":"slow down"}}`, 429, "7", wire.TypeRateLimit, "slow down", 7},
		{"empty", ``, 500, "", wire.TypeUpstream, "answered 500 without a message", 0},
		{"redirect", `moved`, 301, "", wire.TypeUpstream, "answered 301: moved", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
				if tt.retryAfter != "" {
					ctx.Response.Header.Set("Retry-After", tt.retryAfter)
				}
				ctx.SetStatusCode(tt.status)
				ctx.SetBodyString(tt.body)
			})
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					_, err = provider(up.URL).OpenStream(call(5 * time.Second))
				} else {
					_, err = provider(up.URL).Complete(call(5 * time.Second))
				}
				want := tt.status
				if want < 400 {
					want = 502
				}
				we := wireErr(t, err, want)
				if we.Type != tt.wantType || !strings.Contains(we.Message, tt.wantMsg) || we.RetryAfter != tt.wantRetry {
					t.Errorf("stream=%v: got %+v, want type %q, message containing %q, retry %d",
						stream, we, tt.wantType, tt.wantMsg, tt.wantRetry)
				}
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := provider("http://" + addr)
	_, err = p.Complete(call(5 * time.Second))
	we := wireErr(t, err, 502)
	// The client learns what happened, not where: the address is for the
	// log (Internal), which the gateway writes with the request id.
	if !strings.Contains(we.Message, `the upstream of model "gpt-test" could not be reached: the connection was refused`) ||
		strings.Contains(we.Message, addr) || strings.Contains(we.Message, "127.0.0.1") {
		t.Fatalf("message = %q", we.Message)
	}
	if !strings.Contains(we.Internal, addr) {
		t.Fatalf("the log detail lacks the address: %q", we.Internal)
	}
	_, err = p.OpenStream(call(5 * time.Second))
	wireErr(t, err, 502)
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) { <-release })
	t.Cleanup(func() { close(release) }) // before the upstream's shutdown
	for _, stream := range []bool{false, true} {
		start := time.Now()
		var err error
		if stream {
			_, err = provider(up.URL).OpenStream(call(200 * time.Millisecond))
		} else {
			_, err = provider(up.URL).Complete(call(200 * time.Millisecond))
		}
		we := wireErr(t, err, 504)
		if we.Type != wire.TypeTimeout || !strings.Contains(we.Message, "upstream timed out after 0.2s calling gpt-test; raise") {
			t.Fatalf("error = %+v", we)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("timeout took %v", d)
		}
	}
}

// sseUpstream streams events, waiting on next before each one after the first.
func sseUpstream(t *testing.T, events []string, next <-chan struct{}) *fakeupstream.Server {
	return fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i, e := range events {
				if i > 0 {
					<-next
				}
				w.WriteString(e)
				if w.Flush() != nil {
					return
				}
			}
		})
	})
}

func TestStreamIncremental(t *testing.T) {
	next := make(chan struct{})
	up := sseUpstream(t, []string{
		"data: {\"n\":1}\n\n",
		": keep-alive\r\n\r\nevent: chunk\r\ndata: {\"n\":2}\r\n\r\n",
		"data: [DONE]\n\n",
	}, next)
	s, err := provider(up.URL).OpenStream(call(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := up.Last(t).Header["accept"]; got != "text/event-stream" {
		t.Errorf("accept = %q", got)
	}
	// The upstream is blocked until we read the first event: it must arrive alone.
	for i, want := range []string{`{"n":1}`, `{"n":2}`} {
		ev, err := s.Next()
		if err != nil || string(ev) != want {
			t.Fatalf("event %d = %q, %v; want %q", i, ev, err, want)
		}
		next <- struct{}{}
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after [DONE]: %v, want io.EOF", err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("again after [DONE]: %v, want io.EOF", err)
	}
	s.Close()
	s.Close()
}

// TestStreamConnectionReused: a stream read to its [DONE] leaves its
// connection to the next call; without that every stream pays a new TCP
// (and, to a real upstream, TLS) handshake.
func TestStreamConnectionReused(t *testing.T) {
	go1 := make(chan struct{})
	close(go1)
	up := sseUpstream(t, []string{"data: {\"n\":1}\n\n", "data: [DONE]\n\n"}, go1)
	p := provider(up.URL)
	for i := range 5 {
		s, err := p.OpenStream(call(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
		}
		s.Close()
		time.Sleep(20 * time.Millisecond) // Close reads the body's end on its own goroutine
	}
	reused := 0
	for _, r := range up.Requests() {
		if r.ConnRequest > 1 {
			reused++
		}
	}
	if reused < 3 {
		t.Errorf("%d of 5 streams reused a connection, want at least 3", reused)
	}
}

// TestStreamDrainBounded: an upstream that keeps its body open after
// [DONE] has its connection closed once the drain gives up.
func TestStreamDrainBounded(t *testing.T) {
	closed := make(chan struct{})
	up := rawUpstreamThen(t, "data: [DONE]\n\n", "", func(conn net.Conn) {
		_, _ = io.Copy(io.Discard, conn) // until the gateway closes it
		close(closed)
	})
	s, err := provider(up).OpenStream(call(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after [DONE]: %v", err)
	}
	s.Close()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection of a body left open after [DONE] was never closed")
	}
}

// rawUpstream answers one request with head and a chunked body holding ev,
// then writes tail and closes the connection.
func rawUpstream(t *testing.T, ev, tail string) string {
	return rawUpstreamThen(t, ev, tail, func(net.Conn) {})
}

// rawUpstreamThen is rawUpstream that runs then before it closes the
// connection.
func rawUpstreamThen(t *testing.T, ev, tail string, then func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Read(make([]byte, 64<<10))
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"+
			"Transfer-Encoding: chunked\r\n\r\n"+strconv.FormatInt(int64(len(ev)), 16)+"\r\n"+ev+"\r\n"+tail)
		then(conn)
	}()
	return "http://" + ln.Addr().String()
}

func TestStreamMidStreamFailure(t *testing.T) {
	// The upstream drops the connection at a chunk boundary.
	s, err := provider(rawUpstream(t, "data: {\"n\":1}\n\n", "")).OpenStream(call(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || string(ev) != `{"n":1}` {
		t.Fatalf("first event = %q, %v", ev, err)
	}
	_, err = s.Next()
	if err == nil || err == io.EOF {
		t.Fatalf("after the upstream dropped: %v, want an error", err)
	}
	wireErr(t, err, 502)
}

func TestStreamCleanEndWithoutDone(t *testing.T) {
	// The body ends properly, then the upstream closes the connection.
	s, err := provider(rawUpstream(t, "data: {}\n\n", "0\r\n\r\n")).OpenStream(call(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || string(ev) != "{}" {
		t.Fatalf("first event = %q, %v", ev, err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after a clean end: %v, want io.EOF", err)
	}
}

func TestStreamCloseAbortsHangingUpstream(t *testing.T) {
	next := make(chan struct{})
	up := sseUpstream(t, []string{"data: {}\n\n", "data: {\"never\":1}\n\n"}, next)
	t.Cleanup(func() { close(next) }) // before the upstream's shutdown
	s, err := provider(up.URL).OpenStream(call(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Next(); err != nil || string(ev) != "{}" {
		t.Fatalf("first event = %q, %v", ev, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Next() // blocks: the upstream sends nothing more
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.Close()
	select {
	case err := <-done:
		if err == nil || err == io.EOF {
			t.Fatalf("Next after Close = %v, want an error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not abort the pending Next")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	s.Close()
}

func TestStreamDeadlineCoversWholeStream(t *testing.T) {
	next := make(chan struct{})
	up := sseUpstream(t, []string{"data: {}\n\n", "data: {\"late\":1}\n\n"}, next)
	t.Cleanup(func() { close(next) }) // before the upstream's shutdown
	s, err := provider(up.URL).OpenStream(call(300 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Next()
	wireErr(t, err, 504)
}

func TestStreamRejectsJSONAnswer(t *testing.T) {
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"id":"x","choices":[]}`)
	})
	_, err := provider(up.URL).OpenStream(call(5 * time.Second))
	we := wireErr(t, err, 502)
	if !strings.Contains(we.Message, "instead of an event stream") {
		t.Fatalf("message = %q", we.Message)
	}
}

func TestMaskKey(t *testing.T) {
	for key, want := range map[string]string{"sk-abcdefghijklwxyz": "sk-a****wxyz", "short": "****", "": "****"} {
		if got := providers.MaskKey(key); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", key, got, want)
		}
	}
}
