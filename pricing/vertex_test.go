package pricing

import (
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// Claude on Vertex AI is priced by LiteLLM's vertex_ai/ entries (the
// model ids carry an @version Anthropic's API does not), and Vertex's
// embedding models by theirs.
func TestVertexPrices(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]float64{
		"claude-sonnet-4@20250514":  3e-06,
		"claude-opus-4-1@20250805":  1.5e-05,
		"claude-3-5-haiku@20241022": 1e-06,
		"claude-haiku-4-5@20251001": 1e-06,
		"text-embedding-005":        1e-07,
		"gemini-embedding-001":      1.5e-07,
	} {
		d := &configs.Deployment{Provider: "vertex_ai", UpstreamModel: model,
			LiteLLMParams: configs.LiteLLMParams{Model: "vertex_ai/" + model}}
		q := ForDeployment(d)
		if !q.Priced || q.Input != want || q.Model != "vertex_ai/"+model {
			t.Errorf("%s: %+v", model, q)
		}
		if model[:6] == "claude" && (q.CacheRead == nil || q.CacheWrite == nil) {
			t.Errorf("%s: no cache prices", model)
		}
	}
}
