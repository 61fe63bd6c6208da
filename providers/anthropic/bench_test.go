package anthropic

import (
	"io"
	"testing"
)

// benchRequest is a typical agent turn: a system prompt, a conversation
// with a tool call and its result, two tools.
var benchRequest = []byte(`{"model":"claude-sonnet-4-5","max_tokens":1024,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},
"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}},
{"type":"function","function":{"name":"get_time","description":"Get the current time in a given time zone","parameters":{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}}}],
"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and use the tools when they help."},
{"role":"user","content":"What is the weather like in Paris today, and what time is it there?"},
{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]},
{"role":"tool","tool_call_id":"call_abc123","content":"{\"temperature\":22,\"conditions\":\"sunny\"}"},
{"role":"user","content":"Thanks. And should I bring an umbrella tomorrow?"}]}`)

var benchResponse = []byte(`{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
"content":[{"type":"text","text":"It is sunny and 22°C in Paris right now. Tomorrow looks dry as well, so you can leave the umbrella at home."},
{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_time","input":{"tz":"Europe/Paris"}}],
"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":256,"output_tokens":48}}`)

func BenchmarkTranslateRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		if _, _, err := translateRequest(benchRequest, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslateResponse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResponse)))
	for b.Loop() {
		if _, why := translateResponse(benchResponse, reqInfo{}, 1); why != "" {
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
// network, no SSE parsing): a text delta, the bulk of every stream.
func BenchmarkStreamEvent(b *testing.B) {
	b.ReportAllocs()
	s := &chatStream{up: &sliceStream{events: [][]byte{
		[]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, world! "}}`),
	}}, st: newStreamState(reqInfo{}, "m", 1)}
	_ = s.st.event([]byte(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":25,"output_tokens":1}}}`))
	for b.Loop() {
		if _, err := s.Next(); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamToolDelta: an input_json_delta event.
func BenchmarkStreamToolDelta(b *testing.B) {
	b.ReportAllocs()
	s := &chatStream{up: &sliceStream{events: [][]byte{
		[]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Par"}}`),
	}}, st: newStreamState(reqInfo{}, "m", 1)}
	_ = s.st.event([]byte(`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`))
	s.st.reset()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
