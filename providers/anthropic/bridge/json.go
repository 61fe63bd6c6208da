package bridge

import (
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The translations write JSON by appending to a byte slice. Values taken
// from a validated input are copied as their raw text (a gjson Raw of a
// string is a valid JSON string literal), so strings are re-escaped only
// where a translation builds a new one.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal (no HTML escaping, as
// Anthropic and OpenAI write them; invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody appends s escaped for the inside of a JSON string.
func appendStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendStr appends a gjson string value: its raw literal when it is one
// (valid input), else s re-encoded.
func appendStr(b []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(b, v.Raw...)
	}
	return appendString(b, v.String())
}

// appendStrBody appends the inside of a gjson string value's literal.
func appendStrBody(b []byte, v gjson.Result) []byte {
	if v.Type == gjson.String && len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(b, v.Raw[1:len(v.Raw)-1]...)
	}
	return appendStringBody(b, v.String())
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
