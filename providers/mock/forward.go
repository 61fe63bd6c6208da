package mock

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// The mock's embeddings: DefaultDimensions floats unless the request asks
// for "dimensions" (1 to MaxDimensions, text-embedding-3-large's size).
// The default is smaller than OpenAI's 1536 to keep demo answers small.
const (
	DefaultDimensions = 256
	MaxDimensions     = 3072
)

// Forward answers the endpoints besides chat the mock serves: legacy
// completions (a text_completion), embeddings (deterministic unit vectors,
// one per input, from a hash of the input) and responses (a "response"
// object). The mock stores no response: GET and DELETE of one are 404.
func (p provider) Forward(call *providers.Call) (*providers.Response, error) {
	var v any
	var err error
	switch ep := call.EndpointOrChat(); {
	case ep == registry.EndpointChat:
		return p.Complete(call)
	case call.ObjectID != "" || (call.Method != "" && call.Method != "POST"):
		return nil, wire.Errorf(404, wire.TypeNotFound,
			"the mock provider stores no responses: %q cannot be fetched or deleted", call.ObjectID)
	case ep == registry.EndpointCompletions:
		v, err = completionOf(call)
	case ep == registry.EndpointEmbeddings:
		v, err = embeddingsOf(call)
	case ep == registry.EndpointResponses:
		var a *responseAnswer
		if a, err = responseOf(call); err == nil {
			v = a.final()
		}
	default:
		return nil, unsupported(ep)
	}
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "mock: encoding the answer: %v", err)
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: body}, nil
}

// ForwardStream streams completions (text_completion chunks, one per
// word, then a finish chunk and, when stream_options.include_usage, a
// usage chunk) and responses (the Responses API's events, each with its
// type and sequence_number, ending with response.completed and its usage).
func (p provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	var events []any
	switch ep := call.EndpointOrChat(); ep {
	case registry.EndpointChat:
		return p.OpenStream(call)
	case registry.EndpointCompletions:
		c, err := completionOf(call)
		if err != nil {
			return nil, err
		}
		events = c.chunks(gjson.GetBytes(call.Body, "stream_options.include_usage").Bool())
	case registry.EndpointResponses:
		a, err := responseOf(call)
		if err != nil {
			return nil, err
		}
		events = a.events()
	case registry.EndpointEmbeddings:
		return nil, wire.BadRequest("embeddings cannot be streamed; remove \"stream\" from the request")
	default:
		return nil, unsupported(ep)
	}
	s := &stream{}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, wire.Errorf(500, wire.TypeInternal, "mock: encoding an event: %v", err)
		}
		s.chunks = append(s.chunks, b)
	}
	return s, nil
}

func unsupported(ep registry.Endpoint) error {
	return wire.BadRequest("the mock provider does not serve /v1/%s; it serves chat/completions, completions, embeddings and responses", ep)
}

// parse checks the body is a JSON object.
func parse(call *providers.Call) (gjson.Result, error) {
	if !gjson.ValidBytes(call.Body) {
		return gjson.Result{}, wire.BadRequest("the request body is not valid JSON")
	}
	b := gjson.ParseBytes(call.Body)
	if !b.IsObject() {
		return b, wire.BadRequest("the request body must be a JSON object")
	}
	return b, nil
}

// replyText is the request's mock_response, else the deployment's, else
// def.
func replyText(call *providers.Call, b gjson.Result, def string) string {
	if s := b.Get("mock_response").String(); s != "" {
		return s
	}
	if call.Deployment != nil && call.Deployment.LiteLLMParams.MockResponse != "" {
		return call.Deployment.LiteLLMParams.MockResponse
	}
	return def
}

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// --- completions ---

type textCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []textChoice `json:"choices"`
	Usage   *usage       `json:"usage,omitempty"`
}

type textChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     *string `json:"logprobs"` // always null
	FinishReason *string `json:"finish_reason"`
}

