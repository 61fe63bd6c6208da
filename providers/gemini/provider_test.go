package gemini

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakegemini"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

var client = providers.NewClient()

func deployment(base, key string) *configs.Deployment {
	return &configs.Deployment{ModelName: "gem", Provider: "gemini", UpstreamModel: "gemini-2.5-flash", APIKey: key,
		LiteLLMParams: configs.LiteLLMParams{Model: "gemini/gemini-2.5-flash", APIBase: base}}
}

func call(d *configs.Deployment, body string) *providers.Call {
	return &providers.Call{Deployment: d, Body: []byte(body), Deadline: time.Now().Add(10 * time.Second)}
}

const hello = `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}`

func wireErr(t *testing.T, err error) *wire.Error {
	t.Helper()
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		t.Fatalf("error %v is not a *wire.Error", err)
	}
	return we
}

func TestCompleteAgainstFake(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{PromptTokens: 11, OutputTokens: 4, CachedTokens: 3})
	p := New(client)
	res, err := p.Complete(call(deployment(fake.URL, fake.APIKey()), hello))
	if err != nil {
		t.Fatal(err)
	}
	b := res.Body
	if got := gjson.GetBytes(b, "choices.0.message.content").Str; got != "Hello from the fake Gemini." {
		t.Errorf("content %q", got)
	}
	if gjson.GetBytes(b, "usage.prompt_tokens").Int() != 11 || gjson.GetBytes(b, "usage.completion_tokens").Int() != 4 ||
		gjson.GetBytes(b, "usage.prompt_tokens_details.cached_tokens").Int() != 3 {
		t.Errorf("usage %s", gjson.GetBytes(b, "usage").Raw)
	}
	r := fake.Last(t)
	if r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || r.Header.Get("x-goog-api-key") != fake.APIKey() {
		t.Errorf("request %s key %q", r.Path, r.Header.Get("x-goog-api-key"))
	}
}

func TestStreamAgainstFake(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{})
	p := New(client)
	st, err := p.OpenStream(call(deployment(fake.URL, fake.APIKey()),
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"reasoning_effort":"low","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var text, reasoning strings.Builder
	var finish string
	usage := false
	for {
		chunk, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(chunk) {
			t.Fatalf("invalid chunk %s", chunk)
		}
		text.WriteString(gjson.GetBytes(chunk, "choices.0.delta.content").Str)
		reasoning.WriteString(gjson.GetBytes(chunk, "choices.0.delta.reasoning_content").Str)
		if f := gjson.GetBytes(chunk, "choices.0.finish_reason").Str; f != "" {
			finish = f
		}
		if gjson.GetBytes(chunk, "usage.total_tokens").Int() > 0 {
			usage = true
		}
	}
	if text.String() != "Hello from the fake Gemini." || reasoning.String() != "Let me think about that." || finish != "stop" || !usage {
		t.Errorf("text %q reasoning %q finish %q usage %v", text.String(), reasoning.String(), finish, usage)
	}
	if r := fake.Last(t); r.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" {
		t.Errorf("path %s", r.Path)
	}
}

func TestToolsRoundTripAgainstFake(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{ThoughtSignature: "c2lnbmF0dXJl"})
	p := New(client)
	d := deployment(fake.URL, fake.APIKey())
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`
	res, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"Weather?"}],`+tools+`,"tool_choice":"required"}`))
	if err != nil {
		t.Fatal(err)
	}
	tc := gjson.GetBytes(res.Body, "choices.0.message.tool_calls.0")
	if tc.Get("function.name").Str != "get_weather" || tc.Get("function.arguments").Str != `{"location":"Paris"}` ||
		gjson.GetBytes(res.Body, "choices.0.finish_reason").Str != "tool_calls" {
		t.Fatalf("answer %s", res.Body)
	}
	// The client sends the call and its result back: the fake checks the
	// function response follows the call, and the signature comes back.
	msgs := `[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[` + tc.Raw +
		`]},{"role":"tool","tool_call_id":` + tc.Get("id").Raw + `,"content":"sunny"}]`
	if _, err := p.Complete(call(d, `{"model":"m","messages":`+msgs+`,`+tools+`}`)); err != nil {
		t.Fatal(err)
	}
	body := fake.Last(t).Body
	if got := gjson.GetBytes(body, "contents.1.parts.0.thoughtSignature").Str; got != "c2lnbmF0dXJl" {
		t.Errorf("thought signature %q in %s", got, body)
	}
	if got := gjson.GetBytes(body, "contents.2.parts.0.functionResponse.response.content").Str; got != "sunny" {
		t.Errorf("function response %s", body)
	}
}

