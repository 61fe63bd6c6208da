package gemini

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// The translators write JSON by appending to byte slices. Values taken
// from the (validated) input are copied as their raw JSON text where they
// are already what the output needs.

// appendRawString appends a gjson string value: its raw text when it is
// one (already a valid JSON string), else its text encoded.
func appendRawString(dst []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw...)
	}
	return wire.AppendJSONString(dst, v.String())
}

func appendString(dst []byte, s string) []byte { return wire.AppendJSONString(dst, s) }

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendCompact appends the JSON value raw with insignificant spaces
// removed (raw is valid JSON): a value that goes into an SSE event must be
// one line.
func appendCompact(dst []byte, raw string) []byte {
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

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
