package gemini

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// reqInfo is what the answer's translation needs to know of the request.
type reqInfo struct {
	model        string // the upstream model, for "model" when the answer names none
	includeUsage bool   // stream_options.include_usage
}

// thoughtSep joins a tool call id and the thought signature Gemini sent
// with the function call (LiteLLM's form): a client echoing the id back
// gives the signature back, which Gemini 3 requires with the call.
const thoughtSep = "__thought__"

// content is one entry of contents being built.
type content struct {
	role  string // "user" or "model"
	parts []byte // the parts, comma separated
}

// reqBuilder carries the state of one request translation.
type reqBuilder struct {
	model    string
	contents []content
	system   []byte // systemInstruction parts
	names    map[string]string
}

func invalid(param, format string, args ...any) *wire.Error {
	e := wire.Errorf(400, wire.TypeInvalidRequest, format, args...)
	e.Param = param
	return e
}

// part appends one part (its JSON object) to the content of role, merging
// it into the last content when that one has the same role.
func (b *reqBuilder) part(role string, p []byte) {
	if n := len(b.contents); n > 0 && b.contents[n-1].role == role {
		c := &b.contents[n-1]
		c.parts = append(c.parts, ',')
		c.parts = append(c.parts, p...)
		return
	}
	b.contents = append(b.contents, content{role: role, parts: append([]byte(nil), p...)})
}

// translateRequest turns an OpenAI chat request into a generateContent
// request for model (the upstream model's name).
func translateRequest(body []byte, model string, stream bool) ([]byte, reqInfo, *wire.Error) {
	info := reqInfo{model: model}
	if !gjson.ValidBytes(body) {
		return nil, info, invalid("", "the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, info, invalid("", "the request body must be a JSON object")
	}
	var f fields
	f.read(root)
	if stream {
		info.includeUsage = f.streamOptions.Get("include_usage").Bool()
	}
	msgs := f.messages
	if !nonEmptyArray(msgs) {
		return nil, info, invalid("messages", "messages must be a non-empty array")
	}
	b := &reqBuilder{model: model}
	var scratch []byte
	var werr *wire.Error
	i := 0
	msgs.ForEach(func(_, m gjson.Result) bool {
		scratch, werr = b.message(m, i, scratch[:0])
		i++
		return werr == nil
	})
	if werr != nil {
		return nil, info, werr
	}
	if len(b.contents) == 0 {
		return nil, info, invalid("messages", "messages must include a user message (Gemini needs at least one turn besides system instructions)")
	}

	out := make([]byte, 0, len(body)+256)
	out = append(out, `{"contents":[`...)
	for i, c := range b.contents {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"role":"`...)
		out = append(out, c.role...)
		out = append(out, `","parts":[`...)
		out = append(out, c.parts...)
		out = append(out, "]}"...)
	}
	out = append(out, ']')
	if len(b.system) > 0 {
		out = append(out, `,"systemInstruction":{"parts":[`...)
		out = append(out, b.system...)
		out = append(out, "]}"...)
	}
	if out, werr = appendTools(out, f.tools, f.functions); werr != nil {
		return nil, info, werr
	}
	if out, werr = appendToolConfig(out, f.toolChoice, f.functionCall); werr != nil {
		return nil, info, werr
	}
	if out, werr = appendGenerationConfig(out, &f, model); werr != nil {
		return nil, info, werr
	}
	out = append(out, '}')
	return out, info, nil
}

// fields are the request's top-level fields the translation reads, in one
// pass over the body.
type fields struct {
	messages, tools, functions, toolChoice, functionCall, streamOptions          gjson.Result
	maxTokens, maxCompletionTokens, temperature, topP, n, stop, seed             gjson.Result
	presencePenalty, frequencyPenalty, responseFormat, reasoningEffort, thinking gjson.Result
	logprobs, topLogprobs                                                        gjson.Result
}

func (f *fields) read(root gjson.Result) {
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messages":
			f.messages = v
		case "tools":
			f.tools = v
		case "functions":
			f.functions = v
		case "tool_choice":
			f.toolChoice = v
		case "function_call":
			f.functionCall = v
		case "stream_options":
			f.streamOptions = v
		case "max_tokens":
			f.maxTokens = v
		case "max_completion_tokens":
			f.maxCompletionTokens = v
		case "temperature":
			f.temperature = v
		case "top_p":
			f.topP = v
		case "n":
			f.n = v
		case "stop":
			f.stop = v
		case "seed":
			f.seed = v
		case "presence_penalty":
			f.presencePenalty = v
		case "frequency_penalty":
			f.frequencyPenalty = v
		case "response_format":
			f.responseFormat = v
		case "reasoning_effort":
			f.reasoningEffort = v
		case "thinking":
			f.thinking = v
		case "logprobs":
			f.logprobs = v
		case "top_logprobs":
			f.topLogprobs = v
		}
		return true
	})
}

