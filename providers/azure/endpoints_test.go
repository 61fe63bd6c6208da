package azure_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/azure"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

func TestURL(t *testing.T) {
	t.Parallel()
	const b = "https://r.openai.azure.com"
	for _, tc := range []struct {
		version string
		ep      registry.Endpoint
		id      string
		want    string
	}{
		{"2024-10-21", registry.EndpointChat, "", b + "/openai/deployments/dep/chat/completions?api-version=2024-10-21"},
		{"2024-10-21", registry.EndpointCompletions, "", b + "/openai/deployments/dep/completions?api-version=2024-10-21"},
		{"2024-10-21", registry.EndpointEmbeddings, "", b + "/openai/deployments/dep/embeddings?api-version=2024-10-21"},
		{"2024-10-21", registry.EndpointImages, "", b + "/openai/deployments/dep/images/generations?api-version=2024-10-21"},
		{"2025-04-01-preview", registry.EndpointSpeech, "", b + "/openai/deployments/dep/audio/speech?api-version=2025-04-01-preview"},
		{"2024-10-21", registry.EndpointTranscriptions, "", b + "/openai/deployments/dep/audio/transcriptions?api-version=2024-10-21"},
		// Responses: the dated path from 2025-03-01-preview on, else the v1 API.
		{"2025-03-01-preview", registry.EndpointResponses, "", b + "/openai/responses?api-version=2025-03-01-preview"},
		{"2025-04-01-preview", registry.EndpointResponses, "resp_1", b + "/openai/responses/resp_1?api-version=2025-04-01-preview"},
		{"2024-10-21", registry.EndpointResponses, "", b + "/openai/v1/responses"},
		{"2025-02-01-preview", registry.EndpointResponses, "resp_1", b + "/openai/v1/responses/resp_1"},
		{"garbage", registry.EndpointResponses, "", b + "/openai/v1/responses"},
		// The v1 API for every endpoint.
		{"v1", registry.EndpointResponses, "", b + "/openai/v1/responses"},
		{"v1", registry.EndpointEmbeddings, "", b + "/openai/v1/embeddings"},
		{"preview", registry.EndpointResponses, "r/x", b + "/openai/v1/responses/r%2Fx?api-version=preview"},
		{"latest", registry.EndpointChat, "", b + "/openai/v1/chat/completions?api-version=latest"},
	} {
		if got := azure.URL(b, "dep", tc.version, tc.ep, tc.id); got != tc.want {
			t.Errorf("URL(%s, %s, %q) = %s, want %s", tc.version, tc.ep, tc.id, got, tc.want)
		}
	}
	if got := azure.URL(b, "a b", "2024-10-21", registry.EndpointChat, ""); got != b+"/openai/deployments/a%20b/chat/completions?api-version=2024-10-21" {
		t.Errorf("escaped deployment: %s", got)
	}
}

// TestEndpoints: every endpoint of the registry entry reaches the fake
// upstream at its path, with the api-key header and no Authorization.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{}`) })
	spec, _ := registry.Lookup("azure")
	p := azure.New(providers.NewClient()).(providers.Forwarder)
	d := &configs.Deployment{ModelName: "gpt", Provider: "azure", UpstreamModel: "dep", APIKey: "az-key",
		LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: up.URL, APIVersion: "2025-04-01-preview"}}
	for _, ep := range spec.Endpoints {
		call := &providers.Call{Deployment: d, Endpoint: ep, Body: []byte(`{"model":"dep"}`), Deadline: time.Now().Add(5 * time.Second)}
		if ep == registry.EndpointTranscriptions {
			call.ContentType = "multipart/form-data; boundary=x"
			call.Body = []byte("--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n--x--\r\n")
		}
		if _, err := p.Forward(call); err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		got := up.Last(t)
		want := strings.TrimPrefix(azure.URL(up.URL, "dep", "2025-04-01-preview", ep, ""), up.URL)
		if got.Method != "POST" || got.URI != want {
			t.Errorf("%s: %s %s, want %s", ep, got.Method, got.URI, want)
		}
		if got.Header["api-key"] != "az-key" || got.Header["authorization"] != "" {
			t.Errorf("%s: headers %v", ep, got.Header)
		}
	}
	for _, method := range []string{"GET", "DELETE"} {
		if _, err := p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointResponses, Method: method,
			ObjectID: "resp_9", Deadline: time.Now().Add(5 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		got := up.Last(t)
		if got.Method != method || got.URI != "/openai/responses/resp_9?api-version=2025-04-01-preview" {
			t.Errorf("%s: %s %s", method, got.Method, got.URI)
		}
	}
	_, err := p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointModerations, Body: []byte(`{}`)})
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 400 || !strings.Contains(we.Message, "moderations") {
		t.Fatalf("moderations: %v", err)
	}
}

// TestEnvironmentKey: AZURE_API_KEY (set in export_test.go) is the key of
// the operator's deployments without one, never of a team's (which is
// refused with a 401 naming the params to set).
func TestEnvironmentKey(t *testing.T) {
	t.Parallel()
	h := azure.New(providers.NewClient()).(*providers.HTTP)
	for _, tc := range []struct {
		name, key, setBy, want string
	}{
		{"operator", "", "", azure.TestEnvKey},
		{"operator, master-set", "", configs.KeySetByMaster, azure.TestEnvKey},
		{"own key", "k1", "", "k1"},
		{"team", "", configs.KeySetByTeam, ""},
	} {
		d := &configs.Deployment{ModelName: "gpt", Provider: "azure", UpstreamModel: "dep", APIKey: tc.key,
			LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: "https://r.openai.azure.com"}}
		if tc.setBy != "" {
			d.ModelInfo.Extra = map[string]any{configs.KeySetByField: tc.setBy}
		}
		req := fasthttp.AcquireRequest()
		err := h.Prepare(&providers.Call{Deployment: d}, req)
		if tc.want == "" {
			we, ok := errors.AsType[*wire.Error](err)
			if !ok || we.Status != 401 || !strings.Contains(we.Message, "tenant_id + client_id + client_secret") {
				t.Errorf("%s: %v, want a 401 naming the params", tc.name, err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if got := string(req.Header.Peek("api-key")); got != tc.want {
			t.Errorf("%s: api-key = %q, want %q", tc.name, got, tc.want)
		}
		if h.Key(d) != tc.want {
			t.Errorf("%s: Key = %q", tc.name, h.Key(d))
		}
		fasthttp.ReleaseRequest(req)
	}
}
