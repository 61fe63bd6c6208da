package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmgateway/gateway/wire"
)

// TestParseChat: model and stream wherever they are in the body, the
// model's span for the worker's rewrite, and the refusals.
func TestParseChat(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"the \"model\" is {\"model\":\"x\"}"}]`
	cases := []struct {
		body, path, model string
		stream            bool
		err               string
	}{
		{body: `{"model":"m1",` + msgs + `}`, model: "m1"},
		{body: `{` + msgs + `,"stream":true,"model":"m2"}`, model: "m2", stream: true},
		{body: ` { "model" : "m3" , ` + msgs + ` } `, model: "m3"},
		{body: `{` + msgs + `}`, path: "azure-dep", model: "azure-dep"},
		{body: `{"model":"m4",` + msgs + `}`, path: "azure-dep", model: "azure-dep"},
		{body: `{"model":"a",` + msgs + `,"model":"b"}`, err: "more than once"},
		{body: `{` + msgs + `}`, err: "`model` is missing"},
		{body: `{"model":5,` + msgs + `}`, err: "`model` is missing or not a string"},
		{body: `{"model":"m"}`, err: "`messages`"},
		{body: `{"model":"m",` + msgs + `,"stream":"yes"}`, err: "`stream` must be true or false"},
		{body: `{"model":"m",` + msgs, err: "not valid JSON"},
		{body: `["model"]`, err: "must be a JSON object"},
		{body: ``, err: "empty"},
	}
	for _, c := range cases {
		var path any
		if c.path != "" {
			path = c.path
		}
		body := []byte(c.body)
		req, werr := parseChat(body, path)
		if c.err != "" {
			if werr == nil || werr.Status != 400 || !strings.Contains(werr.Message, c.err) {
				t.Errorf("%s: %+v, want 400 %q", c.body, werr, c.err)
			}
			continue
		}
		if werr != nil || req.Model != c.model || req.Stream != c.stream {
			t.Errorf("%s: %+v %v, want model %q stream %v", c.body, req, werr, c.model, c.stream)
			continue
		}
		out, err := wire.SetModelAt(body, req.ModelAt, "upstream-model")
		want, _ := wire.SetModel(body, "upstream-model")
		if err != nil || string(out) != string(want) {
			t.Errorf("%s: rewrite at %+v gives %s, want %s", c.body, req.ModelAt, out, want)
		}
	}
	// The model name outlives the body buffer (fasthttp reuses it).
	body := []byte(`{"model":"kept",` + msgs + `}`)
	req, _ := parseChat(body, nil)
	copy(body, strings.Repeat("x", len(body)))
	if req.Model != "kept" {
		t.Errorf("the model name shares the body's memory: %q", req.Model)
	}
}

// TestParseChatRoutingKeyVariants: a routing key in another letter case or
// spelled with escapes is refused (observation 7 of issue 11).
func TestParseChatRoutingKeyVariants(t *testing.T) {
	msgs := `"messages":[]`
	for _, body := range []string{
		`{"model":"a","Model":"b",` + msgs + `}`,
		`{"MODEL":"b","model":"a",` + msgs + `}`,
		`{"Model":"b",` + msgs + `}`,
		`{"mod\u0065l":"a",` + msgs + `}`,
		`{"model":"a","\u006dodel":"b",` + msgs + `}`,
		`{"model":"a","stream":false,"STREAM":true,` + msgs + `}`,
		`{"model":"a","stream":false,"stream":true,` + msgs + `}`,
		`{"model":"a","\u0073tream":true,` + msgs + `}`,
		`{"model":"a","ſtream":true,` + msgs + `}`,
		`{"model":"a","\u017ftream":true,` + msgs + `}`,
	} {
		_, werr := parseChat([]byte(body), nil)
		if werr == nil || werr.Status != 400 || (werr.Param != "model" && werr.Param != "stream") {
			t.Errorf("%s: %+v, want a 400 about model or stream", body, werr)
		}
	}
	// Keys that merely look alike are other keys.
	for _, body := range []string{
		`{"model":"a","models":["b"],"modell":1,"streams":true,"model_x":2,` + msgs + `}`,
		`{"model":"a","mode":"x","Stream_options":{},` + msgs + `}`,
	} {
		if req, werr := parseChat([]byte(body), nil); werr != nil || req.Model != "a" {
			t.Errorf("%s: %+v %v", body, req, werr)
		}
	}
}

// topKeys lists a JSON object's top-level keys (decoded, duplicates kept)
// and values, as encoding/json reads them.
func topKeys(t *testing.T, body []byte) (keys []string, vals []json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object for encoding/json: %q (%v)", body, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		keys, vals = append(keys, tok.(string)), append(vals, v)
	}
	return keys, vals
}

var chatSeeds = []string{
	`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
	`{"messages":[],"stream":true,"model":"m"}`,
	`{"model":"small","Model":"big","messages":[]}`,
	`{"mod\u0065l":"x","messages":[]}`,
	`{"model":"a\"b","messages":[],"stream":null}`,
	`{"model":"é","messages":[], "ſtream": true}`,
	`{"model":"m","messages":[{"model":"inner"}],"stream":false}`,
	` {"model" : "m" ,"messages":[]} `,
	`{"model":"m","messages":[],"model":"n"}`,
	`{"model":"m","messages":[],"Stream":true}`,
	`[1]`, `{}`, `{"model":1,"messages":[]}`,
}

