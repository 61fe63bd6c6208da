package wire

import "encoding/json"

// Anthropic's error types, as its API documents them
// (https://docs.claude.com/en/api/errors) and its SDKs decode them.
const (
	AnthropicInvalidRequest  = "invalid_request_error" // 400, and other 4xx
	AnthropicAuthentication  = "authentication_error"  // 401
	AnthropicBilling         = "billing_error"         // 402
	AnthropicPermission      = "permission_error"      // 403
	AnthropicNotFound        = "not_found_error"       // 404
	AnthropicRequestTooLarge = "request_too_large"     // 413
	AnthropicRateLimit       = "rate_limit_error"      // 429
	AnthropicAPI             = "api_error"             // 500, and other 5xx
	AnthropicTimeout         = "timeout_error"         // 504
	AnthropicOverloaded      = "overloaded_error"      // 529
)

// AnthropicType is the Anthropic error type of e: from its status as
// Anthropic's API uses them (400 invalid_request_error, 401
// authentication_error, 402 billing_error, 403 permission_error, 404
// not_found_error, 413 request_too_large, 429 rate_limit_error, 500
// api_error, 504 timeout_error, 529 overloaded_error). Statuses Anthropic
// does not list: 408 and a gateway timeout_error are timeout_error; 503
// (the gateway or the upstream is not ready; retry) is overloaded_error,
// which Anthropic's clients retry; 502 and other 5xx are api_error; other
// 4xx are invalid_request_error, as Anthropic documents. An error whose
// status is none of these and whose type is one only Anthropic uses
// (billing_error, request_too_large, api_error, timeout_error,
// overloaded_error: passed through from an Anthropic upstream, or the
// gateway's own timeout_error) keeps its type.
func (e *Error) AnthropicType() string {
	switch e.Status {
	case 400:
		return AnthropicInvalidRequest
	case 401:
		return AnthropicAuthentication
	case 402:
		return AnthropicBilling
	case 403:
		return AnthropicPermission
	case 404:
		return AnthropicNotFound
	case 413:
		return AnthropicRequestTooLarge
	case 429:
		return AnthropicRateLimit
	case 500:
		return AnthropicAPI
	case 504:
		return AnthropicTimeout
	case 529:
		return AnthropicOverloaded
	}
	switch {
	case e.Status == 408:
		return AnthropicTimeout
	case e.Status == 503:
		return AnthropicOverloaded
	}
	switch e.Type { // the types only Anthropic uses
	case AnthropicBilling, AnthropicRequestTooLarge, AnthropicAPI, AnthropicTimeout, AnthropicOverloaded:
		return e.Type
	}
	if e.Status >= 500 {
		return AnthropicAPI
	}
	return AnthropicInvalidRequest
}

type anthropicEnvelope struct {
	Type  string             `json:"type"`
	Error anthropicErrorBody `json:"error"`
}

type anthropicErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// AnthropicJSON renders the error in Anthropic's shape, for the
// /v1/messages endpoints:
//
//	{"type": "error", "error": {"type": "invalid_request_error", "message": "..."}}
//
// The type is AnthropicType's; the message is Message (the gateway has
// already appended the request id to it where it does for the OpenAI
// envelope). Internal is never rendered, nor are Param and Limit.
func (e *Error) AnthropicJSON() []byte {
	out, _ := json.Marshal(anthropicEnvelope{Type: "error",
		Error: anthropicErrorBody{Type: e.AnthropicType(), Message: e.Message}})
	return out
}

// AnthropicErrorEvent is the data of the `error` event that ends an
// Anthropic stream that failed after its 200 (the event name is the
// payload's "type", "error", as for every Anthropic stream event). It is
// the same object as AnthropicJSON.
func (e *Error) AnthropicErrorEvent() []byte { return e.AnthropicJSON() }
