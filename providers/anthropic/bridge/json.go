package bridge

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// The translations write JSON by appending to a byte slice. Values taken
// from a validated input are copied as their raw text (a gjson Raw of a
// string is a valid JSON string literal), so strings are re-escaped only
// where a translation builds a new one.

// appendStr appends a gjson string value: its raw literal when it is one
// (valid input), else s re-encoded.
func appendStr(b []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(b, v.Raw...)
	}
	return wire.AppendJSONString(b, v.String())
}

// appendStrBody appends the inside of a gjson string value's literal.
func appendStrBody(b []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(b, v.Raw[1:len(v.Raw)-1]...)
	}
	return wire.AppendJSONStringBody(b, v.String())
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// isInt reports whether v is a JSON number with an integral value.
func isInt(v gjson.Result) bool {
	if v.Type != gjson.Number {
		return false
	}
	f := v.Num
	return f == float64(int64(f))
}
