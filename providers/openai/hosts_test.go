package openai_test

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/providers/registry"
)

// OpenAI-compatible hosts by name: the registry entry's api_base and key
// variable; the variable only for the operator's deployment of the host
// itself; a host without a default api_base needs one.
func TestCompatibleHosts(t *testing.T) {
	t.Parallel()
	spec := func(name string) registry.Spec {
		s, ok := registry.Lookup(name)
		if !ok || s.Family != "openai" {
			t.Fatalf("%s is not an OpenAI-compatible registry entry", name)
		}
		return s
	}
	c := providers.NewClient()
	groq := openai.NewFor(c, spec("groq"))
	call := func(d *configs.Deployment) (string, string, error) {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		err := openai.Prepare(groq, &providers.Call{Deployment: d}, req)
		return string(req.URI().FullURI()), string(req.Header.Peek("Authorization")), err
	}
	operator := &configs.Deployment{ModelName: "g", Provider: "groq", UpstreamModel: "llama"}
	if uri, auth, err := call(operator); err != nil || uri != "https://api.groq.com/openai/v1/chat/completions" || auth != "Bearer "+openai.TestGroqKey {
		t.Fatalf("operator's groq deployment: %s %q %v", uri, auth, err)
	}
	other := *operator
	other.LiteLLMParams.APIBase = "https://proxy.example.com/v1"
	if uri, auth, _ := call(&other); !strings.HasPrefix(uri, "https://proxy.example.com/v1/") || auth != "" {
		t.Fatalf("another api_base got the host's key: %s %q", uri, auth)
	}
	team := *operator
	team.ModelInfo = configs.ModelInfo{ID: "t1", TeamID: "team-a", Extra: map[string]any{"api_key_set_by": "team"}}
	if _, auth, _ := call(&team); auth != "" {
		t.Fatalf("a team deployment read the gateway's environment: %q", auth)
	}
	vllm := openai.NewFor(c, spec("hosted_vllm"))
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	err := openai.Prepare(vllm, &providers.Call{Deployment: &configs.Deployment{ModelName: "v", Provider: "hosted_vllm"}}, req)
	if err == nil || !strings.Contains(err.Error(), "api_base") {
		t.Fatalf("hosted_vllm without api_base: %v", err)
	}
}
