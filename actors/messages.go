package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	provreg "github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// ApplySnapshot asks the registry to make a validated snapshot live. The
// registry answers *Applied once every team actor has its new configuration
// and the directory is swapped.
type ApplySnapshot struct {
	Snapshot *configs.Snapshot
}

// Applied answers ApplySnapshot.
type Applied struct {
	Spawned, Updated, Stopped int
}

// Chat asks a team actor to resolve a model name and admit a call to one
// of its deployments: a chat completion, or a call to another endpoint
// (Endpoint). Send it with Call, which runs the admitted call and returns
// its *ChatResult.
type Chat struct {
	// Model is the name the client asked for ("" with DeploymentID: a call
	// on an object a deployment created, such as GET /v1/responses/{id}).
	Model string
	// Endpoint is the API called ("": chat completions). The team actor
	// picks a deployment of the model that serves it, natively or through
	// a bridge (Anthropic messages over chat).
	Endpoint provreg.Endpoint
	// DeploymentID pins the call to one deployment of the team's (the one
	// that created a response the call continues or reads); the caller
	// must still be allowed its model.
	DeploymentID string
	// Method and ObjectID: providers.Call's, for GET / DELETE of a stored
	// object.
	Method, ObjectID string
	// ContentType is Body's when not JSON (multipart audio uploads); the
	// model at ModelAt is then a raw form value, not a JSON string.
	ContentType string
	// Header is what the client sent that goes upstream (anthropic-beta).
	Header []providers.Header
	// Fallbacks are the request's own fallbacks (its body's "fallbacks",
	// as LiteLLM accepts), tried before the team's and the router's.
	Fallbacks []string
	// Timeout is the request's own timeout in seconds (0: none); it may
	// only shorten the deployment's.
	Timeout float64
	// Body is the client's request body; it is not modified.
	Body []byte
	// ModelAt is where Body's "model" value is, when the caller parsed it
	// (the worker then rewrites it without scanning Body again).
	ModelAt wire.Span
	// Stream is true for "stream": true requests.
	Stream bool
	// Key is the caller's virtual key (nil for the master key).
	Key *configs.Key
	// Abort, when set, cancels a unary call whose client hung up
	// (providers.Call.Abort).
	Abort *providers.Abort

	// reply receives the team actor's one answer (*Lease or *ChatResult)
	// when the Chat was sent by Call; a Chat sent with RequestFuture is
	// answered with Respond.
	reply chan any
}

// answer gives the team actor's answer to the caller.
func (c *Chat) answer(ctx actor.Context, v any) {
	if c.reply != nil {
		c.reply <- v // buffered for exactly this one answer
		return
	}
	ctx.Respond(v)
}

// ChatResult answers Chat. Exactly one of Err, Body or Stream is set.
type ChatResult struct {
	Err *wire.Error
	// Body is the upstream's unary answer with "model" set to the name the
	// client asked for.
	Body []byte
	// Stream is the open upstream stream. The receiver copies it to the
	// client and must call Done exactly once when it ends.
	Stream providers.Stream
	// Deployment is the deployment that served the call.
	Deployment *configs.Deployment
	// Done reports the end of a streamed call to the team actor. Nil for
	// unary calls, whose worker reports by itself. It must be called
	// before the last byte goes to the client (before "data: [DONE]"), so
	// the client's next request already sees the usage and the freed slot.
	// It returns the usage as accounted: tokens counted by the gateway when
	// the upstream reported none.
	Done func(Usage) Usage

	// ContentType is Body's ("": application/json).
	ContentType string
	// Cost is the unary call's cost in USD (x-litellm-response-cost).
	Cost float64
	// Usage is the unary call's usage as the upstream reported it.
	Usage Usage
	// RemainingRequests and RemainingTokens are the smallest of the team's
	// and the key's remaining rpm / tpm allowance after this call was
	// admitted (tokens: after a unary call's own usage); -1 when no such
	// limit applies.
	RemainingRequests int64
	RemainingTokens   int64
	// SoftBudgetExceeded: the key's spend had reached its soft_budget
	// (SoftBudget, USD) when the call was admitted; the gateway answers
	// x-litellm-key-soft-budget.
	SoftBudgetExceeded bool
	SoftBudget         float64
	// Retries is how many times the call was retried
	// (x-litellm-attempted-retries), Fallbacks how many fallback models it
	// tried (x-litellm-attempted-fallbacks).
	Retries, Fallbacks int
	// StripUsage is set for a stream when the gateway, not the client,
	// asked the upstream for its final usage chunk: the receiver reads the
	// usage from it and does not forward it.
	StripUsage bool
}

