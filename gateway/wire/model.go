package wire

import (
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// SetModel returns body with its top-level "model" set to model. The
// common case — a plain ASCII name replacing an existing string value —
// is one splice into a new buffer; anything else goes through sjson.
// body is never modified.
func SetModel(body []byte, model string) ([]byte, error) {
	r := gjson.GetBytes(body, "model")
	if r.Type == gjson.String && r.Index > 0 && plainJSONString(model) {
		if r.Str == model {
			return body, nil
		}
		out := make([]byte, 0, len(body)-len(r.Raw)+len(model)+2)
		out = append(out, body[:r.Index]...)
		out = append(out, '"')
		out = append(out, model...)
		out = append(out, '"')
		out = append(out, body[r.Index+len(r.Raw):]...)
		return out, nil
	}
	return sjson.SetBytes(body, "model", model)
}

// plainJSONString reports whether s can be written between quotes as is.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}
