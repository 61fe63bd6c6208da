package azure_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeentra"
	"github.com/llmgateway/gateway/internal/fakeopenai"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/azure"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

func TestAIURL(t *testing.T) {
	t.Parallel()
	const f = "https://res.services.ai.azure.com"
	const s = "https://Phi-4-xyz.eastus2.models.ai.azure.com"
	for _, tc := range []struct {
		base, version string
		ep            registry.Endpoint
		want          string
	}{
		{f, "", registry.EndpointChat, f + "/models/chat/completions?api-version=2024-05-01-preview"},
		{f + "/", "", registry.EndpointChat, f + "/models/chat/completions?api-version=2024-05-01-preview"},
		{f + "/models", "", registry.EndpointChat, f + "/models/chat/completions?api-version=2024-05-01-preview"},
		{f + "/models", "2025-04-01", registry.EndpointEmbeddings, f + "/models/embeddings?api-version=2025-04-01"},
		{f + "/models/chat/completions?api-version=2024-08-01-preview", "2025-04-01", registry.EndpointChat,
			f + "/models/chat/completions?api-version=2024-08-01-preview"},
		// Serverless endpoints: OpenAI's paths, no api-version unless given.
		{s, "", registry.EndpointChat, s + "/chat/completions"},
		{s + "/v1", "", registry.EndpointEmbeddings, s + "/v1/embeddings"},
		{s, "2024-05-01-preview", registry.EndpointChat, s + "/chat/completions?api-version=2024-05-01-preview"},
		// Any host with a /models base is the model inference API.
		{"http://127.0.0.1:8080/models", "", registry.EndpointChat, "http://127.0.0.1:8080/models/chat/completions?api-version=2024-05-01-preview"},
	} {
		got, err := azure.AIURL(tc.base, tc.version, tc.ep)
		if err != nil || got != tc.want {
			t.Errorf("AIURL(%s, %q, %s) = %s %v, want %s", tc.base, tc.version, tc.ep, got, err, tc.want)
		}
	}
}

// TestAIKeyHeader: an api key goes in api-key for Foundry and Azure
// OpenAI hosts, in Authorization: Bearer elsewhere (as LiteLLM sends it).
func TestAIKeyHeader(t *testing.T) {
	t.Parallel()
	h := azure.NewAI(providers.NewClient()).(*providers.HTTP)
	for _, tc := range []struct{ base, header string }{
		{"https://res.services.ai.azure.com/models", "api-key"},
		{"https://res.openai.azure.com/models", "api-key"},
		{"https://Phi-4-xyz.eastus2.models.ai.azure.com", "Authorization"},
	} {
		d := &configs.Deployment{ModelName: "m", Provider: "azure_ai", UpstreamModel: "Phi-4", APIKey: "ai-key-0123456789",
			LiteLLMParams: configs.LiteLLMParams{Model: "azure_ai/Phi-4", APIBase: tc.base}}
		req := fasthttp.AcquireRequest()
		if err := h.Prepare(&providers.Call{Deployment: d}, req); err != nil {
			t.Fatal(err)
		}
		want := "ai-key-0123456789"
		if tc.header == "Authorization" {
			want = "Bearer " + want
			if len(req.Header.Peek("api-key")) != 0 {
				t.Errorf("%s: api-key sent too", tc.base)
			}
		} else if len(req.Header.Peek("Authorization")) != 0 {
			t.Errorf("%s: Authorization sent too", tc.base)
		}
		if got := string(req.Header.Peek(tc.header)); got != want {
			t.Errorf("%s: %s = %q", tc.base, tc.header, got)
		}
		fasthttp.ReleaseRequest(req)
	}
	// responses is not served.
	d := &configs.Deployment{ModelName: "m", UpstreamModel: "x", APIKey: "k", LiteLLMParams: configs.LiteLLMParams{APIBase: "https://x.services.ai.azure.com"}}
	err := h.Prepare(&providers.Call{Deployment: d, Endpoint: registry.EndpointResponses}, fasthttp.AcquireRequest())
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 400 {
		t.Errorf("responses: %v", err)
	}
}

