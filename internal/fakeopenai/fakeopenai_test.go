package fakeopenai_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeopenai"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/azure"
	popenai "github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

func sdk(s *fakeopenai.Server) openai.Client {
	return openai.NewClient(option.WithAPIKey(s.Key), option.WithBaseURL(s.OpenAIBase()+"/"), option.WithMaxRetries(0))
}

// TestOpenAISDK: the official SDK's requests pass the fake's validation,
// and the SDK reads its answers, for every endpoint.
func TestOpenAISDK(t *testing.T) {
	t.Parallel()
	s := fakeopenai.Start(t, fakeopenai.Options{})
	c := sdk(s)
	ctx := context.Background()

	chat, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}})
	if err != nil || chat.Choices[0].Message.Content != `Mock reply to: "Hello"` || chat.Usage.TotalTokens == 0 {
		t.Fatalf("chat: %v %+v", err, chat)
	}
	st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc := openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || acc.Choices[0].Message.Content != `Mock reply to: "Hello"` || acc.Usage.TotalTokens == 0 {
		t.Fatalf("chat stream: %v %+v", st.Err(), acc)
	}
	if last := s.Last(t); !last.Stream || last.Endpoint != registry.EndpointChat || last.Dialect != "openai" {
		t.Fatalf("recorded %+v", last)
	}

	comp, err := c.Completions.New(ctx, openai.CompletionNewParams{Model: "gpt-3.5-turbo-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")}})
	if err != nil || comp.Choices[0].Text == "" || comp.Usage.PromptTokens == 0 {
		t.Fatalf("completions: %v %+v", err, comp)
	}
	cst := c.Completions.NewStreaming(ctx, openai.CompletionNewParams{Model: "gpt-3.5-turbo-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")}})
	var text strings.Builder
	for cst.Next() {
		for _, ch := range cst.Current().Choices {
			text.WriteString(ch.Text)
		}
	}
	if cst.Err() != nil || text.String() != comp.Choices[0].Text {
		t.Fatalf("completions stream: %v %q", cst.Err(), text.String())
	}

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small", Dimensions: openai.Int(16),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 16 || emb.Usage.PromptTokens != 2 {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}

	resp, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
	if err != nil || resp.OutputText() != `Mock reply to: "Hello"` || resp.Usage.TotalTokens == 0 {
		t.Fatalf("responses: %v %+v", err, resp)
	}
	got, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != resp.ID || got.OutputText() != resp.OutputText() {
		t.Fatalf("GET: %v %+v", err, got)
	}
	if err := c.Responses.Delete(ctx, resp.ID); err != nil || s.Stored(resp.ID) {
		t.Fatalf("DELETE: %v", err)
	}
	var apiErr *openai.Error
	if _, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("GET after DELETE: %v", err)
	}
	rst := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
	var completed responses.Response
	n := 0
	for rst.Next() {
		n++
		if e, ok := rst.Current().AsAny().(responses.ResponseCompletedEvent); ok {
			completed = e.Response
		}
	}
	if rst.Err() != nil || n < 9 || completed.Usage.TotalTokens == 0 || !s.Stored(completed.ID) {
		t.Fatalf("responses stream: %v, %d events, %+v", rst.Err(), n, completed.Usage)
	}

	mod, err := c.Moderations.New(ctx, openai.ModerationNewParams{Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil || len(mod.Results) != 1 || mod.Results[0].Flagged {
		t.Fatalf("moderations: %v %+v", err, mod)
	}
	img, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: "gpt-image-1", Prompt: "a cat"})
	if err != nil || len(img.Data) != 1 || img.Data[0].B64JSON == "" || img.Usage.TotalTokens == 0 {
		t.Fatalf("images: %v %+v", err, img)
	}
	audio, err := c.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: "tts-1", Input: "hi", Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(audio.Body)
	audio.Body.Close()
	if !bytes.Equal(b, fakeopenai.Speech) || audio.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("speech: %q %s", b, audio.Header.Get("Content-Type"))
	}
	tr, err := c.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{Model: "gpt-4o-transcribe",
		File: openai.File(strings.NewReader("RIFF...."), "hello.wav", "audio/wav")})
	if err != nil || !strings.Contains(tr.Text, "hello.wav") || tr.Usage.InputTokens == 0 {
		t.Fatalf("transcriptions: %v %+v", err, tr)
	}
	if last := s.Last(t); last.Endpoint != registry.EndpointTranscriptions || !strings.HasPrefix(last.ContentType, "multipart/form-data") {
		t.Fatalf("recorded %+v", last)
	}
}

