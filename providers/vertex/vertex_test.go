package vertex

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/llmgateway/gateway/internal/goldenfile"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/internal/fakegemini"
	"github.com/llmgateway/gateway/internal/fakevertex"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// golden compares got, indented, with the file at path (-update rewrites it).
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, goldenfile.Indent(t, got))
}

func dep(model, base, creds string) *configs.Deployment {
	d := &configs.Deployment{ModelName: "vx", Provider: "vertex_ai", UpstreamModel: model,
		LiteLLMParams: configs.LiteLLMParams{Model: "vertex_ai/" + model, APIBase: base}}
	d.ModelInfo.ID = "vx-" + model
	d.Credentials.VertexCredentials = creds
	return d
}

func TestBuildURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, model, base, project, location, publisher, method string
		want, err                                               string
	}{
		{"regional", "gemini-2.5-flash", "", "p-1", "europe-west4", "google", "generateContent",
			"https://europe-west4-aiplatform.googleapis.com/v1/projects/p-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"default location", "claude-sonnet-4@20250514", "", "p-1", "", "anthropic", "rawPredict",
			"https://us-central1-aiplatform.googleapis.com/v1/projects/p-1/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict", ""},
		{"global", "gemini-2.5-pro", "", "p-1", "global", "google", "streamGenerateContent?alt=sse",
			"https://aiplatform.googleapis.com/v1/projects/p-1/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse", ""},
		{"api_base", "text-embedding-005", "https://proxy.example.com/v1/", "p-1", "us-east5", "google", "predict",
			"https://proxy.example.com/v1/projects/p-1/locations/us-east5/publishers/google/models/text-embedding-005:predict", ""},
		{"no project", "gemini-2.5-flash", "", "", "", "google", "generateContent", "", "vertex_project"},
		{"bad project", "gemini-2.5-flash", "", "p/../x", "", "google", "generateContent", "", "not a Google Cloud project id"},
		{"bad location", "gemini-2.5-flash", "", "p", "evil.com/x#", "google", "generateContent", "", "not a Vertex AI location"},
		{"bad model", "gemini/../x?y", "", "p", "", "google", "generateContent", "", "Vertex AI model id"},
	} {
		d := dep(c.model, c.base, "")
		d.LiteLLMParams.VertexLocation = c.location
		got, err := BuildURL(d, c.project, c.publisher, c.method)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %q, %v; want error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %s %v\nwant %s", c.name, got, err, c.want)
		}
	}
}

func TestProjectAndLocationDefaults(t *testing.T) {
	t.Setenv(EnvProject, "env-project")
	t.Setenv(EnvLocation, "asia-northeast1")
	d := dep("gemini-2.5-flash", "", "")
	if p := Project(d, func(*configs.Deployment) string { return "" }); p != "env-project" {
		t.Errorf("operator project %q", p)
	}
	if p := Project(d, func(*configs.Deployment) string { return "json-project" }); p != "json-project" {
		t.Errorf("credentials' project %q", p)
	}
	if l := Location(d); l != "asia-northeast1" {
		t.Errorf("operator location %q", l)
	}
	d.ModelInfo.TeamID = "t1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	if p := Project(d, nil); p != "" {
		t.Errorf("a team deployment read the environment: %q", p)
	}
	if l := Location(d); l != DefaultLocation {
		t.Errorf("a team deployment's location %q", l)
	}
	d.LiteLLMParams.VertexProject, d.LiteLLMParams.VertexLocation = "set", "europe-west1"
	if Project(d, nil) != "set" || Location(d) != "europe-west1" {
		t.Error("params do not win")
	}
}

