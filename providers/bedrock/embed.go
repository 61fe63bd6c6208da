package bedrock

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// embedConcurrency bounds the parallel InvokeModel calls of one Titan
// embeddings request (Titan embeds one text per call).
const embedConcurrency = 4

// cohereBatch is the most texts Bedrock's Cohere embed models take in
// one call.
const cohereBatch = 96

// maxEmbedInputs bounds the inputs of one request.
const maxEmbedInputs = 2048

// embedRequest is an OpenAI embeddings request's fields.
type embedRequest struct {
	inputs     []string
	dimensions gjson.Result
	base64     bool
	inputType  string
}

func parseEmbedRequest(body []byte) (embedRequest, *wire.Error) {
	var r embedRequest
	if !gjson.ValidBytes(body) {
		return r, wire.BadRequest("the request body is not valid JSON")
	}
	root := gjson.Parse(wire.View(body))
	in := root.Get("input")
	switch {
	case in.Type == gjson.String:
		r.inputs = []string{in.Str}
	case in.IsArray():
		var werr *wire.Error
		in.ForEach(func(_, v gjson.Result) bool {
			if v.Type != gjson.String {
				werr = param400("input", "input must be a string or an array of strings: Bedrock embedding models take text, not token arrays")
				return false
			}
			r.inputs = append(r.inputs, v.Str)
			return true
		})
		if werr != nil {
			return r, werr
		}
	default:
		return r, param400("input", "input is required: a string or an array of strings")
	}
	if len(r.inputs) == 0 {
		return r, param400("input", "input must hold at least one text")
	}
	if len(r.inputs) > maxEmbedInputs {
		return r, param400("input", "input holds more than "+strconv.Itoa(maxEmbedInputs)+" texts; split the request")
	}
	r.dimensions = root.Get("dimensions")
	switch f := root.Get("encoding_format").Str; f {
	case "", "float":
	case "base64":
		r.base64 = true
	default:
		return r, param400("encoding_format", "encoding_format must be float or base64")
	}
	r.inputType = root.Get("input_type").Str
	return r, nil
}

