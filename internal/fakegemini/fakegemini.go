// Package fakegemini is an in-process fake of Google's Gemini API on
// 127.0.0.1, for tests of the gemini provider (and of Vertex AI's Gemini
// models) and of the gateway end to end.
//
// It serves both forms of the API's paths:
//
//   - Google AI Studio: /v1beta/models/{model}:{method} (and /v1/...),
//     authenticated by x-goog-api-key or ?key= equal to Options.APIKey
//     (a wrong key: 400 INVALID_ARGUMENT "API key not valid"; none: 403
//     PERMISSION_DENIED);
//   - Vertex AI: /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}
//     (and /v1beta1/...), authenticated by "Authorization: Bearer <token>"
//     that Options.AcceptToken accepts (401 UNAUTHENTICATED otherwise), so
//     that a fake token endpoint's tokens plug in.
//
// Methods: generateContent, streamGenerateContent (?alt=sse: server-sent
// events, each a GenerateContentResponse; without it a JSON array),
// countTokens, and (AI Studio) batchEmbedContents and embedContent.
//
// It validates bodies as Google does, so that a test passes only if the
// real API would accept the request: unknown fields refused with "Invalid
// JSON payload received. Unknown name ...", field types checked (TYPE_INT32,
// TYPE_FLOAT, enums, base64 bytes), contents required and non-empty, roles
// user or model only, non-empty parts each with data, a functionCall turn
// after a user or function response turn, function responses right after
// a function call turn, as many as its calls, naming its functions; OBJECT
// schemas with non-empty properties; allowedFunctionNames with mode ANY
// naming declared functions; inlineData with a mime type.
//
// It answers text (Options.Reply; Options.JSONReply when
// responseMimeType is application/json), thoughts when thinkingConfig
// includes them, function calls when tools are declared and mode ANY or
// Options.ToolCalls asks, a safety block (Options.BlockPrompt,
// Options.FinishReason), usageMetadata, and errors in Google's shape on
// demand (SetFailure: any status, RetryInfo with a retry delay, a
// mid-stream error). Every request is recorded.
package fakegemini

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure the fake. Zero values take the defaults shown.
type Options struct {
	// APIKey is the AI Studio key the fake accepts ("fake-gemini-key").
	APIKey string
	// AcceptToken says whether a Vertex bearer token is valid; nil
	// accepts "fake-vertex-token" only.
	AcceptToken func(token string) bool
	// Reply is the text answer ("Hello from the fake Gemini.").
	Reply string
	// JSONReply is the answer in JSON mode (`{"answer":"Hello"}`).
	JSONReply string
	// Thought is the thought summary when includeThoughts is set
	// ("Let me think about that.").
	Thought string
	// ToolCalls, when > 0 and the request declares functions, makes the
	// answer that many function calls (functions taken in turn) instead
	// of text even in mode AUTO. Mode ANY answers one (ToolCalls if more).
	ToolCalls int
	// ToolArgs are the args of every function call (`{"location":"Paris"}`).
	ToolArgs string
	// ThoughtSignature, when set, goes with each function call part.
	ThoughtSignature string
	// FinishReason overrides the candidate's finishReason ("STOP").
	FinishReason string
	// BlockPrompt answers promptFeedback.blockReason (e.g. "SAFETY") and
	// no candidate.
	BlockPrompt string
	// PromptTokens, OutputTokens, ThoughtTokens, CachedTokens are the
	// usage reported; PromptTokens 0: one per 4 bytes of the body;
	// OutputTokens 0: one per 4 bytes of the answer; ThoughtTokens 0: one
	// per 4 bytes of the thought when thoughts are included.
	PromptTokens, OutputTokens, ThoughtTokens, CachedTokens int
	// ModelVersion is the answer's modelVersion (the model called).
	ModelVersion string
}

// Failure is an error the fake answers (SetFailure).
type Failure struct {
	Status int // HTTP status: 400, 403, 404, 429, 500, 503, ...
	// Code is Google's status name; "" derives it from Status.
	Code string
	// Message: "" gives a message of the real API's kind. "{key}" in it
	// is replaced by the request's API key (an echo, to test scrubbing).
	Message string
	// RetryDelay ("7s") adds a google.rpc.RetryInfo detail and, as the
	// real API does, "Please retry in 7s." to the message.
	RetryDelay string
	// InStream answers a stream request 200, sends one event, then the
	// error as an event and ends the stream.
	InStream bool
}

// Request is one recorded request.
type Request struct {
	Method string
	Path   string // with the query
	Header http.Header
	Body   []byte
	Model  string // {model} of the path
	Verb   string // the method after ':' ("generateContent")
	Vertex bool   // the Vertex path form
}

