package wire

import (
	"bytes"
	"math"
	"strconv"

	"github.com/llmgateway/gateway/providers/registry"
)

// Usage is what one call used, as the gateway accounts and prices it
// (pricing.Tokens has the same fields).
type Usage struct {
	// Prompt counts every prompt token, those read from or written to the
	// upstream's prompt cache included (Anthropic's input_tokens +
	// cache_creation_input_tokens + cache_read_input_tokens).
	Prompt, Completion int64
	// CacheRead and CacheWrite are the prompt tokens read from and written
	// to the prompt cache (parts of Prompt).
	CacheRead, CacheWrite int64
	// Reported is true when the answer carried usage: the counts are the
	// upstream's, not missing.
	Reported bool
}

// Total is every token of the call.
func (u Usage) Total() int64 { return u.Prompt + u.Completion }

// maxCount bounds one token count: an upstream's garbage cannot overflow
// a sum of counts.
const maxCount = 1 << 40

// The shapes of usage objects.
//
//   - OpenAI (chat/completions, completions, embeddings): prompt_tokens,
//     completion_tokens, prompt_tokens_details.cached_tokens, and LiteLLM's
//     cache_read_input_tokens / cache_creation_input_tokens, which a
//     translated answer adds; prompt_tokens counts the cached tokens.
//   - OpenAI's newer APIs (responses, images/generations for gpt-image
//     models, audio/transcriptions for gpt-4o-transcribe): input_tokens,
//     output_tokens, input_tokens_details.cached_tokens; input_tokens
//     counts the cached tokens.
//   - Anthropic (messages): input_tokens, output_tokens,
//     cache_creation_input_tokens, cache_read_input_tokens; input_tokens
//     does not count the cached tokens.
//
// The OpenAI reader takes either spelling, so it reads all of OpenAI's
// endpoints. Usage a call does not report in tokens (whisper's
// {"type":"duration","seconds":N}; moderations and audio/speech, which
// report none) is not Reported.

// ParseUsage reads a usage object (its raw JSON: an answer's "usage", a
// stream's usage) of an answer of endpoint ep. Anything that is not an
// object with a token count (null, absent, garbage) is not Reported.
// Messages and count_tokens read Anthropic's shape; every other endpoint
// OpenAI's.
func ParseUsage(ep registry.Endpoint, raw []byte) Usage {
	var c counts
	c.read(raw)
	if ep == registry.EndpointMessages || ep == registry.EndpointCountTokens {
		return c.anthropic()
	}
	return c.openAI()
}

// counts are the fields of one usage object, each with whether it was
// present.
type counts struct {
	prompt, completion, input, output, total, cached, cacheRead, cacheWrite int64
	has                                                                     uint16
}

// Presence bits of counts.has.
const (
	hasPrompt uint16 = 1 << iota
	hasCompletion
	hasInput
	hasOutput
	hasTotal
	hasCached
	hasCacheRead
	hasCacheWrite
)

// tokenBits are the fields that make a usage object Reported.
const tokenBits = hasPrompt | hasCompletion | hasInput | hasOutput | hasTotal

// read sets the counts present in the usage object raw.
func (c *counts) read(raw []byte) {
	eachField(raw, skipSpace(raw, 0), func(key []byte, v, vend int) {
		val := raw[v:vend]
		switch string(key) {
		case "prompt_tokens":
			c.set(hasPrompt, &c.prompt, val)
		case "completion_tokens":
			c.set(hasCompletion, &c.completion, val)
		case "input_tokens":
			c.set(hasInput, &c.input, val)
		case "output_tokens":
			c.set(hasOutput, &c.output, val)
		case "total_tokens":
			c.set(hasTotal, &c.total, val)
		case "cache_read_input_tokens":
			c.set(hasCacheRead, &c.cacheRead, val)
		case "cache_creation_input_tokens":
			c.set(hasCacheWrite, &c.cacheWrite, val)
		case "prompt_tokens_details", "input_tokens_details":
			eachField(raw, v, func(k []byte, dv, dvend int) {
				if string(k) == "cached_tokens" {
					c.set(hasCached, &c.cached, raw[dv:dvend])
				}
			})
		}
	})
}

// set stores a count that is a JSON number (the first of duplicates).
func (c *counts) set(bit uint16, dst *int64, val []byte) {
	if c.has&bit != 0 {
		return
	}
	if n, ok := parseCount(val); ok {
		*dst = n
		c.has |= bit
	}
}

func (c *counts) openAI() Usage {
	if c.has&tokenBits == 0 {
		return Usage{}
	}
	u := Usage{Reported: true, Prompt: c.input, Completion: c.output, CacheRead: c.cached, CacheWrite: c.cacheWrite}
	if c.has&hasPrompt != 0 {
		u.Prompt = c.prompt
	}
	if c.has&hasCompletion != 0 {
		u.Completion = c.completion
	}
	if c.has&(hasPrompt|hasInput|hasCompletion|hasOutput) == 0 {
		u.Prompt = c.total // an embeddings answer with total_tokens only
	}
	if c.has&hasCacheRead != 0 {
		u.CacheRead = c.cacheRead
	}
	return u
}

