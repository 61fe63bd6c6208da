package bedrock

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// jsonToolName is the tool a response_format becomes (LiteLLM's name):
// the model is made to call it and its input is the answer's content.
const jsonToolName = "json_tool_call"

// Thinking budgets for reasoning_effort on Anthropic models, as LiteLLM
// maps them (Anthropic's minimum being 1024).
const (
	budgetLow    = 1024
	budgetMedium = 2048
	budgetHigh   = 4096
)

// reqInfo is what the answer's translation needs to know of the request.
type reqInfo struct {
	model        string // the Bedrock model id (the answer's "model")
	includeUsage bool   // stream_options.include_usage
	jsonMode     bool   // response_format became the json tool
}

// request holds the fields of an OpenAI chat request the translation
// reads, found in one pass over its top level.
type request struct {
	messages, maxTokens, maxCompletionTokens, temperature, topP, topK, stop, n  gjson.Result
	tools, toolChoice, reasoningEffort, thinking, responseFormat, streamOptions gjson.Result
}

// translateRequest turns an OpenAI chat completions request into a
// Bedrock Converse request for model (the Bedrock model id; the URL names
// it, the body does not). A request Bedrock cannot serve, or that is
// malformed, is a 400 saying what to change.
func translateRequest(body []byte, model string) ([]byte, reqInfo, *wire.Error) {
	info := reqInfo{model: model}
	if !gjson.ValidBytes(body) {
		return nil, info, wire.BadRequest("the request body is not valid JSON")
	}
	root := gjson.Parse(wire.View(body))
	if !root.IsObject() {
		return nil, info, wire.BadRequest("the request body must be a JSON object")
	}
	var r request
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messages":
			r.messages = v
		case "max_tokens":
			r.maxTokens = v
		case "max_completion_tokens":
			r.maxCompletionTokens = v
		case "temperature":
			r.temperature = v
		case "top_p":
			r.topP = v
		case "top_k":
			r.topK = v
		case "stop":
			r.stop = v
		case "n":
			r.n = v
		case "tools":
			r.tools = v
		case "tool_choice":
			r.toolChoice = v
		case "reasoning_effort":
			r.reasoningEffort = v
		case "thinking":
			r.thinking = v
		case "response_format":
			r.responseFormat = v
		case "stream_options":
			r.streamOptions = v
		}
		return true
	})
	info.includeUsage = r.streamOptions.Get("include_usage").Bool()
	if r.n.Exists() && r.n.Type != gjson.Null && r.n.Num != 1 {
		return nil, info, param400("n", "n="+r.n.Raw+" is not supported: Bedrock's Converse API answers one choice per request; send n=1 or leave it out")
	}
	if !r.messages.IsArray() {
		return nil, info, param400("messages", "messages is required and must be an array of chat messages")
	}

	out := make([]byte, 0, len(body)+256)
	out = append(out, '{')

	// Messages and system blocks.
	msgs, system, usedTools, werr := translateMessages(r.messages)
	if werr != nil {
		return nil, info, werr
	}
	out = append(out, `"messages":[`...)
	out = append(out, msgs...)
	out = append(out, ']')
	if len(system) > 0 {
		out = append(out, `,"system":[`...)
		out = append(out, system...)
		out = append(out, ']')
	}

	// Reasoning: Anthropic models take Anthropic's thinking object, gpt-oss
	// models reasoning_effort, in additionalModelRequestFields.
	anthropicModel := isAnthropic(model)
	var extra []byte
	budget := int64(0)
	switch {
	case r.thinking.IsObject():
		if !anthropicModel {
			return nil, info, param400("thinking", "thinking is supported for Anthropic Claude models on Bedrock only")
		}
		extra = append(extra, `"thinking":`...)
		extra = append(extra, r.thinking.Raw...)
		if r.thinking.Get("type").Str == "enabled" {
			budget = r.thinking.Get("budget_tokens").Int()
		}
	case r.reasoningEffort.Type == gjson.String && r.reasoningEffort.Str != "" && r.reasoningEffort.Str != "none":
		switch {
		case anthropicModel:
			switch r.reasoningEffort.Str {
			case "minimal", "low":
				budget = budgetLow
			case "medium":
				budget = budgetMedium
			case "high":
				budget = budgetHigh
			default:
				return nil, info, param400("reasoning_effort", "reasoning_effort "+r.reasoningEffort.Raw+" is not supported for Anthropic models; use low, medium or high, or send a thinking object")
			}
			extra = append(extra, `"thinking":{"type":"enabled","budget_tokens":`...)
			extra = appendInt(extra, budget)
			extra = append(extra, '}')
		case strings.HasPrefix(baseModel(model), "openai."):
			extra = append(extra, `"reasoning_effort":`...)
			extra = append(extra, r.reasoningEffort.Raw...)
		default:
			return nil, info, param400("reasoning_effort", "reasoning_effort is supported on Bedrock for Anthropic Claude and OpenAI gpt-oss models only; leave it out for "+strconv.Quote(model))
		}
	}
	if r.topK.Type == gjson.Number && anthropicModel {
		extra = comma(extra)
		extra = append(extra, `"top_k":`...)
		extra = append(extra, r.topK.Raw...)
	}

	// inferenceConfig.
	var ic []byte
	maxTok := r.maxCompletionTokens
	if maxTok.Type == gjson.Null || !maxTok.Exists() {
		maxTok = r.maxTokens
	}
	if maxTok.Exists() && maxTok.Type != gjson.Null {
		if maxTok.Type != gjson.Number || maxTok.Num != float64(int64(maxTok.Num)) || maxTok.Num < 1 {
			return nil, info, param400("max_tokens", "max_tokens must be a positive integer")
		}
		ic = append(ic, `"maxTokens":`...)
		ic = appendInt(ic, maxTok.Int())
	} else if budget > 0 {
		// Bedrock requires maxTokens above the thinking budget.
		ic = append(ic, `"maxTokens":`...)
		ic = appendInt(ic, budget+4096)
	}
	for _, f := range [...]struct {
		v          gjson.Result
		name, json string
	}{{r.temperature, "temperature", "temperature"}, {r.topP, "top_p", "topP"}} {
		if !f.v.Exists() || f.v.Type == gjson.Null {
			continue
		}
		if f.v.Type != gjson.Number {
			return nil, info, param400(f.name, f.name+" must be a number")
		}
		ic = comma(ic)
		ic = append(ic, '"')
		ic = append(ic, f.json...)
		ic = append(ic, `":`...)
		ic = append(ic, f.v.Raw...)
	}
	switch {
	case r.stop.Type == gjson.String:
		if r.stop.Str != "" {
			ic = comma(ic)
			ic = append(ic, `"stopSequences":[`...)
			ic = append(ic, r.stop.Raw...)
			ic = append(ic, ']')
		}
	case r.stop.IsArray():
		var seqs []byte
		var bad bool
		r.stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type != gjson.String {
				bad = true
				return false
			}
			if s.Str != "" {
				seqs = append(comma(seqs), s.Raw...)
			}
			return true
		})
		if bad {
			return nil, info, param400("stop", "stop must be a string or an array of strings")
		}
		if len(seqs) > 0 {
			ic = comma(ic)
			ic = append(ic, `"stopSequences":[`...)
			ic = append(ic, seqs...)
			ic = append(ic, ']')
		}
	case r.stop.Exists() && r.stop.Type != gjson.Null:
		return nil, info, param400("stop", "stop must be a string or an array of strings")
	}
	if len(ic) > 0 {
		out = append(out, `,"inferenceConfig":{`...)
		out = append(out, ic...)
		out = append(out, '}')
	}

	// toolConfig.
	tc, jsonMode, werr := toolConfig(&r, usedTools)
	if werr != nil {
		return nil, info, werr
	}
	info.jsonMode = jsonMode
	if len(tc) > 0 {
		out = append(out, `,"toolConfig":`...)
		out = append(out, tc...)
	}
	if len(extra) > 0 {
		out = append(out, `,"additionalModelRequestFields":{`...)
		out = append(out, extra...)
		out = append(out, '}')
	}
	return append(out, '}'), info, nil
}

