package azure_test

import (
	"errors"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/azure"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/wire"
)

func TestRequestShape(t *testing.T) {
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{}`) })
	tests := []struct{ version, wantURI string }{
		{"2025-01-01-preview", "/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01-preview"},
		{"", "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"},
	}
	for _, tt := range tests {
		d := &configs.Deployment{
			ModelName: "gpt", Provider: "azure", UpstreamModel: "my-gpt4o", APIKey: "az-key",
			LiteLLMParams: configs.LiteLLMParams{Model: "azure/my-gpt4o", APIBase: up.URL + "/", APIVersion: tt.version},
		}
		_, err := azure.New(providers.NewClient()).Complete(&providers.Call{
			Deployment: d, Body: []byte(`{}`), Deadline: time.Now().Add(5 * time.Second),
		})
		if err != nil {
			t.Fatal(err)
		}
		got := up.Last(t)
		if got.URI != tt.wantURI || got.Header["api-key"] != "az-key" || got.Header["authorization"] != "" {
			t.Fatalf("request = %s %v", got.URI, got.Header)
		}
	}
}

func TestMissingAPIBase(t *testing.T) {
	d := &configs.Deployment{ModelName: "gpt", UpstreamModel: "x"}
	_, err := azure.New(providers.NewClient()).Complete(&providers.Call{Deployment: d, Body: []byte(`{}`)})
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 500 {
		t.Fatalf("error = %v, want a 500 *wire.Error", err)
	}
}
