package bedrock

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// The translators write JSON by appending to byte slices: values taken
// from the validated input are copied as their raw JSON text.

// appendRawString appends a gjson string value: its raw text when it is
// one, else its text encoded.
func appendRawString(dst []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw...)
	}
	return wire.AppendJSONString(dst, v.String())
}

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// comma appends a comma unless b ends an opening bracket or is empty.
func comma(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	switch b[len(b)-1] {
	case '[', '{', ',', ':':
		return b
	}
	return append(b, ',')
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
