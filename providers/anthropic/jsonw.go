package anthropic

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// The translators write JSON by appending to byte slices. Values taken
// from the (validated) input are copied as their raw JSON text, so a
// string is never unescaped and escaped again; only strings the
// translator builds itself go through appendString.

// appendRawString appends a gjson string value: its raw text when it is
// one (already a valid JSON string), else s encoded.
func appendRawString(dst []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw...)
	}
	return wire.AppendJSONString(dst, v.String())
}

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendCompact appends the JSON value raw with insignificant spaces
// removed (raw is valid JSON).
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

// isBlank reports whether s is empty or white space only.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}
