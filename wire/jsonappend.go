package wire

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// The translators (providers and bridges) write JSON by appending to byte
// slices. Values taken from a parsed input are copied as their raw JSON
// text where that text is a valid literal of the wanted type (a gjson Raw
// of a string is a JSON string literal), so a string is never unescaped
// and escaped again; only strings a translator builds go through
// AppendJSONString.

// AppendRawString appends a gjson string value: its raw literal when it
// is one, else its text encoded.
func AppendRawString(dst []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw...)
	}
	return AppendJSONString(dst, v.String())
}

// AppendRawStringBody appends the inside of a gjson string value's literal
// (AppendRawString without the quotes).
func AppendRawStringBody(dst []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw[1:len(v.Raw)-1]...)
	}
	return AppendJSONStringBody(dst, v.String())
}

// AppendCompact appends the JSON value raw with insignificant spaces
// removed (raw is valid JSON): a value that goes into an SSE event must be
// one line.
func AppendCompact(dst []byte, raw string) []byte {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			dst = append(dst, c)
			switch c {
			case '\\':
				if i+1 < len(raw) {
					i++
					dst = append(dst, raw[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			inString = true
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// IsBlank reports whether s is empty or white space only.
func IsBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

// AppendCacheUsage appends the OpenAI usage object of an upstream whose
// input count leaves out its cache reads and writes (Anthropic's
// input_tokens, Bedrock's inputTokens), as LiteLLM reports it: the prompt
// counts every input token, cached ones included;
// prompt_tokens_details.cached_tokens and cache_read_input_tokens are the
// cache reads, cache_creation_input_tokens the cache writes.
func AppendCacheUsage(b []byte, input, output, cacheRead, cacheWrite int64) []byte {
	prompt := input + cacheRead + cacheWrite
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, prompt, 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, output, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, prompt+output, 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, cacheRead, 10)
	b = append(b, `},"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, cacheWrite, 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, cacheRead, 10)
	return append(b, '}')
}
