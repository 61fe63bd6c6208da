package gateway

import (
	"encoding/json"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/wire"
)

// writeError writes an error in the OpenAI envelope.
func writeError(ctx *fasthttp.RequestCtx, e *wire.Error) {
	setLogError(ctx, e)
	ctx.Response.Reset()
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("retry-after", strconv.Itoa(e.RetryAfter))
	}
	ctx.SetBody(e.JSON())
}

// writeJSON writes v as a 200 JSON answer.
func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(ctx, wire.Errorf(500, wire.TypeInternal, "encoding the answer failed: %v", err))
		return
	}
	ctx.SetStatusCode(200)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// writeAnthropicError writes an error in Anthropic's shape (/v1/messages).
func writeAnthropicError(ctx *fasthttp.RequestCtx, e *wire.Error) {
	setLogError(ctx, e)
	ctx.Response.Reset()
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("retry-after", strconv.Itoa(e.RetryAfter))
	}
	ctx.SetBody(e.AnthropicJSON())
}