// param400 is a 400 about one request field.
func param400(param, msg string) *wire.Error {
	return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param, Message: msg}
}

// baseModel is the model id without a cross-region inference profile's
// geography prefix ("us.anthropic.claude..." -> "anthropic.claude...").
func baseModel(model string) string {
	if i := strings.LastIndex(model, "/"); i >= 0 { // an ARN
		model = model[i+1:]
	}
	for _, geo := range [...]string{"us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.", "global."} {
		if strings.HasPrefix(model, geo) {
			return model[len(geo):]
		}
	}
	return model
}

// isAnthropic reports whether model is an Anthropic Claude model.
func isAnthropic(model string) bool { return strings.HasPrefix(baseModel(model), "anthropic.") }

// toolConfig builds the Converse toolConfig: the request's function tools
// (or, when tools are left out but the history has tool calls, a
// definition per tool called: Bedrock refuses toolUse blocks without a
// toolConfig), the tool choice, and response_format's json tool.
func toolConfig(r *request, used []string) (out []byte, jsonMode bool, _ *wire.Error) {
	var tools []byte
	names := 0
	if r.tools.Exists() && r.tools.Type != gjson.Null {
		if !r.tools.IsArray() {
			return nil, false, param400("tools", "tools must be an array of function tools")
		}
		var werr *wire.Error
		i := 0
		r.tools.ForEach(func(_, t gjson.Result) bool {
			if typ := t.Get("type").Str; typ != "function" {
				werr = param400("tools["+strconv.Itoa(i)+"].type", "tools["+strconv.Itoa(i)+"] has type "+strconv.Quote(typ)+", which Bedrock does not support; use function tools")
				return false
			}
			fn := t.Get("function")
			name := fn.Get("name")
			if name.Type != gjson.String || name.Str == "" {
				werr = param400("tools["+strconv.Itoa(i)+"].function.name", "tools["+strconv.Itoa(i)+"].function.name is required")
				return false
			}
			tools = comma(tools)
			tools = append(tools, `{"toolSpec":{"name":`...)
			tools = append(tools, name.Raw...)
			if d := fn.Get("description"); d.Type == gjson.String && d.Str != "" {
				tools = append(tools, `,"description":`...)
				tools = append(tools, d.Raw...)
			}
			tools = append(tools, `,"inputSchema":{"json":`...)
			if p := fn.Get("parameters"); p.IsObject() {
				tools = append(tools, p.Raw...)
			} else {
				tools = append(tools, `{"type":"object","properties":{}}`...)
			}
			tools = append(tools, "}}}"...)
			names++
			i++
			return true
		})
		if werr != nil {
			return nil, false, werr
		}
	}

	var choice []byte
	tc := r.toolChoice
	switch {
	case !tc.Exists() || tc.Type == gjson.Null:
	case tc.Type == gjson.String:
		switch tc.Str {
		case "auto":
			choice = []byte(`{"auto":{}}`)
		case "required":
			choice = []byte(`{"any":{}}`)
		case "none":
			// Bedrock has no "none": the tools are left out (unless the
			// history needs their definitions; then the model may still
			// call one).
			if len(used) == 0 {
				tools, names = nil, 0
			}
		default:
			return nil, false, param400("tool_choice", "tool_choice "+tc.Raw+" is not supported; use auto, required, none or a named function")
		}
	case tc.IsObject():
		name := tc.Get("function.name")
		if name.Type != gjson.String || name.Str == "" {
			return nil, false, param400("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
		}
		choice = append(choice, `{"tool":{"name":`...)
		choice = append(choice, name.Raw...)
		choice = append(choice, "}}"...)
	default:
		return nil, false, param400("tool_choice", "tool_choice must be a string or an object")
	}

	switch rf := r.responseFormat.Get("type").Str; rf {
	case "", "text":
	case "json_object", "json_schema":
		schema := `{"type":"object"}`
		if rf == "json_schema" {
			if s := r.responseFormat.Get("json_schema.schema"); s.IsObject() {
				schema = s.Raw
			}
		}
		tools = comma(tools)
		tools = append(tools, `{"toolSpec":{"name":"`+jsonToolName+`","description":"Respond with a JSON object.","inputSchema":{"json":`...)
		tools = append(tools, schema...)
		tools = append(tools, "}}}"...)
		names++
		choice = []byte(`{"tool":{"name":"` + jsonToolName + `"}}`)
		jsonMode = true
	default:
		return nil, false, param400("response_format", "response_format type "+strconv.Quote(rf)+" is not supported; use text, json_object or json_schema")
	}

	// Tools the history calls but the request does not define.
	for _, u := range used {
		if names > 0 && r.tools.IsArray() && hasTool(r.tools, u) {
			continue
		}
		if strings.Contains(string(tools), `"name":`+string(wire.AppendJSONString(nil, u))+`,`) {
			continue
		}
		tools = comma(tools)
		tools = append(tools, `{"toolSpec":{"name":`...)
		tools = wire.AppendJSONString(tools, u)
		tools = append(tools, `,"inputSchema":{"json":{"type":"object","properties":{}}}}}`...)
		names++
	}
	if names == 0 {
		return nil, false, nil
	}
	out = append(out, `{"tools":[`...)
	out = append(out, tools...)
	out = append(out, ']')
	if len(choice) > 0 {
		out = append(out, `,"toolChoice":`...)
		out = append(out, choice...)
	}
	return append(out, '}'), jsonMode, nil
}

func hasTool(tools gjson.Result, name string) bool {
	found := false
	tools.ForEach(func(_, t gjson.Result) bool {
		if t.Get("function.name").Str == name {
			found = true
			return false
		}
		return true
	})
	return found
}

// translateMessages turns OpenAI messages into Converse messages (the
// array's elements) and system blocks; used lists the tools the
// assistant messages call. Messages are written straight into msgs:
// consecutive messages of one Converse role merge into the turn still
// open (Bedrock requires the roles to alternate).
func translateMessages(messages gjson.Result) (msgs, system []byte, used []string, _ *wire.Error) {
	msgs = make([]byte, 0, len(messages.Raw)+64)
	const (
		none = iota
		user
		assistant
	)
	open := none
	// turn opens a turn of role (closing the one open), or keeps the open
	// one when it has that role.
	turn := func(role int) {
		if open == role {
			return
		}
		if open == none && role == assistant { // Bedrock requires a user turn first
			msgs = append(msgs, `{"role":"user","content":[{"text":"."}]}`...)
		}
		if open != none {
			msgs = append(msgs, "]}"...)
		}
		msgs = comma(msgs)
		if role == assistant {
			msgs = append(msgs, `{"role":"assistant","content":[`...)
		} else {
			msgs = append(msgs, `{"role":"user","content":[`...)
		}
		open = role
	}
	// done ends a message's blocks: a message that gave none gets a "."
	// (Bedrock refuses empty content), and cache_control a cache point.
	done := func(mark int, cc gjson.Result) {
		if len(msgs) == mark {
			msgs = append(comma(msgs), `{"text":"."}`...)
		}
		msgs = appendCachePoint(msgs, cc)
	}
	var werr *wire.Error
	i := -1
	messages.ForEach(func(_, m gjson.Result) bool {
		i++
		if !m.IsObject() {
			werr = msgErr(i, "", "must be an object")
			return false
		}
		content := m.Get("content")
		cc := m.Get("cache_control")
		switch role := m.Get("role").Str; role {
		case "system", "developer":
			var b []byte
			if b, werr = appendText(system, content, i); werr != nil {
				return false
			}
			system = appendCachePoint(b, cc)
		case "user":
			turn(user)
			mark := len(msgs)
			if msgs, werr = appendUserContent(msgs, content, i); werr != nil {
				return false
			}
			done(mark, cc)
		case "assistant":
			turn(assistant)
			mark := len(msgs)
			// Reasoning comes first, as the model gave it (with its
			// signature: Bedrock needs it back alongside tool use).
			msgs = appendThinkingBlocks(msgs, m.Get("thinking_blocks"))
			if msgs, werr = appendText(msgs, content, i); werr != nil {
				return false
			}
			tcs := m.Get("tool_calls")
			if tcs.Exists() && tcs.Type != gjson.Null && !tcs.IsArray() {
				werr = msgErr(i, "tool_calls", "must be an array")
				return false
			}
			tcs.ForEach(func(_, tc gjson.Result) bool {
				id, name := tc.Get("id"), tc.Get("function.name")
				if id.Type != gjson.String || id.Str == "" || name.Type != gjson.String || name.Str == "" {
					werr = msgErr(i, "tool_calls", "has a tool call without an id or function name")
					return false
				}
				args := tc.Get("function.arguments")
				input := "{}"
				if args.Type == gjson.String && !wire.IsBlank(args.Str) {
					if gjson.Valid(args.Str) && gjson.Parse(args.Str).IsObject() {
						input = args.Str
					} else {
						werr = msgErr(i, "tool_calls", "has a tool call whose arguments are not a JSON object")
						return false
					}
				}
				msgs = comma(msgs)
				msgs = append(msgs, `{"toolUse":{"toolUseId":`...)
				msgs = append(msgs, id.Raw...)
				msgs = append(msgs, `,"name":`...)
				msgs = append(msgs, name.Raw...)
				msgs = append(msgs, `,"input":`...)
				msgs = append(msgs, input...)
				msgs = append(msgs, "}}"...)
				used = append(used, name.Str)
				return true
			})
			if werr != nil {
				return false
			}
			done(mark, cc)
		case "tool", "function":
			id := m.Get("tool_call_id")
			if id.Type != gjson.String || id.Str == "" {
				werr = msgErr(i, "tool_call_id", "is required for a tool message")
				return false
			}
			turn(user)
			msgs = comma(msgs)
			msgs = append(msgs, `{"toolResult":{"toolUseId":`...)
			msgs = append(msgs, id.Raw...)
			msgs = append(msgs, `,"content":[`...)
			mark := len(msgs)
			if msgs, werr = appendText(msgs, content, i); werr != nil {
				return false
			}
			if len(msgs) == mark {
				msgs = append(msgs, `{"text":"."}`...)
			}
			msgs = append(msgs, "]}}"...)
			msgs = appendCachePoint(msgs, cc)
		default:
			werr = msgErr(i, "role", "is "+strconv.Quote(role)+"; use system, developer, user, assistant or tool")
			return false
		}
		return true
	})
	if werr != nil {
		return nil, nil, nil, werr
	}
	if open == none {
		return nil, nil, nil, param400("messages", "messages must hold at least one user message")
	}
	return append(msgs, "]}"...), system, used, nil
}

func msgErr(i int, field, what string) *wire.Error {
	p := "messages[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return param400(p, p+" "+what)
}

// appendText appends the text blocks of a content that may hold text
// only (system, assistant and tool messages): a string or text parts.
// Blank text is left out (Bedrock refuses blank text blocks).
func appendText(b []byte, content gjson.Result, i int) ([]byte, *wire.Error) {
	switch {
	case content.Type == gjson.String:
		if !wire.IsBlank(content.Str) {
			b = comma(b)
			b = append(b, `{"text":`...)
			b = append(b, content.Raw...)
			b = append(b, '}')
		}
	case content.IsArray():
		var werr *wire.Error
		content.ForEach(func(_, p gjson.Result) bool {
			if typ := p.Get("type").Str; typ != "text" {
				werr = msgErr(i, "content", "has a part of type "+strconv.Quote(typ)+"; this message takes text parts only")
				return false
			}
			t := p.Get("text")
			if t.Type != gjson.String {
				werr = msgErr(i, "content", "has a text part without text")
				return false
			}
			if !wire.IsBlank(t.Str) {
				b = comma(b)
				b = append(b, `{"text":`...)
				b = append(b, t.Raw...)
				b = append(b, '}')
				b = appendCachePoint(b, p.Get("cache_control"))
			}
			return true
		})
		if werr != nil {
			return nil, werr
		}
	case !content.Exists() || content.Type == gjson.Null:
	default:
		return nil, msgErr(i, "content", "must be a string or an array of content parts")
	}
	return b, nil
}

// appendUserContent appends a user message's blocks: text and images.
func appendUserContent(b []byte, content gjson.Result, i int) ([]byte, *wire.Error) {
	if !content.IsArray() {
		return appendText(b, content, i)
	}
	var werr *wire.Error
	content.ForEach(func(_, p gjson.Result) bool {
		switch typ := p.Get("type").Str; typ {
		case "text":
			t := p.Get("text")
			if t.Type != gjson.String {
				werr = msgErr(i, "content", "has a text part without text")
				return false
			}
			if !wire.IsBlank(t.Str) {
				b = comma(b)
				b = append(b, `{"text":`...)
				b = append(b, t.Raw...)
				b = append(b, '}')
				b = appendCachePoint(b, p.Get("cache_control"))
			}
		case "image_url":
			u := p.Get("image_url.url")
			if u.Type != gjson.String {
				u = p.Get("image_url")
			}
			if b, werr = appendImage(b, u.Str, i); werr != nil {
				return false
			}
			b = appendCachePoint(b, p.Get("cache_control"))
		default:
			werr = msgErr(i, "content", "has a part of type "+strconv.Quote(typ)+", which the gateway does not send to Bedrock; use text or image_url parts")
			return false
		}
		return true
	})
	return b, werr
}

// appendImage appends an image block for a data URL (base64 image/png,
// jpeg, gif or webp). The gateway fetches no URL on a client's behalf.
func appendImage(b []byte, url string, i int) ([]byte, *wire.Error) {
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
			return nil, msgErr(i, "content", "has an image URL; Bedrock takes images inline only and the gateway does not fetch URLs: send the image as a data URL (data:image/png;base64,...)")
		}
		return nil, msgErr(i, "content", "has an image_url that is not a data URL (data:image/png;base64,...)")
	}
	media, data, ok := strings.Cut(rest, ",")
	media, isB64 := strings.CutSuffix(media, ";base64")
	if !ok || !isB64 {
		return nil, msgErr(i, "content", "has an image data URL that is not base64 (data:image/png;base64,...)")
	}
	var format string
	switch media {
	case "image/png":
		format = "png"
	case "image/jpeg", "image/jpg":
		format = "jpeg"
	case "image/gif":
		format = "gif"
	case "image/webp":
		format = "webp"
	default:
		return nil, msgErr(i, "content", "has an image of type "+strconv.Quote(media)+"; Bedrock takes image/png, image/jpeg, image/gif and image/webp")
	}
	for j := 0; j < len(data); j++ {
		if c := data[j]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, msgErr(i, "content", "has an image data URL whose data is not base64")
		}
	}
	b = comma(b)
	b = append(b, `{"image":{"format":"`...)
	b = append(b, format...)
	b = append(b, `","source":{"bytes":"`...)
	b = append(b, data...)
	return append(b, `"}}}`...), nil
}

