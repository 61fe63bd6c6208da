package anthropic

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// jsonToolName is the tool a response_format becomes (LiteLLM's name):
// the model is made to call it and its input is the answer's content.
const jsonToolName = "json_tool_call"

// Thinking budgets for reasoning_effort, as LiteLLM maps them (its
// DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET; "minimal" gets the low
// budget, Anthropic's minimum being 1024).
const (
	budgetLow    = 1024
	budgetMedium = 2048
	budgetHigh   = 4096
)

// reqInfo is what the answer's translation needs to know of the request.
type reqInfo struct {
	includeUsage bool // stream_options.include_usage
	jsonMode     bool // response_format became the json tool
}

// request holds the fields of an OpenAI chat request the translation
// reads, found in one pass over its top level.
type request struct {
	model, messages, maxTokens, maxCompletionTokens       gjson.Result
	temperature, topP, topK, stop, user, n                gjson.Result
	tools, toolChoice, parallelToolCalls, reasoningEffort gjson.Result
	thinking, responseFormat, streamOptions               gjson.Result
}

// translateRequest turns an OpenAI chat completions request into an
// Anthropic Messages request (see the package comment for the rules).
// stream sets "stream": true. A request Anthropic cannot serve, or that
// is malformed, is a 400 saying what to change.
func translateRequest(body []byte, stream bool) ([]byte, reqInfo, *wire.Error) {
	var info reqInfo
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
		case "model":
			r.model = v
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
		case "user":
			r.user = v
		case "n":
			r.n = v
		case "tools":
			r.tools = v
		case "tool_choice":
			r.toolChoice = v
		case "parallel_tool_calls":
			r.parallelToolCalls = v
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
		return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "n",
			Message: "n=" + r.n.Raw + " is not supported: Anthropic supports n=1 (one choice per request); send n=1 or leave it out"}
	}
	if r.model.Type != gjson.String || r.model.Str == "" {
		return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
			Message: "model is required"}
	}
	if !r.messages.IsArray() {
		return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "messages",
			Message: "messages is required and must be an array of chat messages"}
	}

	out := make([]byte, 0, len(body)+256)
	out = append(out, `{"model":`...)
	out = append(out, r.model.Raw...)

	// Thinking first: the default max_tokens depends on its budget.
	var thinking []byte
	budget := int64(0)
	switch {
	case r.thinking.IsObject():
		thinking = []byte(r.thinking.Raw)
		if r.thinking.Get("type").Str == "enabled" {
			budget = r.thinking.Get("budget_tokens").Int()
		}
	case r.reasoningEffort.Type == gjson.String:
		switch r.reasoningEffort.Str {
		case "minimal", "low":
			budget = budgetLow
		case "medium":
			budget = budgetMedium
		case "high":
			budget = budgetHigh
		case "none", "":
		default:
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "reasoning_effort",
				Message: "reasoning_effort " + r.reasoningEffort.Raw + " is not supported for Anthropic models; use low, medium or high, or send a thinking object"}
		}
		if budget > 0 {
			thinking = append(thinking, `{"type":"enabled","budget_tokens":`...)
			thinking = appendInt(thinking, budget)
			thinking = append(thinking, '}')
		}
	}

	maxTokens := r.maxCompletionTokens
	param := "max_completion_tokens"
	if !maxTokens.Exists() || maxTokens.Type == gjson.Null {
		maxTokens, param = r.maxTokens, "max_tokens"
	}
	out = append(out, `,"max_tokens":`...)
	if maxTokens.Exists() && maxTokens.Type != gjson.Null {
		if maxTokens.Type != gjson.Number || maxTokens.Num < 1 || maxTokens.Num != math.Trunc(maxTokens.Num) || maxTokens.Num > 1e9 {
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param,
				Message: param + " must be a positive integer"}
		}
		out = appendInt(out, int64(maxTokens.Num))
	} else {
		n := int64(MaxOutputTokens(r.model.Str))
		if budget >= n {
			n = budget + FallbackMaxTokens
		}
		out = appendInt(out, n)
	}

	// Messages, with the system prompt pulled out of them.
	msgs, system, werr := translateMessages(r.messages, nil)
	if werr != nil {
		return nil, info, werr
	}
	if len(system) > 0 {
		out = append(out, `,"system":[`...)
		out = append(out, system...)
		out = append(out, ']')
	}
	out = append(out, `,"messages":`...)
	out = append(out, msgs...)

	// Tools, the response_format tool, tool_choice.
	nTools := 0
	if r.tools.Exists() && r.tools.Type != gjson.Null {
		if !r.tools.IsArray() {
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "tools", Message: "tools must be an array"}
		}
	}
	var jsonSchema string
	if rf := r.responseFormat; rf.IsObject() {
		switch rf.Get("type").Str {
		case "json_schema":
			if s := rf.Get("json_schema.schema"); s.IsObject() {
				jsonSchema = s.Raw
			} else {
				jsonSchema = `{"type":"object","additionalProperties":true,"properties":{}}`
			}
		case "json_object":
			jsonSchema = `{"type":"object","additionalProperties":true,"properties":{}}`
		}
	}
	toolsStart := len(out)
	out = append(out, `,"tools":[`...)
	var terr *wire.Error
	r.tools.ForEach(func(_, t gjson.Result) bool {
		if nTools > 0 {
			out = append(out, ',')
		}
		out, terr = appendTool(out, t, nTools)
		nTools++
		return terr == nil
	})
	if terr != nil {
		return nil, info, terr
	}
	if jsonSchema != "" {
		info.jsonMode = true
		if nTools > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"name":"`+jsonToolName+`","description":"Answer with the JSON the user asked for as this tool's input.","input_schema":`...)
		out = append(out, jsonSchema...)
		out = append(out, '}')
		nTools++
	}
	if nTools == 0 {
		out = out[:toolsStart]
	} else {
		out = append(out, ']')
		choice, cerr := toolChoice(r.toolChoice, r.parallelToolCalls, info.jsonMode && budget == 0 && !thinkingEnabled(r.thinking))
		if cerr != nil {
			return nil, info, cerr
		}
		if choice != "" {
			out = append(out, `,"tool_choice":`...)
			out = append(out, choice...)
		}
	}

	if len(thinking) > 0 {
		out = append(out, `,"thinking":`...)
		out = append(out, thinking...)
	}
	if r.temperature.Type == gjson.Number && r.topP.Type == gjson.Number {
		// Anthropic's recent models refuse both; temperature wins.
		r.topP = gjson.Result{}
	}
	for _, f := range [...]struct {
		name string
		v    gjson.Result
	}{{"temperature", r.temperature}, {"top_p", r.topP}, {"top_k", r.topK}} {
		switch f.v.Type {
		case gjson.Null:
		case gjson.Number:
			out = append(out, `,"`...)
			out = append(out, f.name...)
			out = append(out, `":`...)
			out = append(out, f.v.Raw...)
		default:
			return nil, info, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: f.name, Message: f.name + " must be a number"}
		}
	}
	if out, werr = appendStop(out, r.stop); werr != nil {
		return nil, info, werr
	}
	// Anthropic asks for an opaque id in user_id, never an e-mail address
	// (LiteLLM drops those too).
	if r.user.Type == gjson.String && r.user.Str != "" && !strings.Contains(r.user.Str, "@") {
		out = append(out, `,"metadata":{"user_id":`...)
		out = append(out, r.user.Raw...)
		out = append(out, '}')
	}
	if stream {
		out = append(out, `,"stream":true`...)
	}
	out = append(out, '}')
	return out, info, nil
}

