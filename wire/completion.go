package wire

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Completion is what the gateway reads of a unary chat completion answer.
type Completion struct {
	// Usage is the top-level "usage" value (Exists() false when absent).
	// Its Raw points into the body.
	Usage gjson.Result
	// ModelAt is where the top-level "model" string value is (zero: none),
	// for SetModelAt.
	ModelAt Span
}

// ParseCompletion checks, in one pass over its top-level fields, that body
// is a chat completion as far as the gateway relies on it: one valid JSON
// object with a "choices" array. why is empty for one; otherwise it says
// what body is instead ("a body that is not JSON", ...), for a message
// "the upstream answered 200 with <why>". The full schema is the
// client's SDK's to check; this is what tells an answer from an HTML page,
// a truncated body or an error object sent with status 200.
func ParseCompletion(body []byte) (c Completion, why string) {
	if !gjson.ValidBytes(body) {
		if len(body) == 0 {
			return c, "an empty body"
		}
		return c, "a body that is not JSON"
	}
	r := gjson.Parse(View(body))
	if !r.IsObject() {
		return c, "a JSON body that is not an object"
	}
	choices, errObj := false, false
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "choices":
			choices = v.IsArray()
		case "usage":
			c.Usage = v
		case "model":
			if v.Type == gjson.String {
				c.ModelAt = Span{Off: v.Index, Len: len(v.Raw)}
			}
		case "error":
			errObj = true
		}
		return true
	})
	switch {
	case choices:
		return c, ""
	case errObj:
		return c, "an error object instead of a chat completion"
	default:
		return c, "a JSON object without a \"choices\" array, which is not a chat completion"
	}
}

// Chunk is what the gateway reads of a stream chunk: the raw JSON of its
// top-level "usage" and "choices" (nil when absent) and where its "model"
// string is.
type Chunk struct {
	Usage   []byte
	Choices []byte
	ModelAt Span // zero: no plain "model" string
}

// ParseChunk reads a stream chunk's usage, choices and model in one pass
// over its top-level fields that skips every value without parsing it: a
// lookup per field would scan the chunk once each, and gjson's ForEach
// parses each value on the way. data must be valid JSON (the providers'
// SSE parser checks every event); for anything else ParseChunk finds what
// it can and never reads out of bounds. Keys are matched as written (a key
// spelled with escapes is not recognized). The results point into data.
func ParseChunk(data []byte) (c Chunk) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return c
	}
	i++
	seenModel := false
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '"' {
			return c
		}
		end := stringEnd(data, i)
		if end < 0 {
			return c
		}
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return c
		}
		i = skipSpace(data, i+1)
		vend := valueEnd(data, i)
		if vend < 0 {
			return c
		}
		switch string(key) { // the first of duplicates, as a lookup finds it
		case "usage":
			if c.Usage == nil {
				c.Usage = data[i:vend]
			}
		case "choices":
			if c.Choices == nil {
				c.Choices = data[i:vend]
			}
		case "model":
			if !seenModel && data[i] == '"' {
				c.ModelAt = Span{Off: i, Len: vend - i}
			}
			seenModel = true
		}
		i = skipSpace(data, vend)
		if i >= len(data) || data[i] != ',' {
			return c
		}
		i++
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at data[i]
// (a quote), or -1.
func stringEnd(data []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0 // backslashes before the quote
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// valueEnd returns the index just past the value starting at data[i], or
// -1.
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				e := stringEnd(data, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // a number, true, false or null
		j := i
		for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' &&
			data[j] != ' ' && data[j] != '\t' && data[j] != '\n' && data[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