func (c *counts) anthropic() Usage {
	if c.has&(hasInput|hasOutput|hasCacheRead|hasCacheWrite) == 0 {
		return Usage{}
	}
	return Usage{Reported: true, Prompt: c.input + c.cacheRead + c.cacheWrite, Completion: c.output,
		CacheRead: c.cacheRead, CacheWrite: c.cacheWrite}
}

// parseCount reads a JSON number as a token count: negative counts 0,
// fractions are dropped, and the count is capped at maxCount.
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if len(b) <= 12 { // the common case: a small non-negative integer
		n := int64(0)
		for _, d := range b {
			if d < '0' || d > '9' {
				goto general
			}
			n = n*10 + int64(d-'0')
		}
		return min(n, maxCount), true
	}
general:
	if b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return 0, false // a string, null, an object...
	}
	f, err := strconv.ParseFloat(View(b), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	switch {
	case f != f || f <= 0: // NaN cannot be JSON, but never trust it
		return 0, true
	case f >= maxCount:
		return maxCount, true
	}
	return int64(f), true
}

// Unary is what the gateway reads of a unary answer of an endpoint other
// than chat (ParseCompletion reads those): its usage and where its
// top-level "model" string is, for SetModelAt.
type Unary struct {
	Usage   Usage
	ModelAt Span
}

// ParseUnary reads a unary answer of endpoint ep in one pass over its
// top-level fields: the "usage" object in the endpoint's shape and the
// "model" string (responses, completions, embeddings, Anthropic messages
// all have both; moderations a model only; images and transcriptions
// usage only, for the models that report it). count_tokens answers
// {"input_tokens": N}, which is not usage: it is free. body is the
// upstream's answer; anything that is not a JSON object yields nothing
// and never a panic.
func ParseUnary(ep registry.Endpoint, body []byte) (u Unary) {
	var usage []byte
	seenModel := false
	eachField(body, skipSpace(body, 0), func(key []byte, v, vend int) {
		switch string(key) {
		case "usage":
			if usage == nil {
				usage = body[v:vend]
			}
		case "model":
			if !seenModel && body[v] == '"' {
				u.ModelAt = Span{Off: v, Len: vend - v}
			}
			seenModel = true
		}
	})
	if usage != nil && ep != registry.EndpointCountTokens {
		u.Usage = ParseUsage(ep, usage)
	}
	return u
}

// Event is what the gateway reads of one stream event.
type Event struct {
	// Type is the event's "type" string as written, without quotes
	// (responses, Anthropic messages, images and audio events); nil for
	// chat and completions chunks, which have none. It points into the
	// event.
	Type []byte
	// ModelAt is where the event's model string is, for SetModelSpan: a
	// chunk's top-level "model", a response.* event's response.model, a
	// message_start's message.model. Zero: the event names no model.
	ModelAt Span
	// HasUsage reports that the event carried usage (now in the
	// StreamReader's Usage).
	HasUsage bool
}

// StreamReader reads the events of one stream of an endpoint: the usage
// they report and where each event's model is. The zero value is not
// usable; NewStreamReader makes one. Usage is, per endpoint:
//
//   - chat/completions, completions: the final chunk's usage (sent when
//     the request had stream_options.include_usage);
//   - responses: response.usage of the terminal event (response.completed,
//     response.failed, response.incomplete), or of any response.* event
//     that carries one;
//   - messages: message_start's message.usage, then each message_delta's
//     usage overriding the counts it carries (output_tokens, and the input
//     and cache counts when present);
//   - any other endpoint (image and transcription streams): the usage
//     object of the event that carries one.
//
// A later report replaces an earlier one.
type StreamReader struct {
	ep registry.Endpoint
	u  Usage
	// Anthropic's counts so far.
	anth counts
}

// NewStreamReader returns a reader for a stream of endpoint ep.
func NewStreamReader(ep registry.Endpoint) StreamReader {
	return StreamReader{ep: ep}
}

// Usage is the usage the stream reported so far (Reported false: none).
func (r *StreamReader) Usage() Usage { return r.u }