func thinkingEnabled(t gjson.Result) bool { return t.IsObject() && t.Get("type").Str != "disabled" }

// appendStop appends stop as stop_sequences; white-space-only sequences,
// which Anthropic refuses, are dropped.
func appendStop(out []byte, stop gjson.Result) ([]byte, *wire.Error) {
	switch {
	case stop.Type == gjson.Null:
		return out, nil
	case stop.Type == gjson.String:
		if wire.IsBlank(stop.Str) {
			return out, nil
		}
		out = append(out, `,"stop_sequences":[`...)
		out = append(out, stop.Raw...)
		return append(out, ']'), nil
	case stop.IsArray():
		start := len(out)
		out = append(out, `,"stop_sequences":[`...)
		n := 0
		var bad bool
		stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type != gjson.String {
				bad = true
				return false
			}
			if wire.IsBlank(s.Str) {
				return true
			}
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, s.Raw...)
			n++
			return true
		})
		if bad {
			return nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "stop", Message: "stop must be a string or an array of strings"}
		}
		if n == 0 {
			return out[:start], nil
		}
		return append(out, ']'), nil
	default:
		return nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "stop", Message: "stop must be a string or an array of strings"}
	}
}

// appendTool appends the Anthropic form of the OpenAI tool t (index i,
// for messages). A tool that is not a function (an Anthropic server tool
// such as web_search_20250305, with a name) is passed as is.
func appendTool(out []byte, t gjson.Result, i int) ([]byte, *wire.Error) {
	param := "tools[" + strconv.Itoa(i) + "]"
	if !t.IsObject() {
		return nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param, Message: param + " must be an object"}
	}
	var typ string
	var f, cc, fcc gjson.Result
	t.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			typ = v.Str
		case "function":
			f = v
		case "cache_control":
			cc = v
		}
		return true
	})
	if typ != "function" && !(typ == "" && f.IsObject()) {
		if t.Get("name").Type == gjson.String {
			return append(out, t.Raw...), nil
		}
		return nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param,
			Message: param + " has type " + strconv.Quote(typ) + ", which Anthropic models do not support; use function tools"}
	}
	var name, desc, params gjson.Result
	f.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "name":
			name = v
		case "description":
			desc = v
		case "parameters":
			params = v
		case "cache_control":
			fcc = v
		}
		return true
	})
	if name.Type != gjson.String || name.Str == "" {
		return nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param + ".function.name",
			Message: param + ".function.name is required"}
	}
	out = append(out, `{"name":`...)
	out = append(out, name.Raw...)
	if desc.Type == gjson.String && desc.Str != "" {
		out = append(out, `,"description":`...)
		out = append(out, desc.Raw...)
	}
	out = append(out, `,"input_schema":`...)
	if params.IsObject() {
		out = append(out, params.Raw...)
	} else {
		out = append(out, `{"type":"object","properties":{}}`...)
	}
	if !cc.IsObject() {
		cc = fcc
	}
	if cc.IsObject() {
		out = append(out, `,"cache_control":`...)
		out = append(out, cc.Raw...)
	}
	return append(out, '}'), nil
}

