package mock_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/mock"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

func forward(t *testing.T, ep registry.Endpoint, body string) []byte {
	t.Helper()
	c := call(body, "")
	c.Endpoint = ep
	resp, err := mock.New().(providers.Forwarder).Forward(c)
	if err != nil {
		t.Fatalf("%s %s: %v", ep, body, err)
	}
	if resp.Status != 200 || resp.ContentType != "application/json" || !json.Valid(resp.Body) {
		t.Fatalf("%s: %+v", ep, resp)
	}
	return resp.Body
}

func events(t *testing.T, ep registry.Endpoint, body string) [][]byte {
	t.Helper()
	c := call(body, "")
	c.Endpoint = ep
	s, err := mock.New().(providers.Forwarder).ForwardStream(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out [][]byte
	for {
		data, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), data...))
	}
}

func TestCompletions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prompt  string
		choices int
		tokens  int64
	}{
		{`"Say hi"`, 1, 2},
		{`["a","bcdefgh"]`, 2, 3},
		{`[1,2,3]`, 1, 3},
		{`[[1,2],[3]]`, 2, 3},
	} {
		body := forward(t, registry.EndpointCompletions, `{"model":"gpt-3.5-turbo-instruct","prompt":`+tc.prompt+`}`)
		var c openai.Completion
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		if c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") || c.Model != "gpt-3.5-turbo-instruct" ||
			len(c.Choices) != tc.choices || c.Choices[0].FinishReason != "stop" || c.Choices[0].Text == "" {
			t.Fatalf("%s: %s", tc.prompt, body)
		}
		if c.Usage.PromptTokens != tc.tokens || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens {
			t.Fatalf("%s: usage %s", tc.prompt, body)
		}
		if u := wire.ParseUnary(registry.EndpointCompletions, body).Usage; u.Prompt != tc.tokens || !u.Reported {
			t.Fatalf("%s: wire reads %+v", tc.prompt, u)
		}
	}
	if got := forward(t, registry.EndpointCompletions, `{"model":"m","prompt":"x","mock_response":"fixed"}`); !strings.Contains(string(got), `"text":"fixed"`) {
		t.Fatalf("mock_response: %s", got)
	}
	for _, bad := range []string{`{"model":"m"}`, `{"model":"m","prompt":{}}`, `{"model":"m","prompt":[]}`, `{"model":"m","prompt":[1,"a"]}`, `nope`} {
		c := call(bad, "")
		c.Endpoint = registry.EndpointCompletions
		_, err := mock.New().(providers.Forwarder).Forward(c)
		if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 400 {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestCompletionsStream(t *testing.T) {
	t.Parallel()
	for _, include := range []bool{false, true} {
		opts := ""
		if include {
			opts = `,"stream_options":{"include_usage":true}`
		}
		evs := events(t, registry.EndpointCompletions, `{"model":"m","prompt":"hello there","stream":true`+opts+`}`)
		var text strings.Builder
		r := wire.NewStreamReader(registry.EndpointCompletions)
		finish := 0
		for _, ev := range evs {
			var c openai.Completion
			if err := json.Unmarshal(ev, &c); err != nil || c.Object != "text_completion" {
				t.Fatalf("%s: %v", ev, err)
			}
			for _, ch := range c.Choices {
				text.WriteString(ch.Text)
				if ch.FinishReason != "" {
					finish++
				}
			}
			r.Read(ev)
		}
		if text.String() != `Mock completion of: "hello there"` || finish != 1 {
			t.Fatalf("text %q, %d finish chunks", text.String(), finish)
		}
		if r.Usage().Reported != include {
			t.Fatalf("include_usage %v: usage %+v", include, r.Usage())
		}
	}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	body := forward(t, registry.EndpointEmbeddings, `{"model":"text-embedding-3-small","input":["hello","world","hello"]}`)
	var e openai.CreateEmbeddingResponse
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Object != "list" || e.Model != "text-embedding-3-small" || len(e.Data) != 3 || e.Usage.PromptTokens != 6 || e.Usage.TotalTokens != 6 {
		t.Fatalf("%.300s", body)
	}
	for i, d := range e.Data {
		if d.Object != "embedding" || d.Index != int64(i) || len(d.Embedding) != mock.DefaultDimensions {
			t.Fatalf("data %d: %+v", i, d.Object)
		}
		var sum float64
		for _, f := range d.Embedding {
			sum += f * f
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("data %d: |v|² = %v, want 1", i, sum)
		}
	}
	if e.Data[0].Embedding[0] != e.Data[2].Embedding[0] || e.Data[0].Embedding[0] == e.Data[1].Embedding[0] {
		t.Fatal("the same input must give the same vector, another input another")
	}

	// dimensions, tokens, base64 (little-endian float32, as OpenAI sends it).
	body = forward(t, registry.EndpointEmbeddings, `{"model":"m","input":[[1,2,3],[4]],"dimensions":8,"encoding_format":"base64"}`)
	var raw struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Data) != 2 || raw.Usage.PromptTokens != 4 {
		t.Fatalf("%s: %v", body, err)
	}
	b, err := base64.StdEncoding.DecodeString(raw.Data[0].Embedding)
	if err != nil || len(b) != 32 {
		t.Fatalf("base64: %d bytes, %v", len(b), err)
	}
	want := mock.Vector([]byte("t:\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"), 8)
	for i := range 8 {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])); got != want[i] {
			t.Fatalf("float %d: %v, want %v", i, got, want[i])
		}
	}
	for _, bad := range []string{`{"model":"m"}`, `{"model":"m","input":""}`, `{"model":"m","input":[""]}`, `{"model":"m","input":[]}`,
		`{"model":"m","input":"x","dimensions":0}`, `{"model":"m","input":"x","dimensions":99999}`, `{"model":"m","input":"x","encoding_format":"int8"}`,
		`{"model":"m","input":[[1,-2]]}`, `{"model":"m","input":[{"a":1}]}`} {
		c := call(bad, "")
		c.Endpoint = registry.EndpointEmbeddings
		_, err := mock.New().(providers.Forwarder).Forward(c)
		if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 400 {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	body := forward(t, registry.EndpointResponses, `{"model":"gpt-4o","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"Hello"}]}]}`)
	var r responses.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.Status != "completed" || r.Model != "gpt-4o" ||
		r.OutputText() != `Mock reply to: "Hello"` || r.Instructions.OfString != "be brief" {
		t.Fatalf("%s", body)
	}
	if r.Usage.InputTokens != 4 || r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens || !r.JSON.Usage.Valid() {
		t.Fatalf("usage %s", r.Usage.RawJSON())
	}
	if u := wire.ParseUnary(registry.EndpointResponses, body).Usage; u.Prompt != 4 || !u.Reported {
		t.Fatalf("wire reads %+v", u)
	}
	if got := forward(t, registry.EndpointResponses, `{"model":"m","input":"Hi"}`); !strings.Contains(string(got), `Mock reply to: \"Hi\"`) {
		t.Fatalf("string input: %s", got)
	}
	c := call("", "")
	c.Endpoint, c.Method, c.ObjectID = registry.EndpointResponses, "GET", "resp_1"
	if _, err := mock.New().(providers.Forwarder).Forward(c); err == nil {
		t.Fatal("GET of a stored response: want 404")
	} else if we, _ := errors.AsType[*wire.Error](err); we.Status != 404 {
		t.Fatal(err)
	}
}

func TestResponsesStream(t *testing.T) {
	t.Parallel()
	evs := events(t, registry.EndpointResponses, `{"model":"gpt-4o","input":"hello there","stream":true}`)
	var types []string
	var text strings.Builder
	r := wire.NewStreamReader(registry.EndpointResponses)
	var completed responses.Response
	for i, ev := range evs {
		var u responses.ResponseStreamEventUnion
		if err := json.Unmarshal(ev, &u); err != nil {
			t.Fatal(err)
		}
		if u.SequenceNumber != int64(i) {
			t.Fatalf("event %d: sequence_number %d", i, u.SequenceNumber)
		}
		types = append(types, u.Type)
		switch e := u.AsAny().(type) {
		case responses.ResponseTextDeltaEvent:
			text.WriteString(e.Delta)
		case responses.ResponseCompletedEvent:
			completed = e.Response
		case responses.ResponseCreatedEvent:
			if e.Response.Status != "in_progress" || e.Response.Model != "gpt-4o" {
				t.Fatalf("created: %s", ev)
			}
		case responses.ResponseInProgressEvent, responses.ResponseOutputItemAddedEvent, responses.ResponseContentPartAddedEvent,
			responses.ResponseTextDoneEvent, responses.ResponseContentPartDoneEvent, responses.ResponseOutputItemDoneEvent:
		default:
			t.Fatalf("event %d: unexpected %T", i, e)
		}
		r.Read(ev)
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added " +
		"response.output_text.delta×5 response.output_text.done " +
		"response.content_part.done response.output_item.done response.completed"
	if strings.Join(types, " ") != strings.ReplaceAll(want, "response.output_text.delta×5", strings.Repeat("response.output_text.delta ", 4)+"response.output_text.delta") {
		t.Fatalf("events %v", types)
	}
	if text.String() != `Mock reply to: "hello there"` || completed.OutputText() != text.String() || completed.Status != "completed" {
		t.Fatalf("text %q, completed %q", text.String(), completed.OutputText())
	}
	if u := r.Usage(); !u.Reported || u.Prompt != completed.Usage.InputTokens || u.Completion != completed.Usage.OutputTokens {
		t.Fatalf("usage %+v", u)
	}
}

func TestForwardUnsupported(t *testing.T) {
	t.Parallel()
	for _, ep := range []registry.Endpoint{registry.EndpointModerations, registry.EndpointMessages} {
		c := call(`{}`, "")
		c.Endpoint = ep
		if _, err := mock.New().(providers.Forwarder).Forward(c); err == nil {
			t.Errorf("%s: no error", ep)
		}
	}
	c := call(`{"input":"x","stream":true}`, "")
	c.Endpoint = registry.EndpointEmbeddings
	if _, err := mock.New().(providers.Forwarder).ForwardStream(c); err == nil {
		t.Error("streamed embeddings: no error")
	}
	// The registry and the implementation agree.
	spec, _ := registry.Lookup("mock")
	for _, ep := range spec.Endpoints {
		c := call(`{"model":"m","input":"x","prompt":"x","messages":[]}`, "")
		c.Endpoint = ep
		if _, err := mock.New().(providers.Forwarder).Forward(c); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
}

// FuzzForward: any body to any endpoint of the mock: a *wire.Error or a
// JSON answer (and JSON events), never a panic.
func FuzzForward(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","prompt":"x"}`, `{"model":"m","prompt":[[1,2],[3]]}`, `{"model":"m","input":["a",[1]],"dimensions":3,"encoding_format":"base64"}`,
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"x"}]}],"instructions":"i","max_output_tokens":5}`,
		`{"input":1e400}`, `{"prompt":[1.5]}`, `{"dimensions":1e9,"input":"x"}`, `[]`, ``, `{"input":[[]]}`,
	} {
		for ep := range uint8(4) {
			f.Add([]byte(s), ep)
		}
	}
	eps := []registry.Endpoint{registry.EndpointChat, registry.EndpointCompletions, registry.EndpointEmbeddings, registry.EndpointResponses}
	f.Fuzz(func(t *testing.T, body []byte, ep uint8) {
		c := call(string(body), "")
		c.Endpoint = eps[int(ep)%len(eps)]
		p := mock.New().(providers.Forwarder)
		if resp, err := p.Forward(c); err != nil {
			if _, ok := errors.AsType[*wire.Error](err); !ok {
				t.Fatalf("%q: %T %v", body, err, err)
			}
		} else if !json.Valid(resp.Body) {
			t.Fatalf("%q: answer %q", body, resp.Body)
		}
		s, err := p.ForwardStream(c)
		if err != nil {
			return
		}
		for {
			data, err := s.Next()
			if err != nil {
				break
			}
			if !json.Valid(data) {
				t.Fatalf("%q: event %q", body, data)
			}
		}
	})
}
