package openai_test

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/providers/openai"
)

const answer = `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`

var client = providers.NewClient()

func deployment(base, key, org string) *configs.Deployment {
	return &configs.Deployment{
		ModelName: "gpt", Provider: "openai", UpstreamModel: "gpt-4o", APIKey: key,
		LiteLLMParams: configs.LiteLLMParams{Model: "openai/gpt-4o", APIBase: base, Organization: org},
	}
}

func fake(t testing.TB) *fakeupstream.Server {
	return fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(answer)
	})
}

func TestRequestShape(t *testing.T) {
	up := fake(t)
	tests := []struct {
		name, base, key, org string
		wantAuth, wantOrg    string
	}{
		{"key and org", up.URL + "/v1/", "sk-abc", "org-1", "Bearer sk-abc", "org-1"},
		{"no key (vLLM, Ollama)", up.URL + "/v1", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"model":"gpt-4o","messages":[]}`)
			resp, err := openai.New(client).Complete(&providers.Call{
				Deployment: deployment(tt.base, tt.key, tt.org), Body: body, Deadline: time.Now().Add(5 * time.Second),
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != answer {
				t.Fatalf("body = %s", resp.Body)
			}
			got := up.Last(t)
			if got.Method != "POST" || got.URI != "/v1/chat/completions" || string(got.Body) != string(body) {
				t.Fatalf("request = %s %s %s", got.Method, got.URI, got.Body)
			}
			if got.Header["authorization"] != tt.wantAuth || got.Header["openai-organization"] != tt.wantOrg {
				t.Fatalf("headers = %v", got.Header)
			}
			if got.Header["content-type"] != "application/json" {
				t.Fatalf("content-type = %q", got.Header["content-type"])
			}
		})
	}
}

func BenchmarkUnary(b *testing.B) {
	up := fake(b)
	p := openai.New(client)
	d := deployment(up.URL+"/v1", "sk-bench-0123456789", "")
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Complete(&providers.Call{Deployment: d, Body: body, Deadline: time.Now().Add(5 * time.Second)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
