package gateway

import (
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/accesslog"
)

// The usage log keeps a call's user (else metadata.user_id), its metadata
// (bounded) and metadata.tags, read in the same pass as model and stream.
func TestSetLogRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, user, meta string
		tags             int
	}{
		{`{"model":"m","messages":[],"user":"u-1","metadata":{"tags":["a","b",3]}}`, "u-1", `{"tags":["a","b",3]}`, 2},
		{`{"model":"m","messages":[],"metadata":{"user_id":"claude-user"}}`, "claude-user", `{"user_id":"claude-user"}`, 0},
		{`{"model":"m","messages":[]}`, "", "", 0},
		{`{"model":"m","messages":[],"user":5,"metadata":"x"}`, "", "", 0},
	} {
		req, werr := parseChat([]byte(tc.body), nil)
		if werr != nil {
			t.Fatalf("%s: %v", tc.body, werr)
		}
		ctx := &fasthttp.RequestCtx{}
		info := &requestInfo{}
		ctx.SetUserValue(requestInfoKey, info)
		setLogRequest(ctx, &req)
		if info.user != tc.user || string(info.metadata) != tc.meta || len(info.tags) != tc.tags || !info.hasRequest {
			t.Errorf("%s: user %q metadata %s tags %v", tc.body, info.user, info.metadata, info.tags)
		}
	}
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a'
	}
	req, _ := parseChat([]byte(`{"model":"m","messages":[],"metadata":{"x":"`+string(long)+`"}}`), nil)
	ctx := &fasthttp.RequestCtx{}
	info := &requestInfo{}
	ctx.SetUserValue(requestInfoKey, info)
	setLogRequest(ctx, &req)
	if string(info.metadata) != `{"truncated":true}` {
		t.Errorf("large metadata kept: %d bytes", len(info.metadata))
	}
}

// TestBusyWhileInHandler: Busy (the usage store's cue on one core) is
// true exactly while a request is in the handler.
func TestBusyWhileInHandler(t *testing.T) {
	t.Parallel()
	s := &Server{opts: Options{AccessLog: accesslog.Slog(slog.New(slog.DiscardHandler))}}
	inside := false
	h := s.withRequestLog(func(ctx *fasthttp.RequestCtx) { inside = s.Busy() })
	if s.Busy() {
		t.Fatal("busy before any request")
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/v1/chat/completions")
	h(&ctx)
	if !inside {
		t.Error("not busy inside the handler")
	}
	if s.Busy() {
		t.Error("still busy after the handler returned")
	}
}
