// Package fakeopenai is an in-process fake of the OpenAI API and of Azure
// OpenAI, on 127.0.0.1, for tests of the providers and of the gateway end
// to end. It validates each request as the real services do (auth, the
// Azure paths and api-version, each endpoint's required fields and their
// types), answers realistic bodies with usage, unary and streamed, keeps
// the responses it created for GET and DELETE, and records every request.
//
// One server speaks both dialects:
//
//   - OpenAI under /v1 (OpenAIBase): Authorization: Bearer <Key>;
//     POST /v1/chat/completions, /v1/completions, /v1/embeddings,
//     /v1/responses, /v1/moderations, /v1/images/generations,
//     /v1/audio/speech, /v1/audio/transcriptions; GET and DELETE
//     /v1/responses/{id}.
//   - Azure OpenAI at the root (AzureBase): api-key: <Key>;
//     /openai/deployments/{deployment}/{endpoint}?api-version=... (every
//     endpoint above but moderations and responses), the Responses API at
//     /openai/responses?api-version=... (2025-03-01-preview or later) and
//     the v1 API at /openai/v1/{endpoint} (api-version absent, preview or
//     latest; the deployment is the body's model).
//   - Azure AI Foundry's model inference API (AIBase):
//     /models/chat/completions and /models/embeddings?api-version=<dated>
//     (the model is the body's), the key in api-key or
//     Authorization: Bearer.
//
// With Options.Bearer set, the Azure and Foundry paths also accept
// Authorization: Bearer <token> for a token Bearer accepts (a Microsoft
// Entra ID token: fakeentra.Server.Valid).
//
// Chat, completions, embeddings and responses answer as the built-in mock
// provider does (providers/mock); moderations, images, speech and
// transcriptions have their own small answers. An unauthorized request
// gets a 401 whose message quotes the key it was sent, so tests can check
// that the gateway scrubs upstream messages.
package fakeopenai

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/mock"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// DefaultKey is the key a server accepts unless Options.Key says another.
const DefaultKey = "sk-fake-upstream-0123456789"

// Options configure a server; the zero value is usable.
type Options struct {
	// Key is the key the server accepts (DefaultKey when empty), as the
	// bearer token on /v1 and the api-key header on /openai.
	Key string
	// Deployments, when set, are the Azure deployment names that exist;
	// another answers 404 DeploymentNotFound. Nil: every name exists.
	Deployments []string
	// Bearer, when set, accepts Authorization: Bearer <token> on the
	// Azure and Foundry paths when it returns true (Entra ID auth).
	Bearer func(token string) bool
}

// Request is one recorded request.
type Request struct {
	// Dialect is "openai" or "azure".
	Dialect  string
	Method   string
	Path     string // without the query
	Endpoint registry.Endpoint
	// ObjectID is the response id of a GET or DELETE /responses/{id}.
	ObjectID string
	// Deployment is the Azure deployment of the path ("" for the v1 and
	// responses paths, and for OpenAI).
	Deployment string
	// APIVersion is the api-version query parameter.
	APIVersion  string
	ContentType string
	// Stream reports a JSON body with "stream": true.
	Stream bool
	Header map[string]string // by lower-case name
	Body   []byte
}

// Server is a running fake upstream.
type Server struct {
	// URL is http://127.0.0.1:<port>.
	URL string
	// Key is the key it accepts.
	Key string

	deployments map[string]bool
	bearer      func(string) bool

	mu     sync.Mutex
	reqs   []Request
	stored map[string][]byte // responses by id
	fails  []failure
}

type failure struct {
	status int
	body   string
}

// Start serves a fake upstream on a free loopback port until the test
// ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakeopenai: %v", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), Key: opts.Key, stored: map[string][]byte{}, bearer: opts.Bearer}
	if s.Key == "" {
		s.Key = DefaultKey
	}
	if opts.Deployments != nil {
		s.deployments = map[string]bool{}
		for _, d := range opts.Deployments {
			s.deployments[d] = true
		}
	}
	srv := &fasthttp.Server{Handler: s.handle, CloseOnShutdown: true, StreamRequestBody: false,
		MaxRequestBodySize: 64 << 20}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
	})
	return s
}

// OpenAIBase is the api_base of an openai deployment on this server.
func (s *Server) OpenAIBase() string { return s.URL + "/v1" }

