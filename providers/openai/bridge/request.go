package bridge

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// Options adapt the translation to the deployment.
type Options struct {
	// MaxCompletionTokens sends max_output_tokens as max_completion_tokens
	// (OpenAI's reasoning models take only that) instead of max_tokens,
	// which every chat translation and OpenAI-compatible server reads.
	MaxCompletionTokens bool
	// NoReasoning drops reasoning.effort: the upstream model refuses
	// reasoning_effort.
	NoReasoning bool
}

// builtinTools are the Responses API's tools that OpenAI runs itself.
var builtinTools = []string{"web_search", "web_search_preview", "file_search", "computer_use", "computer_use_preview",
	"code_interpreter", "mcp", "image_generation", "local_shell", "shell", "apply_patch", "custom"}

// stateErr is the 400 for a request that needs a stored conversation.
func stateErr(param, what string) *wire.Error {
	return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param,
		Message: what + " is not supported for this model: it has no native Responses API (the gateway serves it " +
			"through chat) and the gateway keeps no conversations. Send the full conversation as `input` " +
			"(and store: false), or use a model whose provider has a native Responses API"}
}

func badParam(param, msg string) *wire.Error {
	return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param, Message: msg}
}

// chatMsg is one chat message being built: its content and tool calls as
// raw JSON.
type chatMsg struct {
	role      string // system, user, assistant, tool
	content   []byte // a JSON value, nil: none
	calls     []byte // tool_calls elements, comma-separated
	toolID    gjson.Result
	textParts bool // content is a list of parts (user)
}

