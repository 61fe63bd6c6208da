package providers

import (
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

// Call is one upstream call.
type Call struct {
	// Deployment is the resolved deployment (APIKey already resolved).
	Deployment *configs.Deployment
	// Endpoint is the API called; "" means registry.EndpointChat.
	// Provider.Complete and OpenStream are only ever called for chat;
	// Forwarder methods for the other endpoints the provider's registry
	// entry lists.
	Endpoint registry.Endpoint
	// Method is "" for a POST, or GET / DELETE for a call on a stored
	// object (GET /v1/responses/{id}); ObjectID is then the upstream's id.
	Method   string
	ObjectID string
	// Body is the request body to send: the client's body with "model"
	// already replaced by the upstream model. Providers must not modify it.
	Body []byte
	// ContentType is Body's content type when it is not JSON (a multipart
	// audio upload); "" means application/json.
	ContentType string
	// Header holds client headers the gateway passes through to the
	// upstream (anthropic-beta), lower-case names; nil: none.
	Header []Header
	// Deadline bounds the whole call (for streams: the whole stream).
	Deadline time.Time
	// Abort, when set, lets the caller cancel a unary call in flight (the
	// client hung up); nil: the call runs to its answer or deadline.
	// Streams ignore it: their Close aborts them.
	Abort *Abort
}

// Header is one HTTP header.
type Header struct{ Name, Value string }

// EndpointOrChat returns the call's endpoint (chat when unset).
func (c *Call) EndpointOrChat() registry.Endpoint {
	if c.Endpoint == "" {
		return registry.EndpointChat
	}
	return c.Endpoint
}

// Response is a unary upstream answer with a 2xx status.
type Response struct {
	Status      int
	ContentType string
	Body        []byte // owned by the caller
}

// Stream is an open server-sent-events stream from the upstream.
type Stream interface {
	// Next returns the payload of the next `data:` event, without the
	// "data: " prefix. After the upstream's "data: [DONE]" (or a clean end
	// of the body) it returns io.EOF. Any other error means the upstream
	// failed mid-stream. The returned slice is valid until the next call.
	Next() ([]byte, error)
	// Ready reports whether Next would return without waiting for the
	// upstream: the next event (or the end) is already received. The
	// gateway sends events that arrived together in one write.
	Ready() bool
	// Close releases the upstream connection, aborting an unfinished
	// upstream response. Safe to call more than once.
	Close()
}

// Provider is one upstream kind.
//
// Errors are *wire.Error values: a non-2xx upstream answer keeps the
// upstream's status and message (with the deployment's api key scrubbed
// from it); an unreachable upstream is 502; a timeout is 504.
//
// Complete and OpenStream serve chat completions in OpenAI's shape: the
// Call's body is an OpenAI chat request, the answer an OpenAI
// chat.completion or chat.completion.chunk events. A provider whose API is
// another translates in its own package.
type Provider interface {
	Complete(call *Call) (*Response, error)
	OpenStream(call *Call) (Stream, error)
}

// Forwarder is the optional capability of a provider that serves more than
// chat natively: the endpoints after chat in its registry entry
// (embeddings, responses, Anthropic messages, ...). The call's body goes
// upstream in the endpoint's own shape (only "model" rewritten) and the
// answer comes back as the upstream gave it: a Response, or a Stream whose
// events are the upstream's own (each event's data; for APIs that name
// their events, the data's "type" field is the event name). Callers check
// the registry entry first; a provider is never called for an endpoint it
// does not list.
type Forwarder interface {
	Forward(call *Call) (*Response, error)
	ForwardStream(call *Call) (Stream, error)
}
