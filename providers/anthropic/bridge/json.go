package bridge

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// The translations write JSON by appending to a byte slice. Values taken
// from a validated input are copied as their raw text (a gjson Raw of a
// string is a valid JSON string literal), so strings are re-escaped only
// where a translation builds a new one.

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// isInt reports whether v is a JSON number with an integral value.
func isInt(v gjson.Result) bool {
	if v.Type != gjson.Number {
		return false
	}
	f := v.Num
	return f == float64(int64(f))
}
