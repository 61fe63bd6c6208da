package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/llmgateway/gateway/accesslog"
	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/wire"
)

// The microbenchmarks of the gateway's request path. Run with
//
//	go test ./gateway -run '^$' -bench . -benchmem
//	go test ./gateway -run '^$' -bench FullPath/http -cpuprofile cpu.out -memprofile mem.out

const benchKey = "sk-bench-key"

var benchBody = []byte(`{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}`)

const upstreamAnswer = `{"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}`

// BenchmarkParseChat is what the handler reads from the body: validity,
// model, messages and stream.
func BenchmarkParseChat(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if _, werr := parseChat(benchBody, nil); werr != nil {
			b.Fatal(werr)
		}
	}
}

// largeBody is a 64 KiB conversation with "model" last, as the OpenAI
// Python SDK orders a request's fields.
var largeBody = func() []byte {
	body := []byte(`{"messages":[`)
	for i := 0; len(body) < 64<<10; i++ {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"role":"user","content":"message %d: the quick brown fox jumps over the lazy dog, again and again, with \"quotes\" and unicode \u00e9"}`, i)
	}
	return append(body, `],"max_tokens":32,"stream":false,"model":"bench-model"}`...)
}()

// BenchmarkParseChatLarge is BenchmarkParseChat on largeBody.
func BenchmarkParseChatLarge(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(largeBody)))
	for b.Loop() {
		if _, werr := parseChat(largeBody, nil); werr != nil {
			b.Fatal(werr)
		}
	}
}

// BenchmarkParseAndRewriteLarge is what a request with largeBody pays
// for its body: the handler's parse and the worker's model rewrite.
func BenchmarkParseAndRewriteLarge(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(largeBody)))
	for b.Loop() {
		req, werr := parseChat(largeBody, nil)
		if werr != nil {
			b.Fatal(werr)
		}
		if _, err := wire.SetModelAt(largeBody, req.ModelAt, "gpt-4o-mini-2024-07-18"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewriteModel is the worker's body rewrite: "model" replaced by
// the upstream model, everything else forwarded as is.
func BenchmarkRewriteModel(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if _, err := wire.SetModel(benchBody, "gpt-4o-mini-2024-07-18"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAndRewrite is both, as one request pays them (plus the
// answer's model rewrite).
func BenchmarkParseAndRewrite(b *testing.B) {
	answer := []byte(upstreamAnswer)
	b.ReportAllocs()
	for b.Loop() {
		req, werr := parseChat(benchBody, nil)
		if werr != nil {
			b.Fatal(werr)
		}
		if _, err := wire.SetModelAt(benchBody, req.ModelAt, "gpt-4o-mini"); err != nil {
			b.Fatal(err)
		}
		if _, err := wire.SetModel(answer, req.Model); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeUpstream serves upstreamAnswer on an in-memory listener, after
// delay.
func fakeUpstream(b testing.TB, delay time.Duration) *fasthttputil.InmemoryListener {
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if delay > 0 {
			time.Sleep(delay)
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(upstreamAnswer)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = ln.Close() })
	return ln
}

// benchServer is a gateway with one team, one key and one openai
// deployment on an in-memory fake upstream.
func benchServer(b testing.TB, log *slog.Logger) *Server {
	return benchServerDelayed(b, log, 0)
}

// benchServerDelayed is benchServer with an upstream that answers after
// delay.
func benchServerDelayed(b testing.TB, log *slog.Logger, delay time.Duration) *Server {
	up := fakeUpstream(b, delay)
	// The team deployment's host resolves to a documentation address the
	// api_base policy allows; the connection goes to the in-memory upstream.
	client := providers.NewClientWith(providers.ClientOptions{
		Lookup: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
		},
		Connect: func(context.Context, string) (net.Conn, error) { return up.Dial() },
	})
	provs := map[string]providers.Provider{"openai": openai.New(client)}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	b.Cleanup(system.Shutdown)
	dir := &actors.Directory{}
	reg := system.Root.Spawn(actors.RegistryProps(dir, provs, quiet))
	snap := &configs.Snapshot{
		Settings: configs.Settings{Timeout: time.Minute},
		Teams: map[string]*configs.Team{"bench": {TeamID: "bench",
			Keys: []*configs.Key{{Token: configs.HashKey(benchKey)}}}},
		TeamDeployments: map[string][]*configs.Deployment{"bench": {{
			ModelName:     "model_name_bench_0",
			LiteLLMParams: configs.LiteLLMParams{Model: "openai/gpt-fake", APIBase: "http://upstream.test/v1"},
			ModelInfo:     configs.ModelInfo{ID: "bench-0", TeamID: "bench", TeamPublicModelName: "bench-model"},
			Provider:      "openai",
			UpstreamModel: "gpt-fake",
		}}},
		Files: map[string]string{},
	}
	if _, err := system.Root.RequestFuture(reg, &actors.ApplySnapshot{Snapshot: snap}, 10*time.Second).Result(); err != nil {
		b.Fatal(err)
	}
	access := accesslog.Slog(log) // off when log is above info
	if log.Enabled(context.Background(), slog.LevelInfo) {
		access = accesslog.New(io.Discard, "text") // as gateway serve does
	}
	return New(Options{Directory: dir, Root: system.Root, Log: log, AccessLog: access})
}

// BenchmarkFullPath is one unary chat completion through the whole
// gateway: request log and metrics middleware, routing, auth, body parse,
// the actor round trip with its per-request worker, the body rewrite, the
// upstream HTTP call (in memory) and the answer's rewrite.
//
//	handler: the handler called with a RequestCtx (no HTTP parsing)
//	http:    a client over an in-memory connection to the fasthttp server
func BenchmarkFullPath(b *testing.B) {
	for _, logged := range []bool{false, true} {
		log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
		name := "nolog"
		if logged {
			log = slog.New(slog.NewTextHandler(io.Discard, nil))
			name = "log"
		}
		b.Run("handler/"+name, func(b *testing.B) {
			s := benchServer(b, log)
			h := s.Handler()
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI("/v1/chat/completions")
				ctx.Request.Header.Set("Authorization", "Bearer "+benchKey)
				ctx.Request.Header.SetContentType("application/json")
				ctx.Request.SetBodyRaw(benchBody)
				ctx.ResetUserValues()
				h(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
		b.Run("http/"+name, func(b *testing.B) {
			s := benchServer(b, log)
			ln := fasthttputil.NewInmemoryListener()
			go func() { _ = s.Serve(ln) }()
			b.Cleanup(func() { _ = ln.Close() })
			client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
			benchHTTP(b, client)
		})
		// tcp: the client on a loopback TCP connection, where a unary
		// call's client connection is watched for a hang-up (hangup.go).
		b.Run("tcp/"+name, func(b *testing.B) {
			s := benchServer(b, log)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = s.Serve(ln) }()
			b.Cleanup(func() { _ = ln.Close() })
			addr := ln.Addr().String()
			client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return net.Dial("tcp", addr) }}
			benchHTTP(b, client)
		})
	}
}

// benchHTTP sends unary chat completions through client.
func benchHTTP(b *testing.B, client *fasthttp.Client) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.Header.SetMethod("POST")
	req.SetRequestURI("http://gateway.test/v1/chat/completions")
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
		}
	}
}

// BenchmarkRequestMiddleware is the request log and metrics middleware
// around a handler that does nothing.
func BenchmarkRequestMiddleware(b *testing.B) {
	for _, logged := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", logged), func(b *testing.B) {
			lv := slog.LevelWarn
			if logged {
				lv = slog.LevelInfo
			}
			log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: lv}))
			access := accesslog.Slog(log) // off at warn
			if logged {
				access = accesslog.New(io.Discard, "text")
			}
			s := &Server{opts: Options{Log: log, AccessLog: access}}
			h := s.withRequestLog(func(ctx *fasthttp.RequestCtx) {
				reqInfo(ctx).route = "/v1/chat/completions" // as routeTable does
				setLogTeam(ctx, "bench")
				setLogModel(ctx, "bench-model")
				setLogDeployment(ctx, "bench-0")
				ctx.SetStatusCode(200)
			})
			var ctx fasthttp.RequestCtx
			ctx.Request.Header.SetMethod("POST")
			ctx.Request.SetRequestURI("/v1/chat/completions")
			b.ReportAllocs()
			for b.Loop() {
				ctx.ResetUserValues()
				ctx.Response.Reset()
				h(&ctx)
			}
		})
	}
}

// BenchmarkStreamRelay is a streamed answer of 100 chunks from the
// upstream's bytes to the client's: the providers' SSE parser (which
// checks each event) and the gateway's relay (usage, text, model rewrite,
// framing).
func BenchmarkStreamRelay(b *testing.B) {
	var in strings.Builder
	for range 100 {
		in.WriteString(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{"content":" from the fake upstream."},"finish_reason":null}]}` + "\n\n")
	}
	in.WriteString(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}` + "\n\ndata: [DONE]\n\n")
	body := in.String()
	s := &Server{opts: Options{AccessLog: accesslog.New(io.Discard, "text")}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		res := &actors.ChatResult{Stream: providers.NewSSEStream(strings.NewReader(body), nil, nil), StripUsage: true,
			Done: func(u actors.Usage) actors.Usage { return u }}
		e := &eventStream{s: s, model: "bench-model", res: res, info: &requestInfo{}}
		if _, err := e.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