func TestEmbeddingsAgainstFake(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{})
	p := New(client).(providers.Forwarder)
	d := deployment(fake.URL, fake.APIKey())
	d.UpstreamModel = "gemini-embedding-001"
	c := call(d, `{"model":"m","input":["hello","world!"],"dimensions":3}`)
	c.Endpoint = registry.EndpointEmbeddings
	res, err := p.Forward(c)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gjson.GetBytes(res.Body, "data").Array()); n != 2 {
		t.Fatalf("%d embeddings: %s", n, res.Body)
	}
	if n := len(gjson.GetBytes(res.Body, "data.1.embedding").Array()); n != 3 {
		t.Errorf("dimension %d", n)
	}
	if gjson.GetBytes(res.Body, "usage.prompt_tokens").Int() <= 0 {
		t.Errorf("usage %s", res.Body)
	}
	if r := fake.Last(t); r.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
		t.Errorf("path %s", r.Path)
	}
}

func TestUpstreamErrors(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{})
	p := New(client)
	d := deployment(fake.URL, fake.APIKey())
	for _, tc := range []struct {
		fail      fakegemini.Failure
		status    int
		typ       string
		retry     int
		inMessage string
	}{
		{fakegemini.Failure{Status: 429, RetryDelay: "6.2s"}, 429, wire.TypeRateLimit, 7, "exceeded your current quota"},
		{fakegemini.Failure{Status: 400}, 400, wire.TypeInvalidRequest, 0, "invalid argument"},
		{fakegemini.Failure{Status: 403}, 403, wire.TypePermission, 0, "permission"},
		{fakegemini.Failure{Status: 404}, 404, wire.TypeNotFound, 0, "not found"},
		{fakegemini.Failure{Status: 500}, 500, wire.TypeUpstream, 0, "internal error"},
		{fakegemini.Failure{Status: 503}, 503, wire.TypeUpstream, 0, "overloaded"},
		{fakegemini.Failure{Status: 400, Message: "API key {key} is bad"}, 400, wire.TypeInvalidRequest, 0, "API key fake****"},
	} {
		fake.SetFailure(&tc.fail)
		for _, stream := range []bool{false, true} {
			var err error
			if stream {
				_, err = p.OpenStream(call(d, hello))
			} else {
				_, err = p.Complete(call(d, hello))
			}
			we := wireErr(t, err)
			if we.Status != tc.status || we.Type != tc.typ || we.RetryAfter != tc.retry || !strings.Contains(we.Message, tc.inMessage) {
				t.Errorf("%d stream=%v: got %d %s retry %d %q", tc.fail.Status, stream, we.Status, we.Type, we.RetryAfter, we.Message)
			}
			if strings.Contains(we.Message, fake.APIKey()) || strings.Contains(we.Internal, fake.APIKey()) {
				t.Errorf("the key leaks: %q %q", we.Message, we.Internal)
			}
		}
	}
	// Mid-stream.
	fake.SetFailure(&fakegemini.Failure{Status: 503, InStream: true})
	st, err := p.OpenStream(call(d, hello))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		_, err := st.Next()
		if err == nil {
			continue
		}
		if we := wireErr(t, err); we.Status != 503 || !strings.Contains(we.Message, "mid-stream") {
			t.Errorf("mid-stream error %v", we)
		}
		break
	}
}

