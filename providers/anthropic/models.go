package anthropic

import "strings"

// FallbackMaxTokens is the max_tokens sent for a model outside
// outputLimits when the client sent none (LiteLLM's default too).
const FallbackMaxTokens = 4096

// outputLimits are Anthropic models' maximum output tokens (max_tokens),
// from Anthropic's model overview and LiteLLM's max_output_tokens, by
// model id prefix: a dated id ("claude-sonnet-4-5-20250929") matches its
// alias. Longer prefixes come first.
var outputLimits = []struct {
	prefix string
	limit  int
}{
	{"claude-sonnet-5", 128000},
	{"claude-opus-4-8", 128000},
	{"claude-opus-4-7", 128000},
	{"claude-opus-4-6", 128000},
	{"claude-opus-4-5", 64000},
	{"claude-opus-4-1", 32000},
	{"claude-sonnet-4-6", 64000},
	{"claude-sonnet-4-5", 64000},
	{"claude-haiku-4-5", 64000},
	{"claude-opus-4", 32000},
	{"claude-sonnet-4", 64000},
	{"claude-4-opus", 32000},
	{"claude-4-sonnet", 64000},
	{"claude-3-7-sonnet", 64000},
	{"claude-3-5-sonnet", 8192},
	{"claude-3-5-haiku", 8192},
	{"claude-3-opus", 4096},
	{"claude-3-sonnet", 4096},
	{"claude-3-haiku", 4096},
}

// MaxOutputTokens is the max_tokens the gateway sends for model when the
// client sent none: the model's output limit when the table knows the
// model, else FallbackMaxTokens.
func MaxOutputTokens(model string) int {
	for _, m := range outputLimits {
		if strings.HasPrefix(model, m.prefix) {
			return m.limit
		}
	}
	return FallbackMaxTokens
}
