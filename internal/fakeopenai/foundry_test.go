package fakeopenai_test

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/internal/fakeopenai"
)

// TestFoundryAndBearer: the model inference paths need a dated
// api-version and a model in the body; Azure and Foundry paths take
// Authorization: Bearer tokens the Bearer option accepts, and nothing
// else.
func TestFoundryAndBearer(t *testing.T) {
	t.Parallel()
	s := fakeopenai.Start(t, fakeopenai.Options{Bearer: func(tok string) bool { return tok == "entra-token" }})
	do := func(path, header, value, body string) int {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(s.URL + path)
		req.Header.SetMethod("POST")
		req.Header.SetContentType("application/json")
		if header != "" {
			req.Header.Set(header, value)
		}
		req.SetBodyString(body)
		if err := fasthttp.Do(req, resp); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode()
	}
	chat := `{"model":"Phi-4","messages":[{"role":"user","content":"hi"}]}`
	const v = "?api-version=2024-05-01-preview"
	for _, tc := range []struct {
		path, header, value, body string
		want                      int
	}{
		{"/models/chat/completions" + v, "Authorization", "Bearer entra-token", chat, 200},
		{"/models/chat/completions" + v, "Authorization", "Bearer " + s.Key, chat, 200},
		{"/models/chat/completions" + v, "api-key", s.Key, chat, 200},
		{"/models/embeddings" + v, "api-key", s.Key, `{"model":"e","input":"x"}`, 200},
		{"/models/chat/completions" + v, "Authorization", "Bearer other", chat, 401},
		{"/models/chat/completions", "api-key", s.Key, chat, 400},
		{"/models/chat/completions" + v, "api-key", s.Key, `{"messages":[{"role":"user","content":"hi"}]}`, 400},
		{"/models/responses" + v, "api-key", s.Key, chat, 404},
		{"/openai/deployments/d/chat/completions?api-version=2024-10-21", "Authorization", "Bearer entra-token", chat, 200},
		{"/openai/deployments/d/chat/completions?api-version=2024-10-21", "Authorization", "Bearer " + s.Key, chat, 401},
	} {
		if got := do(tc.path, tc.header, tc.value, tc.body); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.path, tc.value, got, tc.want)
		}
	}
}
