package gemini

import (
	"io"
	"testing"
)

// benchRequest is a typical agent turn: a system prompt, a conversation
// with a tool call and its result, two tools.
var benchRequest = []byte(`{"model":"gemini-2.5-flash","max_tokens":1024,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},
"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}},
{"type":"function","function":{"name":"get_time","description":"Get the current time in a given time zone","parameters":{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}}}],
"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and use the tools when they help."},
{"role":"user","content":"What is the weather like in Paris today, and what time is it there?"},
{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]},
{"role":"tool","tool_call_id":"call_abc123","content":"{\"temperature\":22,\"conditions\":\"sunny\"}"},
{"role":"user","content":"Thanks. And should I bring an umbrella tomorrow?"}]}`)

var benchResponse = []byte(`{"candidates":[{"content":{"parts":[{"text":"It is sunny and 22°C in Paris right now. Tomorrow looks dry as well, so you can leave the umbrella at home."},
{"functionCall":{"name":"get_time","args":{"tz":"Europe/Paris"}}}],"role":"model"},"finishReason":"STOP","index":0}],
"usageMetadata":{"promptTokenCount":412,"candidatesTokenCount":48,"totalTokenCount":460,"cachedContentTokenCount":256,"promptTokensDetails":[{"modality":"TEXT","tokenCount":412}]},
"modelVersion":"gemini-2.5-flash","responseId":"Yb3uaNjrKo2Cz7IP2aWy2Qg"}`)

func BenchmarkTranslateRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		if _, _, err := translateRequest(benchRequest, "gemini-2.5-flash", true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslateResponse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResponse)))
	for b.Loop() {
		if _, why := translateResponse(benchResponse, reqInfo{model: "m"}, 1); why != "" {
			b.Fatal(why)
		}
	}
}

// sliceStream replays events, forever.
type sliceStream struct {
	events [][]byte
	i      int
}

func (s *sliceStream) Next() ([]byte, error) {
	e := s.events[s.i%len(s.events)]
	s.i++
	return e, nil
}
func (s *sliceStream) Ready() bool { return true }
func (s *sliceStream) Close()      {}

// BenchmarkStreamEvent is the cost per event of the translation (no
// network, no SSE parsing): a text event, the bulk of every stream.
func BenchmarkStreamEvent(b *testing.B) {
	b.ReportAllocs()
	s := &chatStream{up: &sliceStream{events: [][]byte{
		[]byte(`{"candidates":[{"content":{"parts":[{"text":"Hello, world! "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":25,"totalTokenCount":25},"modelVersion":"gemini-2.5-flash","responseId":"abc"}`),
	}}, st: newStreamState(reqInfo{model: "m"}, "m", 1)}
	for b.Loop() {
		if _, err := s.Next(); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}
