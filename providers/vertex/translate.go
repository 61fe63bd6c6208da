package vertex

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// claudeBody adapts an Anthropic Messages body to Vertex AI's rawPredict:
// no "model" (the URL names it) and "anthropic_version":
// "vertex-2023-10-16" (no anthropic-version header).
func claudeBody(_ *configs.Deployment, body []byte) ([]byte, error) {
	return ClaudeBody(body)
}

// ClaudeBody is claudeBody for any Messages body.
func ClaudeBody(body []byte) ([]byte, error) {
	const head = `{"anthropic_version":"` + AnthropicVersion + `"`
	// The anthropic translation writes "model" first: cut it in place.
	if bytes.HasPrefix(body, []byte(`{"model":`)) {
		m := gjson.GetBytes(body, "model")
		if end := m.Index + len(m.Raw); m.Index > 0 && end < len(body) {
			rest := body[end:] // ",...}" or "}"
			out := make([]byte, 0, len(head)+len(rest))
			out = append(out, head...)
			return append(out, rest...), nil
		}
	}
	b, err := sjson.DeleteBytes(body, "model")
	if err != nil || len(b) < 2 || b[0] != '{' {
		return nil, wire.BadRequest("the request body is not a JSON object")
	}
	b, err = sjson.SetBytes(b, "anthropic_version", AnthropicVersion)
	if err != nil {
		return nil, wire.BadRequest("the request body is not a JSON object")
	}
	return b, nil
}

// embedInfo is what the answer's translation needs of the request.
type embedInfo struct {
	base64 bool
	n      int
}

// translateEmbedRequest turns an OpenAI embeddings request into a Vertex
// AI :predict request: {"instances":[{"content":...}],
// "parameters":{"outputDimensionality":dimensions}}. task_type and title
// (LiteLLM's extra params) go into every instance; token-id inputs are
// refused (Vertex embeds text).
func translateEmbedRequest(body []byte) ([]byte, embedInfo, *wire.Error) {
	var info embedInfo
	if !gjson.ValidBytes(body) {
		return nil, info, wire.BadRequest("the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, info, wire.BadRequest("the request body must be a JSON object")
	}
	var input, dims, format, taskType, title, autoTruncate gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "input":
			input = v
		case "dimensions":
			dims = v
		case "encoding_format":
			format = v
		case "task_type":
			taskType = v
		case "title":
			title = v
		case "auto_truncate":
			autoTruncate = v
		}
		return true
	})
	switch format.Str {
	case "", "float":
	case "base64":
		info.base64 = true
	default:
		return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "encoding_format",
			Message: "encoding_format must be \"float\" or \"base64\""}
	}
	var extra []byte
	if taskType.Exists() && taskType.Type != gjson.Null {
		if taskType.Type != gjson.String {
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "task_type",
				Message: "task_type must be a string such as RETRIEVAL_QUERY or RETRIEVAL_DOCUMENT"}
		}
		extra = append(append(extra, `,"task_type":`...), taskType.Raw...)
	}
	if title.Exists() && title.Type != gjson.Null {
		if title.Type != gjson.String {
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "title", Message: "title must be a string"}
		}
		extra = append(append(extra, `,"title":`...), title.Raw...)
	}
	out := make([]byte, 0, len(body)+64)
	out = append(out, `{"instances":[`...)
	add := func(v gjson.Result) *wire.Error {
		if v.Type != gjson.String {
			return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "input",
				Message: "input must be a string or an array of strings: Vertex AI embeds text, not token ids"}
		}
		if info.n > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"content":`...)
		out = append(out, v.Raw...)
		out = append(out, extra...)
		out = append(out, '}')
		info.n++
		return nil
	}
	switch {
	case input.Type == gjson.String:
		if err := add(input); err != nil {
			return nil, info, err
		}
	case input.IsArray():
		var werr *wire.Error
		input.ForEach(func(_, v gjson.Result) bool {
			werr = add(v)
			return werr == nil
		})
		if werr != nil {
			return nil, info, werr
		}
	}
	if info.n == 0 {
		return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "input",
			Message: "input is required: a string or a non-empty array of strings"}
	}
	out = append(out, ']')
	var params []byte
	if dims.Exists() && dims.Type != gjson.Null {
		if dims.Type != gjson.Number || dims.Num < 1 || dims.Num != math.Trunc(dims.Num) || dims.Num > 1e6 {
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "dimensions",
				Message: "dimensions must be a positive integer"}
		}
		params = append(params, `"outputDimensionality":`...)
		params = strconv.AppendInt(params, int64(dims.Num), 10)
	}
	if autoTruncate.IsBool() {
		if len(params) > 0 {
			params = append(params, ',')
		}
		params = append(params, `"autoTruncate":`...)
		params = append(params, autoTruncate.Raw...)
	}
	if len(params) > 0 {
		out = append(out, `,"parameters":{`...)
		out = append(out, params...)
		out = append(out, '}')
	}
	out = append(out, '}')
	return out, info, nil
}

// translateEmbedResponse turns a :predict answer into OpenAI's embedding
// list: predictions[i].embeddings.values are data[i].embedding (floats, or
// little-endian float32 in base64 when asked), the statistics' token
// counts the usage. why is non-empty for an answer that is not one.
func translateEmbedResponse(body []byte, info embedInfo, model string) (out []byte, why string) {
	if !gjson.ValidBytes(body) {
		return nil, "a body that is not JSON"
	}
	preds := gjson.GetBytes(body, "predictions")
	if !preds.IsArray() {
		return nil, "no predictions"
	}
	out = make([]byte, 0, len(body)+128)
	out = append(out, `{"object":"list","data":[`...)
	tokens := int64(0)
	i := 0
	preds.ForEach(func(_, p gjson.Result) bool {
		e := p.Get("embeddings")
		values := e.Get("values")
		if !values.IsArray() {
			why = "a prediction without embeddings.values"
			return false
		}
		tokens += e.Get("statistics.token_count").Int()
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"object":"embedding","index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"embedding":`...)
		if info.base64 {
			out = append(out, '"')
			out = appendBase64Floats(out, values)
			out = append(out, '"')
		} else {
			out = append(out, values.Raw...)
		}
		out = append(out, '}')
		i++
		return true
	})
	if why != "" {
		return nil, why
	}
	if i != info.n {
		return nil, strconv.Itoa(i) + " embeddings for " + strconv.Itoa(info.n) + " inputs"
	}
	out = append(out, `],"model":`...)
	out = strconv.AppendQuote(out, model)
	out = append(out, `,"usage":{"prompt_tokens":`...)
	out = strconv.AppendInt(out, tokens, 10)
	out = append(out, `,"total_tokens":`...)
	out = strconv.AppendInt(out, tokens, 10)
	out = append(out, `}}`...)
	return out, ""
}

