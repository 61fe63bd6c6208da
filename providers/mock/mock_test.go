package mock_test

import (
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/mock"
)

func call(body, deploymentMock string) *providers.Call {
	return &providers.Call{
		Deployment: &configs.Deployment{ModelName: "demo", LiteLLMParams: configs.LiteLLMParams{MockResponse: deploymentMock}},
		Body:       []byte(body),
	}
}

func TestCompleteShape(t *testing.T) {
	msgs := `"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"Hello there"}]}]`
	tests := []struct{ name, body, deploymentMock, want string }{
		{"echo", `{"model":"m",` + msgs + `}`, "", `Mock reply to: "Hello there"`},
		{"deployment mock_response", `{"model":"m",` + msgs + `}`, "from config", "from config"},
		{"request mock_response wins", `{"model":"m","mock_response":"from body",` + msgs + `}`, "from config", "from body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := mock.New().Complete(call(tt.body, tt.deploymentMock))
			if err != nil {
				t.Fatal(err)
			}
			b := gjson.ParseBytes(resp.Body)
			if resp.Status != 200 || resp.ContentType != "application/json" {
				t.Fatalf("response = %+v", resp)
			}
			if !strings.HasPrefix(b.Get("id").String(), "chatcmpl-") || b.Get("object").String() != "chat.completion" ||
				b.Get("created").Int() == 0 || b.Get("model").String() != "m" {
				t.Fatalf("envelope = %s", resp.Body)
			}
			if b.Get("choices.0.message.role").String() != "assistant" || b.Get("choices.0.message.content").String() != tt.want ||
				b.Get("choices.0.finish_reason").String() != "stop" {
				t.Fatalf("choice = %s", b.Get("choices.0").Raw)
			}
			u := b.Get("usage")
			p, c := u.Get("prompt_tokens").Int(), u.Get("completion_tokens").Int()
			if p != 5 || c != int64((len(tt.want)+3)/4) || u.Get("total_tokens").Int() != p+c {
				t.Fatalf("usage = %s", u.Raw) // "be brief"+"Hello there" = 19 bytes -> 5 tokens
			}
		})
	}
}

func TestStreamShape(t *testing.T) {
	for _, includeUsage := range []bool{false, true} {
		body := `{"model":"m","stream":true,"mock_response":"Hi there friend","messages":[]}`
		if includeUsage {
			body = strings.Replace(body, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1)
		}
		s, err := mock.New().OpenStream(call(body, ""))
		if err != nil {
			t.Fatal(err)
		}
		var chunks []gjson.Result
		for {
			ev, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			chunks = append(chunks, gjson.ParseBytes(ev))
		}
		s.Close()
		s.Close()
		want := 5 // role, 3 words, finish
		if includeUsage {
			want++
		}
		if len(chunks) != want {
			t.Fatalf("include_usage=%v: %d chunks, want %d", includeUsage, len(chunks), want)
		}
		var content strings.Builder
		for i, c := range chunks {
			if c.Get("object").String() != "chat.completion.chunk" || c.Get("model").String() != "m" ||
				c.Get("id").String() != chunks[0].Get("id").String() {
				t.Fatalf("chunk %d = %s", i, c.Raw)
			}
			content.WriteString(c.Get("choices.0.delta.content").String())
		}
		if chunks[0].Get("choices.0.delta.role").String() != "assistant" || content.String() != "Hi there friend" {
			t.Fatalf("role chunk %s, content %q", chunks[0].Raw, content.String())
		}
		if got := chunks[4].Get("choices.0.finish_reason").String(); got != "stop" {
			t.Fatalf("finish chunk = %s", chunks[4].Raw)
		}
		if includeUsage {
			last := chunks[5]
			if !last.Get("choices").IsArray() || len(last.Get("choices").Array()) != 0 || last.Get("usage.total_tokens").Int() != 1+4 {
				t.Fatalf("usage chunk = %s", last.Raw)
			}
		}
	}
}
