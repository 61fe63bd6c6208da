package bridge

import (
	"os"
	"testing"
)

func BenchmarkRequestToChat(b *testing.B) {
	in, err := os.ReadFile("testdata/request/items.in.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, werr := RequestToChat(in, Options{}); werr != nil {
			b.Fatal(werr)
		}
	}
}

func BenchmarkResponseFromChat(b *testing.B) {
	in, err := os.ReadFile("testdata/response/tools.in.json")
	if err != nil {
		b.Fatal(err)
	}
	req := []byte(echoReq)
	b.ReportAllocs()
	for b.Loop() {
		if _, werr := ResponseFromChat(in, EchoOf(req, "m")); werr != nil {
			b.Fatal(werr)
		}
	}
}

func BenchmarkStreamFromChat(b *testing.B) {
	in, err := os.ReadFile("testdata/stream/tools.in.sse")
	if err != nil {
		b.Fatal(err)
	}
	cs := chunks(in)
	req := []byte(echoReq)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drain(nil, StreamFromChat(&sliceStream{chunks: cs}, EchoOf(req, "m"))); err != nil {
			b.Fatal(err)
		}
	}
}