func TestAPIKeyRules(t *testing.T) {
	fake := fakegemini.Start(t, fakegemini.Options{})
	p := New(client)
	t.Setenv(EnvAPIKey, fake.APIKey())

	// The operator's deployment without a key reads GEMINI_API_KEY.
	if _, err := p.Complete(call(deployment(fake.URL, ""), hello)); err != nil {
		t.Fatalf("operator deployment: %v", err)
	}
	// A team's deployment (its key set by the team) never does.
	team := deployment(fake.URL, "")
	team.ModelInfo = configs.ModelInfo{TeamID: "t1", Extra: map[string]any{configs.KeySetByField: configs.KeySetByTeam}}
	_, err := p.Complete(call(team, hello))
	if we := wireErr(t, err); we.Status != 401 || !strings.Contains(we.Message, "litellm_params.api_key") {
		t.Errorf("team deployment: %v", we)
	}
	// Without the variable, the operator's gets a 401 naming both.
	t.Setenv(EnvAPIKey, "")
	_, err = p.Complete(call(deployment(fake.URL, ""), hello))
	if we := wireErr(t, err); we.Status != 401 || !strings.Contains(we.Message, EnvAPIKey) {
		t.Errorf("no key: %v", we)
	}
	// A wrong key: Google's 400, the key scrubbed.
	_, err = p.Complete(call(deployment(fake.URL, "wrong-key-1234567890"), hello))
	if we := wireErr(t, err); we.Status != 400 || strings.Contains(we.Message, "wrong-key-1234567890") {
		t.Errorf("wrong key: %v", we)
	}
}

// TestVertexTarget: NewWith a Target of Vertex's path form and bearer
// auth, against the fake's Vertex side.
func TestVertexTarget(t *testing.T) {
	t.Parallel()
	fake := fakegemini.Start(t, fakegemini.Options{AcceptToken: func(tok string) bool { return tok == "ya29.token" }})
	p := NewWith(client, Target{
		URL: func(d *configs.Deployment, method string) (string, error) {
			return d.LiteLLMParams.APIBase + "/v1/projects/p1/locations/us-central1/publishers/google/models/" + d.UpstreamModel + ":" + method, nil
		},
		Auth: func(d *configs.Deployment, req *fasthttp.Request) (string, error) {
			req.Header.Set("Authorization", "Bearer ya29.token")
			return "ya29.token", nil
		},
	})
	d := deployment(fake.URL, "")
	res, err := p.Complete(call(d, hello))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), "fake Gemini") || !fake.Last(t).Vertex {
		t.Errorf("answer %s", res.Body)
	}
	st, err := p.OpenStream(call(d, hello))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	fake.SetFailure(&fakegemini.Failure{Status: 403, Message: "token ya29.token denied"})
	_, err = p.Complete(call(d, hello))
	if we := wireErr(t, err); we.Status != 403 || strings.Contains(we.Message, "ya29.token") {
		t.Errorf("token not scrubbed: %v", we)
	}
}

func TestStudioURL(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"":                         "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
		"https://proxy.example/":   "https://proxy.example/v1beta/models/gemini-2.5-flash:generateContent",
		"https://proxy.example/v1": "https://proxy.example/v1/models/gemini-2.5-flash:generateContent",
		"https://generativelanguage.googleapis.com/v1beta": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
	} {
		got, err := StudioURL(deployment(base, "k"), MethodGenerate)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", base, got, err, want)
		}
	}
}

func TestRetryIn(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]int{"Please retry in 21.59s.": 22, "retry in 500ms": 1, "Please retry in 3s": 3, "no delay": 0} {
		err := upstreamError(&wire.Error{Status: 429, Message: msg})
		if got := wireErr(t, err).RetryAfter; got != want {
			t.Errorf("%q: %d, want %d", msg, got, want)
		}
	}
}
