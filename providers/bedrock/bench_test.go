package bedrock

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/valyala/fasthttp"
)

// BenchmarkTranslateRequest: an OpenAI chat request with tools and a
// tool round trip to a Converse request.
func BenchmarkTranslateRequest(b *testing.B) {
	body, err := os.ReadFile("testdata/request/tools.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, werr := translateRequest(body, "us.anthropic.claude-3-7-sonnet-20250219-v1:0"); werr != nil {
			b.Fatal(werr)
		}
	}
}

// BenchmarkTranslateResponse: a Converse answer with reasoning and a tool
// call to a chat.completion.
func BenchmarkTranslateResponse(b *testing.B) {
	body, err := os.ReadFile("testdata/response/tool_use.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, why := translateResponse(body, reqInfo{model: "m"}, "chatcmpl-x", 1); why != "" {
			b.Fatal(why)
		}
	}
}

// BenchmarkStream: a ConverseStream body (event-stream frames) to chunks.
func BenchmarkStream(b *testing.B) {
	src, err := os.ReadFile("testdata/stream/text.json")
	if err != nil {
		b.Fatal(err)
	}
	body := frames(b, src)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		s := testStream(body, reqInfo{model: "m", includeUsage: true})
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkSign: SigV4 for one Converse call (a signer per call: see sign).
func BenchmarkSign(b *testing.B) {
	body, err := os.ReadFile("testdata/request/tools.json")
	if err != nil {
		b.Fatal(err)
	}
	cr := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	u := "https://bedrock-runtime.us-east-1.amazonaws.com/model/" + escapePath("us.anthropic.claude-3-7-sonnet-20250219-v1:0") + "/converse"
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		req := fasthttp.AcquireRequest()
		if err := sign(context.Background(), cr, "us-east-1", u, body, now, req); err != nil {
			b.Fatal(err)
		}
		fasthttp.ReleaseRequest(req)
	}
}