// completionOf answers a legacy completion: one choice per prompt (a
// string, an array of strings, an array of tokens or an array of token
// arrays), each the reply text.
func completionOf(call *providers.Call) (*textCompletion, error) {
	b, err := parse(call)
	if err != nil {
		return nil, err
	}
	prompts, promptTokens, err := inputsOf(b.Get("prompt"), "prompt")
	if err != nil {
		return nil, err
	}
	c := &textCompletion{ID: randomID("cmpl-"), Object: "text_completion", Created: time.Now().Unix(),
		Model: b.Get("model").String()}
	completion := 0
	for i, p := range prompts {
		text := replyText(call, b, `Mock completion of: "`+truncate(p.text, maxEcho)+`"`)
		c.Choices = append(c.Choices, textChoice{Text: text, Index: i, FinishReason: ptr("stop")})
		completion += tokens(len(text))
	}
	c.Usage = &usage{PromptTokens: promptTokens, CompletionTokens: completion, TotalTokens: promptTokens + completion}
	return c, nil
}

// chunks streams c: its text word by word per choice, a finish chunk per
// choice, and the usage chunk when asked.
func (c *textCompletion) chunks(includeUsage bool) []any {
	chunk := func(ch ...textChoice) *textCompletion {
		return &textCompletion{ID: c.ID, Object: "text_completion", Created: c.Created, Model: c.Model, Choices: ch}
	}
	var out []any
	for _, ch := range c.Choices {
		for _, w := range words(ch.Text) {
			out = append(out, chunk(textChoice{Text: w, Index: ch.Index}))
		}
		out = append(out, chunk(textChoice{Text: "", Index: ch.Index, FinishReason: ptr("stop")}))
	}
	if includeUsage {
		last := chunk()
		last.Choices, last.Usage = []textChoice{}, c.Usage
		out = append(out, last)
	}
	return out
}

// input is one prompt or embeddings input: its text (or its tokens).
type input struct {
	text   string
	tokens []int64
}

// inputsOf reads OpenAI's input forms: a string, an array of strings, an
// array of token ids, or an array of token id arrays; it returns them and
// their token count (tokens of a string estimated as ceil(bytes/4)).
func inputsOf(v gjson.Result, field string) ([]input, int, error) {
	bad := func(why string) ([]input, int, error) {
		return nil, 0, wire.BadRequest("%q %s; it must be a string, an array of strings, an array of token ids or an array of token id arrays", field, why)
	}
	switch {
	case !v.Exists():
		return bad("is required")
	case v.Type == gjson.String:
		if v.Str == "" && field == "input" {
			return bad("is empty")
		}
		return []input{{text: v.Str}}, tokens(len(v.Str)), nil
	case !v.IsArray():
		return bad("is not valid")
	}
	items := v.Array()
	if len(items) == 0 {
		return bad("is an empty array")
	}
	if items[0].Type == gjson.Number { // one token array
		toks, ok := tokenArray(v)
		if !ok {
			return bad("mixes token ids with other values")
		}
		return []input{{tokens: toks}}, len(toks), nil
	}
	var out []input
	n := 0
	for _, it := range items {
		switch {
		case it.Type == gjson.String:
			if it.Str == "" && field == "input" {
				return bad("holds an empty string")
			}
			out = append(out, input{text: it.Str})
			n += tokens(len(it.Str))
		case it.IsArray():
			toks, ok := tokenArray(it)
			if !ok || len(toks) == 0 {
				return bad("holds an array that is not token ids")
			}
			out = append(out, input{tokens: toks})
			n += len(toks)
		default:
			return bad("holds a value that is neither a string nor a token array")
		}
	}
	return out, n, nil
}

func tokenArray(v gjson.Result) ([]int64, bool) {
	var out []int64
	ok := true
	v.ForEach(func(_, t gjson.Result) bool {
		if t.Type != gjson.Number || t.Num != math.Trunc(t.Num) || t.Num < 0 {
			ok = false
			return false
		}
		out = append(out, int64(t.Num))
		return true
	})
	return out, ok
}

// --- embeddings ---