func TestGoldenClaudeBody(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/claude/*.json")
	for _, f := range files {
		if strings.HasSuffix(f, ".vertex.json") {
			continue
		}
		in, _ := os.ReadFile(f)
		out, err := ClaudeBody(bytes.TrimSpace(in))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if gjson.GetBytes(out, "model").Exists() || gjson.GetBytes(out, "anthropic_version").Str != AnthropicVersion {
			t.Errorf("%s: %s", f, out)
		}
		golden(t, strings.TrimSuffix(f, ".json")+".vertex.json", out)
	}
}

func TestGoldenEmbeddings(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/embed/*.json")
	n := 0
	for _, f := range files {
		if strings.Count(filepath.Base(f), ".") > 1 {
			continue
		}
		n++
		base := strings.TrimSuffix(f, ".json")
		in, _ := os.ReadFile(f)
		req, info, werr := translateEmbedRequest(in)
		if werr != nil {
			t.Fatalf("%s: %v", f, werr)
		}
		golden(t, base+".vertex.json", req)
		answer, err := os.ReadFile(base + ".vertex-answer.json")
		if err != nil {
			t.Fatal(err)
		}
		out, why := translateEmbedResponse(answer, info, gjson.GetBytes(in, "model").Str)
		if why != "" {
			t.Fatalf("%s: %s", f, why)
		}
		golden(t, base+".openai.json", out)
	}
	if n == 0 {
		t.Fatal("no inputs")
	}
}

func TestEmbedRequestErrors(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"input":[1,2,3]}`:                      "token ids",
		`{"input":[]}`:                           "input is required",
		`{}`:                                     "input is required",
		`{"input":"x","dimensions":0}`:           "dimensions",
		`{"input":"x","dimensions":1.5}`:         "dimensions",
		`{"input":"x","encoding_format":"int8"}`: "encoding_format",
		`{"input":"x","task_type":3}`:            "task_type",
		`[1]`:                                    "JSON object",
		`{"input":`:                              "not valid JSON",
	} {
		_, _, werr := translateEmbedRequest([]byte(body))
		if werr == nil || werr.Status != 400 || !strings.Contains(werr.Message, want) {
			t.Errorf("%s: %v, want 400 with %q", body, werr, want)
		}
	}
	if _, why := translateEmbedResponse([]byte(`{"predictions":[{}]}`), embedInfo{n: 1}, "m"); why == "" {
		t.Error("a prediction without values was accepted")
	}
	if _, why := translateEmbedResponse([]byte(`{"predictions":[]}`), embedInfo{n: 1}, "m"); why == "" {
		t.Error("a count mismatch was accepted")
	}
}

// setup runs the fake and a provider; d is an operator's deployment of
// model with an inline service account key.
func setup(t *testing.T, model string, o fakevertex.Options) (*fakevertex.Server, *Provider, *configs.Deployment) {
	t.Helper()
	fv := fakevertex.Start(t, o)
	return fv, newProvider(providers.NewClient()), dep(model, fv.URL, fv.ServiceAccountJSON(""))
}

const chatBody = `{"model":"claude-sonnet-4@20250514","max_tokens":200,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"stream_options":{"include_usage":true}}`

func TestClaudeChat(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "claude-sonnet-4@20250514", fakevertex.Options{Anthropic: fakeanthropic.Options{ToolCalls: 1, CacheRead: 7, CacheWrite: 3}})
	resp, err := p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	if err != nil {
		t.Fatal(err)
	}
	out := gjson.ParseBytes(resp.Body)
	if out.Get("choices.0.message.tool_calls.0.function.name").Str != "get_weather" ||
		out.Get("usage.prompt_tokens_details.cached_tokens").Int() != 7 {
		t.Errorf("answer: %s", resp.Body)
	}
	last := fv.Last(t)
	if !strings.HasSuffix(last.Path, "/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict") ||
		last.Header.Get("anthropic-version") != "" || last.Header.Get("x-api-key") != "" {
		t.Errorf("request: %s %v", last.Path, last.Header)
	}

	st, err := p.OpenStream(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var events []string
	for {
		ev, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, string(ev))
	}
	all := strings.Join(events, "\n")
	if !strings.Contains(all, `"get_weather"`) || !strings.Contains(all, `"cached_tokens":7`) {
		t.Errorf("stream events:\n%s", all)
	}
	if !strings.HasSuffix(fv.Last(t).Path, ":streamRawPredict") {
		t.Errorf("stream path %s", fv.Last(t).Path)
	}
	if fv.Issued() != 1 {
		t.Errorf("%d tokens for two calls", fv.Issued())
	}
}

func TestClaudeErrors(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "claude-sonnet-4@20250514", fakevertex.Options{})
	fv.SetFailure(&fakevertex.Failure{Status: 429, RetryAfter: "7"})
	_, err := p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 429 {
		t.Fatalf("429: %v", err)
	}
	fv.SetFailure(&fakevertex.Failure{Status: 403})
	_, err = p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 403 {
		t.Fatalf("403: %v", err)
	}
	fv.SetFailure(&fakevertex.Failure{InStream: true})
	st, err := p.OpenStream(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		_, err := st.Next()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("a mid-stream error ended cleanly")
		}
		break
	}
	fv.SetFailure(nil)

	// The token is never in an error: a project the account may not use.
	d2 := *d
	d2.LiteLLMParams.VertexProject = "other-project"
	_, err = p.Complete(&providers.Call{Deployment: &d2, Body: []byte(chatBody)})
	we, _ = errors.AsType[*wire.Error](err)
	if we == nil || we.Status != 403 || strings.Contains(we.Message+we.Internal, "ya29.") {
		t.Fatalf("other project: %v", err)
	}
}

func TestEmbeddingsCall(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "text-embedding-005", fakevertex.Options{})
	call := &providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings,
		Body: []byte(`{"model":"text-embedding-005","input":["hello world","second"],"dimensions":16}`)}
	resp, err := p.Forward(call)
	if err != nil {
		t.Fatal(err)
	}
	out := gjson.ParseBytes(resp.Body)
	if out.Get("data.#").Int() != 2 || out.Get("data.1.embedding.#").Int() != 16 || out.Get("usage.prompt_tokens").Int() < 2 {
		t.Errorf("answer: %s", resp.Body)
	}
	if !strings.HasSuffix(fv.Last(t).Path, "/publishers/google/models/text-embedding-005:predict") {
		t.Errorf("path %s", fv.Last(t).Path)
	}
	fv.SetFailure(&fakevertex.Failure{Status: 429, RetryAfter: "3"})
	_, err = p.Forward(call)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 429 {
		t.Fatalf("429: %v", err)
	}
	if _, err := p.ForwardStream(call); err == nil {
		t.Error("a streamed forward was accepted")
	}
	call.Endpoint = registry.EndpointResponses
	if _, err := p.Forward(call); err == nil {
		t.Error("responses was forwarded")
	}
}

func TestTeamWithoutCredentials(t *testing.T) {
	t.Parallel()
	_, p, d := setup(t, "claude-sonnet-4@20250514", fakevertex.Options{})
	d.Credentials.VertexCredentials = ""
	d.ModelInfo.TeamID = "t1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	for _, model := range []string{"claude-sonnet-4@20250514", "text-embedding-005"} {
		d.UpstreamModel = model
		var err error
		if model == "text-embedding-005" {
			_, err = p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings, Body: []byte(`{"input":"x"}`)})
		} else {
			_, err = p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)})
		}
		we, ok := errors.AsType[*wire.Error](err)
		if !ok || we.Status != 401 || !strings.Contains(we.Message, "vertex_credentials") {
			t.Errorf("%s: %v", model, err)
		}
	}
}

func FuzzTranslateEmbed(f *testing.F) {
	f.Add([]byte(`{"input":"x","dimensions":3}`), []byte(`{"predictions":[{"embeddings":{"values":[1,2,3],"statistics":{"token_count":1}}}]}`), false)
	f.Add([]byte(`{"input":["a","b"],"encoding_format":"base64","task_type":"X","title":"t"}`), []byte(`{"predictions":[{"embeddings":{"values":[]}},{"embeddings":{"values":[1e400]}}]}`), true)
	f.Add([]byte(`{"input":[null]}`), []byte(`[]`), false)
	f.Fuzz(func(t *testing.T, req, answer []byte, b64 bool) {
		out, info, werr := translateEmbedRequest(req)
		if werr == nil && !json.Valid(out) {
			t.Fatalf("invalid request JSON %s", out)
		}
		info.base64 = info.base64 || b64
		if res, why := translateEmbedResponse(answer, info, "m"); why == "" && !json.Valid(res) {
			t.Fatalf("invalid answer JSON %s", res)
		}
	})
}

func FuzzClaudeBody(f *testing.F) {
	f.Add([]byte(`{"model":"m","max_tokens":1}`))
	f.Add([]byte(`{"model":"m"}`))
	f.Add([]byte(`{"x":1,"model":{"a":[1]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		out, err := ClaudeBody(body)
		if err != nil {
			return
		}
		if !json.Valid(out) || gjson.GetBytes(out, "anthropic_version").Str != AnthropicVersion {
			t.Fatalf("%s -> %s", body, out)
		}
	})
}

func BenchmarkClaudeBody(b *testing.B) {
	body := []byte(`{"model":"claude-sonnet-4@20250514","max_tokens":1024,"messages":[{"role":"user","content":"` + strings.Repeat("hello ", 200) + `"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ClaudeBody(body)
	}
}

func BenchmarkEmbedTranslation(b *testing.B) {
	req := []byte(`{"model":"text-embedding-005","input":["` + strings.Repeat("word ", 100) + `","second"]}`)
	vals := strings.TrimSuffix(strings.Repeat("0.0123456,", 768), ",")
	answer := []byte(`{"predictions":[{"embeddings":{"values":[` + vals + `],"statistics":{"token_count":100}}},{"embeddings":{"values":[` + vals + `],"statistics":{"token_count":1}}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		_, info, _ := translateEmbedRequest(req)
		_, _ = translateEmbedResponse(answer, info, "text-embedding-005")
	}
}

func TestGeminiChat(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "gemini-2.5-flash", fakevertex.Options{})
	fg := fakegemini.Start(t, fakegemini.Options{AcceptToken: fv.ValidToken, CachedTokens: 4})
	fv.SetGemini(fg)
	body := []byte(`{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}],"stream_options":{"include_usage":true}}`)
	resp, err := p.Complete(&providers.Call{Deployment: d, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gjson.GetBytes(resp.Body, "choices.0.message.content").Str, "fake Gemini") {
		t.Errorf("answer %s", resp.Body)
	}
	last := fg.Last(t)
	if !last.Vertex || last.Path != "/v1/projects/fake-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent" {
		t.Errorf("path %s", last.Path)
	}
	st, err := p.OpenStream(&providers.Call{Deployment: d, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var all []byte
	for {
		ev, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, ev...), '\n')
	}
	if !bytes.Contains(all, []byte(`"usage"`)) || !strings.Contains(fg.Last(t).Path, ":streamGenerateContent?alt=sse") {
		t.Errorf("stream %s to %s", all, fg.Last(t).Path)
	}
	if fv.Issued() != 1 {
		t.Errorf("%d tokens", fv.Issued())
	}
}

func TestOneInstanceEmbeddingsAreSplit(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "gemini-embedding-001", fakevertex.Options{})
	inputs := []string{"one", "two two", "three three three", "four", "five", "six"}
	b, _ := json.Marshal(map[string]any{"model": "gemini-embedding-001", "input": inputs, "dimensions": 4})
	resp, err := p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings, Body: b})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fv.Requests()); n != len(inputs) {
		t.Errorf("%d :predict calls for %d inputs", n, len(inputs))
	}
	// Each embedding is its own input's (the fake derives values from the text).
	for i, in := range inputs {
		one, _ := json.Marshal(map[string]any{"input": in, "dimensions": 4})
		r1, err := p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings, Body: one})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := gjson.GetBytes(resp.Body, "data."+strconv.Itoa(i)+".embedding").Raw, gjson.GetBytes(r1.Body, "data.0.embedding").Raw; got != want {
			t.Errorf("embedding %d out of order: %s vs %s", i, got, want)
		}
	}
	fv.SetFailure(&fakevertex.Failure{Status: 429, RetryAfter: "2"})
	if _, err := p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointEmbeddings, Body: b}); err == nil {
		t.Error("a failing part was not reported")
	}
}

func TestRevokedTokenIsForgotten(t *testing.T) {
	t.Parallel()
	fv, p, d := setup(t, "claude-sonnet-4@20250514", fakevertex.Options{})
	if _, err := p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)}); err != nil {
		t.Fatal(err)
	}
	fv.RevokeAll()
	_, err := p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)})
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 401 || strings.Contains(we.Message+we.Internal, "ya29.") {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := p.Complete(&providers.Call{Deployment: d, Body: []byte(chatBody)}); err != nil || fv.Issued() != 2 {
		t.Fatalf("after a 401 a new token is fetched: issued %d, %v", fv.Issued(), err)
	}
}
