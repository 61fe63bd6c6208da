package wire

import "encoding/json"

// AnthropicJSON is replaced by the bridge branch's wire/anthropic.go.
func (e *Error) AnthropicJSON() []byte {
	t := "api_error"
	switch e.Status {
	case 400:
		t = "invalid_request_error"
	case 401:
		t = "authentication_error"
	case 403:
		t = "permission_error"
	case 404:
		t = "not_found_error"
	case 413:
		t = "request_too_large"
	case 429:
		t = "rate_limit_error"
	case 529:
		t = "overloaded_error"
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": t, "message": e.Message}})
	return b
}