// appendBase64Floats appends values as base64 of little-endian float32s
// (OpenAI's encoding_format "base64").
func appendBase64Floats(out []byte, values gjson.Result) []byte {
	raw := make([]byte, 0, 4*64)
	values.ForEach(func(_, v gjson.Result) bool {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v.Num)))
		return true
	})
	return base64.StdEncoding.AppendEncode(out, raw)
}

// embed serves /v1/embeddings with :predict.
func (p *Provider) embed(call *providers.Call) (*providers.Response, error) {
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateEmbedRequest(call.Body)
	if werr != nil {
		return nil, werr
	}
	var answer []byte
	if OneInstance(d.UpstreamModel) && info.n > 1 {
		a, err := p.predictEach(call, body, info.n)
		if err != nil {
			return nil, err
		}
		answer = a
	} else {
		dd := *d
		up := *call
		up.Deployment, up.Body = &dd, body
		resp, err := p.predict.Complete(&up)
		if err != nil {
			return nil, err
		}
		answer = resp.Body
	}
	out, why := translateEmbedResponse(answer, info, d.UpstreamModel)
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(d.PublicName()) + " answered 200 with " + why,
			Internal: "vertex: the :predict answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// preparePredict points req at :predict of the call's model with the
// bearer token, recorded as the call's own deployment copy's APIKey so
// that errors are scrubbed of it.
func (p *Provider) preparePredict(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	u, err := p.URL(d, "google", "predict")
	if err != nil {
		return err
	}
	req.SetRequestURI(u)
	tok, err := p.bearer(d, req)
	if err != nil {
		return err
	}
	d.APIKey = tok
	return nil
}

// OneInstance reports whether a Vertex embedding model takes one instance
// per :predict request (gemini-embedding-001 does; text-embedding-005
// takes up to 250).
func OneInstance(model string) bool { return strings.HasPrefix(model, "gemini-embedding") }

// maxParallelPredict bounds the concurrent :predict calls of one request
// split for a one-instance model.
const maxParallelPredict = 4

// predictEach sends each instance of body in its own :predict request
// (at most maxParallelPredict at a time) and joins the answers'
// predictions in order, as one answer. The first error is returned.
func (p *Provider) predictEach(call *providers.Call, body []byte, n int) ([]byte, error) {
	root := gjson.ParseBytes(body)
	params := root.Get("parameters")
	insts := root.Get("instances").Array()
	preds := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, maxParallelPredict)
	var wg sync.WaitGroup
	for i, inst := range insts {
		one := make([]byte, 0, len(inst.Raw)+len(params.Raw)+32)
		one = append(one, `{"instances":[`...)
		one = append(one, inst.Raw...)
		one = append(one, ']')
		if params.Exists() {
			one = append(one, `,"parameters":`...)
			one = append(one, params.Raw...)
		}
		one = append(one, '}')
		dd := *call.Deployment
		up := *call
		up.Deployment, up.Body = &dd, one
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp, err := p.predict.Complete(&up)
			if err != nil {
				errs[i] = err
				return
			}
			preds[i] = gjson.GetBytes(resp.Body, "predictions.0").Raw
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	out := []byte(`{"predictions":[`)
	for i, pr := range preds {
		if pr == "" {
			pr = "{}" // translateEmbedResponse says what is missing
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, pr...)
	}
	return append(out, "]}"...), nil
}