// raw sends one request and returns the status and body.
func raw(t *testing.T, method, url string, headers map[string]string, contentType, body string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.SetContentType(contentType)
	}
	req.SetBodyString(body)
	if err := fasthttp.DoTimeout(req, resp, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Body())
}

// TestValidation: what the real APIs refuse, the fake refuses.
func TestValidation(t *testing.T) {
	t.Parallel()
	s := fakeopenai.Start(t, fakeopenai.Options{Key: "sk-right", Deployments: []string{"dep"}})
	bearer := map[string]string{"Authorization": "Bearer sk-right"}
	apiKey := map[string]string{"api-key": "sk-right"}
	const js = "application/json"
	for _, tc := range []struct {
		name, method, path string
		headers            map[string]string
		ct, body           string
		status             int
		msg                string
	}{
		{"no key", "POST", "/v1/chat/completions", nil, js, `{}`, 401, "didn't provide an API key"},
		{"wrong key, quoted", "POST", "/v1/embeddings", map[string]string{"Authorization": "Bearer sk-wrong"}, js, `{}`, 401, "sk-wrong"},
		{"api-key on OpenAI", "POST", "/v1/embeddings", apiKey, js, `{}`, 401, ""},
		{"bearer on Azure", "POST", "/openai/deployments/dep/embeddings?api-version=2024-10-21", bearer, js, `{"input":"x"}`, 401, "Access denied"},
		{"no api-version", "POST", "/openai/deployments/dep/embeddings", apiKey, js, `{"input":"x"}`, 404, "Resource not found"},
		{"unknown deployment", "POST", "/openai/deployments/other/embeddings?api-version=2024-10-21", apiKey, js, `{"input":"x"}`, 404, "DeploymentNotFound"},
		{"no moderations on Azure", "POST", "/openai/deployments/dep/moderations?api-version=2024-10-21", apiKey, js, `{"input":"x"}`, 404, ""},
		{"old responses version", "POST", "/openai/responses?api-version=2024-10-21", apiKey, js, `{"model":"dep","input":"x"}`, 400, "2025-03-01-preview"},
		{"v1 with a dated version", "POST", "/openai/v1/responses?api-version=2025-04-01-preview", apiKey, js, `{"model":"dep","input":"x"}`, 400, "not supported"},
		{"not JSON", "POST", "/v1/chat/completions", bearer, js, `{`, 400, "parse the JSON body"},
		{"no model", "POST", "/v1/chat/completions", bearer, js, `{"messages":[{"role":"user","content":"x"}]}`, 400, "model parameter"},
		{"no messages", "POST", "/v1/chat/completions", bearer, js, `{"model":"m"}`, 400, "'messages'"},
		{"empty messages", "POST", "/v1/chat/completions", bearer, js, `{"model":"m","messages":[]}`, 400, "empty array"},
		{"bad role", "POST", "/v1/chat/completions", bearer, js, `{"model":"m","messages":[{"role":"bot","content":"x"}]}`, 400, "role"},
		{"no prompt", "POST", "/v1/completions", bearer, js, `{"model":"m"}`, 400, "'prompt'"},
		{"no input", "POST", "/v1/embeddings", bearer, js, `{"model":"m"}`, 400, "'input'"},
		{"empty input", "POST", "/v1/embeddings", bearer, js, `{"model":"m","input":""}`, 400, "$.input"},
		{"object input", "POST", "/v1/embeddings", bearer, js, `{"model":"m","input":{"a":1}}`, 400, "$.input"},
		{"bad encoding", "POST", "/v1/embeddings", bearer, js, `{"model":"m","input":"x","encoding_format":"int8"}`, 400, "encoding_format"},
		{"responses without input", "POST", "/v1/responses", bearer, js, `{"model":"m"}`, 400, "'input'"},
		{"moderations without input", "POST", "/v1/moderations", bearer, js, `{}`, 400, "'input'"},
		{"images without prompt", "POST", "/v1/images/generations", bearer, js, `{"model":"dall-e-3"}`, 400, "'prompt'"},
		{"speech without voice", "POST", "/v1/audio/speech", bearer, js, `{"model":"tts-1","input":"x"}`, 400, "'voice'"},
		{"transcription as JSON", "POST", "/v1/audio/transcriptions", bearer, js, `{"model":"whisper-1"}`, 400, "multipart/form-data"},
		{"unknown response", "GET", "/v1/responses/resp_nope", bearer, "", ``, 404, "resp_nope"},
		{"unknown path", "POST", "/v1/nope", bearer, js, `{"model":"m"}`, 404, "Invalid URL"},
		// Accepted: Azure's deployment path needs no model in the body.
		{"azure embeddings", "POST", "/openai/deployments/dep/embeddings?api-version=2024-10-21", apiKey, js, `{"input":["x",[1,2]]}`, 200, `"embedding"`},
		{"azure v1 responses", "POST", "/openai/v1/responses?api-version=preview", apiKey, js, `{"model":"dep","input":"x"}`, 200, `"object":"response"`},
		{"token prompt", "POST", "/v1/completions", bearer, js, `{"model":"m","prompt":[[1,2],[3]]}`, 200, `"text_completion"`},
	} {
		status, body := raw(t, tc.method, s.URL+tc.path, tc.headers, tc.ct, tc.body)
		if status != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, status, body, tc.status, tc.msg)
		}
	}
	// Transcriptions need a file.
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("model", "whisper-1")
	_ = w.Close()
	if status, body := raw(t, "POST", s.URL+"/v1/audio/transcriptions", bearer, w.FormDataContentType(), mp.String()); status != 400 || !strings.Contains(body, "'file'") {
		t.Errorf("transcription without a file: %d %s", status, body)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := fakeopenai.Start(t, fakeopenai.Options{})
	s.FailNext(429, "")
	bearer := map[string]string{"Authorization": "Bearer " + s.Key}
	body := `{"model":"m","input":"x"}`
	if status, _ := raw(t, "POST", s.OpenAIBase()+"/embeddings", bearer, "application/json", body); status != 429 {
		t.Fatalf("first call: %d", status)
	}
	if status, _ := raw(t, "POST", s.OpenAIBase()+"/embeddings", bearer, "application/json", body); status != 200 {
		t.Fatalf("second call: %d", status)
	}
	if n := len(s.Requests()); n != 2 {
		t.Fatalf("%d requests recorded", n)
	}
}

