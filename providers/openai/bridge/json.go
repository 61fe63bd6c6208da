package bridge

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// The translations write JSON by appending to a byte slice. Values taken
// from a parsed input are copied as their raw text where that text is a
// valid literal of the wanted type (a gjson Raw of a string is a JSON
// string literal); strings are re-escaped only where a translation builds
// a new one.

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendRawOr appends v's raw JSON when v exists and is not null, else
// def.
func appendRawOr(b []byte, v gjson.Result, def string) []byte {
	if v.Exists() && v.Type != gjson.Null && v.Raw != "" {
		return append(b, v.Raw...)
	}
	return append(b, def...)
}

// isObject reports whether v is a JSON object.
func isObject(v gjson.Result) bool { return v.IsObject() }

// nonEmpty reports whether v is a non-empty string.
func nonEmpty(v gjson.Result) bool { return v.Type == gjson.String && v.Str != "" }

// idSuffix is a chat id without its "chatcmpl-" prefix (and other
// characters than letters, digits, '-' and '_' dropped), for the ids the
// bridge makes from it.
func idSuffix(id string) string {
	const p = "chatcmpl-"
	if len(id) >= len(p) && id[:len(p)] == p {
		id = id[len(p):]
	}
	out := make([]byte, 0, len(id))
	for i := 0; i < len(id) && len(out) < 64; i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
		}
	}
	return string(out)
}
