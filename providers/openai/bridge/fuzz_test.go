package bridge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRequestToChat: any body translates to valid JSON or a 400, never a
// panic.
func FuzzRequestToChat(f *testing.F) {
	files, _ := filepath.Glob("testdata/request/*.in.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"n","arguments":"{}"},{}]}`))
	f.Add([]byte(`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		chat, _, werr := RequestToChat(body, Options{})
		if werr != nil {
			if werr.Status != 400 {
				t.Fatalf("status %d", werr.Status)
			}
			return
		}
		if json.Valid(body) && !json.Valid(chat) {
			t.Fatalf("invalid chat JSON %s from %s", chat, body)
		}
		EchoOf(body, "m")
	})
}

// FuzzStreamFromChat: any chunks translate to valid JSON events, never a
// panic. The input is chunks separated by newlines.
func FuzzStreamFromChat(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.in.sse")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"a\"}},{\"id\":\"x\"}]}}]}\n{\"choices\":[{\"delta\":{\"refusal\":\"no\",\"content\":\"y\"}}]}"))
	echo := EchoOf([]byte(echoReq), "m")
	f.Fuzz(func(t *testing.T, in []byte) {
		valid := true
		var cs [][]byte
		for _, l := range bytes.Split(in, []byte("\n")) {
			if len(l) > 0 {
				cs = append(cs, l)
				valid = valid && json.Valid(l)
			}
		}
		s := StreamFromChat(&sliceStream{chunks: cs}, echo)
		s.Ready()
		var tb testing.TB
		if valid {
			tb = t
		}
		_, _ = drain(tb, s)
		ResponseFromChat(in, echo)
	})
}
