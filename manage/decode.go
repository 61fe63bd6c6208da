package manage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Decode decodes a JSON request body into v. Unknown fields are accepted
// (LiteLLM clients send extras); malformed JSON and wrong types are a 400
// that names the field.
func Decode(body []byte, v any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("", "the request body is empty; send a JSON object")
	}
	return decodeAt(body, v, "")
}

// decodeAt decodes raw into v; prefix names where raw sits in the request
// ("litellm_params."), for messages.
func decodeAt(raw []byte, v any, prefix string) *Error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return BadRequest("", "the request body is not valid JSON (at byte %d: %v); send a JSON object", syn.Offset, syn)
	case errors.As(err, &typ):
		name := prefix + typ.Field
		if name == "" {
			if prefix != "" {
				name = prefix[:len(prefix)-1]
				return BadRequest(name, "%s must be a JSON object, got %s", name, typ.Value)
			}
			return BadRequest("", "the request body must be a JSON object, got %s", typ.Value)
		}
		return BadRequest(name, "field %s: expected %s, got %s", name, jsonType(typ.Type.String()), typ.Value)
	}
	return BadRequest("", "the request body cannot be decoded: %v", err)
}

func jsonType(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "bool", "*bool":
		return "true or false"
	case "int64", "*int64", "int", "*int":
		return "an integer"
	case "float64", "*float64":
		return "a number"
	case "[]string", "*[]string":
		return "a list of strings"
	}
	if len(goType) > 0 && (goType[0] == '[' || goType[:min(2, len(goType))] == "*[") {
		return "a list"
	}
	if bytes.HasPrefix([]byte(goType), []byte("map[")) || bytes.HasPrefix([]byte(goType), []byte("*map[")) {
		return "a JSON object"
	}
	return fmt.Sprintf("a value of type %s", goType)
}
