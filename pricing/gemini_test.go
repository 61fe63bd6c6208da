package pricing

import (
	"math"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// TestGeminiPrices: gemini/ deployments get the Google AI Studio figures
// (LiteLLM's "gemini/" entries), vertex_ai/ deployments the Vertex AI ones
// (its un-prefixed "vertex_ai-language-models" entries, or "vertex_ai/"
// ones), cached prompt tokens at the cache read price.
func TestGeminiPrices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, model, baseModel string
		input, output, cacheRead   float64
		found                      string
	}{
		{"gemini", "gemini-2.5-pro", "", 1.25e-06, 1e-05, 1.25e-07, "gemini/gemini-2.5-pro"},
		{"gemini", "gemini-2.5-flash", "", 3e-07, 2.5e-06, 3e-08, "gemini/gemini-2.5-flash"},
		{"gemini", "gemini-2.5-flash-lite", "", 1e-07, 4e-07, 1e-08, "gemini/gemini-2.5-flash-lite"},
		{"gemini", "gemini-2.0-flash-001", "", 1e-07, 4e-07, 2.5e-08, "gemini/gemini-2.0-flash-001"},
		{"gemini", "my-flash", "gemini-2.5-flash", 3e-07, 2.5e-06, 3e-08, "gemini/gemini-2.5-flash"},
		{"gemini", "gemini-embedding-001", "", 1.5e-07, 0, 1.5e-07, "gemini/gemini-embedding-001"},
		{"vertex_ai", "gemini-2.5-pro", "", 1.25e-06, 1e-05, 1.25e-07, "vertex_ai/gemini-2.5-pro"},
		{"vertex_ai", "gemini-2.0-flash-001", "", 1.5e-07, 6e-07, 3.75e-08, "vertex_ai/gemini-2.0-flash-001"},
		{"vertex_ai", "gemini-3-flash-preview", "", 5e-07, 3e-06, 5e-08, "vertex_ai/gemini-3-flash-preview"},
		{"vertex_ai", "gemini-embedding-001", "", 1.5e-07, 0, 1.5e-07, "vertex_ai/gemini-embedding-001"},
	} {
		d := &configs.Deployment{Provider: tc.provider, UpstreamModel: tc.model, ModelInfo: configs.ModelInfo{BaseModel: tc.baseModel}}
		q := ForDeployment(d)
		cr := q.Input
		if q.CacheRead != nil {
			cr = *q.CacheRead
		}
		if !q.Priced || q.Input != tc.input || q.Output != tc.output || cr != tc.cacheRead || q.Model != tc.found {
			t.Errorf("%s/%s (%s): %+v cache read %g", tc.provider, tc.model, tc.baseModel, q, cr)
		}
	}
	// 1000 prompt tokens of which 800 cached, 100 out, on gemini-2.5-flash.
	p, _ := Lookup("gemini/gemini-2.5-flash")
	got := p.CostOf(Tokens{Prompt: 1000, CacheRead: 800, Completion: 100})
	want := 200*3e-07 + 800*3e-08 + 100*2.5e-06
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("cost %g, want %g", got, want)
	}
}
