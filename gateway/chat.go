package gateway

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/gateway/wire"
	"github.com/llmgateway/gateway/metrics"
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
	res, werr := s.ask(route, &actors.Chat{Model: model, Body: body, ModelAt: req.ModelAt, Stream: req.Stream, Key: route.Key})
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	if res.Deployment != nil {
		setLogDeployment(ctx, res.Deployment.ModelInfo.ID)
	}
	switch {
	case res.Err != nil:
		e := res.Err
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
		ctx.SetBody(res.Body)
		setLogTokens(ctx, res.Usage)
	}
}

// setRateLimitHeaders sends the remaining rpm / tpm allowance, when a
// limit applies. A stream's cost is only known at its end, after the
// headers went out, so streams carry no x-litellm-response-cost.
func setRateLimitHeaders(ctx *fasthttp.RequestCtx, res *actors.ChatResult) {
	if res.RemainingRequests >= 0 {
		ctx.Response.Header.Set("x-ratelimit-remaining-requests", strconv.FormatInt(res.RemainingRequests, 10))
	}
	if res.RemainingTokens >= 0 {
		ctx.Response.Header.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(res.RemainingTokens, 10))
	}
}

// chatRequest is what the handler reads from a chat completion body.
type chatRequest struct {
	Model  string
	Stream bool
	// ModelAt is where the body's "model" value is, for the worker's
	// rewrite (zero: not in the body, the path named the model).
	ModelAt wire.Span
}

// parseChat reads only what routing needs from the body: model and stream.
// The body itself is forwarded untouched but for its model. It validates
// the body and then walks its top-level fields once: a lookup per field
// would scan a large messages array again for each field after it (the
// OpenAI Python SDK sends "model" after "messages").
func parseChat(body []byte, pathModel any) (req chatRequest, werr *wire.Error) {
	if len(body) == 0 {
		return req, wire.BadRequest("request body is empty; send a JSON chat completion request with `model` and `messages`")
	}
	if !gjson.ValidBytes(body) {
		return req, wire.BadRequest("request body is not valid JSON; send a JSON object with `model` and `messages`")
	}
	// Parse without copying body into a string: only the model name is
	// kept past this call, and it is cloned.
	r := gjson.Parse(wire.View(body))
	if !r.IsObject() {
		return req, wire.BadRequest("request body must be a JSON object with `model` and `messages`")
	}
	var model, messages, stream gjson.Result
	models := 0
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			model = v
			models++
		case "messages":
			messages = v
		case "stream":
			stream = v
		}
		return true
	})
	if models > 1 {
		// Which one the upstream reads is its parser's choice; the one the
		// gateway routes and prices by must be the one it sends.
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
			Message: "`model` appears more than once in the request body; send it once"}
	}
	if pm, ok := pathModel.(string); ok && pm != "" {
		req.Model = pm
	} else {
		if model.Type != gjson.String || model.Str == "" {
			return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
				Message: "`model` is missing or not a string; set it to a model name from GET /v1/models"}
		}
		req.Model = strings.Clone(model.Str)
	}
	if model.Exists() {
		req.ModelAt = wire.Span{Off: model.Index, Len: len(model.Raw)}
	}
	if !messages.IsArray() {
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "messages",
			Message: "`messages` is missing or not an array; send the conversation as a list of {role, content} objects"}
	}
	if stream.Exists() && stream.Type != gjson.True && stream.Type != gjson.False && stream.Type != gjson.Null {
		return req, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "stream",
			Message: "`stream` must be true or false"}
	}
	req.Stream = stream.Type == gjson.True
	return req, nil
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

// streamTo copies the upstream stream to the client chunk by chunk, each
// flushed as soon as it arrives. A failed write (the client went away)
// closes the upstream stream, which cancels the upstream request.
//
// It reads the usage from the final usage chunk and does not forward that
// chunk when the gateway asked for it (res.StripUsage). It keeps the
// completion text so that, if the upstream reports no usage, Done can
// count the tokens. Done runs before "data: [DONE]" is written, so usage,
// cost and the freed parallel slot reach the team actor first.
func (s *Server) streamTo(ctx *fasthttp.RequestCtx, model string, res *actors.ChatResult) {
	ctx.SetStatusCode(200)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	stream := res.Stream
	info := reqInfo(ctx)
	done := func(u actors.Usage) {
		res.Done(u)
		s.streamEnded(info, u)
	}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer stream.Close()
		var usage actors.Usage
		strip := res.StripUsage
		for {
			data, err := stream.Next()
			if err == io.EOF {
				done(usage) // reaches the team actor before the last byte
				_, _ = w.Write(doneEvent)
				_ = w.Flush()
				return
			}
			if err != nil {
				usage.Failed = true
				done(usage)
				we := asWire(err)
				_, _ = w.Write(dataPrefix)
				_, _ = w.Write(we.JSON())
				_, _ = w.Write(eventEnd)
				_ = w.Flush()
				return
			}
			if u := wire.Lookup(data, "usage"); u.IsObject() {
				usage.PromptTokens = u.Get("prompt_tokens").Int()
				usage.CompletionTokens = u.Get("completion_tokens").Int()
				usage.Reported = true
				if strip {
					if c := wire.Lookup(data, "choices"); !c.Exists() || (c.IsArray() && len(c.Array()) == 0) {
						continue // the usage chunk only the gateway asked for
					}
				}
			} else if !usage.Reported {
				if c := wire.Lookup(data, "choices.0.delta.content"); c.Type == gjson.String {
					usage.Text = append(usage.Text, c.Str...)
				}
			}
			if out, err := wire.SetModel(data, model); err == nil {
				data = out
			}
			_, _ = w.Write(dataPrefix)
			_, _ = w.Write(data)
			_, _ = w.Write(eventEnd)
			if err := w.Flush(); err != nil {
				usage.Failed = true
				done(usage)
				return // deferred Close aborts the upstream request
			}
		}
	})
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
	return wire.Errorf(502, wire.TypeUpstream, "upstream stream failed: %v", err)
}
