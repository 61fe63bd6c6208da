package gateway

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/respid"
	"github.com/llmgateway/gateway/wire"
)

// api is one endpoint the generic handler serves: every endpoint but chat
// completions (chat.go), which keeps its own tuned handler.
type api struct {
	ep registry.Endpoint
	// need is the field the body must have besides the model.
	need requiredField
	// anthropic: Anthropic's error shape, and its named events.
	anthropic bool
	// named: the stream's events are named ("event: <type>") and end
	// without "data: [DONE]" (responses, messages).
	named bool
	// multipart: the body is a multipart form (audio transcriptions).
	multipart bool
}

var (
	apiCompletions = api{ep: registry.EndpointCompletions,
		need: requiredField{name: "prompt", what: "a JSON completion request", hint: "send the text to complete as `prompt`"}}
	apiEmbeddings = api{ep: registry.EndpointEmbeddings,
		need: requiredField{name: "input", what: "a JSON embeddings request", hint: "send the text (a string or a list) as `input`"}}
	apiResponses = api{ep: registry.EndpointResponses, named: true,
		need: requiredField{name: "input", what: "a JSON Responses API request", hint: "send the conversation as `input`"}}
	apiModerations = api{ep: registry.EndpointModerations,
		need: requiredField{name: "input", what: "a JSON moderation request", hint: "send the text to classify as `input`"}}
	apiImages = api{ep: registry.EndpointImages,
		need: requiredField{name: "prompt", what: "a JSON image generation request", hint: "describe the image in `prompt`"}}
	apiSpeech = api{ep: registry.EndpointSpeech,
		need: requiredField{name: "input", what: "a JSON speech request", hint: "send the text to speak as `input`"}}
	apiTranscriptions = api{ep: registry.EndpointTranscriptions, multipart: true}
	apiMessages       = api{ep: registry.EndpointMessages, anthropic: true, named: true,
		need: requiredField{name: "messages", array: true, what: "a JSON Messages API request",
			hint: "send the conversation as a list of {role, content} objects"}}
	apiCountTokens = api{ep: registry.EndpointCountTokens, anthropic: true,
		need: requiredField{name: "messages", array: true, what: "a JSON count_tokens request",
			hint: "send the conversation as a list of {role, content} objects"}}
)

// fail writes e in the endpoint's error shape.
func (a *api) fail(ctx *fasthttp.RequestCtx, e *wire.Error) {
	if a.anthropic {
		writeAnthropicError(ctx, e)
		return
	}
	writeError(ctx, e)
}

// passedHeaders are the client headers that go upstream.
var passedHeaders = []string{"anthropic-beta"}

// endpoint returns the handler for a: it authenticates, reads the model
// (and stream) from the body, asks the team actor and answers with the
// upstream's answer or stream, model name restored.
func (s *Server) endpoint(a api) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		route, werr := s.authenticate(ctx)
		if werr != nil {
			a.fail(ctx, werr)
			return
		}
		msg := &actors.Chat{Endpoint: a.ep, Key: route.Key, Body: ctx.PostBody()}
		if a.multipart {
			werr = parseForm(ctx, msg, ctx.UserValue("model"))
		} else {
			var req chatRequest
			req, werr = parseRequest(msg.Body, ctx.UserValue("model"), a.need)
			msg.Model, msg.ModelAt, msg.Stream = req.Model, req.ModelAt, req.Stream
			msg.Fallbacks, msg.Timeout = req.Fallbacks, req.Timeout
			setLogRequest(ctx, &req)
			if req.Body != nil {
				msg.Body = req.Body
			}
			if werr == nil && a.ep == registry.EndpointResponses {
				werr = s.continueResponse(route, msg)
			}
		}
		if werr != nil {
			a.fail(ctx, werr)
			return
		}
		for _, h := range passedHeaders {
			if v := ctx.Request.Header.Peek(h); len(v) > 0 {
				msg.Header = append(msg.Header, providers.Header{Name: h, Value: string(v)})
			}
		}
		s.run(ctx, &a, route, msg)
	}
}