// toolChoice is the Anthropic tool_choice for OpenAI's tool_choice and
// parallel_tool_calls ("" for none to send). forceJSON makes the json
// tool the choice (response_format without thinking, as LiteLLM does).
func toolChoice(tc, parallel gjson.Result, forceJSON bool) (string, *wire.Error) {
	var b []byte
	switch {
	case forceJSON:
		b = append(b, `{"type":"tool","name":"`+jsonToolName+`"`...)
	case !tc.Exists() || tc.Type == gjson.Null:
	case tc.Type == gjson.String:
		switch tc.Str {
		case "auto":
			b = append(b, `{"type":"auto"`...)
		case "none":
			return `{"type":"none"}`, nil
		case "required":
			b = append(b, `{"type":"any"`...)
		default:
			return "", &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "tool_choice",
				Message: "tool_choice " + tc.Raw + " is not supported; use auto, none, required or {\"type\": \"function\", \"function\": {\"name\": ...}}"}
		}
	case tc.IsObject():
		name := tc.Get("function.name")
		if name.Type != gjson.String || name.Str == "" {
			return "", &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "tool_choice",
				Message: "tool_choice.function.name is required to force a tool"}
		}
		b = append(b, `{"type":"tool","name":`...)
		b = append(b, name.Raw...)
	default:
		return "", &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "tool_choice",
			Message: "tool_choice must be a string or an object"}
	}
	if parallel.Type == gjson.False {
		if b == nil {
			b = append(b, `{"type":"auto"`...)
		}
		b = append(b, `,"disable_parallel_tool_use":true`...)
	}
	if b == nil {
		return "", nil
	}
	return string(append(b, '}')), nil
}

