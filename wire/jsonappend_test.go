package wire

import (
	"testing"

	"github.com/tidwall/gjson"
)

func TestAppendRawAndCompact(t *testing.T) {
	t.Parallel()
	v := gjson.Get(`{"s":"a\"b\u00e9","n":12}`, "s")
	if got := string(AppendRawString(nil, v)); got != `"a\"b\u00e9"` {
		t.Errorf("raw string: %s", got)
	}
	if got := string(AppendRawStringBody(nil, v)); got != `a\"b\u00e9` {
		t.Errorf("raw string body: %s", got)
	}
	if got := string(AppendRawString(nil, gjson.Get(`{"n":12}`, "n"))); got != `"12"` {
		t.Errorf("number as a string: %s", got)
	}
	if got := string(AppendCompact(nil, "{ \"a b\" : [1, 2],\n \"c\":\"x\\\" y\" }")); got != `{"a b":[1,2],"c":"x\" y"}` {
		t.Errorf("compact: %s", got)
	}
	if !IsBlank(" \t\n") || IsBlank(" x ") {
		t.Error("IsBlank")
	}
}

func FuzzAppendCompact(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2]}`, `"x\" y"`, `[ ]`, `{"k":"\\"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !gjson.Valid(raw) {
			return
		}
		out := AppendCompact(nil, raw)
		if !gjson.ValidBytes(out) {
			t.Fatalf("%q compacted to invalid %q", raw, out)
		}
	})
}
