// Package fakeupstream is an in-process HTTP upstream on 127.0.0.1 for the
// providers' tests: it records every request and answers with a handler.
package fakeupstream

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Request is one recorded request.
type Request struct {
	Method string
	URI    string            // path and query
	Header map[string]string // by lower-case name
	Body   []byte
	// ConnRequest is the request's number on its connection (1: a new
	// connection).
	ConnRequest uint64
}

// Server is a running fake upstream.
type Server struct {
	URL string // http://127.0.0.1:<port>

	mu   sync.Mutex
	reqs []Request
}

// Start serves h on a free loopback port until the test ends.
func Start(tb testing.TB, h fasthttp.RequestHandler) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fake upstream: %v", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String()}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			s.record(ctx)
			h(ctx)
		},
		CloseOnShutdown: true,
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
	})
	return s
}

func (s *Server) record(ctx *fasthttp.RequestCtx) {
	r := Request{
		Method: string(ctx.Method()),
		URI:    string(ctx.RequestURI()),
		Header: map[string]string{},
		Body:   append([]byte(nil), ctx.PostBody()...),

		ConnRequest: ctx.ConnRequestNum(),
	}
	for k, v := range ctx.Request.Header.All() {
		r.Header[strings.ToLower(string(k))] = string(v)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the last request received; it fails the test if none was.
func (s *Server) Last(tb testing.TB) Request {
	tb.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		tb.Fatal("fake upstream received no request")
	}
	return reqs[len(reqs)-1]
}