// turn is the message being built: Anthropic wants user and assistant
// turns alternating, so consecutive messages of one role are merged, and
// a user turn's tool_result blocks come before anything else in it.
type turn struct {
	role    byte   // 'u', 'a'; 0: none yet
	results []byte // tool_result blocks, comma-separated
	blocks  []byte // other blocks, comma-separated
}

// message holds the fields of one OpenAI message, read in one pass.
type message struct {
	object                               bool
	role, content, toolCalls, toolCallID gjson.Result
	cacheControl, thinkingBlocks         gjson.Result
}

func readMessage(m gjson.Result) (x message) {
	if x.object = m.IsObject(); !x.object {
		return x
	}
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			x.role = v
		case "content":
			x.content = v
		case "tool_calls":
			x.toolCalls = v
		case "tool_call_id":
			x.toolCallID = v
		case "cache_control":
			x.cacheControl = v
		case "thinking_blocks":
			x.thinkingBlocks = v
		}
		return true
	})
	return x
}

// translateMessages returns the Anthropic messages array and the system
// blocks (comma-separated, without brackets) for OpenAI messages.
func translateMessages(messages gjson.Result, scratch []byte) (msgs, system []byte, _ *wire.Error) {
	var stack [16]message
	list := stack[:0]
	messages.ForEach(func(_, m gjson.Result) bool {
		list = append(list, readMessage(m))
		return true
	})
	// The last user or assistant message: an assistant one there is a
	// prefill, whose text must not end in white space.
	last := -1
	for i := len(list) - 1; i >= 0; i-- {
		if r := list[i].role.Str; r != "system" && r != "developer" {
			last = i
			break
		}
	}
	msgs = append(scratch, '[')
	var cur turn
	turns := 0
	flush := func() {
		if cur.role == 0 || len(cur.results)+len(cur.blocks) == 0 {
			return
		}
		if turns == 0 && cur.role == 'a' {
			// Anthropic wants the first message from the user (LiteLLM
			// inserts the same placeholder).
			msgs = append(msgs, `{"role":"user","content":[{"type":"text","text":"."}]},`...)
			turns++
		}
		if turns > 0 && msgs[len(msgs)-1] != ',' {
			msgs = append(msgs, ',')
		}
		if cur.role == 'u' {
			msgs = append(msgs, `{"role":"user","content":[`...)
		} else {
			msgs = append(msgs, `{"role":"assistant","content":[`...)
		}
		msgs = append(msgs, cur.results...)
		if len(cur.results) > 0 && len(cur.blocks) > 0 {
			msgs = append(msgs, ',')
		}
		msgs = append(msgs, cur.blocks...)
		msgs = append(msgs, "]}"...)
		turns++
		cur.results, cur.blocks = cur.results[:0], cur.blocks[:0]
	}
	var tmp []byte // one message's blocks
	for i := range list {
		m := &list[i]
		if !m.object {
			return nil, nil, msgErr(i, "", "must be an object")
		}
		var err *wire.Error
		var role byte
		tmp = tmp[:0]
		switch m.role.Str {
		case "system", "developer":
			system, err = appendSystem(system, m.content, i)
		case "user":
			role = 'u'
			tmp, err = appendContent(tmp, m.content, m.cacheControl, i, false, false)
		case "assistant":
			role = 'a'
			tmp, err = appendAssistant(tmp, m, i, i == last)
		case "tool":
			role = 't'
			tmp, err = appendToolResult(tmp, m, i)
		case "function":
			err = msgErr(i, "role", "\"function\" is not supported; send tool messages (role \"tool\") with tool_call_id")
		default:
			err = msgErr(i, "role", "must be system, developer, user, assistant or tool")
		}
		if err != nil {
			return nil, nil, err
		}
		if len(tmp) == 0 {
			continue // nothing to send: it must not split a turn
		}
		turnRole := role
		if role == 't' {
			turnRole = 'u'
		}
		if cur.role != turnRole {
			flush()
			cur.role = turnRole
		}
		if role == 't' {
			cur.results = append(comma(cur.results), tmp...)
		} else {
			cur.blocks = append(comma(cur.blocks), tmp...)
		}
	}
	flush()
	if turns == 0 {
		return nil, nil, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "messages",
			Message: "messages must hold at least one user or assistant message with content"}
	}
	return append(msgs, ']'), system, nil
}

