package configs

import (
	"slices"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/providers/registry"
)

// A provider-specific litellm_params field set on a provider that does not
// read it is a warning at its line; on one that reads it, nothing.
func TestProviderParamsNotReadWarn(t *testing.T) {
	t.Parallel()
	values := map[string]string{"api_version": "2024-10-21", "organization": "org-1", "mock_response": "hi", "stream_include_usage": "false"}
	for _, param := range registry.ProviderParams {
		if values[param] == "" {
			values[param] = "v1"
			if slices.Contains(EndpointParams, param) {
				values[param] = "https://cloud.example.com"
			}
		}
		for _, spec := range registry.Table {
			model := "model_list:\n  - model_name: m\n    litellm_params:\n      model: " + spec.Name + "/x\n      api_base: https://example.com\n      api_key: k\n      " +
				param + ": " + values[param] + "\n"
			in := Input{Models: []File{{Path: "m.yaml", Data: []byte(model)}}}
			_, ps := Build(in, envMap(nil))
			warned := false
			for _, p := range ps {
				if strings.Contains(p.Message, "litellm_params."+param+" is not read by provider "+spec.Name) {
					warned = p.Warning && p.Line == 7
				}
			}
			if warned == spec.Reads(param) {
				t.Errorf("%s on %s: warned %v, but the provider reads it: %v (%v)", param, spec.Name, warned, spec.Reads(param), ps)
			}
		}
	}
}
