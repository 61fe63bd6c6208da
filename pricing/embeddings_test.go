package pricing

import (
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// TestEmbeddingAndCompletionPrices: OpenAI's and Azure's embedding models
// and gpt-3.5-turbo-instruct are priced (LiteLLM's figures).
func TestEmbeddingAndCompletionPrices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, model, baseModel string
		input, output              float64
	}{
		{"openai", "text-embedding-3-small", "", 2e-08, 0},
		{"openai", "text-embedding-3-large", "", 1.3e-07, 0},
		{"openai", "text-embedding-ada-002", "", 1e-07, 0},
		{"azure", "my-embeddings", "text-embedding-3-small", 2e-08, 0},
		{"azure", "text-embedding-3-large", "", 1.3e-07, 0},
		{"azure", "ada", "text-embedding-ada-002", 1e-07, 0},
		{"openai", "gpt-3.5-turbo-instruct", "", 1.5e-06, 2e-06},
		{"azure", "instruct", "gpt-35-turbo-instruct", 1.5e-06, 2e-06},
	} {
		d := &configs.Deployment{Provider: tc.provider, UpstreamModel: tc.model, ModelInfo: configs.ModelInfo{BaseModel: tc.baseModel}}
		q := ForDeployment(d)
		if !q.Priced || q.Input != tc.input || q.Output != tc.output {
			t.Errorf("%s/%s (%s): %+v", tc.provider, tc.model, tc.baseModel, q)
		}
	}
}
