package pricing

import (
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

// TestBedrockDeploymentsPriced: bedrock deployments find their price by
// model id, cross-region profile id and LiteLLM's converse/ route.
func TestBedrockDeploymentsPriced(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]float64{
		"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0":             3e-06,
		"bedrock/converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0": 3e-06,
		"bedrock/eu.anthropic.claude-sonnet-4-20250514-v1:0":            3e-06,
		"bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0":          3.3e-06,
		"bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0":      3e-06,
		"bedrock/anthropic.claude-3-haiku-20240307-v1:0":                2.5e-07,
		"bedrock/us.anthropic.claude-opus-4-1-20250805-v1:0":            1.5e-05,
		"bedrock/meta.llama3-3-70b-instruct-v1:0":                       7.2e-07,
		"bedrock/mistral.mistral-large-2407-v1:0":                       3e-06,
		"bedrock/us.amazon.nova-pro-v1:0":                               8e-07,
		"bedrock/amazon.titan-embed-text-v2:0":                          2e-08,
		"bedrock/cohere.embed-multilingual-v3":                          1e-07,
	} {
		d := &configs.Deployment{}
		d.LiteLLMParams.Model = model
		d.Provider, d.UpstreamModel = registry.ParseModel(model, "")
		q := ForDeployment(d)
		if !q.Priced || q.Input != want {
			t.Errorf("%s: %+v, want input %g", model, q, want)
		}
	}
	d := &configs.Deployment{}
	d.Provider, d.UpstreamModel = registry.ParseModel("bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", "")
	q := ForDeployment(d)
	if q.CacheRead == nil || *q.CacheRead != 8e-08 || q.CacheWrite == nil || *q.CacheWrite != 1e-06 {
		t.Fatalf("cache prices %+v", q)
	}
}