// message translates messages[i].
func (b *reqBuilder) message(m gjson.Result, i int, scratch []byte) ([]byte, *wire.Error) {
	param := "messages[" + strconv.Itoa(i) + "]"
	if !m.IsObject() {
		return scratch, invalid(param, "%s must be an object", param)
	}
	var roleV, c gjson.Result
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			roleV = v
		case "content":
			c = v
		}
		return true
	})
	role := roleV.Str
	switch role {
	case "system", "developer":
		return b.systemText(c, param, scratch)
	case "user":
		return b.userContent(c, param, scratch)
	case "assistant":
		return b.assistant(m, c, param, scratch)
	case "tool", "function":
		return b.toolResult(m, c, role, param, scratch)
	case "":
		return scratch, invalid(param+".role", "%s.role is required", param)
	default:
		return scratch, invalid(param+".role", "%s.role %q is not one of system, developer, user, assistant, tool", param, role)
	}
}

func (b *reqBuilder) systemText(c gjson.Result, param string, scratch []byte) ([]byte, *wire.Error) {
	add := func(t gjson.Result) {
		if t.Str == "" {
			return
		}
		if len(b.system) > 0 {
			b.system = append(b.system, ',')
		}
		b.system = append(b.system, `{"text":`...)
		b.system = wire.AppendRawString(b.system, t)
		b.system = append(b.system, '}')
	}
	switch {
	case c.Type == gjson.String:
		add(c)
	case c.IsArray():
		var werr *wire.Error
		c.ForEach(func(k, p gjson.Result) bool {
			if p.Get("type").Str != "text" {
				werr = invalid(param+".content", "%s.content[%d]: a system message may hold only text parts", param, k.Int())
				return false
			}
			add(p.Get("text"))
			return true
		})
		return scratch, werr
	case c.Type == gjson.Null || !c.Exists():
	default:
		return scratch, invalid(param+".content", "%s.content must be a string or an array of text parts", param)
	}
	return scratch, nil
}

func textPart(dst []byte, t gjson.Result) []byte {
	dst = append(dst, `{"text":`...)
	dst = wire.AppendRawString(dst, t)
	return append(dst, '}')
}

func (b *reqBuilder) userContent(c gjson.Result, param string, scratch []byte) ([]byte, *wire.Error) {
	switch {
	case c.Type == gjson.String:
		if c.Str != "" {
			scratch = textPart(scratch[:0], c)
			b.part("user", scratch)
		}
	case c.IsArray():
		var werr *wire.Error
		c.ForEach(func(k, p gjson.Result) bool {
			pp := param + ".content[" + k.String() + "]"
			scratch, werr = userPart(scratch[:0], p, pp)
			if werr == nil && len(scratch) > 0 {
				b.part("user", scratch)
			}
			return werr == nil
		})
		return scratch, werr
	case c.Type == gjson.Null || !c.Exists():
		return scratch, invalid(param+".content", "%s.content is required for a user message", param)
	default:
		return scratch, invalid(param+".content", "%s.content must be a string or an array of content parts", param)
	}
	return scratch, nil
}

