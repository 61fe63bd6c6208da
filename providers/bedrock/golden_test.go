package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/llmgateway/gateway/internal/goldenfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

const testCreated = 1700000000

func golden(t *testing.T, path string, got []byte) { t.Helper(); goldenfile.Check(t, path, got) }

func indent(t *testing.T, b []byte) []byte { t.Helper(); return goldenfile.Indent(t, b) }

func inputs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/%s: %v", dir, err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".out.json") {
			out = append(out, f)
		}
	}
	return out
}

func outPath(in, ext string) string { return strings.TrimSuffix(in, ".json") + ext }

// TestRequestGolden: every testdata/request/X.json (an OpenAI chat
// request whose model is the Bedrock model id) translates to X.out.json.
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "request") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, info, werr := translateRequest(body, gjson.GetBytes(body, "model").Str)
			if werr != nil {
				t.Fatalf("refused: %v", werr)
			}
			got := indent(t, out)
			got = append(got, []byte("// includeUsage="+boolStr(info.includeUsage)+" jsonMode="+boolStr(info.jsonMode)+"\n")...)
			golden(t, outPath(in, ".out.txt"), got)
		})
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestResponseGolden: every testdata/response/X.json (a Converse answer)
// translates to X.out.json; json_* files answer a response_format request.
func TestResponseGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "response") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			info := reqInfo{model: "anthropic.claude-3-5-sonnet-20240620-v1:0", jsonMode: strings.HasPrefix(filepath.Base(in), "json_")}
			out, why := translateResponse(body, info, "chatcmpl-test", testCreated)
			if why != "" {
				t.Fatalf("not translated: %s", why)
			}
			golden(t, outPath(in, ".out.json"), indent(t, out))
		})
	}
}

// frames encodes a testdata/stream file: a list of {"event","payload"}
// or {"exception","payload"}.
func frames(t testing.TB, b []byte) []byte {
	var evs []struct {
		Event, Exception string
		Payload          json.RawMessage
	}
	if err := json.Unmarshal(b, &evs); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, e := range evs {
		var h eventstream.Headers
		h.Set(":content-type", eventstream.StringValue("application/json"))
		if e.Exception != "" {
			h.Set(":message-type", eventstream.StringValue("exception"))
			h.Set(":exception-type", eventstream.StringValue(e.Exception))
		} else {
			h.Set(":message-type", eventstream.StringValue("event"))
			h.Set(":event-type", eventstream.StringValue(e.Event))
		}
		if err := enc.Encode(&buf, eventstream.Message{Headers: h, Payload: e.Payload}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func testStream(body []byte, info reqInfo) *chatStream {
	s := newChatStream(bytes.NewReader(body), nil, nil, info, "claude")
	s.st = newStreamState(info, "chatcmpl-test", testCreated)
	return s
}

// TestStreamGolden: every testdata/stream/X.json (ConverseStream events)
// becomes the chunks (and the final error) of X.out.txt, with and without
// include_usage.
func TestStreamGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "stream") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for _, usage := range []bool{true, false} {
				got = append(got, "# include_usage="+boolStr(usage)+"\n"...)
				s := testStream(frames(t, b), reqInfo{model: "anthropic.claude-3-5-sonnet-20240620-v1:0", includeUsage: usage})
				for {
					c, err := s.Next()
					if err != nil {
						if !errors.Is(err, io.EOF) {
							we, _ := errors.AsType[*wire.Error](err)
							if we == nil {
								t.Fatalf("error %T %v", err, err)
							}
							got = append(got, "error: "...)
							got = append(got, we.JSON()...)
							got = append(got, '\n')
						} else {
							got = append(got, "EOF\n"...)
						}
						break
					}
					if !json.Valid(c) {
						t.Fatalf("invalid chunk %s", c)
					}
					got = append(got, c...)
					got = append(got, '\n')
				}
				s.Close()
			}
			golden(t, outPath(in, ".out.txt"), got)
		})
	}
}

// TestErrorGolden: every testdata/errors/X.json (a Bedrock error answer:
// status, x-amzn-errortype, retry-after, body) becomes X.out.json.
func TestErrorGolden(t *testing.T) {
	t.Parallel()
	d := &configs.Deployment{ModelName: "claude"}
	for _, in := range inputs(t, "errors") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			v := gjson.ParseBytes(b)
			body := []byte(v.Get("body").Raw)
			if v.Get("body").Type == gjson.String {
				body = []byte(v.Get("body").Str)
			}
			pr := &prepared{host: "bedrock-runtime.us-east-1.amazonaws.com"}
			e := statusError(d, pr, int(v.Get("status").Int()), []byte(v.Get("errortype").Str), []byte(v.Get("retry_after").Str), body)
			out, _ := json.Marshal(map[string]any{"status": e.Status, "retry_after": e.RetryAfter, "body": json.RawMessage(e.JSON())})
			golden(t, outPath(in, ".out.json"), indent(t, out))
		})
	}
}
