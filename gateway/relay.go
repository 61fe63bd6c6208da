package gateway

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/respid"
	"github.com/llmgateway/gateway/wire"
)

// relay answers a stream of an endpoint other than chat: completions
// chunks go the way chat's do (eventStream); the named events of the
// Responses and Messages APIs through a namedStream.
func (s *Server) relay(ctx *fasthttp.RequestCtx, a *api, route *actors.Route, model string, res *actors.ChatResult) {
	if !a.named {
		e := &eventStream{s: s, model: model, res: res, info: nil, textPath: "0.text"}
		ctx.SetStatusCode(200)
		ctx.SetContentType("text/event-stream")
		ctx.Response.Header.Set("Cache-Control", "no-cache")
		ctx.Response.Header.Set("X-Accel-Buffering", "no")
		e.info = s.setLogStream(ctx)
		ctx.SetBodyStream(e, -1)
		return
	}
	ctx.SetStatusCode(200)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	n := &namedStream{s: s, api: a, model: model, res: res, info: s.setLogStream(ctx)}
	if a.ep == registry.EndpointResponses && res.Deployment != nil {
		n.seal = func(upstream string) string {
			return s.codec().Seal(respid.Ref{Team: route.TeamID, Deployment: res.Deployment.ModelInfo.ID, Upstream: upstream})
		}
	}
	ctx.SetBodyStream(n, -1)
}

// namedStream relays a stream of named events ("event: <type>" then
// "data: <json>", the data's "type" being the name), as the Responses and
// Messages APIs send them: it restores the client's model name, seals
// response ids, reads the usage for accounting, and ends without
// "data: [DONE]". Like eventStream, Done runs before the last event goes
// out, and Close reports a stream not relayed to its end as failed.
type namedStream struct {
	s     *Server
	api   *api
	model string
	res   *actors.ChatResult
	info  *requestInfo
	seal  func(upstream string) string // responses: the client's id

	usage   actors.Usage
	ended   bool
	last    bool
	buf     []byte
	pending []byte
}

func (n *namedStream) fill() {
	st := n.res.Stream
	for !n.last {
		if len(n.buf) > 0 && (len(n.buf) >= maxBatch || !st.Ready()) {
			return
		}
		data, err := st.Next()
		if err == io.EOF {
			n.done()
			n.last = true
			return
		}
		if err != nil {
			n.usage.Failed = true
			n.done()
			n.last = true
			n.appendError(n.s.upstreamError(n.info, asWire(err)))
			return
		}
		typ := wire.Lookup(data, "type").Str
		data = n.edit(typ, data)
		n.appendEvent(typ, data)
	}
}

// edit reads the usage an event carries and rewrites its model and id.
func (n *namedStream) edit(typ string, data []byte) []byte {
	switch n.api.ep {
	case registry.EndpointResponses:
		if !strings.HasPrefix(typ, "response.") {
			return data
		}
		r := wire.Lookup(data, "response")
		if !r.IsObject() {
			return data
		}
		if r.Get("model").Type == gjson.String {
			data = setPath(data, "response.model", n.model)
		}
		if id := r.Get("id"); n.seal != nil && id.Type == gjson.String && id.Str != "" {
			data = setPath(data, "response.id", n.seal(id.Str))
		}
		if u := r.Get("usage"); u.IsObject() {
			n.usage.PromptTokens = u.Get("input_tokens").Int()
			n.usage.CompletionTokens = u.Get("output_tokens").Int()
			n.usage.CacheReadTokens = u.Get("input_tokens_details.cached_tokens").Int()
			n.usage.Reported = true
		}
	case registry.EndpointMessages:
		switch typ {
		case "message_start":
			m := wire.Lookup(data, "message")
			if m.Get("model").Type == gjson.String {
				data = setPath(data, "message.model", n.model)
			}
			n.messagesUsage(m.Get("usage"))
		case "message_delta":
			n.messagesUsage(wire.Lookup(data, "usage"))
		}
	}
	return data
}

// messagesUsage folds an Anthropic usage object into the stream's usage:
// message_start has the input, message_delta the output so far (and, from
// some upstreams, the input again).
func (n *namedStream) messagesUsage(u gjson.Result) {
	if !u.IsObject() {
		return
	}
	read, write := u.Get("cache_read_input_tokens"), u.Get("cache_creation_input_tokens")
	if in := u.Get("input_tokens"); in.Exists() && (in.Int() > 0 || !n.usage.Reported) {
		n.usage.CacheReadTokens, n.usage.CacheWriteTokens = read.Int(), write.Int()
		n.usage.PromptTokens = in.Int() + read.Int() + write.Int()
	}
	if out := u.Get("output_tokens"); out.Exists() {
		n.usage.CompletionTokens = out.Int()
	}
	n.usage.Reported = true
}

// setPath sets a nested string; an event it cannot edit goes out as is.
func setPath(data []byte, path, value string) []byte {
	if out, err := sjson.SetBytes(data, path, value); err == nil {
		return out
	}
	return data
}

func (n *namedStream) appendEvent(typ string, data []byte) {
	if typ != "" && !strings.ContainsAny(typ, "\r\n") {
		n.buf = append(append(append(n.buf, "event: "...), typ...), '\n')
	}
	n.buf = append(append(append(n.buf, dataPrefix...), data...), eventEnd...)
}

// appendError ends the stream with an error event in the API's shape.
func (n *namedStream) appendError(e *wire.Error) {
	if n.api.anthropic {
		n.appendEvent("error", e.AnthropicJSON())
		return
	}
	b, _ := json.Marshal(struct {
		Type    string  `json:"type"`
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Param   *string `json:"param"`
	}{Type: "error", Code: e.Type, Message: e.Message})
	n.appendEvent("error", b)
}

func (n *namedStream) done() {
	if !n.ended {
		n.ended = true
		n.s.streamEnded(n.info, n.res.Done(n.usage))
	}
}

// WriteTo writes the events, one chunk per batch (fasthttp.BodyWriterTo).
func (n *namedStream) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for !n.last {
		n.buf = n.buf[:0]
		n.fill()
		m, err := w.Write(n.buf)
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// SupportsBodyWriteTo tells fasthttp to use WriteTo.
func (n *namedStream) SupportsBodyWriteTo() bool { return true }

// Read serves the same bytes as WriteTo.
func (n *namedStream) Read(p []byte) (int, error) {
	if len(n.pending) == 0 {
		if n.last {
			return 0, io.EOF
		}
		n.buf = n.buf[:0]
		n.fill()
		n.pending = n.buf
	}
	c := copy(p, n.pending)
	n.pending = n.pending[c:]
	return c, nil
}

// Close ends the relay (see eventStream.Close).
func (n *namedStream) Close() error {
	if !n.ended {
		n.usage.Failed = true
		n.done()
	}
	n.res.Stream.Close()
	return nil
}