func msgErr(i int, field, what string) *wire.Error {
	p := "messages[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: p, Message: p + " " + what}
}

func comma(b []byte) []byte {
	if len(b) > 0 {
		return append(b, ',')
	}
	return b
}

// appendTextBlock appends a text block for the string v (skipped when
// blank: Anthropic refuses empty text blocks). trim cuts trailing white
// space (a final assistant message).
func appendTextBlock(b []byte, v gjson.Result, cc gjson.Result, trim bool) []byte {
	if v.Type != gjson.String || wire.IsBlank(v.Str) {
		return b
	}
	b = comma(b)
	b = append(b, `{"type":"text","text":`...)
	if trim && strings.TrimRight(v.Str, " \t\r\n") != v.Str {
		b = wire.AppendJSONString(b, strings.TrimRight(v.Str, " \t\r\n"))
	} else {
		b = append(b, v.Raw...)
	}
	if cc.IsObject() {
		b = append(b, `,"cache_control":`...)
		b = append(b, cc.Raw...)
	}
	return append(b, '}')
}

// appendSystem appends the system blocks of a system or developer message.
func appendSystem(b []byte, content gjson.Result, i int) ([]byte, *wire.Error) {
	switch {
	case content.Type == gjson.String:
		return appendTextBlock(b, content, gjson.Result{}, false), nil
	case content.IsArray():
		var err *wire.Error
		content.ForEach(func(_, p gjson.Result) bool {
			if p.Get("type").Str != "text" {
				err = msgErr(i, "content", "of a system message may hold text parts only")
				return false
			}
			b = appendTextBlock(b, p.Get("text"), p.Get("cache_control"), false)
			return true
		})
		return b, err
	case content.Type == gjson.Null || !content.Exists():
		return b, nil
	default:
		return nil, msgErr(i, "content", "must be a string or an array of content parts")
	}
}

// appendContent appends the blocks of a user message's (or a tool
// result's) content: a string or content parts.
func appendContent(b []byte, content, cc gjson.Result, i int, inResult, trim bool) ([]byte, *wire.Error) {
	switch {
	case content.Type == gjson.String:
		return appendTextBlock(b, content, cc, trim), nil
	case content.IsArray():
		var err *wire.Error
		start := len(b)
		content.ForEach(func(_, p gjson.Result) bool {
			b, err = appendPart(b, p, i, inResult)
			return err == nil
		})
		return markLast(b, start, cc, content), err
	case content.Type == gjson.Null || !content.Exists():
		return b, nil
	default:
		return nil, msgErr(i, "content", "must be a string or an array of content parts")
	}
}

