package main

import (
	"bufio"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// Anthropic's Messages API (POST /v1/messages), as fast as the chat path:
// every answer is precomputed but for the model, which is echoed as the
// request's raw JSON string (gjson's Raw: already quoted and escaped).

var messagesPath = []byte("/v1/messages")

// The unary answer is msgHead + model + msgTail; the same text and token
// counts as the chat answer.
var (
	msgHead = []byte(`{"id":"msg_01FakeUpstreamBench0000000","type":"message","role":"assistant","model":`)
	msgTail = []byte(`,"content":[{"type":"text","text":"Hello from the fake upstream."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":7}}`)
)

// The stream: message_start carries the model; the rest is fixed. The
// events go out in four flushes, as the chat path's four chunks: the
// start (role), the first text, the rest of the text, the end (stop
// reason and usage).
var (
	evStartHead = []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01FakeUpstreamBench0000000\",\"type\":\"message\",\"role\":\"assistant\",\"model\":")
	evStartTail = []byte(`,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}` + "\n\n")
	evOpen      = []byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n")
	evDeltas = [][]byte{
		[]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"),
		[]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" from the fake upstream.\"}}\n\n"),
	}
	evEnd = []byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":7}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
)

// messagesError writes Anthropic's error shape.
func messagesError(ctx *fasthttp.RequestCtx, status int, typ, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("request-id", "req_fake")
	ctx.SetBodyString(`{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_fake"}`)
}

// messages serves POST /v1/messages.
func messages(ctx *fasthttp.RequestCtx, delay, chunkDelay time.Duration) {
	if len(ctx.Request.Header.Peek("x-api-key")) == 0 {
		messagesError(ctx, 401, "authentication_error", "x-api-key header is required")
		return
	}
	if len(ctx.Request.Header.Peek("anthropic-version")) == 0 {
		messagesError(ctx, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	body := ctx.PostBody()
	if len(body) == 0 {
		messagesError(ctx, 400, "invalid_request_error", "There was an error parsing the body of your request. Make sure you are sending valid JSON.")
		return
	}
	// The body as a string without a copy: the results point into it and
	// are used before the handler returns (the stream copies the model).
	req := unsafe.String(&body[0], len(body))
	if !gjson.Valid(req) || !gjson.Parse(req).IsObject() {
		messagesError(ctx, 400, "invalid_request_error", "There was an error parsing the body of your request. Make sure you are sending valid JSON.")
		return
	}
	model, maxTokens := gjson.Get(req, "model"), gjson.Get(req, "max_tokens")
	msgs, stream := gjson.Get(req, "messages"), gjson.Get(req, "stream")
	switch {
	case !model.Exists():
		messagesError(ctx, 400, "invalid_request_error", "model: Field required")
		return
	case model.Type != gjson.String:
		messagesError(ctx, 400, "invalid_request_error", "model: Input should be a valid string")
		return
	case !maxTokens.Exists():
		messagesError(ctx, 400, "invalid_request_error", "max_tokens: Field required")
		return
	case maxTokens.Type != gjson.Number || maxTokens.Int() < 1:
		messagesError(ctx, 400, "invalid_request_error", "max_tokens: Input should be a positive integer")
		return
	case !msgs.Exists():
		messagesError(ctx, 400, "invalid_request_error", "messages: Field required")
		return
	case !msgs.IsArray():
		messagesError(ctx, 400, "invalid_request_error", "messages: Input should be a valid list")
		return
	case !msgs.Get("0").Exists():
		messagesError(ctx, 400, "invalid_request_error", "messages: at least one message is required")
		return
	}
	ctx.Response.Header.Set("request-id", "req_fake")
	if !stream.Bool() {
		if delay > 0 {
			time.Sleep(delay)
		}
		ctx.SetStatusCode(200)
		ctx.SetContentType("application/json")
		ctx.Response.AppendBody(msgHead)
		ctx.Response.AppendBodyString(model.Raw)
		ctx.Response.AppendBody(msgTail)
		return
	}
	// The model is copied: the request's buffer is gone once the handler
	// returns, and the stream writer runs after that.
	modelRaw := []byte(model.Raw)
	ctx.SetStatusCode(200)
	ctx.SetContentType("text/event-stream; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		if delay > 0 {
			time.Sleep(delay)
		}
		_, _ = w.Write(evStartHead)
		_, _ = w.Write(modelRaw)
		_, _ = w.Write(evStartTail)
		_, _ = w.Write(evOpen)
		if w.Flush() != nil {
			return
		}
		for _, d := range evDeltas {
			if chunkDelay > 0 {
				time.Sleep(chunkDelay)
			}
			_, _ = w.Write(d)
			if w.Flush() != nil {
				return
			}
		}
		if chunkDelay > 0 {
			time.Sleep(chunkDelay)
		}
		_, _ = w.Write(evEnd)
		_ = w.Flush()
	})
}
