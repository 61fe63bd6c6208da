package gateway

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/tidwall/gjson"
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
	n := &namedStream{s: s, api: a, model: model, res: res, info: s.setLogStream(ctx), reader: wire.NewStreamReader(a.ep)}
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

	reader  wire.StreamReader
	failed  bool
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
			n.failed = true
			n.done()
			n.last = true
			n.appendError(n.s.upstreamError(n.info, asWire(err)))
			return
		}
		ev := n.reader.Read(data)
		if ev.ModelAt != (wire.Span{}) {
			data = wire.SetModelSpan(data, ev.ModelAt, n.model)
		}
		if n.seal != nil && ev.Type != nil && bytes.HasPrefix(ev.Type, []byte("response.")) {
			data = n.sealID(data)
		}
		n.appendEvent(ev.Type, data)
	}
}

// sealID replaces a response.* event's response.id with the client's id.
func (n *namedStream) sealID(data []byte) []byte {
	id := wire.Lookup(data, "response.id")
	if id.Type != gjson.String || id.Str == "" || id.Index <= 0 {
		return data
	}
	if out, err := wire.SetStringAt(data, wire.Span{Off: id.Index, Len: len(id.Raw)}, n.seal(id.Str)); err == nil {
		return out
	}
	return data
}

func (n *namedStream) appendEvent(typ []byte, data []byte) {
	if len(typ) > 0 && !bytes.ContainsAny(typ, "\r\n") {
		n.buf = append(append(append(n.buf, "event: "...), typ...), '\n')
	}
	n.buf = append(append(append(n.buf, dataPrefix...), data...), eventEnd...)
}

// appendError ends the stream with an error event in the API's shape.
func (n *namedStream) appendError(e *wire.Error) {
	if n.api.anthropic {
		n.appendEvent([]byte("error"), e.AnthropicJSON())
		return
	}
	b, _ := json.Marshal(struct {
		Type    string  `json:"type"`
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Param   *string `json:"param"`
	}{Type: "error", Code: e.Type, Message: e.Message})
	n.appendEvent([]byte("error"), b)
}

func (n *namedStream) done() {
	if !n.ended {
		n.ended = true
		u := n.reader.Usage()
		n.s.streamEnded(n.info, n.res.Done(actors.Usage{PromptTokens: u.Prompt, CompletionTokens: u.Completion,
			CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite, Reported: u.Reported, Failed: n.failed}))
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
		n.failed = true
		n.done()
	}
	n.res.Stream.Close()
	return nil
}