// Read reads one event's data (the payload of its `data:` line), in one
// pass over its top-level fields that skips the values it does not need.
// Anything that is not a JSON object yields an empty Event; Read never
// panics. The Event points into data.
func (r *StreamReader) Read(data []byte) (e Event) {
	switch r.ep {
	case registry.EndpointChat, registry.EndpointCompletions, "":
		c := ParseChunk(data)
		e.ModelAt = c.ModelAt
		if c.Usage != nil {
			if u := ParseUsage(r.ep, c.Usage); u.Reported {
				r.u, e.HasUsage = u, true
			}
		}
		return e
	case registry.EndpointMessages:
		return r.readMessages(data)
	}
	var usage, inner []byte
	innerAt := 0
	eachField(data, skipSpace(data, 0), func(key []byte, v, vend int) {
		switch string(key) {
		case "type":
			if e.Type == nil && data[v] == '"' {
				e.Type = data[v+1 : vend-1]
			}
		case "usage":
			if usage == nil {
				usage = data[v:vend]
			}
		case "response":
			if inner == nil {
				inner, innerAt = data[v:vend], v
			}
		}
	})
	if inner != nil && bytes.HasPrefix(e.Type, []byte("response.")) {
		// A response.* event carries the whole response: its model and, at
		// the end, its usage.
		var iusage []byte
		e.ModelAt, iusage = modelAndUsage(inner, innerAt)
		if iusage != nil {
			usage = iusage
		}
	}
	if usage != nil {
		if u := ParseUsage(r.ep, usage); u.Reported {
			r.u, e.HasUsage = u, true
		}
	}
	return e
}

// readMessages reads an Anthropic messages stream event.
func (r *StreamReader) readMessages(data []byte) (e Event) {
	var usage, msg []byte
	msgAt := 0
	eachField(data, skipSpace(data, 0), func(key []byte, v, vend int) {
		switch string(key) {
		case "type":
			if e.Type == nil && data[v] == '"' {
				e.Type = data[v+1 : vend-1]
			}
		case "usage":
			if usage == nil {
				usage = data[v:vend]
			}
		case "message":
			if msg == nil {
				msg, msgAt = data[v:vend], v
			}
		}
	})
	switch string(e.Type) {
	case "message_start":
		if msg == nil {
			return e
		}
		e.ModelAt, usage = modelAndUsage(msg, msgAt)
		r.anth = counts{} // a new message: its counts replace any before
	case "message_delta":
	default:
		return e
	}
	if usage == nil {
		return e
	}
	var c counts
	c.read(usage)
	if c.has&(hasInput|hasOutput|hasCacheRead|hasCacheWrite) == 0 {
		return e
	}
	a := &r.anth
	for _, f := range []struct {
		bit      uint16
		dst, src *int64
	}{{hasInput, &a.input, &c.input}, {hasOutput, &a.output, &c.output},
		{hasCacheRead, &a.cacheRead, &c.cacheRead}, {hasCacheWrite, &a.cacheWrite, &c.cacheWrite}} {
		if c.has&f.bit != 0 {
			*f.dst = *f.src
			a.has |= f.bit
		}
	}
	r.u, e.HasUsage = a.anthropic(), true
	return e
}

// modelAndUsage finds the "model" string (as a Span of the enclosing
// event: obj starts at offset at) and the "usage" value of the object obj.
func modelAndUsage(obj []byte, at int) (model Span, usage []byte) {
	seenModel := false
	eachField(obj, 0, func(key []byte, v, vend int) {
		switch string(key) {
		case "model":
			if !seenModel && obj[v] == '"' {
				model = Span{Off: at + v, Len: vend - v}
			}
			seenModel = true
		case "usage":
			if usage == nil {
				usage = obj[v:vend]
			}
		}
	})
	return model, usage
}

// eachField calls visit for each field of the JSON object starting at
// data[i] with its key (as written, between the quotes) and its value's
// bounds, skipping every value without parsing it. It stops at the first
// thing that is not well formed and never reads out of bounds.
func eachField(data []byte, i int, visit func(key []byte, v, vend int)) {
	if i >= len(data) || data[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '"' {
			return
		}
		end := stringEnd(data, i)
		if end < 0 {
			return
		}
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return
		}
		i = skipSpace(data, i+1)
		vend := valueEnd(data, i)
		if vend < 0 {
			return
		}
		visit(key, i, vend)
		i = skipSpace(data, vend)
		if i >= len(data) || data[i] != ',' {
			return
		}
		i++
	}
}

// SetModelSpan returns body with the model string at at (an Event's
// ModelAt, found by a parse of the same bytes) replaced by model, written
// as a JSON string. A span that does not hold a string value of a "model"
// key (or the zero Span) leaves body as it is: unlike SetModelAt, it never
// adds a top-level "model", since an event's model may be nested. body is
// never modified.
func SetModelSpan(body []byte, at Span, model string) []byte {
	end := at.Off + at.Len
	if at.Off <= 0 || at.Len < 2 || end > len(body) || body[at.Off] != '"' || body[end-1] != '"' ||
		!afterModelKey(body[:at.Off]) {
		return body
	}
	var quoted []byte
	if plainJSONString(model) {
		if string(body[at.Off+1:end-1]) == model {
			return body
		}
	} else {
		quoted = AppendJSONString(nil, model)
	}
	out := make([]byte, 0, len(body)-at.Len+len(model)+2+len(quoted))
	out = append(out, body[:at.Off]...)
	if quoted != nil {
		out = append(out, quoted...)
	} else {
		out = append(out, '"')
		out = append(out, model...)
		out = append(out, '"')
	}
	return append(out, body[end:]...)
}
