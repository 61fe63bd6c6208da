package gateway

import (
	"bytes"
	"encoding/json"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/respid"
	"github.com/llmgateway/gateway/wire"
)

// relay answers a stream of an endpoint other than chat: completions
// chunks go the way chat's do; the named events of the Responses and
// Messages APIs through namedEvent.
func (s *Server) relay(ctx *fasthttp.RequestCtx, a *api, route *actors.Route, model string, res *actors.ChatResult) {
	ctx.SetStatusCode(200)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	e := &eventStream{s: s, model: model, res: res, info: s.setLogStream(ctx), textPath: "0.text"}
	if a.named {
		e.named, e.reader = a, wire.NewStreamReader(a.ep)
	}
	if a.ep == registry.EndpointResponses && res.Deployment != nil {
		e.seal = func(upstream string) string {
			return s.codec().Seal(respid.Ref{Team: route.TeamID, Deployment: res.Deployment.ModelInfo.ID, Upstream: upstream})
		}
	}
	ctx.SetBodyStream(e, -1)
}

// namedEvent relays one event of a named stream ("event: <type>" then
// "data: <json>", the data's "type" being the name), as the Responses and
// Messages APIs send them: it restores the client's model name, seals
// response ids and reads the usage.
func (e *eventStream) namedEvent(data []byte) {
	ev := e.reader.Read(data)
	if ev.ModelAt != (wire.Span{}) {
		data = wire.SetModelSpan(data, ev.ModelAt, e.model)
	}
	if e.seal != nil && ev.Type != nil && bytes.HasPrefix(ev.Type, []byte("response.")) {
		data = e.sealID(data)
	}
	e.appendNamed(ev.Type, data)
}

// sealID replaces a response.* event's response.id with the client's id.
func (e *eventStream) sealID(data []byte) []byte {
	id := wire.Lookup(data, "response.id")
	if id.Type != gjson.String || id.Str == "" || id.Index <= 0 {
		return data
	}
	if out, err := wire.SetStringAt(data, wire.Span{Off: id.Index, Len: len(id.Raw)}, e.seal(id.Str)); err == nil {
		return out
	}
	return data
}

// appendNamed frames data as one named event.
func (e *eventStream) appendNamed(typ, data []byte) {
	if len(typ) > 0 && !bytes.ContainsAny(typ, "\r\n") {
		e.buf = append(append(append(e.buf, "event: "...), typ...), '\n')
	}
	e.appendEvent(data)
}

// appendError ends the stream with an error event in the API's shape:
// OpenAI's envelope for chat and completions, Anthropic's error event,
// the Responses API's error event.
func (e *eventStream) appendError(we *wire.Error) {
	switch {
	case e.named == nil:
		e.appendEvent(we.JSON())
	case e.named.anthropic:
		e.appendNamed([]byte("error"), we.AnthropicErrorEvent())
	default:
		b, _ := json.Marshal(struct {
			Type    string  `json:"type"`
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Param   *string `json:"param"`
		}{Type: "error", Code: we.Type, Message: we.Message})
		e.appendNamed([]byte("error"), b)
	}
}