// markLast puts a message's cache_control on the last block it produced
// (from start), as LiteLLM does, unless its parts carry their own.
func markLast(b []byte, start int, cc, content gjson.Result) []byte {
	if !cc.IsObject() || len(b) <= start || b[len(b)-1] != '}' || strings.Contains(content.Raw, `"cache_control"`) {
		return b
	}
	b = append(b[:len(b)-1], `,"cache_control":`...)
	b = wire.AppendCompact(b, cc.Raw)
	return append(b, '}')
}

// appendPart appends the block for one OpenAI content part.
func appendPart(b []byte, p gjson.Result, i int, inResult bool) ([]byte, *wire.Error) {
	switch typ := p.Get("type").Str; typ {
	case "text":
		return appendTextBlock(b, p.Get("text"), p.Get("cache_control"), false), nil
	case "image_url":
		u := p.Get("image_url")
		if u.IsObject() {
			u = u.Get("url")
		}
		if u.Type != gjson.String || u.Str == "" {
			return nil, msgErr(i, "content", "has an image_url part without a url")
		}
		return appendImage(b, u.Str, p.Get("cache_control"), i)
	case "file":
		if inResult {
			return nil, msgErr(i, "content", "of a tool message may hold text and image parts only")
		}
		data := p.Get("file.file_data")
		if data.Type != gjson.String || !strings.HasPrefix(data.Str, "data:application/pdf;base64,") {
			return nil, msgErr(i, "content", "has a file part Anthropic cannot take: send a PDF as file.file_data \"data:application/pdf;base64,...\" (file ids are not supported)")
		}
		b = comma(b)
		b = append(b, `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":`...)
		b = wire.AppendJSONString(b, data.Str[len("data:application/pdf;base64,"):])
		b = append(b, "}}"...)
		return b, nil
	case "input_audio":
		return nil, msgErr(i, "content", "has an input_audio part: Anthropic models do not take audio")
	default:
		return nil, msgErr(i, "content", "has a part of type "+strconv.Quote(typ)+", which Anthropic models do not take; use text, image_url or file parts")
	}
}

var imageTypes = [...]string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// appendImage appends an image block for an image_url: a data URL as a
// base64 source, an http(s) URL as a url source.
func appendImage(b []byte, url string, cc gjson.Result, i int) ([]byte, *wire.Error) {
	b = comma(b)
	switch {
	case strings.HasPrefix(url, "data:"):
		meta, data, ok := strings.Cut(url[len("data:"):], ",")
		media, isBase64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isBase64 || data == "" {
			return nil, msgErr(i, "content", "has an image data URL that is not data:<image type>;base64,<data>")
		}
		known := false
		for _, t := range imageTypes {
			known = known || media == t
		}
		if media == "application/pdf" {
			b = append(b, `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":`...)
		} else if known {
			b = append(b, `{"type":"image","source":{"type":"base64","media_type":"`...)
			b = append(b, media...)
			b = append(b, `","data":`...)
		} else {
			return nil, msgErr(i, "content", "has an image of type "+strconv.Quote(media)+"; Anthropic takes image/jpeg, image/png, image/gif and image/webp")
		}
		b = wire.AppendJSONString(b, data)
	case strings.HasPrefix(url, "https://"), strings.HasPrefix(url, "http://"):
		b = append(b, `{"type":"image","source":{"type":"url","url":`...)
		b = wire.AppendJSONString(b, url)
	default:
		return nil, msgErr(i, "content", "has an image_url that is neither a data URL nor an http(s) URL")
	}
	b = append(b, '}')
	if cc.IsObject() {
		b = append(b, `,"cache_control":`...)
		b = append(b, cc.Raw...)
	}
	return append(b, '}'), nil
}

