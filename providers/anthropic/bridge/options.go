package bridge

import "strings"

// OptionsFor returns the Options for a chat deployment of upstream model
// model: maxOutput is its model_info.max_output_tokens (0: unknown, then
// the limit of a known OpenAI model family applies), and reasoning_effort
// is sent only to OpenAI's reasoning models (o-series, gpt-5), which are
// the ones that accept it.
func OptionsFor(model string, maxOutput int) Options {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	o := Options{MaxOutputTokens: maxOutput, NoReasoning: !reasoningModel(m)}
	if o.MaxOutputTokens <= 0 {
		for _, f := range outputLimits {
			if strings.HasPrefix(m, f.prefix) {
				o.MaxOutputTokens = f.limit
				break
			}
		}
	}
	return o
}

// reasoningModel reports whether an OpenAI model takes reasoning_effort.
func reasoningModel(m string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(m, p) && !strings.HasPrefix(m, "gpt-5-chat") {
			return true
		}
	}
	return false
}

// outputLimits are OpenAI model families' output token limits, most
// specific prefix first (OpenAI's model pages).
var outputLimits = []struct {
	prefix string
	limit  int
}{
	{"gpt-4o-mini", 16384},
	{"gpt-4o", 16384},
	{"gpt-4.1", 32768},
	{"gpt-4-turbo", 4096},
	{"gpt-4", 8192},
	{"gpt-3.5-turbo", 4096},
	{"gpt-5", 128000},
	{"o1-mini", 65536},
	{"o1", 100000},
	{"o3", 100000},
	{"o4-mini", 100000},
}