// AzureBase is the api_base of an azure deployment on this server.
func (s *Server) AzureBase() string { return s.URL }

// AIBase is the api_base of an azure_ai deployment on this server (a
// Foundry resource's model inference endpoint).
func (s *Server) AIBase() string { return s.URL + "/models" }

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the last request received; the test fails if there is none.
func (s *Server) Last(tb testing.TB) Request {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		tb.Fatal("fakeopenai: no request received")
	}
	return s.reqs[len(s.reqs)-1]
}

// FailNext makes the next request that passes authentication answer
// status with body (an OpenAI error object when body is empty) instead of
// its answer. Calls queue: each failure is used once.
func (s *Server) FailNext(status int, body string) {
	if body == "" {
		body = errorBody(fmt.Sprintf("The server had an error while processing your request (fake status %d).", status),
			"server_error", "", "")
	}
	s.mu.Lock()
	s.fails = append(s.fails, failure{status, body})
	s.mu.Unlock()
}

// Stored reports whether the server holds the response id (created and
// not deleted).
func (s *Server) Stored(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.stored[id]
	return ok
}

// --- routing ---

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	r := Request{
		Method:      string(ctx.Method()),
		Path:        path,
		APIVersion:  string(ctx.QueryArgs().Peek("api-version")),
		ContentType: string(ctx.Request.Header.ContentType()),
		Header:      map[string]string{},
		Body:        bytes.Clone(ctx.Request.Body()),
	}
	for k, v := range ctx.Request.Header.All() {
		r.Header[strings.ToLower(string(k))] = string(v)
	}
	if strings.HasPrefix(r.ContentType, "application/json") {
		r.Stream = gjson.GetBytes(r.Body, "stream").Bool()
	}

	var rest string
	switch {
	case strings.HasPrefix(path, "/v1/"):
		r.Dialect, rest = "openai", path[len("/v1/"):]
	case strings.HasPrefix(path, "/openai/"):
		r.Dialect = "azure"
	case strings.HasPrefix(path, "/models/"):
		r.Dialect, rest = "foundry", path[len("/models/"):]
		if rest != string(registry.EndpointChat) && rest != string(registry.EndpointEmbeddings) {
			s.record(r)
			notFoundAzure(ctx)
			return
		}
		if !dated(r.APIVersion) {
			s.record(r)
			ctx.SetStatusCode(400)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"code":"BadRequest","message":"The api-version query parameter is missing or not supported. Supported versions: 2024-05-01-preview"}}`)
			return
		}
	default:
		s.record(r)
		notFound(ctx, "Invalid URL ("+r.Method+" "+path+")")
		return
	}
	if r.Dialect == "azure" {
		var ok bool
		if rest, ok = s.azurePath(ctx, &r); !ok {
			s.record(r)
			return
		}
	}
	if id, found := strings.CutPrefix(rest, "responses/"); found && id != "" && !strings.Contains(id, "/") {
		r.Endpoint, r.ObjectID = registry.EndpointResponses, id
	} else {
		r.Endpoint = registry.Endpoint(rest)
	}
	s.record(r)

	if !s.authorized(ctx, &r) {
		return
	}
	if f, ok := s.nextFailure(); ok {
		ctx.SetStatusCode(f.status)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(f.body)
		return
	}
	if r.ObjectID != "" {
		s.object(ctx, &r)
		return
	}
	if r.Method != "POST" {
		ctx.SetStatusCode(405)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(errorBody("Method "+r.Method+" not allowed for /"+rest, "invalid_request_error", "", ""))
		return
	}
	s.endpoint(ctx, &r)
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
}

func (s *Server) nextFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) == 0 {
		return failure{}, false
	}
	f := s.fails[0]
	s.fails = s.fails[1:]
	return f, true
}

// azurePath checks an Azure path and its api-version and returns the
// endpoint part of it; false: it answered.
func (s *Server) azurePath(ctx *fasthttp.RequestCtx, r *Request) (string, bool) {
	path := r.Path
	switch {
	case strings.HasPrefix(path, "/openai/deployments/"):
		dep, rest, _ := strings.Cut(path[len("/openai/deployments/"):], "/")
		r.Deployment = dep
		if r.APIVersion == "" || !dated(r.APIVersion) {
			notFoundAzure(ctx)
			return "", false
		}
		if dep == "" || (s.deployments != nil && !s.deployments[dep]) {
			ctx.SetStatusCode(404)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}`)
			return "", false
		}
		switch registry.Endpoint(rest) {
		case registry.EndpointChat, registry.EndpointCompletions, registry.EndpointEmbeddings, registry.EndpointImages,
			registry.EndpointSpeech, registry.EndpointTranscriptions:
			return rest, true
		}
		notFoundAzure(ctx)
		return "", false
	case path == "/openai/responses" || strings.HasPrefix(path, "/openai/responses/"):
		if !dated(r.APIVersion) {
			notFoundAzure(ctx)
			return "", false
		}
		if r.APIVersion[:10] < "2025-03-01" {
			ctx.SetStatusCode(400)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"code":"BadRequest","message":"Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later"}}`)
			return "", false
		}
		return path[len("/openai/"):], true
	case strings.HasPrefix(path, "/openai/v1/"):
		if v := r.APIVersion; v != "" && v != "preview" && v != "latest" {
			ctx.SetStatusCode(400)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"code":"BadRequest","message":"API version not supported"}}`)
			return "", false
		}
		rest := path[len("/openai/v1/"):]
		if rest == string(registry.EndpointModerations) {
			notFoundAzure(ctx)
			return "", false
		}
		return rest, true
	}
	notFoundAzure(ctx)
	return "", false
}

