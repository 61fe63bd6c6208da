// Package wire holds the OpenAI wire contract shared by the server, the
// actors and the providers: the error envelope and its status codes, and
// zero-copy readers of answers and stream events (usage, model spans). It
// is a leaf: it imports only providers/registry (for its Endpoint names),
// itself a leaf.
package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Error is an API error rendered in the OpenAI error envelope:
//
//	{"error": {"message": "...", "type": "...", "param": null, "code": "<status>"}}
type Error struct {
	Status  int    // HTTP status
	Type    string // OpenAI error type, e.g. invalid_request_error
	Message string // says what was wrong and what to do
	Param   string // optional offending parameter
	// RetryAfter, when > 0, is sent as the retry-after header (seconds).
	RetryAfter int
	// Final marks an error another attempt would only repeat (an
	// upstream that answers a redirect or something that is not an
	// answer): the router does not retry it, whatever its status.
	Final bool
	// Limit names the governance limit that refused a call ("rpm", "tpm",
	// "parallel", "budget"), for metrics; never rendered.
	Limit string
	// Internal is what only the gateway's log may say about the error:
	// the upstream's address and the transport's own words. Never
	// rendered; the gateway logs it with the request id, which it adds to
	// Message. It never holds a secret either (providers scrub it).
	Internal string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

// Errorf builds an Error with a formatted message.
func Errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Common error types.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuth           = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeBudget         = "budget_exceeded"
	TypeUpstream       = "upstream_error"
	TypeTimeout        = "timeout_error"
	TypeInternal       = "internal_error"
)

// BadRequest is a 400 invalid_request_error.
func BadRequest(format string, args ...any) *Error {
	return Errorf(400, TypeInvalidRequest, format, args...)
}

type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// JSON renders the error envelope.
func (e *Error) JSON() []byte {
	b := envelopeBody{Message: e.Message, Type: e.Type, Code: strconv.Itoa(e.Status)}
	if e.Param != "" {
		p := e.Param
		b.Param = &p
	}
	out, _ := json.Marshal(envelope{Error: b})
	return out
}