type embeddingList struct {
	Object string          `json:"object"`
	Data   []embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingsUsage `json:"usage"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingsUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

func embeddingsOf(call *providers.Call) (*embeddingList, error) {
	b, err := parse(call)
	if err != nil {
		return nil, err
	}
	inputs, n, err := inputsOf(b.Get("input"), "input")
	if err != nil {
		return nil, err
	}
	dims := DefaultDimensions
	if d := b.Get("dimensions"); d.Exists() {
		if d.Type != gjson.Number || d.Num != math.Trunc(d.Num) || d.Num < 1 || d.Num > MaxDimensions {
			return nil, wire.BadRequest("\"dimensions\" must be an integer from 1 to %d", MaxDimensions)
		}
		dims = int(d.Num)
	}
	format := b.Get("encoding_format").String()
	if format != "" && format != "float" && format != "base64" {
		return nil, wire.BadRequest("\"encoding_format\" must be \"float\" or \"base64\", not %q", format)
	}
	out := &embeddingList{Object: "list", Model: b.Get("model").String(), Usage: embeddingsUsage{n, n}}
	for i, in := range inputs {
		vec := Vector(in.key(), dims)
		e := embedding{Object: "embedding", Index: i, Embedding: vec}
		if format == "base64" {
			e.Embedding = Base64(vec)
		}
		out.Data = append(out.Data, e)
	}
	return out, nil
}

// key is the bytes an input's vector is derived from.
func (in input) key() []byte {
	if in.tokens == nil {
		return []byte("s:" + in.text)
	}
	b := make([]byte, 2, 2+8*len(in.tokens))
	copy(b, "t:")
	for _, t := range in.tokens {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	return b
}

// Vector is the mock's embedding of key: dims normally distributed floats
// from a generator seeded by key's sha256, scaled to unit length. The same
// key always gives the same vector.
func Vector(key []byte, dims int) []float32 {
	h := sha256.Sum256(key)
	rng := mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
	v := make([]float32, dims)
	var sum float64
	for i := range v {
		f := rng.NormFloat64()
		v[i] = float32(f)
		sum += f * f
	}
	if norm := math.Sqrt(sum); norm > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / norm)
		}
	}
	return v
}

// Base64 encodes v as OpenAI's encoding_format "base64" does: the
// little-endian float32 bytes, in standard base64.
func Base64(v []float32) string {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// --- responses ---

// responseAnswer is one mock response of the Responses API.
type responseAnswer struct {
	id, msgID, model, text string
	instructions           *string
	maxOutput              *int64
	created                int64
	usage                  responsesUsage
}

type responsesUsage struct {
	InputTokens         int          `json:"input_tokens"`
	InputTokensDetails  cachedTokens `json:"input_tokens_details"`
	OutputTokens        int          `json:"output_tokens"`
	OutputTokensDetails reasoning    `json:"output_tokens_details"`
	TotalTokens         int          `json:"total_tokens"`
}

type cachedTokens struct {
	CachedTokens int `json:"cached_tokens"`
}

type reasoning struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// responseObject is the Responses API's "response" object, with the
// fields the API always sends.
type responseObject struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	CreatedAt          int64           `json:"created_at"`
	Status             string          `json:"status"`
	Background         bool            `json:"background"`
	Error              *struct{}       `json:"error"`
	IncompleteDetails  *struct{}       `json:"incomplete_details"`
	Instructions       *string         `json:"instructions"`
	MaxOutputTokens    *int64          `json:"max_output_tokens"`
	Model              string          `json:"model"`
	Output             []outputMessage `json:"output"`
	ParallelToolCalls  bool            `json:"parallel_tool_calls"`
	PreviousResponseID *string         `json:"previous_response_id"`
	Reasoning          reasoningConfig `json:"reasoning"`
	Store              bool            `json:"store"`
	Temperature        float64         `json:"temperature"`
	Text               textConfig      `json:"text"`
	ToolChoice         string          `json:"tool_choice"`
	Tools              []struct{}      `json:"tools"`
	TopP               float64         `json:"top_p"`
	Truncation         string          `json:"truncation"`
	Usage              *responsesUsage `json:"usage"`
	User               *string         `json:"user"`
	Metadata           struct{}        `json:"metadata"`
}

type reasoningConfig struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

type textConfig struct {
	Format struct {
		Type string `json:"type"`
	} `json:"format"`
}

type outputMessage struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type outputText struct {
	Type        string     `json:"type"`
	Text        string     `json:"text"`
	Annotations []struct{} `json:"annotations"`
	Logprobs    []struct{} `json:"logprobs"`
}

// responseEvent is every streaming event's shape (unused fields omitted).
type responseEvent struct {
	Type           string          `json:"type"`
	SequenceNumber int             `json:"sequence_number"`
	Response       *responseObject `json:"response,omitempty"`
	OutputIndex    *int            `json:"output_index,omitempty"`
	Item           *outputMessage  `json:"item,omitempty"`
	ItemID         string          `json:"item_id,omitempty"`
	ContentIndex   *int            `json:"content_index,omitempty"`
	Part           *outputText     `json:"part,omitempty"`
	Delta          *string         `json:"delta,omitempty"`
	Text           *string         `json:"text,omitempty"`
	Logprobs       *[]struct{}     `json:"logprobs,omitempty"`
}

// responseOf answers a Responses API request: the reply text to its last
// user input (a string, or the text of the last user message item).
func responseOf(call *providers.Call) (*responseAnswer, error) {
	b, err := parse(call)
	if err != nil {
		return nil, err
	}
	in := b.Get("input")
	prompt, lastUser := 0, ""
	switch {
	case in.Type == gjson.String:
		prompt, lastUser = len(in.Str), in.Str
	case in.IsArray():
		for _, item := range in.Array() {
			text := textOf(item.Get("content")) // a string, or input_text parts
			prompt += len(text)
			if item.Get("role").String() == "user" {
				lastUser = text
			}
		}
	case in.Exists() && in.Type != gjson.Null:
		return nil, wire.BadRequest("\"input\" must be a string or an array of input items")
	}
	a := &responseAnswer{
		id: randomID("resp_"), msgID: randomID("msg_"), model: b.Get("model").String(), created: time.Now().Unix(),
		text: replyText(call, b, `Mock reply to: "`+truncate(lastUser, maxEcho)+`"`),
	}
	if s := b.Get("instructions"); s.Type == gjson.String {
		a.instructions = &s.Str
		prompt += len(s.Str)
	}
	if m := b.Get("max_output_tokens"); m.Type == gjson.Number {
		n := m.Int()
		a.maxOutput = &n
	}
	p, c := tokens(prompt), tokens(len(a.text))
	a.usage = responsesUsage{InputTokens: p, OutputTokens: c, TotalTokens: p + c}
	return a, nil
}

// object is the response in a state: in_progress (no output, no usage)
// or completed.
func (a *responseAnswer) object(done bool) *responseObject {
	o := &responseObject{
		ID: a.id, Object: "response", CreatedAt: a.created, Status: "in_progress", Instructions: a.instructions,
		MaxOutputTokens: a.maxOutput, Model: a.model, Output: []outputMessage{}, ParallelToolCalls: true,
		Temperature: 1, ToolChoice: "auto", Tools: []struct{}{}, TopP: 1, Truncation: "disabled",
	}
	o.Text.Format.Type = "text"
	if done {
		o.Status, o.Output, o.Usage = "completed", []outputMessage{a.message(true)}, &a.usage
	}
	return o
}

func (a *responseAnswer) message(done bool) outputMessage {
	m := outputMessage{Type: "message", ID: a.msgID, Status: "in_progress", Role: "assistant", Content: []outputText{}}
	if done {
		m.Status, m.Content = "completed", []outputText{a.part(a.text)}
	}
	return m
}

func (a *responseAnswer) part(text string) outputText {
	return outputText{Type: "output_text", Text: text, Annotations: []struct{}{}, Logprobs: []struct{}{}}
}

func (a *responseAnswer) final() *responseObject { return a.object(true) }

// events is the stream of the Responses API for a one-message answer.
func (a *responseAnswer) events() []any {
	zero, none := 0, []struct{}{}
	var out []any
	add := func(e responseEvent) {
		e.SequenceNumber = len(out)
		out = append(out, e)
	}
	add(responseEvent{Type: "response.created", Response: a.object(false)})
	add(responseEvent{Type: "response.in_progress", Response: a.object(false)})
	item := a.message(false)
	add(responseEvent{Type: "response.output_item.added", OutputIndex: &zero, Item: &item})
	empty := a.part("")
	add(responseEvent{Type: "response.content_part.added", ItemID: a.msgID, OutputIndex: &zero, ContentIndex: &zero, Part: &empty})
	for _, w := range words(a.text) {
		add(responseEvent{Type: "response.output_text.delta", ItemID: a.msgID, OutputIndex: &zero, ContentIndex: &zero,
			Delta: &w, Logprobs: &none})
	}
	add(responseEvent{Type: "response.output_text.done", ItemID: a.msgID, OutputIndex: &zero, ContentIndex: &zero,
		Text: &a.text, Logprobs: &none})
	full := a.part(a.text)
	add(responseEvent{Type: "response.content_part.done", ItemID: a.msgID, OutputIndex: &zero, ContentIndex: &zero, Part: &full})
	done := a.message(true)
	add(responseEvent{Type: "response.output_item.done", OutputIndex: &zero, Item: &done})
	add(responseEvent{Type: "response.completed", Response: a.final()})
	return out
}
