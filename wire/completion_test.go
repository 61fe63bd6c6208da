package wire

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

func TestParseChunk(t *testing.T) {
	data := []byte(` { "id" : "c\"}" , "model":"m","choices":[{"delta":{"content":"a]}\\\"x"}}],"n":-1.5e3,"usage" : {"prompt_tokens":3},"x":[[]]} `)
	if !json.Valid(data) {
		t.Fatal("the test's chunk is not JSON")
	}
	c := ParseChunk(data)
	if string(c.Choices) != `[{"delta":{"content":"a]}\\\"x"}}]` || string(c.Usage) != `{"prompt_tokens":3}` {
		t.Fatalf("choices %s usage %s", c.Choices, c.Usage)
	}
	if out, _ := SetModelAt(data, c.ModelAt, "z"); !bytes.Contains(out, []byte(`"model":"z"`)) {
		t.Fatalf("model at %+v: %s", c.ModelAt, out)
	}
	if c := ParseChunk([]byte(`{"model":5,"choices":null}`)); c.ModelAt != (Span{}) || string(c.Choices) != "null" {
		t.Fatalf("%+v", c)
	}
}

// FuzzParseChunk: never a panic or a read out of bounds; on a valid JSON
// object without escapes it finds what gjson finds.
func FuzzParseChunk(f *testing.F) {
	for _, s := range []string{
		`{"id":"c","model":"m","choices":[{"delta":{"content":"hi"}}]}`,
		`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
		`{"model":"a","model":"b","usage":1,"usage":2}`,
		`{"a":"\"}","model":"x"}`, `{`, `{"a"`, `{"a":`, `{"a":1,`, `[1]`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := ParseChunk(data)
		if c.ModelAt != (Span{}) {
			if c.ModelAt.Off <= 0 || c.ModelAt.Off+c.ModelAt.Len > len(data) || data[c.ModelAt.Off] != '"' {
				t.Fatalf("%q: model span %+v", data, c.ModelAt)
			}
		}
		if !json.Valid(data) || bytes.IndexByte(data, '\\') >= 0 || !gjson.ParseBytes(data).IsObject() {
			return
		}
		for key, got := range map[string][]byte{"usage": c.Usage, "choices": c.Choices} {
			if want := gjson.GetBytes(data, key); want.Raw != string(got) {
				t.Fatalf("%q: %s = %q, gjson finds %q", data, key, got, want.Raw)
			}
		}
		if m := gjson.GetBytes(data, "model"); m.Type == gjson.String {
			if c.ModelAt.Off != m.Index || c.ModelAt.Len != len(m.Raw) {
				t.Fatalf("%q: model at %+v, gjson finds %d+%d", data, c.ModelAt, m.Index, len(m.Raw))
			}
		} else if c.ModelAt != (Span{}) {
			t.Fatalf("%q: model at %+v, gjson finds %v", data, c.ModelAt, m.Type)
		}
	})
}