// run asks the team actor for msg and writes its answer.
func (s *Server) run(ctx *fasthttp.RequestCtx, a *api, route *actors.Route, msg *actors.Chat) {
	setLogModel(ctx, msg.Model)
	var watch *hangup
	if !msg.Stream {
		if watch = watchHangup(ctx); watch != nil {
			msg.Abort = watch.abort
		}
	}
	res, werr := s.ask(route, msg)
	watch.stop()
	if werr != nil {
		a.fail(ctx, werr)
		return
	}
	s.answer(ctx, a, route, msg, res)
}

// answer writes the team actor's answer to msg.
func (s *Server) answer(ctx *fasthttp.RequestCtx, a *api, route *actors.Route, msg *actors.Chat, res *actors.ChatResult) {
	setLogResult(ctx, res)
	if msg.Abort != nil && msg.Abort.Aborted() {
		ctx.SetConnectionClose()
	}
	switch {
	case res.Err != nil:
		e := s.upstreamError(reqInfo(ctx), res.Err)
		countRefusal(route, e)
		if e.Status == 429 && e.RetryAfter <= 0 {
			c := *e
			c.RetryAfter = 1
			e = &c
		}
		a.fail(ctx, e)
	case res.Stream != nil:
		setRateLimitHeaders(ctx, res)
		s.relay(ctx, a, route, msg.Model, res)
	default:
		body := res.Body
		if a.ep == registry.EndpointResponses && res.Deployment != nil {
			body = s.sealResponseID(route, res.Deployment.ModelInfo.ID, body, "id")
		}
		ctx.SetStatusCode(200)
		ct := res.ContentType
		if ct == "" {
			ct = "application/json"
		}
		ctx.SetContentType(ct)
		setRateLimitHeaders(ctx, res)
		ctx.Response.Header.Set("x-litellm-response-cost", strconv.FormatFloat(res.Cost, 'g', -1, 64))
		ctx.Response.SetBodyRaw(body)
		setLogTokens(ctx, res.Usage)
	}
}

// parseForm reads the model of a multipart form (an audio upload) and
// where its value is in the body, for the worker's rewrite.
func parseForm(ctx *fasthttp.RequestCtx, msg *actors.Chat, pathModel any) *wire.Error {
	ct := string(ctx.Request.Header.ContentType())
	media, params, err := mime.ParseMediaType(ct)
	if err != nil || media != "multipart/form-data" || params["boundary"] == "" {
		return wire.BadRequest("send the audio as multipart/form-data with `file` and `model` fields")
	}
	msg.ContentType = ct
	if pm, ok := pathModel.(string); ok && pm != "" {
		msg.Model = pm // Azure's deployment path: the URL names the model
		return nil
	}
	// The model's value is located by walking the parts' delimiters (the
	// worker rewrites it in place), and must agree with what a multipart
	// reader makes of the form: one `model` field, with the same value.
	value, at, n := formField(msg.Body, params["boundary"], "model")
	if n > 1 {
		return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
			Message: "the form has more than one `model` field; send it once"}
	}
	var read string
	r := multipart.NewReader(bytes.NewReader(msg.Body), params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if p.FormName() == "model" {
			var v bytes.Buffer
			_, _ = v.ReadFrom(io.LimitReader(p, 257))
			read = v.String()
			break
		}
	}
	switch {
	case n == 0 && read == "":
		return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
			Message: "the form has no `model` field; add one naming a model from GET /v1/models"}
	case value == "" || len(value) > 256 || value != read || !utf8.ValidString(value):
		return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
			Message: "the form's `model` field is empty, unreadable or not plain text; set it to a model name from GET /v1/models"}
	}
	msg.Model, msg.ModelAt, msg.Stream = value, at, false
	return nil
}

