package wire

import (
	"encoding/json"
	"testing"
)

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\n\n\t\x01", "\xff\xfe", "\u2028\u2029", "<&>", "é日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		// The same string as encoding/json's encoding decodes to.
		ref, _ := json.Marshal(s)
		var refBack string
		_ = json.Unmarshal(ref, &refBack)
		if back != refBack {
			t.Fatalf("%q: decodes to %q, encoding/json's to %q", s, back, refBack)
		}
	})
}