// appendAssistant appends an assistant message's blocks: its thinking
// blocks (LiteLLM's thinking_blocks, which Anthropic wants back with tool
// use), its text, its tool calls as tool_use blocks.
func appendAssistant(b []byte, m *message, i int, final bool) ([]byte, *wire.Error) {
	var err *wire.Error
	m.thinkingBlocks.ForEach(func(_, t gjson.Result) bool {
		switch t.Get("type").Str {
		case "thinking", "redacted_thinking":
			b = comma(b)
			b = append(b, t.Raw...)
		}
		return true
	})
	content := m.content
	switch {
	case content.Type == gjson.String:
		b = appendTextBlock(b, content, m.cacheControl, final)
	case content.IsArray():
		start := len(b)
		content.ForEach(func(_, p gjson.Result) bool {
			switch p.Get("type").Str {
			case "text":
				b = appendTextBlock(b, p.Get("text"), p.Get("cache_control"), final)
			case "refusal":
				b = appendTextBlock(b, p.Get("refusal"), gjson.Result{}, final)
			default:
				err = msgErr(i, "content", "of an assistant message may hold text and refusal parts only")
				return false
			}
			return true
		})
		b = markLast(b, start, m.cacheControl, content)
	case content.Type == gjson.Null || !content.Exists():
	default:
		err = msgErr(i, "content", "must be a string or an array of content parts")
	}
	if err != nil {
		return nil, err
	}
	j := 0
	m.toolCalls.ForEach(func(_, tc gjson.Result) bool {
		field := "tool_calls[" + strconv.Itoa(j) + "]"
		j++
		id, name := tc.Get("id"), tc.Get("function.name")
		if id.Type != gjson.String || id.Str == "" || name.Type != gjson.String || name.Str == "" {
			err = msgErr(i, field, "needs an id and a function.name")
			return false
		}
		args := tc.Get("function.arguments")
		input := "{}"
		switch {
		case args.Type == gjson.String && !wire.IsBlank(args.Str):
			if !gjson.Valid(args.Str) || !gjson.Parse(args.Str).IsObject() {
				err = msgErr(i, field+".function.arguments", "is not a JSON object; Anthropic needs tool call arguments as an object")
				return false
			}
			input = args.Str
		case args.IsObject():
			input = args.Raw
		}
		b = comma(b)
		b = append(b, `{"type":"tool_use","id":`...)
		b = appendToolID(b, id)
		b = append(b, `,"name":`...)
		b = append(b, name.Raw...)
		b = append(b, `,"input":`...)
		b = wire.AppendCompact(b, input)
		b = append(b, '}')
		return true
	})
	return b, err
}

// appendToolResult appends the tool_result block of a tool message.
func appendToolResult(b []byte, m *message, i int) ([]byte, *wire.Error) {
	id := m.toolCallID
	if id.Type != gjson.String || id.Str == "" {
		return nil, msgErr(i, "tool_call_id", "is required in a tool message")
	}
	b = comma(b)
	b = append(b, `{"type":"tool_result","tool_use_id":`...)
	b = appendToolID(b, id)
	content := m.content
	switch {
	case content.Type == gjson.String:
		if content.Str != "" {
			b = append(b, `,"content":`...)
			b = append(b, content.Raw...)
		}
	case content.IsArray():
		var blocks []byte
		var err *wire.Error
		if blocks, err = appendContent(nil, content, gjson.Result{}, i, true, false); err != nil {
			return nil, err
		}
		if len(blocks) > 0 {
			b = append(b, `,"content":[`...)
			b = append(b, blocks...)
			b = append(b, ']')
		}
	case content.Type == gjson.Null || !content.Exists():
	default:
		return nil, msgErr(i, "content", "must be a string or an array of content parts")
	}
	return append(b, '}'), nil
}

// appendToolID appends a tool call id in the form Anthropic accepts
// (^[a-zA-Z0-9_-]+$): other characters become "_", the same way in the
// tool_use and its tool_result.
func appendToolID(b []byte, id gjson.Result) []byte {
	s := id.Str
	ok := true
	for i := 0; i < len(s) && ok; i++ {
		ok = isIDChar(s[i])
	}
	if ok {
		return append(b, id.Raw...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if isIDChar(s[i]) {
			b = append(b, s[i])
		} else {
			b = append(b, '_')
		}
	}
	return append(b, '"')
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
