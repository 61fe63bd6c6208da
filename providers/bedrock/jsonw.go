package bedrock

import "strconv"

// The translators write JSON by appending to byte slices: values taken
// from the validated input are copied as their raw JSON text.

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
