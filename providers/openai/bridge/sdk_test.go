package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

// The golden outputs decode with openai-go's types: Responses objects
// (no field it does not know but store), and every stream event.

func TestGoldenResponsesDecodeWithSDK(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/response/*.out.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r responses.Response
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkResponse(t, f, &r)
	}
}

func checkResponse(t *testing.T, name string, r *responses.Response) {
	t.Helper()
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.Model != "my-model" || r.CreatedAt == 0 {
		t.Errorf("%s: id %q object %q model %q", name, r.ID, r.Object, r.Model)
	}
	for k := range r.JSON.ExtraFields {
		if k != "store" {
			t.Errorf("%s: a field the SDK does not know: %s", name, k)
		}
	}
	for i, it := range r.Output {
		switch it.Type {
		case "message":
			m := it.AsMessage()
			if m.ID == "" || m.Role != "assistant" || len(m.Content) != 1 {
				t.Errorf("%s: output %d: %s", name, i, it.RawJSON())
			}
		case "function_call":
			c := it.AsFunctionCall()
			if c.ID == "" || c.CallID == "" || c.Name == "" || !json.Valid([]byte(c.Arguments)) {
				t.Errorf("%s: output %d: %s", name, i, it.RawJSON())
			}
		case "reasoning":
			if len(it.AsReasoning().Summary) == 0 {
				t.Errorf("%s: output %d: %s", name, i, it.RawJSON())
			}
		default:
			t.Errorf("%s: output %d of type %q", name, i, it.Type)
		}
	}
	if r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens {
		t.Errorf("%s: usage %+v", name, r.Usage)
	}
}

func TestGoldenStreamsDecodeWithSDK(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/stream/*.out.sse")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(l) == 0 || l[0] == '/' {
				continue
			}
			var ev responses.ResponseStreamEventUnion
			if err := json.Unmarshal(l, &ev); err != nil {
				t.Fatalf("%s: %v: %s", f, err, l)
			}
			switch v := ev.AsAny().(type) {
			case responses.ResponseCompletedEvent:
				checkResponse(t, f, &v.Response)
			case responses.ResponseIncompleteEvent:
				checkResponse(t, f, &v.Response)
				if v.Response.IncompleteDetails.Reason == "" {
					t.Errorf("%s: incomplete without a reason", f)
				}
			case responses.ResponseFailedEvent:
				if v.Response.Error.Message == "" {
					t.Errorf("%s: failed without an error", f)
				}
			case nil:
				t.Errorf("%s: an event openai-go does not know: %s", f, l)
			}
		}
	}
}

// chatUpstream answers a chat request as a model would: a call of the
// forced tool, else text (quoting a tool result when there is one).
func chatUpstream(chat []byte) (answer []byte, chunks [][]byte) {
	req := gjson.ParseBytes(chat)
	msgs := req.Get("messages").Array()
	last := msgs[len(msgs)-1]
	forced := req.Get("tool_choice.function.name").Str
	text := "Hello there."
	if last.Get("role").Str == "tool" {
		text = "It is " + last.Get("content").Str + "."
	}
	usage := `{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}`
	if forced != "" {
		answer = []byte(`{"id":"chatcmpl-t","object":"chat.completion","created":1700000000,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"` + forced + `","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":` + usage + `}`)
		chunks = [][]byte{
			[]byte(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"` + forced + `","arguments":""}}]},"finish_reason":null}]}`),
			[]byte(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}`),
			[]byte(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}`),
			[]byte(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[],"usage":` + usage + `}`),
		}
		return answer, chunks
	}
	lit, _ := json.Marshal(text)
	answer = []byte(`{"id":"chatcmpl-x","object":"chat.completion","created":1700000000,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":` + string(lit) + `},"finish_reason":"stop"}],"usage":` + usage + `}`)
	half := len(text) / 2
	a, _ := json.Marshal(text[:half])
	b, _ := json.Marshal(text[half:])
	chunks = [][]byte{
		[]byte(`{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":` + string(a) + `},"finish_reason":null}]}`),
		[]byte(`{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[{"index":0,"delta":{"content":` + string(b) + `},"finish_reason":"stop"}]}`),
		[]byte(`{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"up","choices":[],"usage":` + usage + `}`),
	}
	return answer, chunks
}

// bridgeServer serves /v1/responses through the bridge over chatUpstream,
// as the gateway does (named events).
func bridgeServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		chat, stream, werr := RequestToChat(body, Options{})
		if werr != nil {
			w.Header().Set("content-type", "application/json")
			w.WriteHeader(werr.Status)
			_, _ = w.Write(werr.JSON())
			return
		}
		model := gjson.GetBytes(body, "model").Str
		answer, chunks := chatUpstream(chat)
		echo := EchoOf(body, model)
		if !stream {
			out, werr := ResponseFromChat(answer, echo)
			if werr != nil {
				t.Errorf("ResponseFromChat: %v", werr)
			}
			w.Header().Set("content-type", "application/json")
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("content-type", "text/event-stream")
		s := StreamFromChat(&sliceStream{chunks: chunks}, echo)
		for {
			ev, err := s.Next()
			if err != nil {
				break
			}
			typ := gjson.GetBytes(ev, "type").Str
			_, _ = io.WriteString(w, "event: "+typ+"\ndata: ")
			_, _ = w.Write(ev)
			_, _ = io.WriteString(w, "\n\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOpenAIGoResponsesClient: openai-go's Responses client against the
// bridge: unary, streaming (events accumulated), and a function tool
// round trip with function_call_output.
func TestOpenAIGoResponsesClient(t *testing.T) {
	t.Parallel()
	srv := bridgeServer(t)
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "my-model", Instructions: openai.String("Be brief."),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")}}
	r, err := c.Responses.New(ctx, params)
	if err != nil || r.OutputText() != "Hello there." || r.Model != "my-model" || r.Usage.TotalTokens != 18 {
		t.Fatalf("unary: %v %s", err, r.RawJSON())
	}

	st := c.Responses.NewStreaming(ctx, params)
	var text strings.Builder
	var done responses.Response
	n := 0
	for st.Next() {
		ev := st.Current()
		if ev.SequenceNumber != int64(n) {
			t.Fatalf("event %d has sequence_number %d", n, ev.SequenceNumber)
		}
		n++
		switch v := ev.AsAny().(type) {
		case responses.ResponseTextDeltaEvent:
			text.WriteString(v.Delta)
		case responses.ResponseCompletedEvent:
			done = v.Response
		}
	}
	if st.Err() != nil || text.String() != "Hello there." || done.OutputText() != text.String() || done.Usage.OutputTokens != 7 {
		t.Fatalf("stream: %v %q %s", st.Err(), text.String(), done.RawJSON())
	}

	tool := responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{Name: "get_weather", Strict: openai.Bool(true),
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
			"required": []string{"city"}, "additionalProperties": false}}}
	p := params
	p.Tools = []responses.ToolUnionParam{tool}
	p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: "get_weather"}}
	for _, stream := range []bool{false, true} {
		var call responses.ResponseFunctionToolCall
		if stream {
			st := c.Responses.NewStreaming(ctx, p)
			var args strings.Builder
			for st.Next() {
				switch v := st.Current().AsAny().(type) {
				case responses.ResponseFunctionCallArgumentsDeltaEvent:
					args.WriteString(v.Delta)
				case responses.ResponseOutputItemDoneEvent:
					if v.Item.Type == "function_call" {
						call = v.Item.AsFunctionCall()
					}
				}
			}
			if st.Err() != nil || args.String() != call.Arguments {
				t.Fatalf("stream tools: %v, deltas %q, item %+v", st.Err(), args.String(), call)
			}
		} else {
			r, err := c.Responses.New(ctx, p)
			if err != nil || len(r.Output) != 1 {
				t.Fatalf("tools: %v", err)
			}
			call = r.Output[0].AsFunctionCall()
		}
		if call.Name != "get_weather" || call.CallID != "call_1" || call.Arguments != `{"city":"Paris"}` {
			t.Fatalf("call %+v", call)
		}
		out := responses.ResponseInputItemParamOfFunctionCallOutput("18C")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		next := params
		next.Tools = []responses.ToolUnionParam{tool}
		next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
			out,
		}}
		r2, err := c.Responses.New(ctx, next)
		if err != nil || r2.OutputText() != "It is 18C." {
			t.Fatalf("function_call_output turn: %v %s", err, r2.RawJSON())
		}
	}

	// State is refused with the API's error shape.
	p = params
	p.PreviousResponseID = openai.String(r.ID)
	var apiErr *openai.Error
	if _, err := c.Responses.New(ctx, p); err == nil || !asOpenAIError(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "previous_response_id" {
		t.Fatalf("previous_response_id: %v", err)
	}
}

func asOpenAIError(err error, target **openai.Error) bool { return errors.As(err, target) }
