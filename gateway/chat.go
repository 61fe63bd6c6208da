package gateway

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/wire"
)

// chatCompletions serves POST /v1/chat/completions, /chat/completions and
// the Azure-style /openai/deployments/{model}/chat/completions (the path's
// model wins; the api-version query is accepted and ignored).
func (s *Server) chatCompletions(ctx *fasthttp.RequestCtx) {
	route, werr := s.authenticate(ctx)
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	body := ctx.PostBody()
	req, werr := parseChat(body, ctx.UserValue("model"))
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	model := req.Model
	setLogModel(ctx, model)
	setLogRequest(ctx, &req)
	if req.Body != nil {
		body = req.Body
	}
	msg := &actors.Chat{Model: model, Body: body, ModelAt: req.ModelAt, Stream: req.Stream, Key: route.Key,
		Fallbacks: req.Fallbacks, Timeout: req.Timeout}
	var watch *hangup
	if !req.Stream {
		// A stream notices a hang-up at its next write; a unary call is
		// watched (see hangup).
		if watch = watchHangup(ctx); watch != nil {
			msg.Abort = watch.abort
		}
	}
	res, werr := s.ask(route, msg)
	watch.stop()
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	setLogResult(ctx, res)
	if msg.Abort != nil && msg.Abort.Aborted() {
		ctx.SetConnectionClose() // the client is gone
	}
	switch {
	case res.Err != nil:
		e := s.upstreamError(reqInfo(ctx), res.Err)
		countRefusal(route, e)
		if e.Status == 429 && e.RetryAfter <= 0 {
			// Every 429 carries retry-after, an upstream's too.
			c := *e
			c.RetryAfter = 1
			e = &c
		}
		writeError(ctx, e)
	case res.Stream != nil:
		setRateLimitHeaders(ctx, res)
		s.streamTo(ctx, model, res)
	default:
		ctx.SetStatusCode(200)
		ctx.SetContentType("application/json")
		setRateLimitHeaders(ctx, res)
		ctx.Response.Header.Set("x-litellm-response-cost", strconv.FormatFloat(res.Cost, 'g', -1, 64))
		ctx.Response.SetBodyRaw(res.Body) // ours (a copy of the upstream's answer), never modified: no third copy
		setLogTokens(ctx, res.Usage)
	}
}

// setRateLimitHeaders sends the remaining rpm / tpm allowance, when a
// limit applies. A stream's cost is only known at its end, after the
// headers went out, so streams carry no x-litellm-response-cost.
func setRateLimitHeaders(ctx *fasthttp.RequestCtx, res *actors.ChatResult) {
	if d := res.Deployment; d != nil {
		// Which deployment answered and after how many retries (LiteLLM's
		// headers).
		ctx.Response.Header.Set("x-litellm-model-id", d.ModelInfo.ID)
		ctx.Response.Header.Set("x-litellm-model-group", d.PublicName())
		ctx.Response.Header.Set("x-litellm-attempted-retries", strconv.Itoa(res.Retries))
		if res.Fallbacks > 0 {
			ctx.Response.Header.Set("x-litellm-attempted-fallbacks", strconv.Itoa(res.Fallbacks))
		}
	}
	if res.RemainingRequests >= 0 {
		ctx.Response.Header.Set("x-ratelimit-remaining-requests", strconv.FormatInt(res.RemainingRequests, 10))
	}
	if res.RemainingTokens >= 0 {
		ctx.Response.Header.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(res.RemainingTokens, 10))
	}
	if res.SoftBudgetExceeded {
		// The key's spend reached its soft_budget (a warning; the call
		// still runs): the value is the soft budget in USD.
		ctx.Response.Header.Set("x-litellm-key-soft-budget", strconv.FormatFloat(res.SoftBudget, 'f', -1, 64))
	}
}

// chatRequest is what the handler reads from a chat completion body.
type chatRequest struct {
	Model  string
	Stream bool
	// Fallbacks and Timeout are the request's own router settings
	// (LiteLLM's "fallbacks" and "timeout" body fields); Body is the body
	// without them (nil: unchanged), since upstreams refuse unknown fields.
	Fallbacks []string
	Timeout   float64
	Body      []byte
	// ModelAt is where the body's "model" value is, for the worker's
	// rewrite (zero: not in the body, the path named the model).
	ModelAt wire.Span
	// User and Metadata are the body's "user" and "metadata" (raw JSON),
	// for the usage log; zero when absent.
	User     gjson.Result
	Metadata gjson.Result
}

