package providers

import (
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Call is one upstream chat completion call.
type Call struct {
	// Deployment is the resolved deployment (APIKey already resolved).
	Deployment *configs.Deployment
	// Body is the request body to send: the client's body with "model"
	// already replaced by the upstream model. Providers must not modify it.
	Body []byte
	// Deadline bounds the whole call (for streams: the whole stream).
	Deadline time.Time
	// Abort, when set, lets the caller cancel a unary call in flight (the
	// client hung up); nil: the call runs to its answer or deadline.
	// Streams ignore it: their Close aborts them.
	Abort *Abort
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
type Provider interface {
	Complete(call *Call) (*Response, error)
	OpenStream(call *Call) (Stream, error)
}