// Server is a running fake.
type Server struct {
	// URL is http://127.0.0.1:<port>.
	URL string

	mu   sync.Mutex
	opts Options
	reqs []Request
	fail *Failure
	seq  int
}

// Start runs a fake until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakegemini: %v", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String()}
	s.opts = defaults(opts)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return s
}

func defaults(o Options) Options {
	if o.APIKey == "" {
		o.APIKey = "fake-gemini-key"
	}
	if o.AcceptToken == nil {
		o.AcceptToken = func(t string) bool { return t == "fake-vertex-token" }
	}
	if o.Reply == "" {
		o.Reply = "Hello from the fake Gemini."
	}
	if o.JSONReply == "" {
		o.JSONReply = `{"answer":"Hello"}`
	}
	if o.Thought == "" {
		o.Thought = "Let me think about that."
	}
	if o.ToolArgs == "" {
		o.ToolArgs = `{"location":"Paris"}`
	}
	return o
}

// APIKey is the key the fake accepts.
func (s *Server) APIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.APIKey
}

// Update changes the options of the following requests.
func (s *Server) Update(f func(*Options)) {
	s.mu.Lock()
	f(&s.opts)
	s.opts = defaults(s.opts)
	s.mu.Unlock()
}

// SetFailure makes every following request fail with f (nil: answer
// normally again). The request is still recorded, and checked first: a
// request the real API would refuse gets that refusal instead.
func (s *Server) SetFailure(f *Failure) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the last request; it fails the test if none was received.
func (s *Server) Last(tb testing.TB) Request {
	tb.Helper()
	r := s.Requests()
	if len(r) == 0 {
		tb.Fatal("fakegemini received no request")
	}
	return r[len(r)-1]
}

// parsePath splits an API path into its model and method.
func parsePath(p string) (model, verb string, vertex, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(p, "/v1beta/models/"):
		rest = p[len("/v1beta/models/"):]
	case strings.HasPrefix(p, "/v1/models/"):
		rest = p[len("/v1/models/"):]
	case strings.HasPrefix(p, "/v1/projects/"), strings.HasPrefix(p, "/v1beta1/projects/"):
		// /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{v}
		segs := strings.Split(p, "/")
		if len(segs) != 10 || segs[2] != "projects" || segs[3] == "" || segs[4] != "locations" || segs[5] == "" ||
			segs[6] != "publishers" || segs[7] != "google" || segs[8] != "models" {
			return "", "", false, false
		}
		rest, vertex = segs[9], true
	default:
		return "", "", false, false
	}
	model, verb, ok = strings.Cut(rest, ":")
	return model, verb, vertex, ok && model != "" && !strings.Contains(model, "/")
}

