package wire

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// Lookup is gjson.GetBytes without its copy of the result: the result's
// Raw and Str point into body. Use them while body is alive and unchanged
// and copy what is kept (the hot path reads a few numbers or a name from
// each answer and stream chunk; a copy each time is garbage).
func Lookup(body []byte, path string) gjson.Result {
	return gjson.Get(View(body), path)
}

// View is body as a string without a copy, under Lookup's rules.
func View(body []byte) string {
	return unsafe.String(unsafe.SliceData(body), len(body))
}
