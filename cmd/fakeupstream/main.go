// Command fakeupstream is a fast fake OpenAI-compatible upstream for the
// benchmark: every POST .../chat/completions gets a fixed small
// chat.completion with usage, or, for "stream": true, a few
// chat.completion.chunk events (plus a usage chunk when
// stream_options.include_usage is true). GET /health answers 200.
//
// POST /v1/messages is Anthropic's Messages API, checked as Anthropic
// checks it: an x-api-key header (401 authentication_error without one),
// an anthropic-version header, and a JSON body with model, max_tokens and
// a non-empty messages array (400 invalid_request_error otherwise, in
// Anthropic's error shape). It answers a message of the same size as the
// chat answer, or for "stream": true Anthropic's event sequence
// (message_start, content_block_start, ping, content_block_delta x2,
// content_block_stop, message_delta with the usage, message_stop), sent in
// four flushes like the chat chunks so that -delay and -chunk-delay time
// both APIs alike.
//
//	fakeupstream -addr 127.0.0.1:0 -delay 0
//
// It prints "listening http://<addr>" on stdout once it accepts connections.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

const completion = `{"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}`

var (
	chunks = [][]byte{
		[]byte(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"),
		[]byte(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}` + "\n\n"),
		[]byte(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{"content":" from the fake upstream."},"finish_reason":null}]}` + "\n\n"),
		[]byte(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"),
	}
	usageChunk = []byte(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}` + "\n\n")
	done       = []byte("data: [DONE]\n\n")
	suffix     = []byte("/chat/completions")
	body       = []byte(completion)
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	delay := flag.Duration("delay", 0, "delay before answering (before the first chunk for streams)")
	chunkDelay := flag.Duration("chunk-delay", 0, "delay between stream chunks")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakeupstream: %v\n", err)
		os.Exit(1)
	}
	srv := &fasthttp.Server{
		Handler:               handler(*delay, *chunkDelay),
		Name:                  "fakeupstream",
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		Concurrency:           100000,
	}
	fmt.Printf("listening http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "fakeupstream: %v\n", err)
		os.Exit(1)
	}
}

func handler(delay, chunkDelay time.Duration) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if ctx.IsGet() {
			ctx.SetStatusCode(200)
			ctx.SetBodyString("ok")
			return
		}
		if ctx.IsPost() && bytes.Equal(ctx.Path(), messagesPath) {
			messages(ctx, delay, chunkDelay)
			return
		}
		if !ctx.IsPost() || !bytes.HasSuffix(ctx.Path(), suffix) {
			ctx.SetStatusCode(404)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"message":"not found","type":"invalid_request_error"}}`)
			return
		}
		req := ctx.PostBody()
		if !gjson.GetBytes(req, "stream").Bool() {
			if delay > 0 {
				time.Sleep(delay)
			}
			ctx.SetStatusCode(200)
			ctx.SetContentType("application/json")
			ctx.SetBody(body)
			return
		}
		withUsage := gjson.GetBytes(req, "stream_options.include_usage").Bool()
		ctx.SetStatusCode(200)
		ctx.SetContentType("text/event-stream")
		ctx.Response.Header.Set("Cache-Control", "no-cache")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			if delay > 0 {
				time.Sleep(delay)
			}
			for i, c := range chunks {
				if i > 0 && chunkDelay > 0 {
					time.Sleep(chunkDelay)
				}
				_, _ = w.Write(c)
				if err := w.Flush(); err != nil {
					return
				}
			}
			if withUsage {
				_, _ = w.Write(usageChunk)
			}
			_, _ = w.Write(done)
			_ = w.Flush()
		})
	}
}
