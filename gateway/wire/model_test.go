package wire

import (
	"encoding/json"
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