// FuzzParseChat: whatever parseChat accepts, encoding/json (which matches
// keys case-insensitively, like some upstreams) reads the same model and
// stream from it, and it holds one key at most that folds to each.
func FuzzParseChat(f *testing.F) {
	for _, s := range chatSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, werr := parseChat(body, nil)
		if werr != nil {
			if werr.Status != 400 || werr.Message == "" {
				t.Fatalf("refusal %+v", werr)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body encoding/json refuses: %q", body)
		}
		keys, vals := topKeys(t, body)
		models, streams := 0, 0
		for i, k := range keys {
			switch {
			case strings.EqualFold(k, "model"):
				models++
				var m string
				if k != "model" || json.Unmarshal(vals[i], &m) != nil || m != req.Model {
					t.Fatalf("%q: key %q = %s, routed %q", body, k, vals[i], req.Model)
				}
			case strings.EqualFold(k, "stream"):
				streams++
				var s *bool
				if k != "stream" || json.Unmarshal(vals[i], &s) != nil || (s != nil && *s) != req.Stream {
					t.Fatalf("%q: key %q = %s, routed stream %v", body, k, vals[i], req.Stream)
				}
			}
		}
		if models != 1 || streams > 1 {
			t.Fatalf("%q: %d model and %d stream keys accepted", body, models, streams)
		}
		var viaGo struct {
			Model  string
			Stream bool
		}
		if err := json.Unmarshal(body, &viaGo); err == nil && (viaGo.Model != req.Model || viaGo.Stream != req.Stream) {
			t.Fatalf("%q: encoding/json reads %+v, routed %+v", body, viaGo, req)
		}
	})
}

// FuzzSetModelAt: parse, then the worker's rewrite: the result is valid
// JSON, its model is the new one for any parser, and every other key is
// as it was.
func FuzzSetModelAt(f *testing.F) {
	for _, s := range chatSeeds {
		f.Add([]byte(s), "gpt-4o-mini")
		f.Add([]byte(s), `we"ird\név`)
	}
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		req, werr := parseChat(body, nil)
		if werr != nil || !utf8.ValidString(model) {
			return
		}
		out, err := wire.SetModelAt(body, req.ModelAt, model)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if !json.Valid(out) {
			t.Fatalf("%q -> %q: not JSON", body, out)
		}
		inKeys, inVals := topKeys(t, body)
		outKeys, outVals := topKeys(t, out)
		if len(inKeys) != len(outKeys) {
			t.Fatalf("%q -> %q: keys %q became %q", body, out, inKeys, outKeys)
		}
		for i, k := range outKeys {
			if k != inKeys[i] {
				t.Fatalf("%q -> %q: key %q became %q", body, out, inKeys[i], k)
			}
			if k == "model" {
				var m string
				if json.Unmarshal(outVals[i], &m) != nil || m != model {
					t.Fatalf("%q -> %q: model %s, want %q", body, out, outVals[i], model)
				}
				continue
			}
			if strings.EqualFold(k, "model") || (strings.EqualFold(k, "stream") && k != "stream") {
				t.Fatalf("%q -> %q: a second routing key %q", body, out, k)
			}
			if !bytes.Equal(outVals[i], inVals[i]) {
				t.Fatalf("%q -> %q: %q changed from %s to %s", body, out, k, inVals[i], outVals[i])
			}
		}
		var viaGo struct{ Model string }
		if json.Unmarshal(out, &viaGo) != nil || viaGo.Model != model {
			t.Fatalf("%q -> %q: encoding/json reads model %q", body, out, viaGo.Model)
		}
	})
}