// userPart translates one content part of a user message; an empty text
// gives no part (Gemini refuses a part without data).
func userPart(dst []byte, p gjson.Result, param string) ([]byte, *wire.Error) {
	switch typ := p.Get("type").Str; typ {
	case "text":
		if t := p.Get("text"); t.Str != "" {
			return textPart(dst, t), nil
		}
		return dst, nil
	case "image_url":
		iu := p.Get("image_url")
		u, format := iu, gjson.Result{}
		if iu.IsObject() {
			u, format = iu.Get("url"), iu.Get("format")
		}
		return mediaPart(dst, u.Str, format.Str, param+".image_url")
	case "input_audio":
		a := p.Get("input_audio")
		data, format := a.Get("data").Str, a.Get("format").Str
		if data == "" || format == "" {
			return dst, invalid(param+".input_audio", "%s.input_audio needs data (base64) and format (wav, mp3)", param)
		}
		if strings.HasPrefix(data, "data:") {
			return mediaPart(dst, data, "", param+".input_audio")
		}
		dst = append(dst, `{"inlineData":{"mimeType":`...)
		dst = wire.AppendJSONString(dst, "audio/"+format)
		dst = append(dst, `,"data":`...)
		dst = wire.AppendJSONString(dst, data)
		return append(dst, "}}"...), nil
	case "file":
		f := p.Get("file")
		ref := f.Get("file_data").Str
		if ref == "" {
			ref = f.Get("file_id").Str
		}
		if ref == "" {
			return dst, invalid(param+".file", "%s.file needs file_data (a data: URL) or file_id (a gs:// or Gemini Files API URI)", param)
		}
		return mediaPart(dst, ref, f.Get("format").Str, param+".file")
	case "":
		return dst, invalid(param+".type", "%s.type is required", param)
	default:
		return dst, invalid(param+".type", "%s.type %q is not supported by Gemini models (text, image_url, input_audio, file)", param, typ)
	}
}

// mediaPart is the part of a media reference: a base64 data: URL as
// inlineData, a gs:// URI or a Gemini Files API URI as fileData. Other
// URLs are refused: the gateway does not fetch URLs on a caller's behalf.
func mediaPart(dst []byte, u, format, param string) ([]byte, *wire.Error) {
	switch {
	case strings.HasPrefix(u, "data:"):
		meta, data, ok := strings.Cut(u[len("data:"):], ",")
		mime, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || data == "" {
			return dst, invalid(param, "%s: a data: URL must be base64 (data:<mime type>;base64,<data>)", param)
		}
		if format != "" && strings.Contains(format, "/") {
			mime = format
		}
		if mime == "" {
			return dst, invalid(param, "%s: the data: URL names no mime type", param)
		}
		dst = append(dst, `{"inlineData":{"mimeType":`...)
		dst = wire.AppendJSONString(dst, mime)
		dst = append(dst, `,"data":`...)
		dst = wire.AppendJSONString(dst, data)
		return append(dst, "}}"...), nil
	case strings.HasPrefix(u, "gs://") || isGoogleFileURI(u):
		mime := format
		if mime == "" {
			mime = mimeOf(u)
		}
		dst = append(dst, `{"fileData":{`...)
		if mime != "" {
			dst = append(dst, `"mimeType":`...)
			dst = wire.AppendJSONString(dst, mime)
			dst = append(dst, ',')
		} else if strings.HasPrefix(u, "gs://") {
			return dst, invalid(param, "%s: the mime type of %q is not known from its name; set format (e.g. image/png)", param, truncate(u, 200))
		}
		dst = append(dst, `"fileUri":`...)
		dst = wire.AppendJSONString(dst, u)
		return append(dst, "}}"...), nil
	case strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://"):
		return dst, invalid(param, "%s: Gemini models take images and files as base64 data: URLs, gs:// URIs or Gemini Files API URIs; the gateway does not fetch http(s) URLs", param)
	case u == "":
		return dst, invalid(param, "%s: the url is required", param)
	default:
		return dst, invalid(param, "%s: the url must be a base64 data: URL, a gs:// URI or a Gemini Files API URI", param)
	}
}

// isGoogleFileURI: a file uploaded with the Gemini Files API.
func isGoogleFileURI(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://generativelanguage.googleapis.com/")
	return ok && strings.Contains(rest, "files/")
}

// mimeOf guesses a file's mime type from its name's extension.
func mimeOf(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	dot := strings.LastIndexByte(u, '.')
	if dot < 0 || strings.Contains(u[dot:], "/") {
		return ""
	}
	switch strings.ToLower(u[dot+1:]) {
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "webp":
		return "image/webp"
	case "gif":
		return "image/gif"
	case "heic":
		return "image/heic"
	case "pdf":
		return "application/pdf"
	case "txt":
		return "text/plain"
	case "mp3":
		return "audio/mp3"
	case "wav":
		return "audio/wav"
	case "flac":
		return "audio/flac"
	case "mp4":
		return "video/mp4"
	case "mov":
		return "video/mov"
	case "webm":
		return "video/webm"
	}
	return ""
}

