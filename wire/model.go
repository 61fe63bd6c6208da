package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// SetModel returns body with its top-level "model" set to model. The
// common case — a plain ASCII name replacing an existing string value —
// is one splice into a new buffer; anything else goes through sjson.
// body is never modified.
func SetModel(body []byte, model string) ([]byte, error) {
	r := Lookup(body, "model")
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

// Span is where a value sits in a body: its offset and the length of its
// raw JSON text (quotes included for a string). The zero Span is unknown.
type Span struct{ Off, Len int }

// SetModelAt is SetModel for a body whose top-level "model" string value
// was found at at by an earlier parse of the same bytes: the body is not
// scanned again. A span that does not hold a plain JSON string (or the
// zero Span) falls back to SetModel.
func SetModelAt(body []byte, at Span, model string) ([]byte, error) {
	end := at.Off + at.Len
	if at.Off <= 0 || at.Len < 2 || end > len(body) || body[at.Off] != '"' || body[end-1] != '"' ||
		!plainJSONString(model) || !afterModelKey(body[:at.Off]) {
		return SetModel(body, model)
	}
	if string(body[at.Off+1:end-1]) == model {
		return body, nil
	}
	out := make([]byte, 0, len(body)-at.Len+len(model)+2)
	out = append(out, body[:at.Off]...)
	out = append(out, '"')
	out = append(out, model...)
	out = append(out, '"')
	out = append(out, body[end:]...)
	return out, nil
}

// afterModelKey reports whether head ends with a "model" key and its colon
// (spaces allowed around the colon), as it does before a model value.
func afterModelKey(head []byte) bool {
	head = bytes.TrimRight(head, " \t\r\n")
	if len(head) == 0 || head[len(head)-1] != ':' {
		return false
	}
	return bytes.HasSuffix(bytes.TrimRight(head[:len(head)-1], " \t\r\n"), []byte(`"model"`))
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

// SetRawAt returns body with the bytes at at replaced by value as is: the
// model of a multipart form, whose value is not JSON. value must not hold
// a line break (it would end the form part).
func SetRawAt(body []byte, at Span, value string) ([]byte, error) {
	end := at.Off + at.Len
	if at.Off <= 0 || at.Len <= 0 || end > len(body) {
		return nil, errors.New("the model's place in the form is unknown")
	}
	if strings.ContainsAny(value, "\r\n") {
		return nil, errors.New("the upstream model name holds a line break")
	}
	out := make([]byte, 0, len(body)-at.Len+len(value))
	out = append(out, body[:at.Off]...)
	out = append(out, value...)
	return append(out, body[end:]...), nil
}

// SetStringAt returns body with the JSON string at at (found by an earlier
// parse of the same bytes) replaced by value, quoted.
func SetStringAt(body []byte, at Span, value string) ([]byte, error) {
	end := at.Off + at.Len
	if at.Off <= 0 || at.Len < 2 || end > len(body) || body[at.Off] != '"' || body[end-1] != '"' {
		return nil, errors.New("no string value at the given place")
	}
	quoted, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)-at.Len+len(quoted))
	out = append(out, body[:at.Off]...)
	out = append(out, quoted...)
	return append(out, body[end:]...), nil
}