// RequestToChat translates a Responses API request (the client's body)
// into a chat completions request. stream reports whether the client asked
// for a stream. "model" is kept as given.
func RequestToChat(body []byte, o Options) (chat []byte, stream bool, werr *wire.Error) {
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, false, wire.BadRequest("the request body must be a JSON object (a Responses API request)")
	}
	var model, input, instructions, tools, toolChoice, maxOut, temperature, topP, parallel, user, text, reasoning, streamV gjson.Result
	var failed *wire.Error
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			model = v
		case "input":
			input = v
		case "instructions":
			instructions = v
		case "tools":
			tools = v
		case "tool_choice":
			toolChoice = v
		case "max_output_tokens":
			maxOut = v
		case "temperature":
			temperature = v
		case "top_p":
			topP = v
		case "parallel_tool_calls":
			parallel = v
		case "user":
			user = v
		case "safety_identifier":
			if !user.Exists() {
				user = v
			}
		case "text":
			text = v
		case "reasoning":
			reasoning = v
		case "stream":
			streamV = v
		case "previous_response_id":
			if v.Type != gjson.Null {
				failed = stateErr("previous_response_id", "previous_response_id")
			}
		case "conversation":
			if v.Type != gjson.Null {
				failed = stateErr("conversation", "conversation")
			}
		case "background":
			if v.Type == gjson.True {
				failed = badParam("background", "background: true is not supported for this model: it has no native "+
					"Responses API (the gateway serves it through chat) and the gateway keeps no responses. "+
					"Drop background, or use a model whose provider has a native Responses API")
			}
		case "prompt":
			if v.Type != gjson.Null {
				failed = badParam("prompt", "prompt (a stored prompt template) is not supported for this model: it has no native "+
					"Responses API. Send the prompt's text as instructions and input")
			}
		}
		return failed == nil
	})
	if failed != nil {
		return nil, false, failed
	}
	if model.Type != gjson.String || model.Str == "" {
		return nil, false, badParam("model", "model must be a non-empty string")
	}
	var msgs []chatMsg
	if instructions.Type == gjson.String && instructions.Str != "" {
		msgs = append(msgs, chatMsg{role: "system", content: wire.AppendRawString(nil, instructions)})
	} else if instructions.Exists() && instructions.Type != gjson.Null && instructions.Type != gjson.String {
		return nil, false, badParam("instructions", "instructions must be a string")
	}
	switch {
	case input.Type == gjson.String:
		msgs = append(msgs, chatMsg{role: "user", content: wire.AppendRawString(nil, input)})
	case input.IsArray():
		var err *wire.Error
		if msgs, err = inputItems(msgs, input); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, badParam("input", "input must be a string or a list of input items")
	}
	if len(msgs) == 0 {
		return nil, false, badParam("input", "input has no messages; send at least one")
	}

	out := make([]byte, 0, len(body)+256)
	out = append(out, `{"model":`...)
	out = append(out, model.Raw...)
	out = append(out, `,"messages":[`...)
	for i := range msgs {
		if i > 0 {
			out = append(out, ',')
		}
		out = msgs[i].append(out)
	}
	out = append(out, ']')

	hasTools := false
	if tools.Exists() && tools.Type != gjson.Null {
		if !tools.IsArray() {
			return nil, false, badParam("tools", "tools must be a list")
		}
		var err *wire.Error
		start := len(out)
		out = append(out, `,"tools":[`...)
		n := 0
		tools.ForEach(func(_, t gjson.Result) bool {
			param := "tools[" + strconv.Itoa(n) + "]"
			if !t.IsObject() {
				err = badParam(param, param+" must be an object")
				return false
			}
			tm := readMembers(t)
			typ := tm.typ
			if typ.Str == "namespace" {
				// A group of functions (Codex sends them): each becomes a
				// chat function named <namespace>__<name>.
				ns := tm.name
				if !nonEmpty(ns) {
					err = badParam(param+".name", param+".name must be a non-empty string")
					return false
				}
				k := 0
				tm.tools.ForEach(func(_, f gjson.Result) bool {
					fp := param + ".tools[" + strconv.Itoa(k) + "]"
					k++
					fm := readMembers(f)
					if fm.typ.Str != "function" {
						err = builtinErr(fp, fm.typ.String())
						return false
					}
					if n > 0 {
						out = append(out, ',')
					}
					n++
					out, err = appendFunctionTool(out, &fm, ns, fp)
					return err == nil
				})
				return err == nil
			}
			if isWebSearch(typ.Str) {
				// OpenAI's own search, which a model served through chat
				// cannot run: dropped, as LiteLLM does, so that Codex (it
				// sends web_search by default) works on every model. A
				// tool_choice forcing it is still refused.
				return true
			}
			if typ.Str != "function" {
				err = builtinErr(param, typ.String())
				return false
			}
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out, err = appendFunctionTool(out, &tm, gjson.Result{}, param)
			return err == nil
		})
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			out = out[:start]
		} else {
			out = append(out, ']')
			hasTools = true
		}
	}
	if hasTools {
		if toolChoice.Exists() && toolChoice.Type != gjson.Null {
			var err *wire.Error
			if out, err = appendToolChoice(out, toolChoice); err != nil {
				return nil, false, err
			}
		}
		if parallel.IsBool() {
			out = append(out, `,"parallel_tool_calls":`...)
			out = append(out, parallel.Raw...)
		}
	}
	if maxOut.Exists() && maxOut.Type != gjson.Null {
		if maxOut.Type != gjson.Number || maxOut.Num < 1 || maxOut.Num != float64(int64(maxOut.Num)) {
			return nil, false, badParam("max_output_tokens", "max_output_tokens must be a positive integer")
		}
		if o.MaxCompletionTokens {
			out = append(out, `,"max_completion_tokens":`...)
		} else {
			out = append(out, `,"max_tokens":`...)
		}
		out = appendInt(out, int64(maxOut.Num))
	}
	for _, p := range [...]struct {
		name string
		v    gjson.Result
	}{{"temperature", temperature}, {"top_p", topP}} {
		if p.v.Type == gjson.Number {
			out = append(out, `,"`...)
			out = append(out, p.name...)
			out = append(out, `":`...)
			out = append(out, p.v.Raw...)
		}
	}
	if nonEmpty(user) {
		out = append(out, `,"user":`...)
		out = wire.AppendRawString(out, user)
	}
	if f := text.Get("format"); f.IsObject() {
		switch f.Get("type").Str {
		case "json_object":
			out = append(out, `,"response_format":{"type":"json_object"}`...)
		case "json_schema":
			name := f.Get("name")
			if !nonEmpty(name) {
				return nil, false, badParam("text.format.name", "text.format.name must be a non-empty string")
			}
			out = append(out, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
			out = wire.AppendRawString(out, name)
			if d := f.Get("description"); nonEmpty(d) {
				out = append(out, `,"description":`...)
				out = wire.AppendRawString(out, d)
			}
			if s := f.Get("schema"); s.IsObject() {
				out = append(out, `,"schema":`...)
				out = append(out, s.Raw...)
			}
			if s := f.Get("strict"); s.IsBool() {
				out = append(out, `,"strict":`...)
				out = append(out, s.Raw...)
			}
			out = append(out, `}}`...)
		}
	}
	if !o.NoReasoning {
		if e := reasoning.Get("effort"); e.Type == gjson.String {
			switch e.Str {
			case "minimal", "low":
				out = append(out, `,"reasoning_effort":"low"`...)
			case "medium":
				out = append(out, `,"reasoning_effort":"medium"`...)
			case "high", "xhigh":
				out = append(out, `,"reasoning_effort":"high"`...)
			}
		}
	}
	if streamV.Type == gjson.True {
		stream = true
		out = append(out, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	out = append(out, '}')
	return out, stream, nil
}

// isWebSearch reports whether a tool type is OpenAI's web search
// (web_search, web_search_preview and their dated versions).
func isWebSearch(typ string) bool {
	return typ == "web_search" || typ == "web_search_preview" ||
		strings.HasPrefix(typ, "web_search_2") || strings.HasPrefix(typ, "web_search_preview_")
}

// builtinErr is the 400 for a tool (or tool_choice) of type typ that is
// not a function.
func builtinErr(param, typ string) *wire.Error {
	for _, b := range builtinTools {
		if typ == b || strings.HasPrefix(typ, b+"_") {
			msg := "the tool " + strconv.Quote(typ) + " is one OpenAI runs on its own servers: it needs a model whose " +
				"provider has a native Responses API. This model is served through chat, which takes function tools only; " +
				"remove the tool or declare it as a function"
			if b == "web_search" || b == "web_search_preview" {
				msg += " (Codex: set web_search = \"disabled\" in its config.toml)"
			}
			return badParam(param, msg)
		}
	}
	return badParam(param, "tools of type "+strconv.Quote(typ)+" are not supported for this model (served through chat, "+
		"which takes function tools only); use type \"function\"")
}

// appendToolChoice appends the chat tool_choice for a Responses one.
func appendToolChoice(out []byte, tc gjson.Result) ([]byte, *wire.Error) {
	if tc.Type == gjson.String {
		switch tc.Str {
		case "auto", "none", "required":
			out = append(out, `,"tool_choice":`...)
			return append(out, tc.Raw...), nil
		}
		return nil, badParam("tool_choice", "tool_choice must be auto, none, required or a function")
	}
	if !tc.IsObject() {
		return nil, badParam("tool_choice", "tool_choice must be auto, none, required or a function")
	}
	switch typ := tc.Get("type").Str; typ {
	case "function":
		name := tc.Get("name")
		if !nonEmpty(name) {
			return nil, badParam("tool_choice.name", "tool_choice.name must be a non-empty string")
		}
		out = append(out, `,"tool_choice":{"type":"function","function":{"name":`...)
		out = wire.AppendRawString(out, name)
		return append(out, `}}`...), nil
	case "allowed_tools":
		// The chat API cannot narrow the tools per call: its mode stays.
		if m := tc.Get("mode"); m.Str == "auto" || m.Str == "required" {
			out = append(out, `,"tool_choice":`...)
			return append(out, m.Raw...), nil
		}
		return out, nil
	default:
		return nil, builtinErr("tool_choice", typ)
	}
}

// inputItems appends the chat messages for the input items.
func inputItems(msgs []chatMsg, input gjson.Result) ([]chatMsg, *wire.Error) {
	var err *wire.Error
	i := -1
	input.ForEach(func(_, it gjson.Result) bool {
		i++
		param := "input[" + strconv.Itoa(i) + "]"
		if !it.IsObject() {
			err = badParam(param, param+" must be an object (an input item)")
			return false
		}
		m := readMembers(it)
		typ, role := m.typ, m.role
		switch {
		case typ.Str == "message" || !typ.Exists() && role.Exists():
			msgs, err = messageItem(msgs, &m, param)
		case typ.Str == "function_call":
			msgs, err = functionCall(msgs, &m, param)
		case typ.Str == "function_call_output":
			callID := m.callID
			if !nonEmpty(callID) {
				err = badParam(param+".call_id", param+".call_id must be a non-empty string")
				return false
			}
			var content []byte
			if content, err = toolOutput(m.output, param+".output"); err != nil {
				return false
			}
			msgs = append(msgs, chatMsg{role: "tool", toolID: callID, content: content})
		case typ.Str == "reasoning":
			// Chat APIs take no reasoning back.
		case typ.Str == "item_reference":
			err = stateErr(param, param+" (an item_reference)")
			err.Message += ". Clients that reference earlier items by default can be told to send them: the Vercel AI SDK " +
				"with providerOptions: { openai: { store: false } }"
		default:
			err = badParam(param+".type", "input items of type "+strconv.Quote(typ.String())+
				" are not supported for this model: it has no native Responses API (the gateway serves it through chat, "+
				"which takes messages, function_call and function_call_output items). Use a model whose provider has a native Responses API")
		}
		return err == nil
	})
	return msgs, err
}

// messageItem appends the chat message of a message input item.
func messageItem(msgs []chatMsg, it *members, param string) ([]chatMsg, *wire.Error) {
	r := it.role.Str
	switch r {
	case "user", "assistant", "system":
	case "developer":
		r = "system" // every chat translation reads system; not all take developer
	default:
		return msgs, badParam(param+".role", param+".role must be user, assistant, system or developer")
	}
	content := it.content
	m := chatMsg{role: r}
	switch {
	case content.Type == gjson.String:
		m.content = wire.AppendRawString(nil, content)
	case content.IsArray():
		var err *wire.Error
		if m.content, m.textParts, err = contentParts(content, r, param+".content"); err != nil {
			return msgs, err
		}
	default:
		return msgs, badParam(param+".content", param+".content must be a string or a list of content parts")
	}
	return append(msgs, m), nil
}

// contentParts translates a message's content parts: a JSON string when
// they are all text (or the role takes only text), else a list of chat
// parts.
func contentParts(content gjson.Result, role, param string) ([]byte, bool, *wire.Error) {
	var err *wire.Error
	var textOnly []byte // the texts joined, a string body
	parts := []byte{'['}
	n, texts := 0, 0
	j := -1
	content.ForEach(func(_, p gjson.Result) bool {
		j++
		pp := param + "[" + strconv.Itoa(j) + "]"
		if !p.IsObject() {
			err = badParam(pp, pp+" must be an object (a content part)")
			return false
		}
		pm := readMembers(p)
		typ := pm.typ.Str
		var t gjson.Result
		switch typ {
		case "input_text", "output_text", "text", "summary_text", "reasoning_text":
			t = pm.text
		case "refusal":
			t = pm.refusal
		case "input_image":
			if role != "user" {
				err = badParam(pp, pp+": images are taken in user messages only")
				return false
			}
			if fid := pm.fileID; nonEmpty(fid) {
				err = badParam(pp+".file_id", pp+".file_id: images from OpenAI's Files API cannot be sent to this model "+
					"(it has no native Responses API); send the image as image_url (a data: URL or an https URL)")
				return false
			}
			u := pm.imageURL
			if !nonEmpty(u) {
				err = badParam(pp+".image_url", pp+".image_url must be a non-empty string (a data: URL or an https URL)")
				return false
			}
			if n > 0 {
				parts = append(parts, ',')
			}
			n++
			parts = append(parts, `{"type":"image_url","image_url":{"url":`...)
			parts = wire.AppendRawString(parts, u)
			if d := pm.detail; d.Str == "low" || d.Str == "high" || d.Str == "auto" {
				parts = append(parts, `,"detail":`...)
				parts = append(parts, d.Raw...)
			}
			parts = append(parts, `}}`...)
			return true
		case "input_file":
			data := pm.fileData
			if role != "user" || !nonEmpty(data) {
				err = badParam(pp, pp+": files are taken in user messages only and as file_data (base64); "+
					"file_id and file_url need a model whose provider has a native Responses API")
				return false
			}
			if n > 0 {
				parts = append(parts, ',')
			}
			n++
			parts = append(parts, `{"type":"file","file":{"file_data":`...)
			parts = wire.AppendRawString(parts, data)
			if f := pm.filename; nonEmpty(f) {
				parts = append(parts, `,"filename":`...)
				parts = wire.AppendRawString(parts, f)
			}
			parts = append(parts, `}}`...)
			return true
		default:
			err = badParam(pp+".type", "content parts of type "+strconv.Quote(typ)+" are not supported for this model "+
				"(served through chat): send input_text, input_image or input_file")
			return false
		}
		if t.Type != gjson.String {
			err = badParam(pp, pp+" has no text")
			return false
		}
		if texts > 0 {
			textOnly = append(textOnly, `\n`...)
		}
		texts++
		textOnly = wire.AppendRawStringBody(textOnly, t)
		if n > 0 {
			parts = append(parts, ',')
		}
		n++
		parts = append(parts, `{"type":"text","text":`...)
		parts = wire.AppendRawString(parts, t)
		parts = append(parts, '}')
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if role != "user" || n == texts && texts <= 1 {
		// One text (or an assistant's or system's texts): a string.
		out := make([]byte, 0, len(textOnly)+2)
		out = append(out, '"')
		out = append(out, textOnly...)
		return append(out, '"'), false, nil
	}
	return append(parts, ']'), true, nil
}

// functionCall adds a function_call item to the assistant message before
// it (the Responses API makes the text and each call separate items; chat
// has them in one message), or starts one.
func functionCall(msgs []chatMsg, it *members, param string) ([]chatMsg, *wire.Error) {
	callID, name, args := it.callID, it.name, it.args
	if !nonEmpty(callID) {
		return msgs, badParam(param+".call_id", param+".call_id must be a non-empty string")
	}
	if !nonEmpty(name) {
		return msgs, badParam(param+".name", param+".name must be a non-empty string")
	}
	if args.Type != gjson.String {
		return msgs, badParam(param+".arguments", param+".arguments must be a string (the arguments as JSON)")
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].role != "assistant" {
		msgs = append(msgs, chatMsg{role: "assistant"})
	}
	m := &msgs[len(msgs)-1]
	if len(m.calls) > 0 {
		m.calls = append(m.calls, ',')
	}
	m.calls = append(m.calls, `{"id":`...)
	m.calls = wire.AppendRawString(m.calls, callID)
	m.calls = append(m.calls, `,"type":"function","function":{"name":`...)
	m.calls = appendName(m.calls, it.ns, name)
	m.calls = append(m.calls, `,"arguments":`...)
	m.calls = wire.AppendRawString(m.calls, args)
	m.calls = append(m.calls, `}}`...)
	return msgs, nil
}

// toolOutput is a function_call_output's output as chat tool content: a
// string as is, text parts joined.
func toolOutput(v gjson.Result, param string) ([]byte, *wire.Error) {
	if v.Type == gjson.String {
		return wire.AppendRawString(nil, v), nil
	}
	if !v.IsArray() {
		return nil, badParam(param, param+" must be a string or a list of input_text parts")
	}
	var err *wire.Error
	out := []byte{'"'}
	k := 0
	v.ForEach(func(_, p gjson.Result) bool {
		t := p.Get("text")
		if typ := p.Get("type").Str; typ != "input_text" && typ != "output_text" || t.Type != gjson.String {
			err = badParam(param, param+": only text parts can be sent back to this model (served through chat); "+
				"send images in a user message")
			return false
		}
		if k > 0 {
			out = append(out, `\n`...)
		}
		k++
		out = wire.AppendRawStringBody(out, t)
		return true
	})
	if err != nil {
		return nil, err
	}
	return append(out, '"'), nil
}

// append writes the chat message.
func (m *chatMsg) append(out []byte) []byte {
	out = append(out, `{"role":"`...)
	out = append(out, m.role...)
	out = append(out, '"')
	if m.role == "tool" {
		out = append(out, `,"tool_call_id":`...)
		out = wire.AppendRawString(out, m.toolID)
	}
	out = append(out, `,"content":`...)
	if m.content != nil {
		out = append(out, m.content...)
	} else if len(m.calls) > 0 {
		out = append(out, `null`...)
	} else {
		out = append(out, `""`...)
	}
	if len(m.calls) > 0 {
		out = append(out, `,"tool_calls":[`...)
		out = append(out, m.calls...)
		out = append(out, ']')
	}
	return append(out, '}')
}

// reasoningFamilies are the model names (after the last '/') that take
// reasoning_effort on OpenAI-compatible hosts.
var reasoningFamilies = []string{"o1", "o3", "o4", "gpt-5", "gpt-oss", "qwen3", "grok-3-mini", "magistral", "deepseek-r1"}

// ReasoningModel reports whether an OpenAI-compatible host's model takes
// reasoning_effort (OpenAI's reasoning models and the open ones that
// follow them).
func ReasoningModel(model string) bool {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range reasoningFamilies {
		if strings.HasPrefix(m, p) && !strings.HasPrefix(m, "gpt-5-chat") {
			return true
		}
	}
	return false
}

// nsSep joins a namespace and a function's name into the chat tool's
// name (chat tool names take letters, digits, '_' and '-').
const nsSep = "__"

// appendFunctionTool appends the chat tool of a function tool (in
// namespace ns when it is a string).
func appendFunctionTool(out []byte, t *members, ns gjson.Result, param string) ([]byte, *wire.Error) {
	name := t.name
	if !nonEmpty(name) {
		return nil, badParam(param+".name", param+".name must be a non-empty string")
	}
	out = append(out, `{"type":"function","function":{"name":`...)
	out = appendName(out, ns, name)
	if d := t.description; nonEmpty(d) {
		out = append(out, `,"description":`...)
		out = wire.AppendRawString(out, d)
	}
	out = append(out, `,"parameters":`...)
	if p := t.parameters; p.IsObject() {
		out = append(out, p.Raw...)
	} else {
		out = append(out, `{"type":"object","properties":{}}`...)
	}
	if s := t.strict; s.IsBool() {
		out = append(out, `,"strict":`...)
		out = append(out, s.Raw...)
	}
	return append(out, `}}`...), nil
}

// appendName appends a function's chat name: name, or
// <namespace>__<name> when ns is a non-empty string.
func appendName(out []byte, ns, name gjson.Result) []byte {
	if !nonEmpty(ns) {
		return wire.AppendRawString(out, name)
	}
	out = append(out, '"')
	out = wire.AppendRawStringBody(out, ns)
	out = append(out, nsSep...)
	out = wire.AppendRawStringBody(out, name)
	return append(out, '"')
}

// members are the members of an input item, content part or tool that
// the translation reads, read in one pass over the object.
type members struct {
	typ, role, content, callID, name, args, output, ns, text, refusal, fileID, imageURL, detail,
	fileData, filename, description, parameters, strict, tools gjson.Result
}

func readMembers(v gjson.Result) (m members) {
	v.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			m.typ = v
		case "role":
			m.role = v
		case "content":
			m.content = v
		case "call_id":
			m.callID = v
		case "name":
			m.name = v
		case "arguments":
			m.args = v
		case "output":
			m.output = v
		case "namespace":
			m.ns = v
		case "text":
			m.text = v
		case "refusal":
			m.refusal = v
		case "file_id":
			m.fileID = v
		case "image_url":
			m.imageURL = v
		case "detail":
			m.detail = v
		case "file_data":
			m.fileData = v
		case "filename":
			m.filename = v
		case "description":
			m.description = v
		case "parameters":
			m.parameters = v
		case "strict":
			m.strict = v
		case "tools":
			m.tools = v
		}
		return true
	})
	return m
}