func (b *reqBuilder) assistant(m, c gjson.Result, param string, scratch []byte) ([]byte, *wire.Error) {
	switch {
	case c.Type == gjson.String:
		if c.Str != "" {
			scratch = textPart(scratch[:0], c)
			b.part("model", scratch)
		}
	case c.IsArray():
		c.ForEach(func(_, p gjson.Result) bool {
			if p.Get("type").Str == "text" {
				if t := p.Get("text"); t.Str != "" {
					scratch = textPart(scratch[:0], t)
					b.part("model", scratch)
				}
			}
			return true // refusal and others: nothing Gemini takes back
		})
	}
	var werr *wire.Error
	calls := m.Get("tool_calls")
	if fc := m.Get("function_call"); fc.IsObject() && !calls.IsArray() {
		scratch, werr = b.functionCall(scratch[:0], fc, "", param+".function_call")
		if werr != nil {
			return scratch, werr
		}
		b.part("model", scratch)
	}
	calls.ForEach(func(k, tc gjson.Result) bool {
		pp := param + ".tool_calls[" + k.String() + "]"
		if t := tc.Get("type").Str; t != "" && t != "function" {
			werr = invalid(pp+".type", "%s.type %q is not supported (function)", pp, t)
			return false
		}
		scratch, werr = b.functionCall(scratch[:0], tc.Get("function"), tc.Get("id").Str, pp)
		if werr == nil {
			b.part("model", scratch)
		}
		return werr == nil
	})
	return scratch, werr
}

// functionCall is the functionCall part of an assistant's tool call; its
// id is remembered so that the tool's answer gets the function's name.
func (b *reqBuilder) functionCall(dst []byte, fn gjson.Result, id, param string) ([]byte, *wire.Error) {
	name := fn.Get("name")
	if name.Str == "" {
		return dst, invalid(param+".function.name", "%s.function.name is required", param)
	}
	if b.names == nil {
		b.names = make(map[string]string, 4)
	}
	if id != "" {
		b.names[id] = name.Str
	}
	b.names["\x00last"] = name.Str // for the legacy function role
	args := fn.Get("arguments")
	dst = append(dst, `{"functionCall":{"name":`...)
	dst = wire.AppendRawString(dst, name)
	dst = append(dst, `,"args":`...)
	switch s := strings.TrimSpace(args.Str); {
	case args.IsObject():
		dst = append(dst, args.Raw...)
	case s == "":
		dst = append(dst, "{}"...)
	default:
		v := gjson.Parse(s)
		if !gjson.Valid(s) || !v.IsObject() {
			return dst, invalid(param+".function.arguments", "%s.function.arguments must be a JSON object (as a string)", param)
		}
		dst = append(dst, s...)
	}
	dst = append(dst, '}')
	if _, sig, ok := strings.Cut(id, thoughtSep); ok && sig != "" {
		dst = append(dst, `,"thoughtSignature":`...)
		dst = wire.AppendJSONString(dst, sig)
	}
	return append(dst, '}'), nil
}

func (b *reqBuilder) toolResult(m, c gjson.Result, role, param string, scratch []byte) ([]byte, *wire.Error) {
	var name string
	if role == "function" {
		name = m.Get("name").Str
		if name == "" {
			name = b.names["\x00last"]
		}
	} else {
		id := m.Get("tool_call_id").Str
		if id == "" {
			return scratch, invalid(param+".tool_call_id", "%s.tool_call_id is required", param)
		}
		name = b.names[id]
		if name == "" {
			return scratch, invalid(param+".tool_call_id", "%s.tool_call_id %q matches no tool call of an earlier assistant message", param, truncate(id, 100))
		}
	}
	if name == "" {
		return scratch, invalid(param+".name", "%s.name is required", param)
	}
	var text string
	switch {
	case c.Type == gjson.String:
		text = c.Str
	case c.IsArray():
		var sb strings.Builder
		c.ForEach(func(_, p gjson.Result) bool {
			if p.Get("type").Str == "text" {
				sb.WriteString(p.Get("text").Str)
			}
			return true
		})
		text = sb.String()
	case c.IsObject():
		text = c.Raw
	}
	scratch = append(scratch[:0], `{"functionResponse":{"name":`...)
	scratch = wire.AppendJSONString(scratch, name)
	scratch = append(scratch, `,"response":`...)
	// The response must be an object: a JSON object answer as is, any
	// other text wrapped (as LiteLLM does).
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") && gjson.Valid(t) {
		scratch = append(scratch, t...)
	} else {
		scratch = append(scratch, `{"content":`...)
		scratch = wire.AppendJSONString(scratch, text)
		scratch = append(scratch, '}')
	}
	scratch = append(scratch, "}}"...)
	b.part("user", scratch)
	return scratch, nil
}