// ServeHTTP implements the fake API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	model, verb, vertex, ok := parsePath(r.URL.Path)
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body,
		Model: model, Verb: verb, Vertex: vertex})
	fail := s.fail
	opts := s.opts
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	if !ok {
		writeError(w, 404, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.", "")
		return
	}
	key := ""
	if vertex {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || tok == "" || !opts.AcceptToken(tok) {
			writeError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.", "")
			return
		}
		key = tok
	} else {
		key = r.Header.Get("x-goog-api-key")
		if key == "" {
			key = r.URL.Query().Get("key")
		}
		if key == "" {
			writeError(w, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "")
			return
		}
		if key != opts.APIKey {
			writeError(w, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "")
			return
		}
	}
	if r.Method != http.MethodPost {
		writeError(w, 405, "INVALID_ARGUMENT", "Method Not Allowed", "")
		return
	}
	var msg string
	switch verb {
	case "generateContent", "streamGenerateContent":
		msg = "GenerateContentRequest"
	case "countTokens":
		msg = "CountTokensRequest"
	case "batchEmbedContents":
		msg = "BatchEmbedContentsRequest"
	case "embedContent":
		msg = "EmbedContentRequest"
	default:
		writeError(w, 404, "NOT_FOUND", "Method not found: "+verb, "")
		return
	}
	if vertex && (verb == "batchEmbedContents" || verb == "embedContent") {
		writeError(w, 404, "NOT_FOUND", "Method not found on Vertex AI: "+verb+" (use :predict)", "")
		return
	}
	var req any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.\n"+truncate(string(body), 40), "")
		return
	}
	if err := check(msg, req, ""); err != nil {
		writeError(w, 400, "INVALID_ARGUMENT", err.Error(), "")
		return
	}
	obj := req.(map[string]any)
	var v *validated
	switch verb {
	case "generateContent", "streamGenerateContent":
		var err error
		if v, err = validateGenerate(obj); err != nil {
			writeError(w, 400, "INVALID_ARGUMENT", err.Error(), "")
			return
		}
	case "batchEmbedContents", "embedContent":
		if err := validateEmbed(obj, verb, model); err != nil {
			writeError(w, 400, "INVALID_ARGUMENT", err.Error(), "")
			return
		}
	case "countTokens":
		cs, _ := get(obj, "contents").([]any)
		if gcr, ok := get(obj, "generateContentRequest").(map[string]any); ok {
			if _, err := validateGenerate(gcr); err != nil {
				writeError(w, 400, "INVALID_ARGUMENT", err.Error(), "")
				return
			}
		} else if err := validateContents(cs, "contents"); err != nil {
			writeError(w, 400, "INVALID_ARGUMENT", err.Error(), "")
			return
		}
	}
	stream := verb == "streamGenerateContent"
	if fail != nil && !(fail.InStream && stream) {
		code, m, details := failureText(fail, key)
		writeErrorDetails(w, fail.Status, code, m, details)
		return
	}
	switch verb {
	case "countTokens":
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"totalTokens":%d}`, max(1, len(body)/4))
	case "batchEmbedContents", "embedContent":
		s.embed(w, obj, verb)
	default:
		if opts.ModelVersion == "" {
			opts.ModelVersion = model
		}
		a := answer(opts, v, len(body), seq)
		if stream {
			sse := r.URL.Query().Get("alt") == "sse"
			s.stream(w, a, fail, key, sse)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		out, _ := json.Marshal(a.response(a.parts, a.finish, a.usage(true)))
		_, _ = w.Write(out)
	}
}

// get reads a field by its camelCase name or its proto name.
func get(obj map[string]any, camel string) any {
	if v, ok := obj[camel]; ok {
		return v
	}
	return obj[snake(camel)]
}

func failureText(f *Failure, key string) (code, msg string, details []any) {
	code, msg = f.Code, f.Message
	if code == "" {
		code = map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
			404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
			501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}[f.Status]
		if code == "" {
			code = "UNKNOWN"
		}
	}
	if msg == "" {
		msg = map[string]string{
			"RESOURCE_EXHAUSTED": "You exceeded your current quota, please check your plan and billing details.",
			"INVALID_ARGUMENT":   "Request contains an invalid argument.",
			"PERMISSION_DENIED":  "The caller does not have permission",
			"NOT_FOUND":          "models/unknown is not found for API version v1beta, or is not supported for generateContent.",
			"INTERNAL":           "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
			"UNAVAILABLE":        "The model is overloaded. Please try again later.",
			"DEADLINE_EXCEEDED":  "The request timed out. Please try again.",
		}[code]
		if msg == "" {
			msg = "error"
		}
	}
	msg = strings.ReplaceAll(msg, "{key}", key)
	if f.RetryDelay != "" {
		msg += " Please retry in " + f.RetryDelay + "."
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f.RetryDelay})
	}
	return code, msg, details
}

func writeError(w http.ResponseWriter, status int, code, msg, _ string) {
	writeErrorDetails(w, status, code, msg, nil)
}

func errorBody(status int, code, msg string, details []any) []byte {
	e := map[string]any{"code": status, "message": msg, "status": code}
	if len(details) > 0 {
		e["details"] = details
	}
	out, _ := json.Marshal(map[string]any{"error": e})
	return out
}

func writeErrorDetails(w http.ResponseWriter, status int, code, msg string, details []any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(status, code, msg, details))
}

// embed answers batchEmbedContents / embedContent: a deterministic
// vector per text, of outputDimensionality (default 8) values.
func (s *Server) embed(w http.ResponseWriter, obj map[string]any, verb string) {
	vec := func(r map[string]any) []float64 {
		n := 8
		if d, ok := get(r, "outputDimensionality").(json.Number); ok {
			if i, err := d.Int64(); err == nil && i > 0 {
				n = int(i)
			}
		}
		text := ""
		if c, ok := get(r, "content").(map[string]any); ok {
			for _, p := range c["parts"].([]any) {
				t, _ := p.(map[string]any)["text"].(string)
				text += t
			}
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = float64((len(text)+i)%10) / 10
		}
		return out
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if verb == "embedContent" {
		out, _ := json.Marshal(map[string]any{"embedding": map[string]any{"values": vec(obj)}})
		_, _ = w.Write(out)
		return
	}
	var embs []any
	for _, r := range get(obj, "requests").([]any) {
		embs = append(embs, map[string]any{"values": vec(r.(map[string]any))})
	}
	out, _ := json.Marshal(map[string]any{"embeddings": embs})
	_, _ = w.Write(out)
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }
