package bridge

import (
	"strconv"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// notChat ends the messages that refuse what OpenAI chat cannot carry.
const notChat = "cannot be sent to this model, which is served through an OpenAI-compatible chat API"

// RequestToChat translates an Anthropic Messages request (the body of POST
// /v1/messages) into an OpenAI chat completion request, and reports
// whether the client asked for a stream. It validates the request as
// Anthropic does: werr is a 400 invalid_request_error worded like
// Anthropic's (field path first) for a request Anthropic would refuse, or
// for one the chat API cannot carry (server tools, documents other than
// text or base64 PDF, Files API sources). See the package documentation
// for the mapping.
func RequestToChat(body []byte) (chat []byte, stream bool, werr *wire.Error) {
	return RequestToChatWith(body, Options{})
}

// Options adapt a translated request to the deployment it goes to. The
// zero Options translate as RequestToChat documents.
type Options struct {
	// MaxOutputTokens, when > 0, caps max_tokens at the deployment's
	// output limit (model_info.max_output_tokens): Claude Code asks for
	// 32000 or more, which most chat models refuse with a 400.
	MaxOutputTokens int
	// NoReasoning drops the reasoning_effort that thinking maps to, for a
	// deployment whose model is not a reasoning model (OpenAI refuses
	// reasoning_effort there with a 400); thinking is still validated.
	NoReasoning bool
}

// RequestToChatWith is RequestToChat with Options.
func RequestToChatWith(body []byte, o Options) (chat []byte, stream bool, werr *wire.Error) {
	if !gjson.ValidBytes(body) {
		return nil, false, wire.BadRequest("The request body is not valid JSON; send a Messages API request as a JSON object")
	}
	r := requests.Get().(*request)
	defer r.release()
	r.t.build(wire.View(body))
	var root gjson.Result
	if len(r.t.n) > 0 {
		root = r.t.node(0)
	}
	if !root.IsObject() {
		return nil, false, wire.BadRequest("The request body is not a JSON object; send a Messages API request as a JSON object")
	}
	r.t.members(root, func(k string, v gjson.Result) bool {
		switch k {
		case "model":
			r.model = v
		case "max_tokens":
			r.maxTokens = v
		case "messages":
			r.messages = v
		case "system":
			r.system = v
		case "temperature":
			r.temperature = v
		case "top_p":
			r.topP = v
		case "stop_sequences":
			r.stop = v
		case "metadata":
			r.metadata = v
		case "tools":
			r.tools = v
		case "tool_choice":
			r.toolChoice = v
		case "thinking":
			r.thinking = v
		case "stream":
			r.stream = v
		case "output_format":
			r.outputFormat = v
		case "output_config":
			r.outputConfig = v
		case "mcp_servers":
			r.mcpServers = v
		case "container":
			r.container = v
		}
		return true
	})
	out := make([]byte, 0, len(body)+256)
	r.opts = o
	out, werr = r.translate(out)
	if werr != nil {
		return nil, false, werr
	}
	return out, r.stream.Type == gjson.True, nil
}

type request struct {
	model, maxTokens, messages, system, temperature, topP, stop, metadata gjson.Result
	tools, toolChoice, thinking, stream, outputFormat, outputConfig       gjson.Result
	mcpServers, container                                                 gjson.Result
	effort                                                                string
	hasTools                                                              bool
	pendingImages                                                         []gjson.Result // of the user turn being translated
	pendingImagesOf                                                       []string
	blocks                                                                []block // of the message being translated
	t                                                                     tape
	opts                                                                  Options
}

var requests = sync.Pool{New: func() any { return new(request) }}

// release clears r (it points into the body) and pools it.
func (r *request) release() {
	t, blocks, images, of := r.t, r.blocks[:0], r.pendingImages[:0], r.pendingImagesOf[:0]
	clear(r.blocks)
	clear(r.pendingImages)
	t.s, t.n = "", t.n[:0]
	*r = request{t: t, blocks: blocks, pendingImages: images, pendingImagesOf: of}
	requests.Put(r)
}

func (r *request) translate(out []byte) ([]byte, *wire.Error) {
	// Validation of the top-level fields, in Anthropic's order and words.
	switch {
	case !r.model.Exists():
		return nil, wire.BadRequest("model: Field required")
	case r.model.Type != gjson.String:
		return nil, wire.BadRequest("model: Input should be a valid string")
	case r.model.Str == "":
		return nil, wire.BadRequest("model: String should have at least 1 character")
	}
	switch {
	case !r.maxTokens.Exists():
		return nil, wire.BadRequest("max_tokens: Field required")
	case !isInt(r.maxTokens):
		return nil, wire.BadRequest("max_tokens: Input should be a valid integer")
	case r.maxTokens.Num < 1:
		return nil, wire.BadRequest("max_tokens: Input should be greater than or equal to 1")
	}
	switch {
	case !r.messages.Exists():
		return nil, wire.BadRequest("messages: Field required")
	case !r.messages.IsArray():
		return nil, wire.BadRequest("messages: Input should be a valid list")
	}
	if r.stream.Exists() && r.stream.Type != gjson.True && r.stream.Type != gjson.False {
		return nil, wire.BadRequest("stream: Input should be a valid boolean")
	}
	if r.mcpServers.Exists() && r.mcpServers.Type != gjson.Null {
		return nil, wire.BadRequest("mcp_servers: MCP servers %s. Remove mcp_servers or call a model served by Anthropic", notChat)
	}
	if r.container.Exists() && r.container.Type != gjson.Null {
		return nil, wire.BadRequest("container: containers %s. Remove container or call a model served by Anthropic", notChat)
	}
	if werr := r.checkThinking(); werr != nil {
		return nil, werr
	}
	if r.opts.NoReasoning {
		r.effort = ""
	}

	out = append(out, `{"model":`...)
	out = append(out, r.model.Raw...)
	out = append(out, `,"messages":[`...)
	first := true
	var werr *wire.Error
	if out, first, werr = r.appendSystem(out, first); werr != nil {
		return nil, werr
	}
	n := 0
	for i, m := range r.t.elems(r.messages) {
		if out, first, werr = r.appendMessage(out, first, i, m); werr != nil {
			return nil, werr
		}
		n++
	}
	if n == 0 {
		return nil, wire.BadRequest("messages: at least one message is required")
	}
	out = append(out, ']')
	if r.effort != "" {
		// reasoning models take max_completion_tokens only
		out = append(out, `,"max_completion_tokens":`...)
	} else {
		out = append(out, `,"max_tokens":`...)
	}
	maxTokens := int64(r.maxTokens.Num)
	if c := int64(r.opts.MaxOutputTokens); c > 0 && maxTokens > c {
		maxTokens = c
	}
	out = appendInt(out, maxTokens)
	if r.stream.Type == gjson.True {
		out = append(out, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	if out, werr = appendNumber(out, "temperature", r.temperature); werr != nil {
		return nil, werr
	}
	if out, werr = appendNumber(out, "top_p", r.topP); werr != nil {
		return nil, werr
	}
	if out, werr = r.appendStop(out); werr != nil {
		return nil, werr
	}
	if out, werr = r.appendUser(out); werr != nil {
		return nil, werr
	}
	if out, werr = r.appendTools(out); werr != nil {
		return nil, werr
	}
	if out, werr = r.appendResponseFormat(out); werr != nil {
		return nil, werr
	}
	if r.effort != "" {
		out = append(out, `,"reasoning_effort":"`...)
		out = append(out, r.effort...)
		out = append(out, '"')
	}
	return append(out, '}'), nil
}

// checkThinking validates thinking and sets the reasoning effort, by
// LiteLLM's thresholds (budget_tokens 1024: low, 2048: medium, 4096:
// high; LiteLLM's higher "xhigh" and "max" buckets are capped at high,
// the highest effort every OpenAI reasoning model accepts).
func (r *request) checkThinking() *wire.Error {
	t := r.thinking
	if !t.Exists() || t.Type == gjson.Null {
		return nil
	}
	if !t.IsObject() {
		return wire.BadRequest("thinking: Input should be a valid dictionary or object")
	}
	typ := r.t.get(t, "type")
	switch typ.String() {
	case "enabled":
		b := r.t.get(t, "budget_tokens")
		switch {
		case !b.Exists():
			return wire.BadRequest("thinking.enabled.budget_tokens: Field required")
		case !isInt(b):
			return wire.BadRequest("thinking.enabled.budget_tokens: Input should be a valid integer")
		case b.Num < 1024:
			return wire.BadRequest("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
		case b.Num >= r.maxTokens.Num:
			return wire.BadRequest("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size")
		case b.Num >= 4096:
			r.effort = "high"
		case b.Num >= 2048:
			r.effort = "medium"
		default:
			r.effort = "low"
		}
	case "disabled", "adaptive":
		// adaptive: the model decides; the chat upstream's default
	default:
		if !typ.Exists() {
			return wire.BadRequest("thinking.type: Field required")
		}
		return wire.BadRequest("thinking.type: Input tag %s found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'", typ.Raw)
	}
	return nil
}

func appendNumber(out []byte, name string, v gjson.Result) ([]byte, *wire.Error) {
	if !v.Exists() || v.Type == gjson.Null {
		return out, nil
	}
	if v.Type != gjson.Number {
		return nil, wire.BadRequest("%s: Input should be a valid number", name)
	}
	out = append(out, ',', '"')
	out = append(out, name...)
	out = append(out, '"', ':')
	return append(out, v.Raw...), nil
}

func (r *request) appendStop(out []byte) ([]byte, *wire.Error) {
	s := r.stop
	if !s.Exists() || s.Type == gjson.Null {
		return out, nil
	}
	if !s.IsArray() {
		return nil, wire.BadRequest("stop_sequences: Input should be a valid list")
	}
	items := r.t.elems(s)
	if len(items) == 0 {
		return out, nil
	}
	out = append(out, `,"stop":[`...)
	for i, v := range items {
		if v.Type != gjson.String {
			return nil, wire.BadRequest("stop_sequences.%d: Input should be a valid string", i)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, v.Raw...)
	}
	return append(out, ']'), nil
}

func (r *request) appendUser(out []byte) ([]byte, *wire.Error) {
	m := r.metadata
	if !m.Exists() || m.Type == gjson.Null {
		return out, nil
	}
	if !m.IsObject() {
		return nil, wire.BadRequest("metadata: Input should be a valid dictionary or object")
	}
	u := r.t.get(m, "user_id")
	switch u.Type {
	case gjson.String:
		if u.Str == "" {
			return out, nil
		}
		out = append(out, `,"user":`...)
		return append(out, u.Raw...), nil
	case gjson.Null:
		return out, nil
	default:
		if !u.Exists() {
			return out, nil
		}
		return nil, wire.BadRequest("metadata.user_id: Input should be a valid string")
	}
}

// appendSystem writes the system prompt (a string, or text blocks joined
// by a blank line; cache_control and citations are dropped) as the first
// chat message.
func (r *request) appendSystem(out []byte, first bool) ([]byte, bool, *wire.Error) {
	return r.appendSystemValue(out, first, r.system)
}

// appendSystemValue writes s (a system prompt: a string or text blocks)
// as a chat system message.
func (r *request) appendSystemValue(out []byte, first bool, s gjson.Result) ([]byte, bool, *wire.Error) {
	switch {
	case !s.Exists() || s.Type == gjson.Null:
		return out, first, nil
	case s.Type == gjson.String:
		if s.Str == "" {
			return out, first, nil
		}
		out = append(out, `{"role":"system","content":`...)
		return append(append(out, s.Raw...), '}'), false, nil
	case !s.IsArray():
		return nil, first, wire.BadRequest("system: Input should be a valid string or a list of text blocks")
	}
	blocks := r.t.elems(s)
	if len(blocks) == 0 {
		return out, first, nil
	}
	out = append(out, `{"role":"system","content":"`...)
	for i, b := range blocks {
		if r.t.get(b, "type").String() != "text" {
			return nil, first, wire.BadRequest("system.%d.type: Input should be 'text'", i)
		}
		t := r.t.get(b, "text")
		if t.Type != gjson.String {
			return nil, first, wire.BadRequest("system.%d.text: Field required", i)
		}
		if i > 0 {
			out = append(out, `\n\n`...)
		}
		out = wire.AppendRawStringBody(out, t)
	}
	return append(out, `"}`...), false, nil
}

func comma(out []byte, first bool) []byte {
	if !first {
		out = append(out, ',')
	}
	return out
}

// appendMessage writes one Anthropic message as one or more chat messages.
func (r *request) appendMessage(out []byte, first bool, i int, m gjson.Result) ([]byte, bool, *wire.Error) {
	if !m.IsObject() {
		return nil, first, wire.BadRequest("messages.%d: Input should be a valid dictionary", i)
	}
	var role, content gjson.Result
	r.t.members(m, func(k string, v gjson.Result) bool {
		switch k {
		case "role":
			if !role.Exists() {
				role = v
			}
		case "content":
			if !content.Exists() {
				content = v
			}
		}
		return true
	})
	switch {
	case !role.Exists():
		return nil, first, wire.BadRequest("messages.%d.role: Field required", i)
	case role.Type != gjson.String || (role.Str != "user" && role.Str != "assistant" && role.Str != "system"):
		return nil, first, wire.BadRequest("messages.%d.role: Input should be 'user', 'assistant' or 'system'", i)
	case !content.Exists():
		return nil, first, wire.BadRequest("messages.%d.content: Field required", i)
	case role.Str == "system":
		// Claude Code sends system messages between the turns; chat has
		// them too, so they keep their place.
		if !first {
			out = append(out, ',')
		}
		o, f, werr := r.appendSystemValue(out, true, content)
		if werr != nil {
			return nil, first, werr
		}
		if f { // empty: nothing written, drop the comma
			return out[:len(out)-boolInt(!first)], first, nil
		}
		return o, false, nil
	}
	if content.Type == gjson.String {
		out = comma(out, first)
		out = append(out, `{"role":"`...)
		out = append(out, role.Str...)
		out = append(out, `","content":`...)
		return append(append(out, content.Raw...), '}'), false, nil
	}
	if !content.IsArray() {
		return nil, first, wire.BadRequest("messages.%d.content: Input should be a valid string or a list of content blocks", i)
	}
	if role.Str == "assistant" {
		return r.appendAssistant(out, first, i, r.t.elems(content))
	}
	return r.appendUserTurn(out, first, i, r.t.elems(content))
}

// block is what the translation reads of a content block, found in one
// pass over it.
type block struct {
	typ, text, id, name, input, content, toolUseID, isError, source, title gjson.Result
}

// readBlock reads a content block (the first of each member).
func (r *request) readBlock(b gjson.Result) (f block) {
	r.t.members(b, func(k string, v gjson.Result) bool {
		var at *gjson.Result
		switch k {
		case "type":
			at = &f.typ
		case "text":
			at = &f.text
		case "id":
			at = &f.id
		case "name":
			at = &f.name
		case "input":
			at = &f.input
		case "content":
			at = &f.content
		case "tool_use_id":
			at = &f.toolUseID
		case "is_error":
			at = &f.isError
		case "source":
			at = &f.source
		case "title":
			at = &f.title
		default:
			return true
		}
		if !at.Exists() {
			*at = v
		}
		return true
	})
	return f
}

// blockType reads a content block, or returns an Anthropic-worded error
// when it is not an object with a type.
func (r *request) blockType(b gjson.Result, path string, args ...any) (block, *wire.Error) {
	if !b.IsObject() {
		return block{}, wire.BadRequest(path+": Input should be a valid dictionary or object", args...)
	}
	f := r.readBlock(b)
	if f.typ.Type != gjson.String {
		return block{}, wire.BadRequest(path+".type: Field required", args...)
	}
	return f, nil
}

// appendUserTurn writes a user message's blocks: its tool_result blocks
// become tool messages (first, as the chat API wants them right after the
// assistant's tool calls), the rest one user message (images returned by
// tools join it, after the user's own blocks).
func (r *request) appendUserTurn(out []byte, first bool, i int, blocks []gjson.Result) ([]byte, bool, *wire.Error) {
	r.pendingImages, r.pendingImagesOf = r.pendingImages[:0], r.pendingImagesOf[:0]
	r.blocks = r.blocks[:0]
	for j, b := range blocks {
		f, werr := r.blockType(b, "messages.%d.content.%d", i, j)
		if werr != nil {
			return nil, first, werr
		}
		r.blocks = append(r.blocks, f)
	}
	// tool messages first
	for j, f := range r.blocks {
		if f.typ.Str != "tool_result" {
			continue
		}
		var err *wire.Error
		out = comma(out, first)
		if out, err = r.appendToolResult(out, i, j, &r.blocks[j]); err != nil {
			return nil, first, err
		}
		first = false
	}
	// then the other blocks as one user message
	start := len(out)
	out = comma(out, first)
	out = append(out, `{"role":"user","content":[`...)
	parts := 0
	var onlyText gjson.Result
	for j := range r.blocks {
		f := &r.blocks[j]
		typ := f.typ.Str
		if typ == "tool_result" {
			continue
		}
		var werr *wire.Error
		n0 := len(out)
		if parts > 0 {
			out = append(out, ',')
		}
		before := len(out)
		out, werr = r.appendUserPart(out, f, "messages.%d.content.%d", i, j)
		if werr != nil {
			return nil, first, werr
		}
		if len(out) == before { // nothing written
			out = out[:n0]
			continue
		}
		if parts == 0 && typ == "text" {
			onlyText = f.text
		} else {
			onlyText = gjson.Result{}
		}
		parts++
	}
	for k, img := range r.pendingImages {
		if parts > 0 {
			out = append(out, ',')
		}
		if k == 0 {
			out = append(out, `{"type":"text","text":"The images returned by the tool calls above follow."},`...)
		}
		var werr *wire.Error
		if out, werr = r.appendImage(out, r.t.get(img, "source"), r.pendingImagesOf[k]); werr != nil {
			return nil, first, werr
		}
		onlyText = gjson.Result{}
		parts++
	}
	switch {
	case parts == 0 && !first:
		// only tool results (or nothing after them): no user message
		return out[:start], first, nil
	case parts == 0:
		out = append(out[:start], `{"role":"user","content":""}`...)
		return out, false, nil
	case parts == 1 && onlyText.Exists():
		out = out[:start]
		out = comma(out, first)
		out = append(out, `{"role":"user","content":`...)
		out = append(out, onlyText.Raw...)
		return append(out, '}'), false, nil
	}
	return append(out, `]}`...), false, nil
}

// appendUserPart writes one block of a user message as a chat content
// part (nothing for a block that has no chat form and may be dropped).
func (r *request) appendUserPart(out []byte, f *block, path string, args ...any) ([]byte, *wire.Error) {
	at := func() string { return sprintf(path, args...) }
	switch typ := f.typ.Str; typ {
	case "text":
		t := f.text
		if t.Type != gjson.String {
			return nil, wire.BadRequest("%s.text: Field required", at())
		}
		out = append(out, `{"type":"text","text":`...)
		return append(append(out, t.Raw...), '}'), nil
	case "image":
		return r.appendImage(out, f.source, at())
	case "document":
		return r.appendDocument(out, f.source, f.title, at())
	case "search_result":
		return r.appendSearchResult(out, f.content, at())
	case "thinking", "redacted_thinking":
		return out, nil
	case "tool_use", "server_tool_use":
		return nil, wire.BadRequest("%s: %s blocks are only allowed in assistant messages", at(), typ)
	}
	return nil, wire.BadRequest("%s.type: a %q block %s; remove it or call a model served by Anthropic", at(), f.typ.Str, notChat)
}

// appendImage writes an image block as an image_url part: base64 data as a
// data URL, a URL as is.
func (r *request) appendImage(out []byte, src gjson.Result, at string) ([]byte, *wire.Error) {
	if !src.IsObject() {
		return nil, wire.BadRequest("%s.source: Field required", at)
	}
	switch r.t.get(src, "type").String() {
	case "base64":
		mt, data := r.t.get(src, "media_type"), r.t.get(src, "data")
		if mt.Type != gjson.String {
			return nil, wire.BadRequest("%s.source.base64.media_type: Field required", at)
		}
		if data.Type != gjson.String {
			return nil, wire.BadRequest("%s.source.base64.data: Field required", at)
		}
		out = append(out, `{"type":"image_url","image_url":{"url":"data:`...)
		out = wire.AppendRawStringBody(out, mt)
		out = append(out, `;base64,`...)
		out = wire.AppendRawStringBody(out, data)
		return append(out, `"}}`...), nil
	case "url":
		u := r.t.get(src, "url")
		if u.Type != gjson.String {
			return nil, wire.BadRequest("%s.source.url.url: Field required", at)
		}
		out = append(out, `{"type":"image_url","image_url":{"url":`...)
		out = append(out, u.Raw...)
		return append(out, `}}`...), nil
	case "file":
		return nil, wire.BadRequest("%s.source: an image from the Files API (a \"file\" source) %s; send the image as base64 or a URL", at, notChat)
	}
	return nil, wire.BadRequest("%s.source.type: Input tag %s found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'", at, jsonOrMissing(r.t.get(src, "type")))
}

// appendDocument writes a document block: plain text and content sources
// as text parts, a base64 PDF as a file part; URL and Files API sources are
// refused.
func (r *request) appendDocument(out []byte, src, title gjson.Result, at string) ([]byte, *wire.Error) {
	if !src.IsObject() {
		return nil, wire.BadRequest("%s.source: Field required", at)
	}
	switch st := r.t.get(src, "type").String(); st {
	case "text":
		data := r.t.get(src, "data")
		if data.Type != gjson.String {
			return nil, wire.BadRequest("%s.source.text.data: Field required", at)
		}
		out = append(out, `{"type":"text","text":`...)
		return append(append(out, data.Raw...), '}'), nil
	case "content":
		c := r.t.get(src, "content")
		if c.Type == gjson.String {
			out = append(out, `{"type":"text","text":`...)
			return append(append(out, c.Raw...), '}'), nil
		}
		n := 0
		for k, p := range r.t.elems(c) {
			t := r.t.get(p, "text")
			if r.t.get(p, "type").String() != "text" || t.Type != gjson.String {
				return nil, wire.BadRequest("%s.source.content.%d: only text blocks can be sent in a document to a model served through an OpenAI-compatible chat API", at, k)
			}
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"type":"text","text":`...)
			out = append(append(out, t.Raw...), '}')
			n++
		}
		return out, nil
	case "base64":
		mt, data := r.t.get(src, "media_type"), r.t.get(src, "data")
		if mt.String() != "application/pdf" {
			return nil, wire.BadRequest("%s.source.base64.media_type: Input should be 'application/pdf'", at)
		}
		if data.Type != gjson.String {
			return nil, wire.BadRequest("%s.source.base64.data: Field required", at)
		}
		out = append(out, `{"type":"file","file":{"filename":`...)
		if title.Type == gjson.String && title.Str != "" {
			out = append(out, title.Raw...)
		} else {
			out = append(out, `"document.pdf"`...)
		}
		out = append(out, `,"file_data":"data:application/pdf;base64,`...)
		out = wire.AppendRawStringBody(out, data)
		return append(out, `"}}`...), nil
	case "url", "file":
		return nil, wire.BadRequest("%s.source: a document with a %q source %s; send the PDF as base64 or the text itself", at, st, notChat)
	}
	return nil, wire.BadRequest("%s.source.type: Input tag %s found using 'type' does not match any of the expected tags: 'base64', 'text', 'content', 'url', 'file'", at, jsonOrMissing(r.t.get(src, "type")))
}

// appendSearchResult writes a search_result block's text content as text.
func (r *request) appendSearchResult(out []byte, content gjson.Result, at string) ([]byte, *wire.Error) {
	n := 0
	for k, p := range r.t.elems(content) {
		t := r.t.get(p, "text")
		if t.Type != gjson.String {
			return nil, wire.BadRequest("%s.content.%d.text: Field required", at, k)
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"type":"text","text":`...)
		out = append(append(out, t.Raw...), '}')
		n++
	}
	return out, nil
}

func jsonOrMissing(v gjson.Result) string {
	if !v.Exists() {
		return "(missing)"
	}
	return v.Raw
}

// appendToolResult writes a tool_result block as a tool message: string
// content as is, text blocks joined by newlines; is_error prefixes
// "Error: ". Images in the result are kept for the user message that
// follows the tool messages.
func (r *request) appendToolResult(out []byte, i, j int, b *block) ([]byte, *wire.Error) {
	id := b.toolUseID
	if id.Type != gjson.String {
		return nil, wire.BadRequest("messages.%d.content.%d.tool_result.tool_use_id: Field required", i, j)
	}
	out = append(out, `{"role":"tool","tool_call_id":`...)
	out = append(out, id.Raw...)
	out = append(out, `,"content":"`...)
	if b.isError.Type == gjson.True {
		out = append(out, "Error: "...)
	}
	c := b.content
	switch {
	case c.Type == gjson.String:
		out = wire.AppendRawStringBody(out, c)
	case c.IsArray():
		n := 0
		images := 0
		for k, p := range r.t.elems(c) {
			pf, werr := r.blockType(p, "messages.%d.content.%d.content.%d", i, j, k)
			if werr != nil {
				return nil, werr
			}
			switch typ := pf.typ.Str; typ {
			case "text":
				t := pf.text
				if t.Type != gjson.String {
					return nil, wire.BadRequest("messages.%d.content.%d.content.%d.text: Field required", i, j, k)
				}
				if n > 0 {
					out = append(out, `\n`...)
				}
				out = wire.AppendRawStringBody(out, t)
				n++
			case "image":
				r.pendingImages = append(r.pendingImages, p)
				r.pendingImagesOf = append(r.pendingImagesOf, sprintf("messages.%d.content.%d.content.%d", i, j, k))
				images++
			case "document", "search_result":
				// as text, when they are text
				var tmp []byte
				var werr *wire.Error
				if typ == "document" {
					tmp, werr = r.appendDocument(nil, pf.source, pf.title, sprintf("messages.%d.content.%d.content.%d", i, j, k))
				} else {
					tmp, werr = r.appendSearchResult(nil, pf.content, sprintf("messages.%d.content.%d.content.%d", i, j, k))
				}
				if werr != nil {
					return nil, werr
				}
				for _, t := range gjson.Parse("[" + string(tmp) + "]").Array() {
					tt := r.t.get(t, "text")
					if tt.Type != gjson.String {
						return nil, wire.BadRequest("messages.%d.content.%d.content.%d: only text documents can be returned by a tool to a model served through an OpenAI-compatible chat API", i, j, k)
					}
					if n > 0 {
						out = append(out, `\n`...)
					}
					out = wire.AppendRawStringBody(out, tt)
					n++
				}
			default:
				return nil, wire.BadRequest("messages.%d.content.%d.content.%d.type: a %q block in a tool result %s", i, j, k, pf.typ.Str, notChat)
			}
		}
		if n == 0 && images > 0 {
			out = append(out, "The result is the image that follows."...)
		}
	case !c.Exists() || c.Type == gjson.Null:
	default:
		return nil, wire.BadRequest("messages.%d.content.%d.content: Input should be a valid string or a list of content blocks", i, j)
	}
	return append(out, `"}`...), nil
}

// appendAssistant writes an assistant message: text blocks joined as its
// content, tool_use blocks as tool_calls; thinking blocks are dropped (a
// chat API takes no reasoning back).
func (r *request) appendAssistant(out []byte, first bool, i int, blocks []gjson.Result) ([]byte, bool, *wire.Error) {
	out = comma(out, first)
	out = append(out, `{"role":"assistant","content":`...)
	texts := 0
	contentAt := len(out)
	out = append(out, '"')
	r.blocks = r.blocks[:0]
	for j, b := range blocks {
		f, werr := r.blockType(b, "messages.%d.content.%d", i, j)
		if werr != nil {
			return nil, first, werr
		}
		r.blocks = append(r.blocks, f)
		switch typ := f.typ.Str; typ {
		case "text":
			t := f.text
			if t.Type != gjson.String {
				return nil, first, wire.BadRequest("messages.%d.content.%d.text: Field required", i, j)
			}
			out = wire.AppendRawStringBody(out, t)
			texts++
		case "tool_use", "thinking", "redacted_thinking":
		case "tool_result", "image", "document", "search_result":
			return nil, first, wire.BadRequest("messages.%d.content.%d: %s blocks are only allowed in user messages", i, j, typ)
		default:
			return nil, first, wire.BadRequest("messages.%d.content.%d.type: a %q block %s; remove it or call a model served by Anthropic", i, j, typ, notChat)
		}
	}
	out = append(out, '"')
	calls := 0
	for j := range r.blocks {
		f := &r.blocks[j]
		if f.typ.Str != "tool_use" {
			continue
		}
		id, name, input := f.id, f.name, f.input
		switch {
		case id.Type != gjson.String:
			return nil, first, wire.BadRequest("messages.%d.content.%d.tool_use.id: Field required", i, j)
		case name.Type != gjson.String:
			return nil, first, wire.BadRequest("messages.%d.content.%d.tool_use.name: Field required", i, j)
		case !input.IsObject():
			return nil, first, wire.BadRequest("messages.%d.content.%d.tool_use.input: Input should be a valid dictionary", i, j)
		}
		if calls == 0 {
			if texts == 0 {
				out = append(out[:contentAt], "null"...)
			}
			out = append(out, `,"tool_calls":[`...)
		} else {
			out = append(out, ',')
		}
		out = append(out, `{"id":`...)
		out = append(out, id.Raw...)
		out = append(out, `,"type":"function","function":{"name":`...)
		out = append(out, name.Raw...)
		out = append(out, `,"arguments":`...)
		out = wire.AppendJSONString(out, input.Raw)
		out = append(out, `}}`...)
		calls++
	}
	if calls > 0 {
		out = append(out, ']')
	}
	return append(out, '}'), false, nil
}

// appendTools writes tools and tool_choice. Anthropic's own tools (web
// search, code execution, bash, text editor, computer use, ...) have no
// function schema and are refused.
func (r *request) appendTools(out []byte) ([]byte, *wire.Error) {
	t := r.tools
	if t.Exists() && t.Type != gjson.Null && !t.IsArray() {
		return nil, wire.BadRequest("tools: Input should be a valid list")
	}
	tools := r.t.elems(t)
	if len(tools) > 0 {
		out = append(out, `,"tools":[`...)
		for i, tool := range tools {
			if !tool.IsObject() {
				return nil, wire.BadRequest("tools.%d: Input should be a valid dictionary or object", i)
			}
			if typ := r.t.get(tool, "type"); typ.Exists() && typ.Type != gjson.Null && typ.Str != "custom" {
				return nil, wire.BadRequest("tools.%d: Anthropic's own tool type %s %s; remove it or call a model served by Anthropic", i, typ.Raw, notChat)
			}
			name, desc, schema := r.t.get(tool, "name"), r.t.get(tool, "description"), r.t.get(tool, "input_schema")
			switch {
			case name.Type != gjson.String:
				return nil, wire.BadRequest("tools.%d.custom.name: Field required", i)
			case !schema.Exists():
				return nil, wire.BadRequest("tools.%d.custom.input_schema: Field required", i)
			case !schema.IsObject():
				return nil, wire.BadRequest("tools.%d.custom.input_schema: Input should be a valid dictionary", i)
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"type":"function","function":{"name":`...)
			out = append(out, name.Raw...)
			if desc.Type == gjson.String {
				out = append(out, `,"description":`...)
				out = append(out, desc.Raw...)
			}
			out = append(out, `,"parameters":`...)
			out = append(out, schema.Raw...)
			if r.t.get(tool, "strict").Type == gjson.True {
				out = append(out, `,"strict":true`...)
			}
			out = append(out, `}}`...)
		}
		out = append(out, ']')
	}
	c := r.toolChoice
	if !c.Exists() || c.Type == gjson.Null {
		return out, nil
	}
	if !c.IsObject() {
		return nil, wire.BadRequest("tool_choice: Input should be a valid dictionary or object")
	}
	if len(tools) == 0 {
		return out, nil // the chat API refuses tool_choice without tools; it means nothing then
	}
	typ := r.t.get(c, "type")
	switch typ.String() {
	case "auto":
		out = append(out, `,"tool_choice":"auto"`...)
	case "any":
		out = append(out, `,"tool_choice":"required"`...)
	case "none":
		out = append(out, `,"tool_choice":"none"`...)
	case "tool":
		name := r.t.get(c, "name")
		if name.Type != gjson.String {
			return nil, wire.BadRequest("tool_choice.tool.name: Field required")
		}
		out = append(out, `,"tool_choice":{"type":"function","function":{"name":`...)
		out = append(out, name.Raw...)
		out = append(out, `}}`...)
	default:
		return nil, wire.BadRequest("tool_choice.type: Input tag %s found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'", jsonOrMissing(typ))
	}
	if r.t.get(c, "disable_parallel_tool_use").Type == gjson.True {
		out = append(out, `,"parallel_tool_calls":false`...)
	}
	return out, nil
}

// appendResponseFormat writes structured outputs (output_format, or
// output_config.format) as a json_schema response_format.
func (r *request) appendResponseFormat(out []byte) ([]byte, *wire.Error) {
	f, at := r.outputFormat, "output_format"
	if !f.Exists() || f.Type == gjson.Null {
		f, at = r.t.get(r.outputConfig, "format"), "output_config.format"
	}
	if !f.Exists() || f.Type == gjson.Null {
		return out, nil
	}
	if r.t.get(f, "type").String() != "json_schema" {
		return nil, wire.BadRequest("%s.type: Input should be 'json_schema'", at)
	}
	s := r.t.get(f, "schema")
	if !s.IsObject() {
		return nil, wire.BadRequest("%s.schema: Field required", at)
	}
	out = append(out, `,"response_format":{"type":"json_schema","json_schema":{"name":"output","strict":true,"schema":`...)
	out = append(out, s.Raw...)
	return append(out, `}}`...), nil
}

// sprintf is fmt.Sprintf for the few paths this package formats (%d, %s).
func sprintf(format string, args ...any) string {
	b := make([]byte, 0, len(format)+8)
	k := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) || k >= len(args) {
			b = append(b, format[i])
			continue
		}
		i++
		switch v := args[k].(type) {
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case string:
			b = append(b, v...)
		}
		k++
	}
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