// dated reports an api-version of the form YYYY-MM-DD[-preview].
func dated(v string) bool {
	if len(v) != 10 && v[min(10, len(v)):] != "-preview" {
		return false
	}
	for i := range 10 {
		c := v[i]
		if (i == 4 || i == 7) != (c == '-') || (c != '-' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

// authorized checks the key as OpenAI (bearer) or Azure (api-key) does.
func (s *Server) authorized(ctx *fasthttp.RequestCtx, r *Request) bool {
	if r.Dialect == "azure" || r.Dialect == "foundry" {
		bearer, isBearer := strings.CutPrefix(r.Header["authorization"], "Bearer ")
		switch {
		case r.Header["api-key"] == s.Key:
			return true
		case isBearer && s.bearer != nil && s.bearer(bearer):
			return true
		case isBearer && r.Dialect == "foundry" && bearer == s.Key:
			return true
		}
		ctx.SetStatusCode(401)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`)
		return false
	}
	auth := r.Header["authorization"]
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if ok && key == s.Key {
		return true
	}
	ctx.SetStatusCode(401)
	ctx.SetContentType("application/json")
	if auth == "" {
		ctx.SetBodyString(errorBody("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
			"invalid_request_error", "", ""))
		return false
	}
	// The real API quotes part of the key; this fake quotes all of it, the
	// harder case for scrubbing.
	ctx.SetBodyString(errorBody("Incorrect API key provided: "+key+". You can find your API key at https://platform.openai.com/account/api-keys.",
		"invalid_request_error", "", "invalid_api_key"))
	return false
}

// object serves GET and DELETE /responses/{id}.
func (s *Server) object(ctx *fasthttp.RequestCtx, r *Request) {
	s.mu.Lock()
	body, ok := s.stored[r.ObjectID]
	if ok && r.Method == "DELETE" {
		delete(s.stored, r.ObjectID)
	}
	s.mu.Unlock()
	ctx.SetContentType("application/json")
	switch {
	case r.Method != "GET" && r.Method != "DELETE":
		ctx.SetStatusCode(405)
		ctx.SetBodyString(errorBody("Method "+r.Method+" not allowed", "invalid_request_error", "", ""))
	case !ok:
		ctx.SetStatusCode(404)
		ctx.SetBodyString(errorBody("Response with id '"+r.ObjectID+"' not found.", "invalid_request_error", "", ""))
	case r.Method == "GET":
		ctx.SetBody(body)
	default:
		ctx.SetBodyString(`{"id":"` + r.ObjectID + `","object":"response.deleted","deleted":true}`)
	}
}

// endpoint validates and answers a POST.
func (s *Server) endpoint(ctx *fasthttp.RequestCtx, r *Request) {
	if r.Endpoint == registry.EndpointTranscriptions {
		s.transcription(ctx, r)
		return
	}
	if !strings.HasPrefix(r.ContentType, "application/json") {
		badRequest(ctx, "Invalid content type. Expected application/json, got "+r.ContentType+".", "", "")
		return
	}
	if !gjson.ValidBytes(r.Body) || !gjson.ParseBytes(r.Body).IsObject() {
		badRequest(ctx, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", "")
		return
	}
	b := gjson.ParseBytes(r.Body)
	// Azure's deployment path names the model; everywhere else the body does.
	if r.Deployment == "" && r.Endpoint != registry.EndpointModerations && r.Endpoint != registry.EndpointImages {
		if m := b.Get("model"); m.Type != gjson.String || m.Str == "" {
			badRequest(ctx, "you must provide a model parameter", "", "")
			return
		}
	}
	if msg, param := validate(r.Endpoint, b); msg != "" {
		code := "invalid_value"
		if strings.HasPrefix(msg, "Missing required parameter") {
			code = "missing_required_parameter"
		}
		badRequest(ctx, msg, param, code)
		return
	}
	if r.Endpoint == registry.EndpointChat {
		if msg, param := checkToolTurns(b); msg != "" {
			badRequest(ctx, msg, param, "invalid_value")
			return
		}
		if fn := forcedTool(b); fn != "" {
			toolCall(ctx, b, fn, r.Stream)
			return
		}
	}
	switch r.Endpoint {
	case registry.EndpointChat, registry.EndpointCompletions, registry.EndpointEmbeddings, registry.EndpointResponses:
		s.viaMock(ctx, r, b)
	case registry.EndpointModerations:
		moderation(ctx, b)
	case registry.EndpointImages:
		image(ctx, b)
	case registry.EndpointSpeech:
		speech(ctx, b)
	default:
		notFound(ctx, "Invalid URL (POST "+r.Path+")")
	}
}

// validate checks an endpoint's required fields and their types; it
// returns the API's message and the parameter, or "".
func validate(ep registry.Endpoint, b gjson.Result) (msg, param string) {
	missing := func(p string) (string, string) { return "Missing required parameter: '" + p + "'.", p }
	invalid := func(p string) (string, string) {
		return "Invalid value for '" + p + "': see the API reference for its type.", p
	}
	switch ep {
	case registry.EndpointChat:
		m := b.Get("messages")
		switch {
		case !m.Exists():
			return missing("messages")
		case !m.IsArray():
			return invalid("messages")
		case len(m.Array()) == 0:
			return "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages"
		}
		for i, msg := range m.Array() {
			role := msg.Get("role").String()
			switch role {
			case "system", "developer", "user", "assistant", "tool", "function":
			case "":
				return missing(fmt.Sprintf("messages[%d].role", i))
			default:
				return invalid(fmt.Sprintf("messages[%d].role", i))
			}
			if role == "tool" && !msg.Get("tool_call_id").Exists() {
				return missing(fmt.Sprintf("messages[%d].tool_call_id", i))
			}
		}
	case registry.EndpointCompletions:
		if p := b.Get("prompt"); !p.Exists() {
			return missing("prompt")
		} else if !inputForm(p, true) {
			return invalid("prompt")
		}
	case registry.EndpointEmbeddings:
		if in := b.Get("input"); !in.Exists() {
			return missing("input")
		} else if !inputForm(in, false) {
			return "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input"
		}
		if f := b.Get("encoding_format"); f.Exists() && f.Str != "float" && f.Str != "base64" {
			return invalid("encoding_format")
		}
		if d := b.Get("dimensions"); d.Exists() && (d.Type != gjson.Number || d.Num < 1) {
			return invalid("dimensions")
		}
	case registry.EndpointResponses:
		in := b.Get("input")
		switch {
		case !in.Exists():
			return missing("input")
		case in.Type != gjson.String && !in.IsArray():
			return invalid("input")
		}
	case registry.EndpointModerations:
		if in := b.Get("input"); !in.Exists() {
			return missing("input")
		} else if in.Type != gjson.String && !in.IsArray() {
			return invalid("input")
		}
	case registry.EndpointImages:
		if p := b.Get("prompt"); !p.Exists() {
			return missing("prompt")
		} else if p.Type != gjson.String || p.Str == "" {
			return invalid("prompt")
		}
	case registry.EndpointSpeech:
		for _, f := range []string{"model", "input", "voice"} {
			if !b.Get(f).Exists() {
				return missing(f)
			}
		}
		if b.Get("input").Type != gjson.String {
			return invalid("input")
		}
	}
	return "", ""
}

// inputForm checks OpenAI's input forms: a string, an array of strings, an
// array of token ids, an array of token id arrays (non-empty strings for
// embeddings).
func inputForm(v gjson.Result, emptyOK bool) bool {
	if v.Type == gjson.String {
		return emptyOK || v.Str != ""
	}
	if !v.IsArray() || len(v.Array()) == 0 {
		return false
	}
	tokens := func(a gjson.Result) bool {
		ok := a.IsArray() && len(a.Array()) > 0
		a.ForEach(func(_, t gjson.Result) bool {
			ok = ok && t.Type == gjson.Number && t.Num >= 0 && t.Num == float64(int64(t.Num))
			return ok
		})
		return ok
	}
	items := v.Array()
	if items[0].Type == gjson.Number {
		return tokens(v)
	}
	for _, it := range items {
		switch {
		case it.Type == gjson.String && (emptyOK || it.Str != ""):
		case it.IsArray() && tokens(it):
		default:
			return false
		}
	}
	return true
}

// viaMock answers chat, completions, embeddings and responses with the
// mock provider's bodies and events.
func (s *Server) viaMock(ctx *fasthttp.RequestCtx, r *Request, b gjson.Result) {
	p := mock.New().(providers.Forwarder)
	call := &providers.Call{Endpoint: r.Endpoint, Body: r.Body}
	store := r.Endpoint == registry.EndpointResponses && b.Get("store").Type != gjson.False
	if !r.Stream {
		resp, err := p.Forward(call)
		if err != nil {
			badRequest(ctx, messageOf(err), "", "")
			return
		}
		if store {
			s.store(resp.Body)
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(resp.Body)
		return
	}
	st, err := p.ForwardStream(call)
	if err != nil {
		badRequest(ctx, messageOf(err), "", "")
		return
	}
	ctx.SetContentType("text/event-stream; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	responses := r.Endpoint == registry.EndpointResponses
	// Each event is flushed as it is written, as the real API streams.
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer st.Close()
		for {
			data, err := st.Next()
			if err != nil {
				break
			}
			if responses {
				// The Responses API names its events and sends no [DONE].
				typ := gjson.GetBytes(data, "type").Str
				_, _ = w.WriteString("event: " + typ + "\n")
				if typ == "response.completed" && store {
					s.store([]byte(gjson.GetBytes(data, "response").Raw))
				}
			}
			_, _ = w.WriteString("data: ")
			_, _ = w.Write(data)
			_, _ = w.WriteString("\n\n")
			if w.Flush() != nil {
				return
			}
		}
		if !responses {
			_, _ = w.WriteString("data: [DONE]\n\n")
		}
		_ = w.Flush()
	})
}

func (s *Server) store(response []byte) {
	id := gjson.GetBytes(response, "id").Str
	if id == "" {
		return
	}
	s.mu.Lock()
	s.stored[id] = bytes.Clone(response)
	s.mu.Unlock()
}

// --- the endpoints the mock does not serve ---

var moderationCategories = []string{"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
	"illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors",
	"violence", "violence/graphic"}

func moderation(ctx *fasthttp.RequestCtx, b gjson.Result) {
	model := b.Get("model").String()
	if model == "" {
		model = "omni-moderation-latest"
	}
	n := 1
	if in := b.Get("input"); in.IsArray() {
		n = max(1, len(in.Array()))
	}
	var out strings.Builder
	out.WriteString(`{"id":"modr-` + randomHex() + `","model":"` + jsonSafe(model) + `","results":[`)
	for i := range n {
		if i > 0 {
			out.WriteByte(',')
		}
		var cats, scores, types strings.Builder
		for j, c := range moderationCategories {
			if j > 0 {
				cats.WriteByte(',')
				scores.WriteByte(',')
				types.WriteByte(',')
			}
			cats.WriteString(`"` + c + `":false`)
			scores.WriteString(`"` + c + `":0.0001`)
			types.WriteString(`"` + c + `":["text"]`)
		}
		out.WriteString(`{"flagged":false,"categories":{` + cats.String() + `},"category_scores":{` + scores.String() +
			`},"category_applied_input_types":{` + types.String() + `}}`)
	}
	out.WriteString(`]}`)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(out.String())
}

// tinyPNG is a 1x1 PNG, base64.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

func image(ctx *fasthttp.RequestCtx, b gjson.Result) {
	model := b.Get("model").String()
	n := max(1, int(b.Get("n").Int()))
	gptImage := strings.HasPrefix(model, "gpt-image")
	b64 := gptImage || b.Get("response_format").String() == "b64_json"
	var out strings.Builder
	fmt.Fprintf(&out, `{"created":%d,"data":[`, time.Now().Unix())
	for i := range n {
		if i > 0 {
			out.WriteByte(',')
		}
		if b64 {
			out.WriteString(`{"b64_json":"` + tinyPNG + `"}`)
		} else {
			out.WriteString(`{"url":"https://images.example.invalid/` + randomHex() + `.png","revised_prompt":"` + jsonSafe(b.Get("prompt").Str) + `"}`)
		}
	}
	out.WriteString(`]`)
	if gptImage { // gpt-image models report token usage
		in := max(1, (len(b.Get("prompt").Str)+3)/4)
		fmt.Fprintf(&out, `,"usage":{"total_tokens":%d,"input_tokens":%d,"output_tokens":%d,"input_tokens_details":{"text_tokens":%d,"image_tokens":0}}`,
			in+272*n, in, 272*n, in)
	}
	out.WriteString(`}`)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(out.String())
}

// Speech is the body audio/speech answers: a few bytes that start like an
// MP3 file with an ID3 tag.
var Speech = []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00fake-audio")

var speechTypes = map[string]string{"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
	"wav": "audio/wav", "pcm": "audio/pcm"}

func speech(ctx *fasthttp.RequestCtx, b gjson.Result) {
	format := b.Get("response_format").String()
	if format == "" {
		format = "mp3"
	}
	ct, ok := speechTypes[format]
	if !ok {
		badRequest(ctx, "Invalid value for 'response_format': "+jsonSafe(format)+".", "response_format", "invalid_value")
		return
	}
	ctx.SetContentType(ct)
	ctx.SetBody(Speech)
}

func (s *Server) transcription(ctx *fasthttp.RequestCtx, r *Request) {
	if !strings.HasPrefix(r.ContentType, "multipart/form-data") {
		badRequest(ctx, "Invalid Content-Type header ("+r.ContentType+"), expected multipart/form-data. (HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')", "", "")
		return
	}
	form, err := ctx.MultipartForm()
	if err != nil {
		badRequest(ctx, "Could not parse multipart form", "", "")
		return
	}
	model := first(form.Value["model"])
	if model == "" && r.Deployment == "" {
		badRequest(ctx, "you must provide a model parameter", "", "")
		return
	}
	files := form.File["file"]
	if len(files) == 0 {
		badRequest(ctx, "Missing required parameter: 'file'.", "file", "missing_required_parameter")
		return
	}
	text := "Hello from the fake transcription of " + files[0].Filename + "."
	switch format := first(form.Value["response_format"]); format {
	case "text":
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString(text + "\n")
	case "", "json", "verbose_json":
		var usage string
		if strings.HasPrefix(model, "whisper") || model == "" {
			usage = `{"type":"duration","seconds":3}`
		} else {
			usage = `{"type":"tokens","input_tokens":14,"input_token_details":{"text_tokens":0,"audio_tokens":14},"output_tokens":12,"total_tokens":26}`
		}
		extra := ""
		if format == "verbose_json" {
			extra = `"task":"transcribe","language":"english","duration":3.0,"segments":[],`
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{` + extra + `"text":"` + jsonSafe(text) + `","usage":` + usage + `}`)
	default:
		badRequest(ctx, "Invalid value for 'response_format': "+jsonSafe(format)+".", "response_format", "invalid_value")
	}
}

// --- answers ---

func errorBody(msg, typ, param, code string) string {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + jsonSafe(s) + `"`
	}
	return `{"error":{"message":` + q(msg) + `,"type":` + q(typ) + `,"param":` + q(param) + `,"code":` + q(code) + `}}`
}

func badRequest(ctx *fasthttp.RequestCtx, msg, param, code string) {
	ctx.SetStatusCode(400)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(errorBody(msg, "invalid_request_error", param, code))
}

func notFound(ctx *fasthttp.RequestCtx, msg string) {
	ctx.SetStatusCode(404)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(errorBody(msg, "invalid_request_error", "", ""))
}

func notFoundAzure(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(404)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"error":{"code":"404","message":"Resource not found"}}`)
}

// jsonSafe escapes s for a JSON string.
func jsonSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// messageOf is an error's client message.
func messageOf(err error) string {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we.Message
	}
	return err.Error()
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func randomHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