// TestProviders: the openai and azure providers reach every endpoint of
// their registry entries on the fake, which accepts their requests, and
// the wire package reads the usage of the answers.
func TestProviders(t *testing.T) {
	t.Parallel()
	s := fakeopenai.Start(t, fakeopenai.Options{Deployments: []string{"dep"}})
	client := providers.NewClient()
	deployments := map[string]*configs.Deployment{
		"openai": {ModelName: "m", Provider: "openai", UpstreamModel: "gpt-4o", APIKey: s.Key,
			LiteLLMParams: configs.LiteLLMParams{Model: "openai/gpt-4o", APIBase: s.OpenAIBase()}},
		"azure": {ModelName: "m", Provider: "azure", UpstreamModel: "dep", APIKey: s.Key,
			LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: s.AzureBase(), APIVersion: "2025-04-01-preview"}},
		"azure v1": {ModelName: "m", Provider: "azure", UpstreamModel: "dep", APIKey: s.Key,
			LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: s.AzureBase()}},
	}
	bodies := map[registry.Endpoint]string{
		registry.EndpointChat:        `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`,
		registry.EndpointCompletions: `{"model":"%s","prompt":"hi"}`,
		registry.EndpointEmbeddings:  `{"model":"%s","input":"hi"}`,
		registry.EndpointResponses:   `{"model":"%s","input":"hi"}`,
		registry.EndpointModerations: `{"model":"%s","input":"hi"}`,
		registry.EndpointImages:      `{"model":"gpt-image-1","prompt":"a cat"}`,
		registry.EndpointSpeech:      `{"model":"%s","input":"hi","voice":"alloy"}`,
	}
	for name, d := range deployments {
		spec, _ := registry.Lookup(d.Provider)
		var p providers.Forwarder
		if d.Provider == "azure" {
			p = azure.New(client).(providers.Forwarder)
		} else {
			p = popenai.New(client).(providers.Forwarder)
		}
		for _, ep := range spec.Endpoints {
			if name == "azure v1" && ep != registry.EndpointResponses {
				continue
			}
			call := &providers.Call{Deployment: d, Endpoint: ep, Deadline: time.Now().Add(5 * time.Second)}
			if ep == registry.EndpointTranscriptions {
				var mp bytes.Buffer
				w := multipart.NewWriter(&mp)
				_ = w.WriteField("model", "whisper-1")
				fw, _ := w.CreateFormFile("file", "a.wav")
				_, _ = fw.Write([]byte("RIFF"))
				_ = w.Close()
				call.Body, call.ContentType = mp.Bytes(), w.FormDataContentType()
			} else {
				call.Body = []byte(strings.Replace(bodies[ep], "%s", d.UpstreamModel, 1))
			}
			resp, err := p.Forward(call)
			if err != nil {
				t.Fatalf("%s %s: %v (%+v)", name, ep, err, s.Last(t))
			}
			u := wire.ParseUnary(ep, resp.Body)
			switch ep {
			case registry.EndpointChat, registry.EndpointCompletions, registry.EndpointEmbeddings, registry.EndpointResponses, registry.EndpointImages:
				if !u.Usage.Reported || u.Usage.Prompt == 0 {
					t.Errorf("%s %s: usage %+v of %.200s", name, ep, u.Usage, resp.Body)
				}
			}
			if ep == registry.EndpointResponses {
				id := wire.Lookup(resp.Body, "id").Str
				for _, method := range []string{"GET", "DELETE"} {
					if _, err := p.Forward(&providers.Call{Deployment: d, Endpoint: ep, Method: method, ObjectID: id,
						Deadline: time.Now().Add(5 * time.Second)}); err != nil {
						t.Fatalf("%s %s %s: %v", name, method, id, err)
					}
				}
				if s.Stored(id) {
					t.Fatalf("%s: %s still stored after DELETE", name, id)
				}
				// Streamed: the reader finds the usage of response.completed.
				call.Body = []byte(strings.Replace(`{"model":"%s","input":"hi","stream":true}`, "%s", d.UpstreamModel, 1))
				st, err := p.ForwardStream(call)
				if err != nil {
					t.Fatal(err)
				}
				r := wire.NewStreamReader(ep)
				for {
					data, err := st.Next()
					if err != nil {
						break
					}
					r.Read(data)
				}
				st.Close()
				if !r.Usage().Reported {
					t.Fatalf("%s: streamed responses: no usage", name)
				}
			}
		}
	}
	// A wrong key: the fake quotes it, the provider scrubs it.
	d := *deployments["openai"]
	d.APIKey = "sk-wrong-key-0123456789abcdef"
	_, err := popenai.New(client).(providers.Forwarder).Forward(&providers.Call{Deployment: &d, Endpoint: registry.EndpointEmbeddings,
		Body: []byte(`{"model":"m","input":"x"}`), Deadline: time.Now().Add(5 * time.Second)})
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 401 || strings.Contains(we.Message, d.APIKey) {
		t.Fatalf("wrong key: %v", err)
	}
}
