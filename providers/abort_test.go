package providers_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/wire"
)

// holdingUpstream reads one request per connection and never answers; it
// reports on closed when the client closed the connection, and on got
// when a request arrived.
func holdingUpstream(t *testing.T) (base string, got chan struct{}, closed chan time.Time) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got, closed = make(chan struct{}, 4), make(chan time.Time, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				got <- struct{}{}
				_, _ = io.Copy(io.Discard, br) // until the gateway closes
				closed <- time.Now()
			}()
		}
	}()
	return "http://" + ln.Addr().String(), got, closed
}

// TestAbortClosesTheUpstreamConnection: Abort during a unary call closes
// its upstream connection at once; the call ends with a 499 that names no
// address.
func TestAbortClosesTheUpstreamConnection(t *testing.T) {
	t.Parallel()
	base, got, closed := holdingUpstream(t)
	c := call(30 * time.Second)
	c.Abort = &providers.Abort{}
	done := make(chan error, 1)
	go func() {
		_, err := provider(base).Complete(c)
		done <- err
	}()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}
	start := time.Now()
	c.Abort.Abort()
	c.Abort.Abort() // twice is fine
	select {
	case err := <-done:
		we := wireErr(t, err, 499)
		if strings.Contains(we.Message, "127.0.0.1") || !strings.Contains(we.Message, "client closed") {
			t.Fatalf("message = %q", we.Message)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Complete did not return after Abort")
	}
	select {
	case at := <-closed:
		if d := at.Sub(start); d > 500*time.Millisecond {
			t.Fatalf("the upstream saw the close %v after Abort", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the upstream connection was not closed")
	}
}

// TestAbortBeforeTheCall: a call aborted before it starts never reaches
// the upstream.
func TestAbortBeforeTheCall(t *testing.T) {
	t.Parallel()
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{"choices":[]}`) })
	c := call(5 * time.Second)
	c.Abort = &providers.Abort{}
	c.Abort.Abort()
	_, err := provider(up.URL).Complete(c)
	wireErr(t, err, 499)
	if n := len(up.Requests()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
}

// TestAbortableCallsReuseConnections: calls with an Abort that is never
// used go through the same pooled connections as any other.
func TestAbortableCallsReuseConnections(t *testing.T) {
	t.Parallel()
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"id":"x","choices":[]}`)
	})
	p := provider(up.URL)
	for i := range 5 {
		c := call(5 * time.Second)
		c.Abort = &providers.Abort{}
		resp, err := p.Complete(c)
		if err != nil || string(resp.Body) != `{"id":"x","choices":[]}` {
			t.Fatalf("call %d: %v %v", i, resp, err)
		}
		if c.Abort.Aborted() {
			t.Fatal("aborted without Abort")
		}
	}
	reused := 0
	for _, r := range up.Requests() {
		if r.ConnRequest > 1 {
			reused++
		}
	}
	if reused < 4 {
		t.Errorf("%d of 5 calls reused a connection, want 4", reused)
	}
}

// TestDialRefusalIsTheAnswer: a dialer that refuses an address with a
// *wire.Error (the api_base policy at dial time) gives the client that
// error as is, not a generic "could not be reached".
func TestDialRefusalIsTheAnswer(t *testing.T) {
	t.Parallel()
	c := providers.NewClientWith(providers.ClientOptions{Connect: func(context.Context, string) (net.Conn, error) {
		return nil, &wire.Error{Status: 403, Type: wire.TypePermission, Message: "api_base is not allowed for this team"}
	}})
	p := providers.NewHTTP(c, func(_ *providers.Call, req *fasthttp.Request) error {
		req.SetRequestURI("http://10.0.0.1:8000/v1/chat/completions")
		return nil
	})
	_, err := p.Complete(call(5 * time.Second))
	if we := wireErr(t, err, 403); we.Message != "api_base is not allowed for this team" {
		t.Fatalf("message = %q", we.Message)
	}
}
