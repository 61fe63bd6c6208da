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
//
// Every management endpoint with a body takes a JSON object: `null`, a
// list or a scalar is a 400 (json.Unmarshal would accept `null` as "no
// fields" and, for /team/new, create a team).
func Decode(body []byte, v any) *Error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return BadRequest("", "the request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return decodeAt(trimmed, v, "") // the syntax error, with its offset
		}
		return BadRequest("", "the request body must be a JSON object ({...}), got %s", jsonKind(trimmed))
	}
	return decodeAt(body, v, "")
}

// DecodeValue decodes any JSON value (a list, for instance) into v, with
// Decode's messages.
func DecodeValue(raw []byte, v any) *Error { return decodeAt(raw, v, "") }

func jsonKind(raw []byte) string {
	switch raw[0] {
	case 'n':
		return "null"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "true or false"
	}
	return "a number"
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
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		return BadRequest(prefix+fe.Field, "%s", fe.Message)
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

// FieldError is the error a field's own UnmarshalJSON returns: Decode
// answers it as a 400 naming Field.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Message }