// embed serves an embeddings call: Titan (one InvokeModel call per
// input, embedConcurrency at a time) or Cohere (one call for all).
func (p *Provider) embed(call *providers.Call) (*providers.Response, error) {
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	r, werr := parseEmbedRequest(call.Body)
	if werr != nil {
		return nil, werr
	}
	model := modelID(d)
	vectors := make([]string, len(r.inputs)) // raw JSON arrays
	var tokens int64
	var mu sync.Mutex // guards vectors and tokens
	switch base := baseModel(model); {
	case strings.HasPrefix(base, "amazon.titan-embed"):
		v2 := strings.Contains(base, "-v2")
		if r.dimensions.Exists() && !v2 {
			return nil, param400("dimensions", "dimensions is supported by amazon.titan-embed-text-v2 only")
		}
		bodies := make([][]byte, len(r.inputs))
		for i, text := range r.inputs {
			body := append([]byte(nil), `{"inputText":`...)
			body = wire.AppendJSONString(body, text)
			if v2 && r.dimensions.Type == gjson.Number {
				body = append(body, `,"dimensions":`...)
				body = append(body, r.dimensions.Raw...)
			}
			bodies[i] = append(body, '}')
		}
		err := p.invokeAll(call, bodies, func(i int, out []byte, n int64) error {
			e := gjson.GetBytes(out, "embedding")
			if !e.IsArray() {
				return badAnswer(call, "no embedding")
			}
			if c := gjson.GetBytes(out, "inputTextTokenCount"); c.Type == gjson.Number {
				n = c.Int()
			}
			mu.Lock()
			defer mu.Unlock()
			vectors[i] = e.Raw
			tokens += n
			return nil
		})
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(base, "cohere.embed"):
		if r.dimensions.Exists() {
			return nil, param400("dimensions", "dimensions is not supported by Cohere embedding models on Bedrock")
		}
		inputType := r.inputType
		if inputType == "" {
			inputType = "search_document"
		}
		// Bedrock takes at most cohereBatch texts a call.
		var bodies [][]byte
		for from := 0; from < len(r.inputs); from += cohereBatch {
			body := append([]byte(nil), `{"texts":[`...)
			for i, t := range r.inputs[from:min(from+cohereBatch, len(r.inputs))] {
				if i > 0 {
					body = append(body, ',')
				}
				body = wire.AppendJSONString(body, t)
			}
			body = append(body, `],"input_type":`...)
			body = wire.AppendJSONString(body, inputType)
			bodies = append(bodies, append(body, '}'))
		}
		err := p.invokeAll(call, bodies, func(b int, out []byte, n int64) error {
			from := b * cohereBatch
			want := min(cohereBatch, len(r.inputs)-from)
			embs := gjson.GetBytes(out, "embeddings")
			if embs.IsObject() { // embedding_types: {"float": [...]}
				embs = embs.Get("float")
			}
			got := make([]string, 0, want)
			embs.ForEach(func(_, v gjson.Result) bool {
				got = append(got, v.Raw)
				return true
			})
			if len(got) != want {
				return badAnswer(call, strconv.Itoa(len(got))+" embeddings for "+strconv.Itoa(want)+" texts")
			}
			// Cohere's answer has no token count; Bedrock's
			// X-Amzn-Bedrock-Input-Token-Count header has it. Without
			// the header the texts are counted with the gateway's
			// tokenizer (cl100k: an estimate of Cohere's count).
			if n == 0 {
				for _, t := range r.inputs[from : from+want] {
					n += pricing.CountText(model, t)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			copy(vectors[from:], got)
			tokens += n
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, wire.Errorf(400, wire.TypeInvalidRequest, "model %q is not a Bedrock embedding model the gateway translates; use amazon.titan-embed-text-v1/v2 or cohere.embed-english-v3 / cohere.embed-multilingual-v3", d.PublicName())
	}

	out := make([]byte, 0, 64+len(vectors)*4096)
	out = append(out, `{"object":"list","data":[`...)
	for i, v := range vectors {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"object":"embedding","index":`...)
		out = appendInt(out, int64(i))
		out = append(out, `,"embedding":`...)
		if r.base64 {
			out = appendBase64Floats(out, v)
		} else {
			out = append(out, v...)
		}
		out = append(out, '}')
	}
	out = append(out, `],"model":`...)
	out = wire.AppendJSONString(out, model)
	out = append(out, `,"usage":{"prompt_tokens":`...)
	out = appendInt(out, tokens)
	out = append(out, `,"total_tokens":`...)
	out = appendInt(out, tokens)
	out = append(out, "}}"...)
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// invokeAll makes one InvokeModel call per body, embedConcurrency at a
// time, handing each answer to handle; the first error stops the calls
// not yet started and is returned.
func (p *Provider) invokeAll(call *providers.Call, bodies [][]byte, handle func(i int, out []byte, n int64) error) error {
	if len(bodies) == 1 {
		out, n, err := p.invoke(call, bodies[0])
		if err != nil {
			return err
		}
		return handle(0, out, n)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	sem := make(chan struct{}, embedConcurrency)
	for i, body := range bodies {
		if failed() {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if failed() {
				return
			}
			out, n, err := p.invoke(call, body)
			if err == nil {
				err = handle(i, out, n)
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// invoke makes one InvokeModel call.
func (p *Provider) invoke(call *providers.Call, body []byte) ([]byte, int64, error) {
	pr, err := p.prepare(call, "invoke", body, "application/json")
	if err != nil {
		return nil, 0, err
	}
	return p.do(call, pr)
}

func badAnswer(call *providers.Call, what string) error {
	return &wire.Error{Status: 502, Type: wire.TypeUpstream,
		Message: "the upstream of model " + strconv.Quote(call.Deployment.PublicName()) + " answered 200 with " + what}
}

// appendBase64Floats appends a JSON array of numbers as OpenAI's base64
// encoding: little-endian float32s, base64, as a JSON string.
func appendBase64Floats(dst []byte, arr string) []byte {
	var raw []byte
	gjson.Parse(arr).ForEach(func(_, v gjson.Result) bool {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v.Num)))
		return true
	})
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, raw)
	return append(dst, '"')
}
