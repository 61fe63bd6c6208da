package pricing

import (
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/tidwall/gjson"
)

// Token counting is the fallback for streams whose upstream reports no
// usage (an Azure api_version before 2024-10-21, a deployment with
// stream_include_usage: false, an OpenAI-compatible server that ignores
// stream_options). It uses tiktoken-go with its offline BPE loader: the
// BPE files are embedded in the binary, nothing is downloaded. Encodings
// load lazily, once, on first use.

var (
	loaderOnce sync.Once
	encMu      sync.Mutex
	encodings  = map[string]*tiktoken.Tiktoken{}
)

// encodingFor returns the tokenizer of model: o200k_base for the gpt-4o,
// gpt-4.1, gpt-5 and o-series families, cl100k_base for everything else
// (older OpenAI models, and an approximation for Anthropic and open models).
// It returns nil if the tokenizer cannot load.
func encodingFor(model string) *tiktoken.Tiktoken {
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
	if _, rest, ok := strings.Cut(model, "/"); ok {
		model = rest
	}
	name := "cl100k_base"
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"} {
		if strings.HasPrefix(model, p) {
			name = "o200k_base"
			break
		}
	}
	encMu.Lock()
	defer encMu.Unlock()
	if e, ok := encodings[name]; ok {
		return e
	}
	e, err := tiktoken.GetEncoding(name)
	if err != nil {
		e = nil
	}
	encodings[name] = e
	return e
}

// CountText returns the number of tokens of text for model. If the
// tokenizer is unavailable it estimates one token per four bytes.
func CountText(model, text string) int64 {
	if text == "" {
		return 0
	}
	if e := encodingFor(model); e != nil {
		return int64(len(e.Encode(text, nil, nil)))
	}
	return int64((len(text) + 3) / 4)
}

// CountPrompt estimates the prompt tokens of a chat completion request
// body the way OpenAI's cookbook does: the tokens of every message's
// content and name, plus 3 per message and 3 for the reply's priming.
func CountPrompt(model string, body []byte) int64 {
	msgs := gjson.GetBytes(body, "messages")
	if !msgs.IsArray() {
		return 0
	}
	var b strings.Builder
	n := int64(3)
	msgs.ForEach(func(_, m gjson.Result) bool {
		n += 3
		b.WriteString(m.Get("role").String())
		b.WriteByte('\n')
		if nm := m.Get("name"); nm.Exists() {
			b.WriteString(nm.String())
			b.WriteByte('\n')
			n++
		}
		c := m.Get("content")
		if c.IsArray() {
			c.ForEach(func(_, part gjson.Result) bool {
				if t := part.Get("text"); t.Exists() {
					b.WriteString(t.String())
					b.WriteByte('\n')
				}
				return true
			})
		} else {
			b.WriteString(c.String())
			b.WriteByte('\n')
		}
		return true
	})
	return n + CountText(model, b.String())
}

// CountCompletion counts the completion tokens of a unary chat completion
// answer whose upstream reported no usage: the tokens of every choice's
// message content (a string or text parts), refusal and tool calls (name
// and arguments), the way CountText counts a stream's text.
func CountCompletion(model string, body []byte) int64 {
	choices := gjson.GetBytes(body, "choices")
	if !choices.IsArray() {
		return 0
	}
	var b strings.Builder
	choices.ForEach(func(_, c gjson.Result) bool {
		m := c.Get("message")
		if t := m.Get("content"); t.IsArray() {
			t.ForEach(func(_, part gjson.Result) bool {
				b.WriteString(part.Get("text").String())
				return true
			})
		} else {
			b.WriteString(t.String())
		}
		b.WriteString(m.Get("refusal").String())
		for _, call := range m.Get("tool_calls").Array() {
			b.WriteString(call.Get("function.name").String())
			b.WriteString(call.Get("function.arguments").String())
		}
		if fc := m.Get("function_call"); fc.Exists() {
			b.WriteString(fc.Get("name").String())
			b.WriteString(fc.Get("arguments").String())
		}
		return true
	})
	return CountText(model, b.String())
}
