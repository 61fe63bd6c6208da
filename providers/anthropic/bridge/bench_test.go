package bridge

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// A Claude Code-sized turn: a system prompt, tools, a tool round trip.
func benchInput(b *testing.B, path string) []byte {
	in, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func BenchmarkRequestToChat(b *testing.B) {
	in := benchInput(b, "testdata/request/tool_turns.in.json")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, werr := RequestToChat(in); werr != nil {
			b.Fatal(werr)
		}
	}
}

func BenchmarkResponseFromChat(b *testing.B) {
	in := benchInput(b, "testdata/response/tool_calls.in.json")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, werr := ResponseFromChat(in, "claude-sonnet-4-5"); werr != nil {
			b.Fatal(werr)
		}
	}
}

// BenchmarkStreamFromChat translates a 100-chunk text stream with a usage
// chunk (per op: the whole stream).
func streamChunks() *rawSource {
	var lines [][]byte
	lines = append(lines, []byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`))
	for range 100 {
		lines = append(lines, []byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}],"usage":null}`))
	}
	lines = append(lines, []byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`),
		[]byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":100,"total_tokens":109,"prompt_tokens_details":{"cached_tokens":0}}}`))
	return &rawSource{lines: lines}
}

func BenchmarkStreamFromChat(b *testing.B) {
	src := streamChunks()
	b.SetBytes(int64(len(bytes.Join(src.lines, nil))))
	b.ReportAllocs()
	for b.Loop() {
		src.i = 0
		s := StreamFromChat(src, "claude-sonnet-4-5")
		for {
			s.Ready()
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// bigRequest is a Claude Code-sized request: a long system prompt, 15
// tools, 30 turns with tool calls and results (~100 KB).
func bigRequest() []byte {
	para := strings.Repeat("You are an interactive CLI tool that helps users with software engineering tasks. \"Quote\"\n", 20)
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":32000,"stream":true,"system":[{"type":"text","text":"You are Claude Code."},{"type":"text","text":`)
	b.WriteString(strconv.Quote(strings.Repeat(para, 6)))
	b.WriteString(`,"cache_control":{"type":"ephemeral"}}],"tools":[`)
	for i := range 15 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"tool_%d","description":%s,"input_schema":{"type":"object","properties":{"path":{"type":"string","description":"The absolute path"},"limit":{"type":"number"}},"required":["path"],"additionalProperties":false}}`, i, strconv.Quote(para))
	}
	b.WriteString(`],"messages":[{"role":"user","content":"Fix the bug in main.go"}`)
	for i := range 15 {
		fmt.Fprintf(&b, `,{"role":"assistant","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_%d","name":"tool_1","input":{"path":"/src/main.go","limit":200}}]}`, i)
		fmt.Fprintf(&b, `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%d","content":%s}]}`, i, strconv.Quote(strings.Repeat("func main() {\n\tfmt.Println(\"hello\")\n}\n", 60)))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkRequestToChatBig(b *testing.B) {
	in := bigRequest()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, werr := RequestToChat(in); werr != nil {
			b.Fatal(werr)
		}
	}
}

// BenchmarkPassThroughBaseline is what the gateway does to a chat body it
// passes through (find and replace the model), for comparison.
func BenchmarkPassThroughBaseline(b *testing.B) {
	in := bigRequest()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if !gjson.ValidBytes(in) {
			b.Fatal("invalid")
		}
		if _, err := wire.SetModel(in, "gpt-4o"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamPassThroughBaseline is what the gateway does to each
// chunk of a chat stream it passes through (read usage and model, rewrite
// the model), over the same chunks as BenchmarkStreamFromChat.
func BenchmarkStreamPassThroughBaseline(b *testing.B) {
	src := streamChunks()
	b.ReportAllocs()
	for b.Loop() {
		src.i = 0
		for {
			ev, err := src.Next()
			if err == io.EOF {
				break
			}
			c := wire.ParseChunk(ev)
			if _, err := wire.SetModelAt(ev, c.ModelAt, "claude-sonnet-4-5"); err != nil {
				b.Fatal(err)
			}
		}
	}
}