// formField finds the parts of a multipart body named name: the first
// one's value and where it is, and how many there are.
func formField(body []byte, boundary, name string) (value string, at wire.Span, n int) {
	delim := []byte("--" + boundary)
	i := bytes.Index(body, delim)
	for i >= 0 {
		i += len(delim)
		if bytes.HasPrefix(body[i:], []byte("--")) {
			return // the closing delimiter
		}
		eol := bytes.Index(body[i:], []byte("\r\n"))
		if eol < 0 {
			return
		}
		start := i + eol + 2
		hend := bytes.Index(body[start:], []byte("\r\n\r\n"))
		next := bytes.Index(body[start:], append([]byte("\r\n"), delim...))
		if next < 0 {
			return
		}
		if hend >= 0 && hend <= next {
			if partName(body[start:start+hend]) == name {
				n++
				if n == 1 {
					off := start + hend + 4
					value, at = string(body[off:start+next]), wire.Span{Off: off, Len: start + next - off}
				}
			}
		}
		i = start + next + 2
	}
	return
}

// partName is the form name of a part's header block.
func partName(header []byte) string {
	for _, line := range bytes.Split(header, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Disposition")) {
			continue
		}
		if _, params, err := mime.ParseMediaType(string(bytes.TrimSpace(v))); err == nil {
			return params["name"]
		}
	}
	return ""
}

// codec returns the response id codec of the live salt keys.
func (s *Server) codec() *respid.Codec {
	snap := s.snapshot()
	var salt, prev, master string
	if snap != nil {
		salt, prev, master = snap.Settings.SaltKey, snap.Settings.SaltKeyPrevious, snap.Settings.MasterKey
	}
	if salt == "" {
		salt = master // no salt key: ids still survive a restart
	}
	return s.codecs.get(salt, prev)
}

// continueResponse turns a Responses request's previous_response_id (an
// id this gateway handed out) into the upstream's id and pins the call to
// the deployment that holds it. An id of another team, or not of this
// gateway, is 404, as the upstream answers for an unknown id.
func (s *Server) continueResponse(route *actors.Route, msg *actors.Chat) *wire.Error {
	prev := wire.Lookup(msg.Body, "previous_response_id")
	if prev.Type != gjson.String {
		return nil
	}
	ref, err := s.codec().Open(prev.Str)
	if err != nil || ref.Team != route.TeamID {
		return &wire.Error{Status: 404, Type: wire.TypeInvalidRequest, Param: "previous_response_id",
			Message: "previous response " + strconv.Quote(prev.Str) + " not found"}
	}
	body, err := wire.SetStringAt(msg.Body, wire.Span{Off: prev.Index, Len: len(prev.Raw)}, ref.Upstream)
	if err != nil {
		return wire.BadRequest("cannot rewrite previous_response_id: %v", err)
	}
	// The model's place moved if it came after the id.
	if msg.ModelAt.Off > prev.Index {
		msg.ModelAt.Off += len(body) - len(msg.Body)
	}
	msg.Body, msg.DeploymentID = body, ref.Deployment
	return nil
}

// sealResponseID replaces the upstream's response id at path in body
// with the id the client sees.
func (s *Server) sealResponseID(route *actors.Route, deployment string, body []byte, path string) []byte {
	id := wire.Lookup(body, path)
	if id.Type != gjson.String || id.Str == "" {
		return body
	}
	sealed := s.codec().Seal(respid.Ref{Team: route.TeamID, Deployment: deployment, Upstream: id.Str})
	out, err := wire.SetStringAt(body, wire.Span{Off: id.Index, Len: len(id.Raw)}, sealed)
	if err != nil {
		return body
	}
	return out
}

// storedResponse serves GET and DELETE /v1/responses/{id}: the id names
// the team and the deployment that created the response, and the call
// goes there.
func (s *Server) storedResponse(ctx *fasthttp.RequestCtx) {
	a := &api{ep: registry.EndpointResponses}
	route, werr := s.authenticate(ctx)
	if werr == nil {
		werr = blockedRoute(s.snapshot(), route) // before the id: blocked is 403 everywhere
	}
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	id, _ := ctx.UserValue("id").(string)
	ref, err := s.codec().Open(id)
	if err != nil || ref.Team != route.TeamID {
		writeError(ctx, wire.Errorf(404, wire.TypeInvalidRequest, "response %q not found", strings.TrimSpace(id)))
		return
	}
	msg := &actors.Chat{Endpoint: registry.EndpointResponses, Key: route.Key, DeploymentID: ref.Deployment,
		Method: string(ctx.Method()), ObjectID: ref.Upstream}
	s.run(ctx, a, route, msg)
}
