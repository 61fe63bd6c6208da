package configs

import "time"

// Routing strategies (router_settings.routing_strategy), as LiteLLM names
// them.
const (
	StrategySimpleShuffle = "simple-shuffle" // default: weighted random
	StrategyLeastBusy     = "least-busy"
	StrategyLatency       = "latency-based-routing"
	StrategyUsage         = "usage-based-routing-v2"
)

// Router defaults, as LiteLLM's.
const (
	DefaultNumRetries   = 2
	DefaultAllowedFails = 3
	DefaultCooldownTime = 5 * time.Second
)

// Router is the resolved routing configuration of a snapshot
// (Settings.Router), read from router_settings and, for the keys LiteLLM
// accepts there too, litellm_settings (router_settings wins).
type Router struct {
	// Strategy is one of the Strategy* constants (default simple-shuffle).
	Strategy string
	// NumRetries is how many times a failed call is retried (default 2);
	// a deployment's litellm_params.max_retries overrides it for calls
	// that start there.
	NumRetries int
	// RetryAfter is the least wait before retrying the same deployment.
	RetryAfter time.Duration
	// AllowedFails is how many failures within a minute cool a
	// deployment down (default 3).
	AllowedFails int
	// CooldownTime is how long a cooled-down deployment is skipped
	// (default 5 s; an upstream's retry-after wins when longer).
	CooldownTime time.Duration
	// RetryPolicy sets the retries per error class; nil fields use
	// NumRetries.
	RetryPolicy RetryPolicy
	// Fallbacks, ContextWindowFallbacks and ContentPolicyFallbacks map a
	// model name to the names tried, in order, when its group fails (any
	// error left after retries / a context-length error / a content-policy
	// error). DefaultFallbacks apply to every name without its own.
	Fallbacks              map[string][]string
	ContextWindowFallbacks map[string][]string
	ContentPolicyFallbacks map[string][]string
	DefaultFallbacks       []string
	// ModelGroupAlias maps a name to a group's name (a chain of aliases
	// is resolved to the model name at its end), resolved after the
	// team's own names. Fallback names are resolved through it already.
	ModelGroupAlias map[string]string
	// HiddenAliases are the aliases written {model: x, hidden: true}:
	// callable, but not listed by /models (LiteLLM's hidden aliases).
	HiddenAliases map[string]bool
	// StreamFirstByteTimeout, when > 0, retries or falls back a stream
	// whose first byte has not arrived in time.
	StreamFirstByteTimeout time.Duration
	// LatencyBuffer: latency-based routing picks at random among the
	// deployments within (1 + LatencyBuffer) of the fastest (LiteLLM's
	// routing_strategy_args.lowest_latency_buffer; default 0).
	LatencyBuffer float64
	// BackgroundHealthChecks probes every deployment each
	// HealthCheckInterval (default 300 s) and feeds the cooldowns.
	BackgroundHealthChecks bool
	HealthCheckInterval    time.Duration
}

// RetryPolicy is LiteLLM's retry_policy: retries per error class.
type RetryPolicy struct {
	Timeout, RateLimit, InternalServer, ContentPolicy, Authentication, BadRequest *int
}

// DefaultRouter is the routing configuration when nothing is set.
func DefaultRouter() Router {
	return Router{Strategy: StrategySimpleShuffle, NumRetries: DefaultNumRetries,
		AllowedFails: DefaultAllowedFails, CooldownTime: DefaultCooldownTime, HealthCheckInterval: 300 * time.Second}
}
