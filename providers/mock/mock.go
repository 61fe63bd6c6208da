// Package mock is the provider for `mock/<name>` deployments: it answers
// well-formed OpenAI chat completions, legacy completions, embeddings and
// Responses API responses (unary and streamed; forward.go) without any
// network, for demos and tests.
//
// The reply is the request body's "mock_response" string (as in LiteLLM),
// else the deployment's litellm_params.mock_response, else a deterministic
// echo of the last user message. Token counts are a deterministic estimate
// of one token per four bytes.
package mock

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// maxEcho caps how much of the last user message the default reply quotes.
const maxEcho = 200

type provider struct{}

// New returns the mock provider.
func New() providers.Provider { return provider{} }

// Complete answers a chat.completion.
func (provider) Complete(call *providers.Call) (*providers.Response, error) {
	a, err := answer(call)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(completion{
		ID:      a.id,
		Object:  "chat.completion",
		Created: a.created,
		Model:   a.model,
		Choices: []choice{{Message: &message{Role: "assistant", Content: &a.content}, FinishReason: ptr("stop")}},
		Usage:   &a.usage,
	})
	if err != nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "mock: encoding the answer: %v", err)
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: body}, nil
}

// OpenStream answers the same content as chat.completion.chunk events: a
// role chunk, one chunk per word, a finish chunk and, when the request asks
// for stream_options.include_usage, a usage chunk.
func (provider) OpenStream(call *providers.Call) (providers.Stream, error) {
	a, err := answer(call)
	if err != nil {
		return nil, err
	}
	chunk := func(c choice) completion {
		return completion{ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.model, Choices: []choice{c}}
	}
	empty := ""
	events := []completion{chunk(choice{Delta: &message{Role: "assistant", Content: &empty}})}
	for _, w := range words(a.content) {
		events = append(events, chunk(choice{Delta: &message{Content: &w}}))
	}
	events = append(events, chunk(choice{Delta: &message{}, FinishReason: ptr("stop")}))
	if gjson.GetBytes(call.Body, "stream_options.include_usage").Bool() {
		last := chunk(choice{})
		last.Choices, last.Usage = []choice{}, &a.usage
		events = append(events, last)
	}
	s := &stream{}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, wire.Errorf(500, wire.TypeInternal, "mock: encoding a chunk: %v", err)
		}
		s.chunks = append(s.chunks, b)
	}
	return s, nil
}

type stream struct {
	chunks [][]byte
	next   int
}

func (s *stream) Next() ([]byte, error) {
	if s.next >= len(s.chunks) {
		return nil, io.EOF
	}
	s.next++
	return s.chunks[s.next-1], nil
}

// Ready is always true: the chunks are made in advance.
func (s *stream) Ready() bool { return true }

func (s *stream) Close() {}

// reply is what both call kinds answer.
type reply struct {
	id, model, content string
	created            int64
	usage              usage
}

func answer(call *providers.Call) (*reply, error) {
	if !gjson.ValidBytes(call.Body) {
		return nil, wire.BadRequest("the request body is not valid JSON")
	}
	body := gjson.ParseBytes(call.Body)
	content := body.Get("mock_response").String()
	if content == "" && call.Deployment != nil {
		content = call.Deployment.LiteLLMParams.MockResponse
	}
	prompt, lastUser := 0, ""
	for _, m := range body.Get("messages").Array() {
		text := textOf(m.Get("content"))
		prompt += len(text)
		if m.Get("role").String() == "user" {
			lastUser = text
		}
	}
	if content == "" {
		content = `Mock reply to: "` + truncate(lastUser, maxEcho) + `"`
	}
	p, c := tokens(prompt), tokens(len(content))
	return &reply{
		id:      newID(),
		model:   body.Get("model").String(),
		content: content,
		created: time.Now().Unix(),
		usage:   usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c},
	}, nil
}

// textOf is a message content's text: a string, or the text parts of an array.
func textOf(v gjson.Result) string {
	if !v.IsArray() {
		return v.String()
	}
	var b strings.Builder
	for _, part := range v.Array() {
		if t := part.Get("text"); t.Exists() {
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// tokens estimates the tokens of n bytes of text: ceil(n/4), at least 1.
func tokens(n int) int { return max(1, (n+3)/4) }

// words splits s into pieces that each end where a word ends, so spaces
// lead the next piece: "Hi there" -> "Hi", " there". Joined they are s.
func words(s string) []string {
	var out []string
	start, prevSpace := 0, true
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && !prevSpace {
			out = append(out, s[start:i])
			start = i
		}
		prevSpace = space
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

func ptr[T any](v T) *T { return &v }

// The OpenAI wire shapes the mock answers.
type (
	completion struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   *usage   `json:"usage,omitempty"`
	}
	choice struct {
		Index        int      `json:"index"`
		Message      *message `json:"message,omitempty"`
		Delta        *message `json:"delta,omitempty"`
		FinishReason *string  `json:"finish_reason"`
	}
	message struct {
		Role    string  `json:"role,omitempty"`
		Content *string `json:"content,omitempty"`
	}
	usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
)