// parseChat reads only what routing needs from the body: model and stream.
// The body itself is forwarded untouched but for its model. It validates
// the body and then walks its top-level fields once: a lookup per field
// would scan a large messages array again for each field after it (the
// OpenAI Python SDK sends "model" after "messages").
func parseChat(body []byte, pathModel any) (req chatRequest, werr *wire.Error) {
	return parseRequest(body, pathModel, chatFields)
}

// requiredField is the field a request body must have besides the model,
// for parseRequest's messages.
type requiredField struct {
	name  string
	array bool   // it must be an array (else any value)
	what  string // "a JSON chat completion request"
	hint  string // how to send it
}

var chatFields = requiredField{name: "messages", array: true, what: "a JSON chat completion request",
	hint: "send the conversation as a list of {role, content} objects"}

// parseRequest is parseChat for any JSON endpoint: need names the field
// the body must have besides "model".
func parseRequest(body []byte, pathModel any, need requiredField) (req chatRequest, werr *wire.Error) {
	if len(body) == 0 {
		return req, wire.BadRequest("request body is empty; send %s with `model` and `%s`", need.what, need.name)
	}
	if !gjson.ValidBytes(body) {
		return req, wire.BadRequest("request body is not valid JSON; send a JSON object with `model` and `%s`", need.name)
	}
	// Parse without copying body into a string: only the model name is
	// kept past this call, and it is cloned.
	r := gjson.Parse(wire.View(body))
	if !r.IsObject() {
		return req, wire.BadRequest("request body must be a JSON object with `model` and `%s`", need.name)
	}
	var model, messages, stream, fallbacks, timeout gjson.Result
	var dup *wire.Error
	models, streams := 0, 0
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			model = v
			models++
		case need.name:
			messages = v
		case "fallbacks":
			fallbacks = v
			return true
		case "timeout":
			timeout = v
			return true
		case "user":
			req.User = v
			return true
		case "metadata":
			req.Metadata = v
			return true
		case "stream":
			stream = v
			streams++
		default:
			if dup = routingKeyVariant(k.Str); dup != nil {
				return false
			}
			return true
		}
		// A routing key spelled with escapes ("mod\u0065l") is the same key
		// to every JSON parser but not to a byte-level edit: refuse it, so
		// that the rewrite and the upstream see exactly what was routed.
		if len(k.Raw) != len(k.Str)+2 {
			dup = &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: k.Str,
				Message: "the key `" + k.Str + "` is written with JSON escapes in the request body; write it as plain `" + k.Str + "`"}
			return false
		}
		return true
	})
	if dup != nil {
		return req, dup
	}
	if models > 1 || streams > 1 {
		// Which one the upstream reads is its parser's choice; the one the
		// gateway routes and prices by must be the one it sends.
		key := "model"
		if models <= 1 {
			key = "stream"
		}
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: key,
			Message: "`" + key + "` appears more than once in the request body; send it once"}
	}
	if pm, ok := pathModel.(string); ok && pm != "" {
		req.Model = pm
	} else {
		if model.Type != gjson.String || model.Str == "" || !utf8.ValidString(model.Str) {
			return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
				Message: "`model` is missing or not a string of valid UTF-8; set it to a model name from GET /v1/models"}
		}
		req.Model = strings.Clone(model.Str)
	}
	if model.Exists() {
		req.ModelAt = wire.Span{Off: model.Index, Len: len(model.Raw)}
	}
	if need.array && !messages.IsArray() {
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: need.name,
			Message: "`" + need.name + "` is missing or not an array; " + need.hint}
	}
	if need.name != "" && !messages.Exists() {
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: need.name,
			Message: "`" + need.name + "` is missing; " + need.hint}
	}
	if stream.Exists() && stream.Type != gjson.True && stream.Type != gjson.False && stream.Type != gjson.Null {
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "stream",
			Message: "`stream` must be true or false"}
	}
	req.Stream = stream.Type == gjson.True
	if fallbacks.Exists() || timeout.Exists() {
		return routerFields(req, body, fallbacks, timeout)
	}
	return req, nil
}

// routerFields reads a request's own fallbacks and timeout and takes them
// out of the body it forwards.
func routerFields(req chatRequest, body []byte, fallbacks, timeout gjson.Result) (chatRequest, *wire.Error) {
	if fallbacks.Exists() {
		if !fallbacks.IsArray() {
			return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "fallbacks",
				Message: "`fallbacks` must be a list of model names"}
		}
		for _, f := range fallbacks.Array() {
			if f.Type != gjson.String || f.Str == "" {
				return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "fallbacks",
					Message: "`fallbacks` must be a list of model names; each entry a non-empty string"}
			}
			req.Fallbacks = append(req.Fallbacks, f.Str)
		}
	}
	if timeout.Exists() {
		if timeout.Type != gjson.Number || !(timeout.Num > 0) || timeout.Num > 86400 {
			return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "timeout",
				Message: "`timeout` must be a number of seconds above 0 and at most 86400"}
		}
		req.Timeout = timeout.Num
	}
	out := bytes.Clone(body)
	for _, k := range []string{"fallbacks", "timeout"} {
		if b, err := sjson.DeleteBytes(out, k); err == nil {
			out = b
		}
	}
	req.Body = out
	if m := wire.Lookup(out, "model"); m.Type == gjson.String {
		req.ModelAt = wire.Span{Off: m.Index, Len: len(m.Raw)}
	}
	return req, nil
}

// routingKeyVariant refuses a top-level key that is not "model" or
// "stream" but matches one of them case-insensitively ("Model", "STREAM",
// "ſtream" with a long s): Go's encoding/json and other case-insensitive
// parsers read it as that key, so an upstream could serve another model,
// or stream, than the gateway routed, allowed and priced. key is the
// decoded key; the fold is Unicode's simple folding, as encoding/json's.
func routingKeyVariant(key string) *wire.Error {
	// "model" and "stream" fold only from ASCII letters and ſ (2 bytes).
	if len(key) < 5 || len(key) > 7 {
		return nil
	}
	for _, name := range [...]string{"model", "stream"} {
		if strings.EqualFold(key, name) {
			return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: name,
				Message: "the request body has a key " + strconv.Quote(key) + " besides or instead of `" + name +
					"`; JSON keys are case-sensitive here but not to every upstream: send `" + name + "` once, in lowercase"}
		}
	}
	return nil
}

// ask sends a chat to the route's actor and runs it once admitted.
func (s *Server) ask(route *actors.Route, msg *actors.Chat) (*actors.ChatResult, *wire.Error) {
	res, err := actors.Call(s.opts.Root, route.PID, msg, s.opts.CallTimeout)
	if err != nil {
		return nil, wire.Errorf(503, wire.TypeInternal,
			"the team's actor did not answer (%v); the team may have just been removed, retry", err)
	}
	return res, nil
}

var (
	dataPrefix = []byte("data: ")
	eventEnd   = []byte("\n\n")
	doneEvent  = []byte("data: [DONE]\n\n")
)

// streamTo answers with the upstream's stream, relayed event by event by
// an eventStream that fasthttp writes to the client once the handler has
// returned.
func (s *Server) streamTo(ctx *fasthttp.RequestCtx, model string, res *actors.ChatResult) {
	ctx.SetStatusCode(200)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	ctx.SetBodyStream(&eventStream{s: s, model: model, res: res, info: s.setLogStream(ctx)}, -1)
}

// eventStream relays the upstream's events to the client. fasthttp calls
// WriteTo on the connection's goroutine and sends each Write as one
// flushed chunk: events go out as soon as they arrived, those that arrived
// together in one write, without the goroutine and pipe of
// SetBodyStreamWriter. A failed write (the client went away) ends the
// relay; Close, which fasthttp always calls, then aborts the upstream
// request.
//
// It reads the usage from the final usage chunk and does not forward that
// chunk when the gateway asked for it (res.StripUsage). It keeps the
// completion text so that, if the upstream reports no usage, Done can
// count the tokens. Done runs before "data: [DONE]" is written, so usage,
// cost and the freed parallel slot reach the team actor first.
type eventStream struct {
	s     *Server
	model string
	res   *actors.ChatResult
	info  *requestInfo
	// textPath is where a chunk's text is in its choices ("": chat's
	// 0.delta.content), counted when the upstream reports no usage.
	textPath string
	// named is set for the Responses and Messages APIs, whose events are
	// named and end without "data: [DONE]" (relay.go): the events go
	// through namedEvent, their usage through reader.
	named  *api
	reader wire.StreamReader
	seal   func(upstream string) string // responses: the client's id

	usage   actors.Usage
	ended   bool   // done ran: usage reported
	last    bool   // the final event is in buf
	buf     []byte // events to write, reused
	pending []byte // Read's unread part of buf
}

// maxBatch bounds the events sent in one write.
const maxBatch = 32 << 10

// fill appends events to e.buf until the next one is not received yet (or
// e.buf is large, or the stream ended). It waits for the upstream only
// while e.buf is empty.
func (e *eventStream) fill() {
	st := e.res.Stream
	for !e.last {
		if len(e.buf) > 0 && (len(e.buf) >= maxBatch || !st.Ready()) {
			return
		}
		data, err := st.Next()
		if err == io.EOF {
			e.done() // reaches the team actor before the last byte
			e.last = true
			if e.named == nil {
				e.buf = append(e.buf, doneEvent...)
			}
			return
		}
		if err != nil {
			e.usage.Failed = true
			e.done()
			e.last = true
			e.appendError(e.s.upstreamError(e.info, asWire(err)))
			return
		}
		if e.named != nil {
			e.namedEvent(data)
			continue
		}
		ch := wire.ParseChunk(data)
		if len(ch.Usage) > 0 && ch.Usage[0] == '{' {
			e.usage = actors.UsageOf(ch.Usage)
			if e.res.StripUsage && (ch.Choices == nil || emptyArray(ch.Choices)) {
				continue // the usage chunk only the gateway asked for
			}
		} else if !e.usage.Reported {
			path := e.textPath
			if path == "" {
				path = "0.delta.content"
			}
			if c := wire.Lookup(ch.Choices, path); c.Type == gjson.String {
				e.usage.Text = append(e.usage.Text, c.Str...)
			}
		}
		if out, err := wire.SetModelAt(data, ch.ModelAt, e.model); err == nil {
			data = out
		}
		e.appendEvent(data)
	}
}

// emptyArray reports whether raw is the JSON array [] (spaces allowed).
func emptyArray(raw []byte) bool {
	return len(raw) >= 2 && raw[0] == '[' && len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0 && raw[len(raw)-1] == ']'
}

// appendEvent frames data as one server-sent event at the end of e.buf.
func (e *eventStream) appendEvent(data []byte) {
	e.buf = append(append(append(e.buf, dataPrefix...), data...), eventEnd...)
}

func (e *eventStream) done() {
	if !e.ended {
		e.ended = true
		if e.named != nil {
			u := e.reader.Usage()
			e.usage = actors.Usage{PromptTokens: u.Prompt, CompletionTokens: u.Completion,
				CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite, Reported: u.Reported, Failed: e.usage.Failed}
		}
		e.s.streamEnded(e.info, e.res.Done(e.usage))
	}
}

// WriteTo writes the events, one chunk per batch (fasthttp.BodyWriterTo).
func (e *eventStream) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for !e.last {
		e.buf = e.buf[:0]
		e.fill()
		m, err := w.Write(e.buf)
		n += int64(m)
		if err != nil {
			return n, err // Close reports the stream as failed
		}
	}
	return n, nil
}

// SupportsBodyWriteTo tells fasthttp to use WriteTo.
func (e *eventStream) SupportsBodyWriteTo() bool { return true }

// Read serves the same bytes as WriteTo, for a reader of the body that
// does not use WriteTo.
func (e *eventStream) Read(p []byte) (int, error) {
	if len(e.pending) == 0 {
		if e.last {
			return 0, io.EOF
		}
		e.buf = e.buf[:0]
		e.fill()
		e.pending = e.buf
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	return n, nil
}

// Close ends the relay: a stream not relayed to its end (the client went
// away, or the response was never written) is reported as failed, and the
// upstream request is aborted if still open.
func (e *eventStream) Close() error {
	if !e.ended {
		e.usage.Failed = true
		e.done()
	}
	e.res.Stream.Close()
	return nil
}

// countRefusal counts a call refused by a team or key limit.
func countRefusal(route *actors.Route, e *wire.Error) {
	switch e.Limit {
	case "":
	case "budget":
		metrics.BudgetExceeded(route.TeamID)
	default:
		metrics.RateLimited(route.TeamID, e.Limit)
	}
}

func asWire(err error) *wire.Error {
	if we, ok := err.(*wire.Error); ok {
		return we
	}
	return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream stream failed", Internal: err.Error()}
}
