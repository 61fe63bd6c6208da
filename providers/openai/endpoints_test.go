package openai_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// TestEndpointURLs: every endpoint of the registry entry goes to
// api_base + "/" + endpoint with the key as a bearer token; stored
// responses to /responses/{id} with GET and DELETE.
func TestEndpointURLs(t *testing.T) {
	t.Parallel()
	up := fake(t)
	p := openai.New(client).(providers.Forwarder)
	spec, _ := registry.Lookup("openai")
	d := deployment(up.URL+"/v1", "sk-abc", "org-9")
	for _, ep := range spec.Endpoints {
		call := &providers.Call{Deployment: d, Endpoint: ep, Body: []byte(`{"model":"gpt-4o"}`), Deadline: time.Now().Add(5 * time.Second)}
		if ep == registry.EndpointTranscriptions {
			call.ContentType = "multipart/form-data; boundary=x"
			call.Body = []byte("--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--x--\r\n")
		}
		if _, err := p.Forward(call); err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		got := up.Last(t)
		if got.Method != "POST" || got.URI != "/v1/"+string(ep) {
			t.Errorf("%s: request = %s %s", ep, got.Method, got.URI)
		}
		if got.Header["authorization"] != "Bearer sk-abc" || got.Header["openai-organization"] != "org-9" {
			t.Errorf("%s: headers = %v", ep, got.Header)
		}
		wantCT := "application/json"
		if call.ContentType != "" {
			wantCT = call.ContentType
		}
		if got.Header["content-type"] != wantCT {
			t.Errorf("%s: content-type = %q, want %q", ep, got.Header["content-type"], wantCT)
		}
	}
	for _, method := range []string{"GET", "DELETE"} {
		call := &providers.Call{Deployment: d, Endpoint: registry.EndpointResponses, Method: method,
			ObjectID: "resp_a/b", Deadline: time.Now().Add(5 * time.Second)}
		if _, err := p.Forward(call); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		got := up.Last(t)
		if got.Method != method || got.URI != "/v1/responses/resp_a%2Fb" || len(got.Body) != 0 {
			t.Errorf("%s: request = %s %s %q", method, got.Method, got.URI, got.Body)
		}
		if got.Header["authorization"] != "Bearer sk-abc" {
			t.Errorf("%s: headers = %v", method, got.Header)
		}
	}
}

func TestDefaultBase(t *testing.T) {
	t.Parallel()
	d := deployment("", "sk-abc", "")
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	h := openai.New(client).(*providers.HTTP)
	if err := h.Prepare(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings}, req); err != nil {
		t.Fatal(err)
	}
	if got := req.URI().String(); got != "https://api.openai.com/v1/embeddings" {
		t.Fatalf("URL = %s", got)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	t.Parallel()
	_, err := openai.New(client).(providers.Forwarder).Forward(&providers.Call{
		Deployment: deployment("http://127.0.0.1:1", "k", ""), Endpoint: registry.EndpointMessages, Body: []byte(`{}`)})
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 400 || !strings.Contains(we.Message, "/v1/messages") {
		t.Fatalf("error = %v", err)
	}
}

// TestEnvironmentKey: OPENAI_API_KEY (set in export_test.go) is the key of
// the operator's OpenAI deployments without one, never of a team's, nor of
// one with another api_base; and it is scrubbed from upstream errors.
func TestEnvironmentKey(t *testing.T) {
	t.Parallel()
	team := configs.ModelInfo{Extra: map[string]any{configs.KeySetByField: configs.KeySetByTeam}}
	for _, tc := range []struct {
		name     string
		d        *configs.Deployment
		wantAuth string
	}{
		{"operator, default base", deployment("", "", ""), "Bearer " + openai.TestEnvKey},
		{"operator, explicit default base", deployment("https://api.openai.com/v1/", "", ""), "Bearer " + openai.TestEnvKey},
		{"operator, own key", deployment("", "sk-own", ""), "Bearer sk-own"},
		{"operator, other base", deployment("http://vllm.internal/v1", "", ""), ""},
		{"team", func() *configs.Deployment { d := deployment("", "", ""); d.ModelInfo = team; return d }(), ""},
	} {
		req := fasthttp.AcquireRequest()
		h := openai.New(client).(*providers.HTTP)
		if err := h.Prepare(&providers.Call{Deployment: tc.d}, req); err != nil {
			t.Fatal(err)
		}
		if got := string(req.Header.Peek("Authorization")); got != tc.wantAuth {
			t.Errorf("%s: Authorization = %q, want %q", tc.name, got, tc.wantAuth)
		}
		fasthttp.ReleaseRequest(req)
	}

	// Scrubbed: the upstream echoes the key it got.
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(401)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":{"message":"Incorrect API key provided: ` + openai.TestEnvKey + `","type":"invalid_request_error"}}`)
	})
	h := openai.New(client).(*providers.HTTP)
	h.Prepare = func(call *providers.Call, req *fasthttp.Request) error {
		req.SetRequestURI(up.URL + "/v1/chat/completions")
		req.Header.Set("Authorization", "Bearer "+h.Key(call.Deployment))
		return nil
	}
	_, err := h.Complete(&providers.Call{Deployment: deployment("", "", ""), Body: []byte(`{}`), Deadline: time.Now().Add(5 * time.Second)})
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 401 || strings.Contains(we.Error(), openai.TestEnvKey) || strings.Contains(we.Internal, openai.TestEnvKey) {
		t.Fatalf("error = %#v", err)
	}
}
