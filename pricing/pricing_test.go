package pricing

import (
	"math"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

func f64(v float64) *float64 { return &v }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-15 }

func TestTableHasCommonModels(t *testing.T) {
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3-mini",
		"gpt-3.5-turbo", "gpt-4-turbo", "claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022",
		"claude-3-opus-20240229", "claude-sonnet-4-20250514", "azure/gpt-4o", "azure/gpt-35-turbo"} {
		p, ok := Lookup(m)
		if !ok || p.Input <= 0 || p.Output <= 0 {
			t.Errorf("%s: %+v %v", m, p, ok)
		}
	}
	if p, _ := Lookup("openai/gpt-4o-mini"); !near(p.Input, 1.5e-7) || !near(p.Output, 6e-7) {
		t.Errorf("openai/gpt-4o-mini without its prefix: %+v", p)
	}
}

func TestForDeployment(t *testing.T) {
	cases := []struct {
		name   string
		d      configs.Deployment
		in     float64
		out    float64
		priced bool
	}{
		{"upstream model without prefix", configs.Deployment{Provider: "openai", UpstreamModel: "gpt-4o-mini"}, 1.5e-7, 6e-7, true},
		{"azure-qualified first", configs.Deployment{Provider: "azure", UpstreamModel: "gpt-4o-mini"}, 1.65e-7, 6.6e-7, true},
		{"base_model for an azure deployment name", configs.Deployment{Provider: "azure", UpstreamModel: "my-finetune",
			ModelInfo: configs.ModelInfo{BaseModel: "azure/gpt-4o"}}, 2.5e-6, 1e-5, true},
		{"base_model without prefix", configs.Deployment{Provider: "openai", UpstreamModel: "ft:xyz",
			ModelInfo: configs.ModelInfo{BaseModel: "gpt-4.1"}}, 2e-6, 8e-6, true},
		{"override wins", configs.Deployment{Provider: "openai", UpstreamModel: "gpt-4o",
			LiteLLMParams: configs.LiteLLMParams{InputCostPerToken: f64(1e-3), OutputCostPerToken: f64(2e-3)}}, 1e-3, 2e-3, true},
		{"one override, other 0", configs.Deployment{Provider: "openai", UpstreamModel: "gpt-4o",
			LiteLLMParams: configs.LiteLLMParams{OutputCostPerToken: f64(2e-3)}}, 0, 2e-3, true},
		{"the built-in mock is free", configs.Deployment{Provider: "mock", UpstreamModel: "demo-model"}, 0, 0, true},
		{"unpriced", configs.Deployment{Provider: "openai", UpstreamModel: "my-llama", LiteLLMParams: configs.LiteLLMParams{Model: "openai/my-llama"}}, 0, 0, false},
	}
	for _, c := range cases {
		q := ForDeployment(&c.d)
		if q.Priced != c.priced || !near(q.Input, c.in) || !near(q.Output, c.out) {
			t.Errorf("%s: %+v", c.name, q)
		}
	}
	q := ForDeployment(&configs.Deployment{Provider: "openai", UpstreamModel: "gpt-4o"})
	if got := q.Cost(1000, 100); !near(got, 1000*2.5e-6+100*1e-5) {
		t.Errorf("cost %v", got)
	}
}

func TestTokenizerOffline(t *testing.T) {
	if n := CountText("gpt-4o", "Hello, world!"); n != 4 {
		t.Errorf("o200k tokens of 'Hello, world!' = %d, want 4", n)
	}
	if n := CountText("gpt-3.5-turbo", "Hello, world!"); n != 4 {
		t.Errorf("cl100k tokens of 'Hello, world!' = %d, want 4", n)
	}
	body := []byte(`{"messages":[{"role":"user","content":"Hello, world!"}]}`)
	if n := CountPrompt("gpt-4o", body); n < 8 || n > 12 {
		t.Errorf("prompt tokens %d, want about 10", n)
	}
}

func TestCountCompletion(t *testing.T) {
	for body, want := range map[string]bool{
		`{"choices":[{"message":{"content":"Hello there, how are you?"}}]}`:                                           true,
		`{"choices":[{"message":{"content":[{"type":"text","text":"Hello there"}]}}]}`:                                true,
		`{"choices":[{"message":{"content":null,"tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}`: true,
		`{"choices":[{"message":{"content":null,"refusal":"I cannot help with that."}}]}`:                             true,
		`{"choices":[]}`: false,
		`{"id":"x"}`:     false,
	} {
		if got := CountCompletion("gpt-4o", []byte(body)); (got > 0) != want {
			t.Errorf("%s: %d tokens", body, got)
		}
	}
}

func TestCostOfPricesCacheTokens(t *testing.T) {
	t.Parallel()
	read, write := 0.1e-6, 1.25e-6
	p := Price{Input: 1e-6, Output: 2e-6, CacheRead: &read, CacheWrite: &write}
	got := p.CostOf(Tokens{Prompt: 1000, Completion: 10, CacheRead: 600, CacheWrite: 100})
	want := 300*1e-6 + 600*read + 100*write + 10*2e-6
	if diff := got - want; diff > 1e-12 || diff < -1e-12 {
		t.Fatalf("CostOf = %v, want %v", got, want)
	}
	// Without cache prices, cached tokens cost the input price.
	if got := (Price{Input: 1e-6}).CostOf(Tokens{Prompt: 10, CacheRead: 5}); math.Abs(got-10*1e-6) > 1e-15 {
		t.Fatalf("no cache prices: %v", got)
	}
	// Cache counts larger than the prompt: the prompt is trusted.
	if got := p.CostOf(Tokens{Prompt: 10, CacheRead: 50}); math.Abs(got-10*1e-6) > 1e-15 {
		t.Fatalf("inconsistent counts: %v", got)
	}
}

// TestAnthropicCachePrices: every Anthropic model in the table has
// LiteLLM's cache prices (except claude-3-sonnet, which had no cache),
// and an anthropic/ deployment is priced with them.
func TestAnthropicCachePrices(t *testing.T) {
	for name, p := range table {
		if len(name) > 7 && name[:7] == "claude-" && name != "claude-3-sonnet-20240229" && (p.CacheRead == nil || p.CacheWrite == nil) {
			t.Errorf("%s has no cache prices", name)
		}
	}
	q := ForDeployment(&configs.Deployment{Provider: "anthropic", UpstreamModel: "claude-sonnet-4-5-20250929"})
	// 1000 prompt tokens of which 600 read from and 200 written to the cache, 100 output.
	got := q.CostOf(Tokens{Prompt: 1000, Completion: 100, CacheRead: 600, CacheWrite: 200})
	if want := 200*3e-6 + 600*3e-7 + 200*3.75e-6 + 100*1.5e-5; !q.Priced || !near(got, want) {
		t.Errorf("cost %v, want %v (%+v)", got, want, q)
	}
}