// appendCachePoint appends a cache point block after the block(s) a
// cache_control marks (Bedrock's prompt caching, as LiteLLM maps it).
func appendCachePoint(b []byte, cc gjson.Result) []byte {
	if !cc.IsObject() || len(b) == 0 {
		return b
	}
	return append(comma(b), `{"cachePoint":{"type":"default"}}`...)
}

// appendThinkingBlocks appends an assistant message's thinking_blocks
// (as the anthropic package and LiteLLM give them back) as reasoning
// content blocks: thinking with its signature, redacted thinking as its
// data.
func appendThinkingBlocks(b []byte, blocks gjson.Result) []byte {
	blocks.ForEach(func(_, t gjson.Result) bool {
		switch t.Get("type").Str {
		case "thinking":
			text := t.Get("thinking")
			if text.Type != gjson.String {
				return true
			}
			b = comma(b)
			b = append(b, `{"reasoningContent":{"reasoningText":{"text":`...)
			b = append(b, text.Raw...)
			if sig := t.Get("signature"); sig.Type == gjson.String && sig.Str != "" {
				b = append(b, `,"signature":`...)
				b = append(b, sig.Raw...)
			}
			b = append(b, "}}}"...)
		case "redacted_thinking":
			if data := t.Get("data"); data.Type == gjson.String && data.Str != "" {
				b = comma(b)
				b = append(b, `{"reasoningContent":{"redactedContent":`...)
				b = append(b, data.Raw...)
				b = append(b, "}}"...)
			}
		}
		return true
	})
	return b
}
