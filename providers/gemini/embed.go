package gemini

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/wire"
)

// embedInfo is what the embeddings answer's translation needs.
type embedInfo struct {
	model  string
	base64 bool  // encoding_format "base64"
	tokens int64 // the inputs' estimated tokens (batchEmbedContents reports none)
}

// translateEmbedRequest turns an OpenAI embeddings request into a
// batchEmbedContents request: one request per input.
func translateEmbedRequest(body []byte, model string) ([]byte, embedInfo, *wire.Error) {
	info := embedInfo{model: model}
	if !gjson.ValidBytes(body) {
		return nil, info, invalid("", "the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	input := root.Get("input")
	switch ef := root.Get("encoding_format"); ef.Str {
	case "base64":
		info.base64 = true
	case "float", "":
	default:
		return nil, info, invalid("encoding_format", "encoding_format %q is not one of float, base64", truncate(ef.Str, 50))
	}
	dims := root.Get("dimensions")
	if dims.Exists() && dims.Type != gjson.Null && (dims.Type != gjson.Number || dims.Int() <= 0) {
		return nil, info, invalid("dimensions", "dimensions must be a positive integer")
	}
	var texts []gjson.Result
	switch {
	case input.Type == gjson.String:
		texts = []gjson.Result{input}
	case input.IsArray():
		texts = input.Array()
		for i, t := range texts {
			if t.Type != gjson.String {
				return nil, info, invalid("input", "input[%d]: Gemini embedding models take text; token arrays are not supported", i)
			}
		}
	default:
		return nil, info, invalid("input", "input must be a string or an array of strings")
	}
	if len(texts) == 0 {
		return nil, info, invalid("input", "input must not be empty")
	}
	m := "models/" + model
	out := make([]byte, 0, len(body)+64*len(texts))
	out = append(out, `{"requests":[`...)
	for i, t := range texts {
		if t.Str == "" {
			return nil, info, invalid("input", "input[%d] is empty; Gemini refuses an empty text", i)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"model":`...)
		out = wire.AppendJSONString(out, m)
		out = append(out, `,"content":{"parts":[{"text":`...)
		out = wire.AppendRawString(out, t)
		out = append(out, `}]}`...)
		if dims.Type == gjson.Number {
			out = append(out, `,"outputDimensionality":`...)
			out = appendInt(out, dims.Int())
		}
		out = append(out, '}')
		info.tokens += pricing.CountText(model, t.Str)
	}
	out = append(out, "]}"...)
	return out, info, nil
}

// translateEmbedResponse turns {"embeddings":[{"values":[...]}]} into
// OpenAI's embedding list.
func translateEmbedResponse(body []byte, info embedInfo) ([]byte, string) {
	if !gjson.ValidBytes(body) {
		return nil, "a body that is not JSON"
	}
	embs := gjson.GetBytes(body, "embeddings")
	if !embs.IsArray() {
		return nil, "no embeddings"
	}
	out := make([]byte, 0, len(body)+128)
	out = append(out, `{"object":"list","data":[`...)
	i := 0
	bad := false
	var raw []byte
	embs.ForEach(func(_, e gjson.Result) bool {
		vals := e.Get("values")
		if !vals.IsArray() {
			bad = true
			return false
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"object":"embedding","index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"embedding":`...)
		if info.base64 {
			raw = raw[:0]
			vals.ForEach(func(_, v gjson.Result) bool {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v.Num)))
				return true
			})
			out = append(out, '"')
			out = base64.StdEncoding.AppendEncode(out, raw)
			out = append(out, '"')
		} else {
			out = wire.AppendCompact(out, vals.Raw)
		}
		out = append(out, '}')
		i++
		return true
	})
	if bad {
		return nil, "an embedding without values"
	}
	out = append(out, `],"model":`...)
	out = wire.AppendJSONString(out, info.model)
	out = append(out, `,"usage":{"prompt_tokens":`...)
	out = appendInt(out, info.tokens)
	out = append(out, `,"total_tokens":`...)
	out = appendInt(out, info.tokens)
	return append(out, "}}"...), ""
}
