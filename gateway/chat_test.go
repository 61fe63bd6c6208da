package gateway

import (
	"strings"
	"testing"

	"github.com/llmgateway/gateway/gateway/wire"
)

// TestParseChat: model and stream wherever they are in the body, the
// model's span for the worker's rewrite, and the refusals.
func TestParseChat(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"the \"model\" is {\"model\":\"x\"}"}]`
	cases := []struct {
		body, path, model string
		stream            bool
		err               string
	}{
		{body: `{"model":"m1",` + msgs + `}`, model: "m1"},
		{body: `{` + msgs + `,"stream":true,"model":"m2"}`, model: "m2", stream: true},
		{body: ` { "model" : "m3" , ` + msgs + ` } `, model: "m3"},
		{body: `{` + msgs + `}`, path: "azure-dep", model: "azure-dep"},
		{body: `{"model":"m4",` + msgs + `}`, path: "azure-dep", model: "azure-dep"},
		{body: `{"model":"a",` + msgs + `,"model":"b"}`, err: "more than once"},
		{body: `{` + msgs + `}`, err: "`model` is missing"},
		{body: `{"model":5,` + msgs + `}`, err: "`model` is missing or not a string"},
		{body: `{"model":"m"}`, err: "`messages`"},
		{body: `{"model":"m",` + msgs + `,"stream":"yes"}`, err: "`stream` must be true or false"},
		{body: `{"model":"m",` + msgs, err: "not valid JSON"},
		{body: `["model"]`, err: "must be a JSON object"},
		{body: ``, err: "empty"},
	}
	for _, c := range cases {
		var path any
		if c.path != "" {
			path = c.path
		}
		body := []byte(c.body)
		req, werr := parseChat(body, path)
		if c.err != "" {
			if werr == nil || werr.Status != 400 || !strings.Contains(werr.Message, c.err) {
				t.Errorf("%s: %+v, want 400 %q", c.body, werr, c.err)
			}
			continue
		}
		if werr != nil || req.Model != c.model || req.Stream != c.stream {
			t.Errorf("%s: %+v %v, want model %q stream %v", c.body, req, werr, c.model, c.stream)
			continue
		}
		out, err := wire.SetModelAt(body, req.ModelAt, "upstream-model")
		want, _ := wire.SetModel(body, "upstream-model")
		if err != nil || string(out) != string(want) {
			t.Errorf("%s: rewrite at %+v gives %s, want %s", c.body, req.ModelAt, out, want)
		}
	}
	// The model name outlives the body buffer (fasthttp reuses it).
	body := []byte(`{"model":"kept",` + msgs + `}`)
	req, _ := parseChat(body, nil)
	copy(body, strings.Repeat("x", len(body)))
	if req.Model != "kept" {
		t.Errorf("the model name shares the body's memory: %q", req.Model)
	}
}