// TestAIChatAndEmbeddingsWithEntra: azure_ai chat (unary and stream) and
// embeddings reach the model inference API with an Entra ID token.
func TestAIChatAndEmbeddingsWithEntra(t *testing.T) {
	t.Parallel()
	entra := fakeentra.Start(t, fakeentra.Options{})
	up := fakeopenai.Start(t, fakeopenai.Options{Bearer: entra.Valid})
	p := azure.NewAI(providers.NewClientWith(providers.ClientOptions{RootCAs: entra.Roots})).(providers.Forwarder)
	d := &configs.Deployment{ModelName: "phi", Provider: "azure_ai", UpstreamModel: "Phi-4",
		LiteLLMParams: configs.LiteLLMParams{Model: "azure_ai/Phi-4", APIBase: up.AIBase(),
			TenantID: entra.Tenant(), ClientID: entra.Client(), AzureAuthorityHost: entra.URL},
		Credentials: configs.Credentials{ClientSecret: entra.Secret()}}
	d.ModelInfo.ID = "ai-1"
	dl := time.Now().Add(10 * time.Second)
	res, err := p.Forward(&providers.Call{Deployment: d, Deadline: dl,
		Body: []byte(`{"model":"Phi-4","messages":[{"role":"user","content":"hi"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if gjson.GetBytes(res.Body, "choices.0.message.content").String() == "" {
		t.Errorf("chat answer %s", res.Body)
	}
	got := up.Last(t)
	if got.Dialect != "foundry" || got.Path != "/models/chat/completions" || got.APIVersion != azure.AIModelInferenceVersion {
		t.Errorf("chat request %s %s %s", got.Dialect, got.Path, got.APIVersion)
	}
	st, err := p.ForwardStream(&providers.Call{Deployment: d, Deadline: dl,
		Body: []byte(`{"model":"Phi-4","stream":true,"messages":[{"role":"user","content":"hi"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := st.Next(); err != nil {
			break
		}
		n++
	}
	st.Close()
	if n == 0 {
		t.Error("no stream events")
	}
	res, err = p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings, Deadline: dl,
		Body: []byte(`{"model":"Phi-4","input":"hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !gjson.GetBytes(res.Body, "data.0.embedding").IsArray() || up.Last(t).Path != "/models/embeddings" {
		t.Errorf("embeddings %s at %s", res.Body, up.Last(t).Path)
	}
	if n := tokenRequests(entra); n != 1 {
		t.Errorf("%d token requests for three calls", n)
	}
	for _, r := range up.Requests() {
		if !strings.HasPrefix(r.Header["authorization"], "Bearer ") || r.Header["api-key"] != "" {
			t.Errorf("auth headers %v", r.Header)
		}
	}
}

// FuzzAIURL: any api_base and version give a URL or an error, never a
// panic; the URL ends with the endpoint's path.
func FuzzAIURL(f *testing.F) {
	f.Add("https://res.services.ai.azure.com/models", "", "chat/completions")
	f.Add("https://x.models.ai.azure.com/v1/?a=b&api-version=1", "2024-05-01-preview", "embeddings")
	f.Add("http://[::1]:80//models//chat/", "v", "chat/completions")
	f.Add("%zz", "", "embeddings")
	f.Fuzz(func(t *testing.T, base, version, ep string) {
		u, err := azure.AIURL(base, version, registry.Endpoint(ep))
		if err == nil && ep != "" && !strings.Contains(u, "/") {
			t.Fatalf("AIURL(%q) = %q", base, u)
		}
	})
}

// BenchmarkPrepare: the request path's auth cost with an api key and with
// a cached Entra ID token.
func BenchmarkPrepare(b *testing.B) {
	entra := fakeentra.Start(b, fakeentra.Options{})
	up := fakeopenai.Start(b, fakeopenai.Options{Bearer: entra.Valid})
	h := azure.New(providers.NewClientWith(providers.ClientOptions{RootCAs: entra.Roots})).(*providers.HTTP)
	key := &configs.Deployment{ModelName: "gpt", UpstreamModel: "dep", APIKey: "k-0123456789",
		LiteLLMParams: configs.LiteLLMParams{APIBase: up.AzureBase()}}
	ent := &configs.Deployment{ModelName: "gpt", UpstreamModel: "dep",
		LiteLLMParams: configs.LiteLLMParams{APIBase: up.AzureBase(), TenantID: entra.Tenant(), ClientID: entra.Client(), AzureAuthorityHost: entra.URL},
		Credentials:   configs.Credentials{ClientSecret: entra.Secret()}}
	for _, bc := range []struct {
		name string
		d    *configs.Deployment
	}{{"api-key", key}, {"entra-cached", ent}} {
		b.Run(bc.name, func(b *testing.B) {
			req := fasthttp.AcquireRequest()
			defer fasthttp.ReleaseRequest(req)
			call := &providers.Call{Deployment: bc.d, Deadline: time.Now().Add(time.Minute)}
			b.ReportAllocs()
			for b.Loop() {
				req.Reset()
				if err := h.Prepare(call, req); err != nil {
					b.Fatal(err)
				}
				_ = h.Key(bc.d)
			}
		})
	}
}
