// Package providers defines the contract every upstream kind implements
// (openai, azure, mock, ...) and the HTTP machinery they share.
// Subpackages hold one provider each.
//
// # The contract
//
// A Provider answers a Call, which carries the resolved deployment (its
// APIKey already a plaintext secret), the request body with "model" already
// replaced by the upstream model, and a deadline:
//
//   - Complete sends the call and returns the upstream's 2xx answer; the
//     Response body is a copy the caller owns.
//   - OpenStream sends the call and returns a Stream once the upstream has
//     answered 2xx with its headers. Stream.Next returns each `data:` payload
//     as soon as its event is complete, and io.EOF after "data: [DONE]" or a
//     clean end. The deadline bounds the whole stream. The caller must call
//     Close (safe twice, and safe while another goroutine waits in Next,
//     which then fails); Close aborts an unfinished upstream response.
//
// Every error is a *wire.Error ready for the client: a non-2xx upstream
// answer keeps the upstream's status, type and message; an unreachable
// upstream is 502; a timeout is 504 and names the deployment and the setting
// to raise; a unary call whose Abort fired (the client hung up) is 499. No
// message ever contains the deployment's API key in any form Scrub knows
// (it is replaced by MaskKey's form), nor the upstream's address: messages
// name the model and say what happened in general terms, and the address
// and the transport's own words go to the error's Internal field, which the
// gateway logs with the request id. Stream events that carry an "error"
// are scrubbed the same way; an event whose data is not a JSON object ends
// the stream with a 502.
//
// # Shared HTTP machinery
//
// NewClient builds the one Client all HTTP providers share; Client.For
// picks the connection pool of a deployment: team deployments dial through
// the egress policy (package egress), global ones without it. Every HTTP
// request a provider makes for a deployment (token endpoints included)
// must go through Client.For(deployment).
// HTTP is a Provider for every upstream that takes the OpenAI body as is:
// a provider only supplies a Prepare that sets the URL and auth headers
// (see the openai and azure subpackages), and a Key when the key it sends
// is not always the deployment's APIKey (an environment default for the
// operator's deployments): errors are scrubbed of the key actually sent. NewSSEStream is the incremental
// server-sent-events parser behind HTTP.OpenStream, for providers that
// need their own request handling.
//
// Providers hold no per-call state and are safe for concurrent use.
package providers
