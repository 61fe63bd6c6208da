package anthropic

import "strconv"

// The translators write JSON by appending to byte slices with wire's
// helpers (wire/jsonappend.go): values taken from the (validated) input
// are copied as their raw JSON text, so a string is never unescaped and
// escaped again.

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }
