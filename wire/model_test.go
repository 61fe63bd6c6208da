package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSetModel(t *testing.T) {
	cases := []struct{ body, model, want string }{
		{`{"model":"a","messages":[]}`, "gpt-4o", `{"model":"gpt-4o","messages":[]}`},
		{`{"messages":[{"model":"inner"}], "model" : "a"}`, "b", `{"messages":[{"model":"inner"}], "model" : "b"}`},
		{`{"messages":[]}`, "b", `{"messages":[],"model":"b"}`},
		{`{"model":"same"}`, "same", `{"model":"same"}`},
		{`{"model":"a"}`, `we"ird`, `{"model":"we\"ird"}`},
		{`{"model":"a"}`, "modèle", `{"model":"modèle"}`},
		{`{"model":null}`, "b", `{"model":"b"}`},
	}
	for _, c := range cases {
		got, err := SetModel([]byte(c.body), c.model)
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if string(got) != c.want {
			t.Errorf("SetModel(%s, %q) = %s, want %s", c.body, c.model, got, c.want)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["model"] != c.model {
			t.Errorf("SetModel(%s, %q) gives model %v (%v)", c.body, c.model, v["model"], err)
		}
	}
}

func BenchmarkSetModel(b *testing.B) {
	body := []byte(`{"model":"my-team-model","messages":[{"role":"user","content":"What's the weather like in Boston today?"}],"temperature":0.2}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SetModel(body, "gpt-4o-mini"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSetModelAt: with the span of an earlier parse the value is replaced
// in place; a span that does not hold a string falls back to SetModel.
func TestSetModelAt(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"say \"model\""}],"model":"mine"}`)
	at := Span{Off: len(body) - len(`"mine"}`), Len: len(`"mine"`)}
	got, err := SetModelAt(body, at, "gpt-4o")
	if err != nil || string(got) != `{"messages":[{"role":"user","content":"say \"model\""}],"model":"gpt-4o"}` {
		t.Errorf("SetModelAt: %s %v", got, err)
	}
	if string(body) != `{"messages":[{"role":"user","content":"say \"model\""}],"model":"mine"}` {
		t.Errorf("the body was modified: %s", body)
	}
	for _, bad := range []Span{{}, {Off: 1, Len: 10}, {Off: at.Off, Len: 500}, {Off: at.Off + 1, Len: 2}} {
		got, err := SetModelAt(body, bad, "gpt-4o")
		if err != nil || string(got) != `{"messages":[{"role":"user","content":"say \"model\""}],"model":"gpt-4o"}` {
			t.Errorf("span %+v: %s %v", bad, got, err)
		}
	}
	if got, _ := SetModelAt(body, at, `we"ird`); string(got) != `{"messages":[{"role":"user","content":"say \"model\""}],"model":"we\"ird"}` {
		t.Errorf("escaped model: %s", got)
	}
}

func TestParseCompletion(t *testing.T) {
	for body, why := range map[string]string{
		`{"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":1}}`: "",
		` {"choices":[{"message":{"content":"hi"}}]} `:                    "",
		``:                                 "an empty body",
		`<html>login</html>`:               "a body that is not JSON",
		`{"choices":[{"message":{"content`: "a body that is not JSON",
		`["choices"]`:                      "a JSON body that is not an object",
		`{"id":"x"}`:                       `a JSON object without a "choices" array`,
		`{"choices":{}}`:                   `a JSON object without a "choices" array`,
		`{"error":{"message":"no"}}`:       "an error object",
	} {
		c, got := ParseCompletion([]byte(body))
		if (why == "") != (got == "") || !strings.HasPrefix(got, why) {
			t.Errorf("%q: %q, want %q", body, got, why)
		}
		if got == "" && strings.Contains(body, `"model":"m"`) {
			if out, _ := SetModelAt([]byte(body), c.ModelAt, "n"); !strings.Contains(string(out), `"model":"n"`) || !c.Usage.IsObject() {
				t.Errorf("%q: model at %+v, usage %v", body, c.ModelAt, c.Usage)
			}
		}
	}
}
