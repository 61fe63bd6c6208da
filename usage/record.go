package usage

import (
	"encoding/json"
	"time"
)

// MaxMetadata bounds the request metadata a Record keeps (bytes of JSON);
// larger metadata is dropped, with "truncated": true in its place.
const MaxMetadata = 4 << 10

// MaxTags bounds the tags a Record keeps.
const MaxTags = 32

// Record is one call: what was asked, by whom, where it went, what it
// cost. Never a prompt, a completion or a secret.
type Record struct {
	RequestID string
	Start     time.Time
	End       time.Time // the last byte (a stream's end)

	TeamID   string
	KeyID    string // the key's spend id (configs.Key.SpendID)
	KeyAlias string
	// KeyUserID is the key's user_id.
	KeyUserID string
	// User is the body's "user", else metadata.user_id (Anthropic).
	User string
	// EndUser is LiteLLM's end_user: the x-litellm-end-user-id header or
	// the body's "user" (LiteLLM's customer id).
	EndUser string

	Route        string // the endpoint: "chat/completions", "embeddings", "messages", ...
	Model        string // the name the client asked for
	ModelGroup   string // the group that served it (after aliases and fallbacks)
	DeploymentID string // model_info.id of the deployment that answered
	Provider     string

	Status    int    // the HTTP status the client got (200 for a stream that ended well)
	ErrorType string // the error envelope's type, "" on success

	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	Cost             float64 // USD

	Latency time.Duration // to the response headers (a stream's first byte)
	TTFT    time.Duration // a stream's first token; 0 for unary calls
	Stream  bool

	Retries   int
	Fallbacks int

	// Tags are the team's, the key's and the request's metadata.tags,
	// deduplicated, at most MaxTags.
	Tags []string
	// Metadata is the request's metadata object (bounded: MaxMetadata).
	Metadata json.RawMessage
}

// Success reports whether the call succeeded.
func (r *Record) Success() bool { return r.Status >= 200 && r.Status < 300 }

// TotalTokens is prompt plus completion tokens.
func (r *Record) TotalTokens() int64 { return r.PromptTokens + r.CompletionTokens }