// Usage is what one call consumed, reported to the team actor when the
// call ends (successfully or not).
type Usage struct {
	// PromptTokens counts every prompt token, cached ones included.
	PromptTokens     int64
	CompletionTokens int64
	// CacheReadTokens and CacheWriteTokens are the prompt tokens read from
	// and written to the upstream's prompt cache (priced at their own
	// prices).
	CacheReadTokens, CacheWriteTokens int64
	Failed                            bool
	// Reported is true when the figures come from the upstream's usage.
	// For a stream without it, Done counts the tokens of the prompt and of
	// Text with a tokenizer.
	Reported bool
	// Text is a stream's completion text so far (streams only; Done uses
	// it when Reported is false and drops it).
	Text []byte
	// Cost is set by a stream's Done: what the call was charged (USD).
	Cost float64
}

// finished is sent to a team actor when a call it admitted ends.
type finished struct {
	// worker, when set, is the pooled worker that ran the call and is
	// idle again.
	worker       *actor.PID
	at           time.Time // when the call ended (the team's clock)
	deploymentID string
	keyToken     string // "" for calls without a virtual key
	limitModel   string // the model of the key's per-model limits, if any
	usage        Usage
	cost         float64
}

// drain asks a team actor to answer once the messages before it are
// handled (Directory.Drain).
type drain struct{}

// retire tells a team actor that its team was removed: it refuses new
// calls and stops once the calls in flight have finished, so none of
// them loses its worker or its accounting.
type retire struct{}

// workerIdle tells a team actor that a pooled worker handed off a stream
// and can take another call.
type workerIdle struct {
	worker *actor.PID
}

// ListModels asks a team actor for the names its caller may use: the
// team's and the key's allowlists apply, so every name listed can be
// called. The answer is *ModelList.
type ListModels struct {
	Key *configs.Key // the calling key (nil: the master key)
}

// ModelList answers ListModels.
type ModelList struct {
	Models []ModelEntry
}

// ModelEntry is one callable name.
type ModelEntry struct {
	Name    string
	Owner   string // team id for team models and aliases, "gateway" for global ones
	Created int64  // unix seconds
}

// updateTeam replaces a team actor's configuration.
type updateTeam struct {
	cfg *teamConfig
}

// GetSpend asks a team actor for the team's spend in its current budget
// period and, for each key token listed, the key's (a token of no key of
// the team is left out). The answer is *SpendInfo. The master key's actor
// answers zeros.
type GetSpend struct {
	KeyTokens []string
}

// SpendInfo answers GetSpend.
type SpendInfo struct {
	TeamSpend     float64
	BudgetResetAt *time.Time // nil when the budget never resets
	Team          Live
	Keys          map[string]KeySpend
}

// Live is a team's or a key's use of its limits now: calls in flight, and
// the requests and tokens of the current 60 s window where an rpm or tpm
// limit is set (-1 where none is: those windows are kept only for a
// limit).
type Live struct {
	InFlight int64
	RPM, TPM int64
}

// KeySpend is one key's spend in its current budget period.
type KeySpend struct {
	Spend         float64
	BudgetResetAt *time.Time
	Live          Live
}
