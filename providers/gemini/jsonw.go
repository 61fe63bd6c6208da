package gemini

import "strconv"

// The translators write JSON by appending to byte slices with wire's
// helpers (wire/jsonappend.go): values taken from the (validated) input
// are copied as their raw JSON text where they are already what the
// output needs.

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

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
