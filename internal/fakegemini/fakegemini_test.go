package fakegemini

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const hi = `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`

func TestAuthAndPaths(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{AcceptToken: func(tok string) bool { return tok == "tok" }})
	studio := s.URL + "/v1beta/models/gemini-2.5-flash:generateContent"
	vertex := s.URL + "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
	for _, tc := range []struct {
		url    string
		header []string
		status int
		want   string
	}{
		{studio, []string{"x-goog-api-key", "fake-gemini-key"}, 200, "Hello from the fake Gemini."},
		{studio + "?key=fake-gemini-key", nil, 200, "Hello from the fake Gemini."},
		{studio, []string{"x-goog-api-key", "wrong"}, 400, "API key not valid"},
		{studio, nil, 403, "PERMISSION_DENIED"},
		{vertex, []string{"Authorization", "Bearer tok"}, 200, `"modelVersion":"gemini-2.5-flash"`},
		{vertex, []string{"Authorization", "Bearer other"}, 401, "UNAUTHENTICATED"},
		{vertex, []string{"x-goog-api-key", "fake-gemini-key"}, 401, "UNAUTHENTICATED"},
		{s.URL + "/v1beta/models/x:nope", []string{"x-goog-api-key", "fake-gemini-key"}, 404, "NOT_FOUND"},
	} {
		if code, body := post(t, tc.url, hi, tc.header...); code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %v: %d %s", tc.url, tc.header, code, body)
		}
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"contents":[]}`, "contents is not specified"},
		{`{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "Please use a valid role: user, model."},
		{`{"contents":[{"role":"user","parts":[]}]}`, "contents.parts must not be empty"},
		{`{"contents":[{"role":"user","parts":[{}]}]}`, "required oneof field 'data'"},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"max_tokens":5}`, `Unknown name "max_tokens": Cannot find field.`},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"maxTokens":5}}`, `Unknown name "maxTokens" at 'generation_config'`},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1.5}}`, "(TYPE_INT32), 1.5"},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}}`, "(TYPE_FLOAT)"},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "function response turn comes immediately after a function call turn"},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"g","response":{}}}]}]}`, "answers no function call"},
		{`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{}}}]}]}`, "should be non-empty for OBJECT type"},
		{`{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"%%%"}}]}]}`, "Base64 decoding failed"},
	} {
		if err := Validate("generateContent", "m", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.want)
		}
	}
	ok := `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"a":1}}}]}],
"tools":[{"functionDeclarations":[{"name":"f"}]}],"generation_config":{"max_output_tokens":5,"thinkingConfig":{"thinkingBudget":0}}}`
	if err := Validate("generateContent", "m", []byte(ok)); err != nil {
		t.Errorf("valid request refused: %v", err)
	}
}

func TestStreamAndFailures(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	url := s.URL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
	code, body := post(t, url, hi, "x-goog-api-key", s.APIKey())
	events := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	if code != 200 || events < 2 || !strings.Contains(body, `"finishReason":"STOP"`) {
		t.Fatalf("stream: %d %s", code, body)
	}
	s.SetFailure(&Failure{Status: 429, RetryDelay: "7s"})
	code, body = post(t, s.URL+"/v1beta/models/m:generateContent", hi, "x-goog-api-key", s.APIKey())
	if code != 429 || !strings.Contains(body, "google.rpc.RetryInfo") || !strings.Contains(body, "Please retry in 7s.") {
		t.Fatalf("429: %d %s", code, body)
	}
	s.SetFailure(&Failure{Status: 503, InStream: true})
	code, body = post(t, url, hi, "x-goog-api-key", s.APIKey())
	if code != 200 || !strings.Contains(body, `"status":"UNAVAILABLE"`) {
		t.Fatalf("mid-stream: %d %s", code, body)
	}
}

// FuzzValidate: the fake's validation never panics, whatever the body.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(hi))
	f.Add([]byte(`{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"a":1}}}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}]}]}`))
	f.Add([]byte(`{"requests":[{"model":"models/m","content":{"parts":[{"text":"x"}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, verb := range []string{"generateContent", "batchEmbedContents", "countTokens", "embedContent"} {
			_ = Validate(verb, "m", body)
		}
	})
}
