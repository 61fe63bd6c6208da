package bridge

import (
	"io"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// StreamFromChat wraps a stream of OpenAI chat.completion.chunk payloads
// into a stream of Anthropic Messages events: each Next returns one
// event's data, whose "type" is the event name (message_start,
// content_block_start, content_block_delta, content_block_stop,
// message_delta, message_stop), then io.EOF. model is the "model" of
// message_start. An error of s (a *wire.Error) is returned as is, after
// the events already translated; an "error" chunk becomes a *wire.Error.
// Ready and Close delegate to s; no goroutine is started.
func StreamFromChat(s providers.Stream, model string) providers.Stream {
	return &stream{src: s, model: model, open: -1}
}

type blockKind uint8

const (
	kindText blockKind = iota + 1
	kindThinking
	kindTool
)

// toolCall is a chat tool call (by its index in the chunks) and the
// content block it opened.
type toolCall struct {
	index int64
	id    string
	block int
}

type stream struct {
	src   providers.Stream
	model string

	// pending events: out[ends[i-1]:ends[i]]
	out  []byte
	ends []int
	head int

	started  bool
	finished bool  // message_stop queued
	err      error // returned once the queue is empty; sticky
	msgID    string

	blocks   int // content blocks opened
	open     int // index of the open block, -1: none
	openKind blockKind
	openTool int // index in tools of the open tool block
	tools    []toolCall

	stop  string // stop_reason once the finish_reason came
	usage usage
}

func (s *stream) Next() ([]byte, error) {
	for {
		if s.head < len(s.ends) {
			from := 0
			if s.head > 0 {
				from = s.ends[s.head-1]
			}
			ev := s.out[from:s.ends[s.head]]
			s.head++
			return ev, nil
		}
		s.out, s.ends, s.head = s.out[:0], s.ends[:0], 0
		if s.err != nil {
			return nil, s.err
		}
		if s.finished {
			return nil, io.EOF
		}
		s.pull()
	}
}

// Ready reports whether Next would return without waiting: events are
// queued, the stream has ended, or the upstream's next chunks are already
// here (translated now, so that a chunk that makes no event does not make
// Next wait).
func (s *stream) Ready() bool {
	for s.head == len(s.ends) && s.err == nil && !s.finished && s.src.Ready() {
		s.pull()
	}
	return s.head < len(s.ends) || s.err != nil || s.finished
}

func (s *stream) Close() { s.src.Close() }

// pull translates the source's next chunk into queued events.
func (s *stream) pull() {
	data, err := s.src.Next()
	if err == io.EOF {
		s.end()
		return
	}
	if err != nil {
		s.err = err
		return
	}
	s.chunk(data)
}

// event starts a queued event; done ends it.
func (s *stream) event(prefix string) { s.out = append(s.out, prefix...) }
func (s *stream) done()               { s.ends = append(s.ends, len(s.out)) }

func (s *stream) chunk(data []byte) {
	raw := wire.View(data)
	i := wsAt(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		s.err = &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream sent a stream event that is not a JSON object (model " + s.model + ")"}
		return
	}
	// one pass over the chunk's members, skipping what is not read
	var choices, usageR, errR string
	var id gjson.Result
	members(raw[i:], func(k, v string) bool {
		switch k {
		case "id":
			if !s.started {
				id = result(v)
			}
		case "choices":
			choices = v
		case "usage":
			usageR = v
		case "error":
			errR = v
		}
		return true
	})
	if errR != "" && errR != "null" && choices == "" {
		s.err = chunkError(gjson.Parse(errR), s.model)
		return
	}
	if len(usageR) > 0 && usageR[0] == '{' {
		s.usage = readUsage(gjson.Parse(usageR))
	}
	if !s.started {
		s.start(id)
	}
	choice := firstElem(choices)
	if choice == "" || choice[0] != '{' {
		return
	}
	var delta, finish string
	members(choice, func(k, v string) bool {
		switch k {
		case "delta":
			delta = v
		case "finish_reason":
			finish = v
		}
		return true
	})
	var content, reasoning, reasoning2, refusal, calls, fcall string
	members(delta, func(k, v string) bool {
		switch k {
		case "content":
			content = v
		case "reasoning_content":
			reasoning = v
		case "reasoning":
			reasoning2 = v
		case "refusal":
			refusal = v
		case "tool_calls":
			calls = v
		case "function_call":
			fcall = v
		}
		return true
	})
	if !nonEmptyString(reasoning) {
		reasoning = reasoning2
	}
	if nonEmptyString(reasoning) {
		s.ensure(kindThinking)
		s.event(`{"type":"content_block_delta","index":`)
		s.out = strconv.AppendInt(s.out, int64(s.open), 10)
		s.out = append(s.out, `,"delta":{"type":"thinking_delta","thinking":`...)
		s.out = append(s.out, reasoning...)
		s.out = append(s.out, `}}`...)
		s.done()
	}
	if !nonEmptyString(content) {
		content = refusal
	}
	if nonEmptyString(content) {
		s.ensure(kindText)
		s.event(`{"type":"content_block_delta","index":`)
		s.out = strconv.AppendInt(s.out, int64(s.open), 10)
		s.out = append(s.out, `,"delta":{"type":"text_delta","text":`...)
		s.out = append(s.out, content...)
		s.out = append(s.out, `}}`...)
		s.done()
	}
	if len(calls) > 0 && calls[0] == '[' {
		gjson.Parse(calls).ForEach(func(_, call gjson.Result) bool {
			s.toolDelta(call)
			return true
		})
	} else if len(fcall) > 0 && fcall[0] == '{' {
		s.toolDelta(gjson.Result{Type: gjson.JSON, Raw: `{"index":0}`}, gjson.Parse(fcall))
	}
	if nonEmptyString(finish) {
		s.closeBlock()
		s.stop = stopReason(gjson.Parse(finish).Str, len(s.tools) > 0)
	}
}

// nonEmptyString reports whether raw is a string literal other than "".
func nonEmptyString(raw string) bool { return len(raw) > 2 && raw[0] == '"' }

// firstElem returns the raw first element of the array raw ("" if none).
func firstElem(raw string) string {
	i := wsAt(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return ""
	}
	i = wsAt(raw, i+1)
	if i >= len(raw) || raw[i] == ']' {
		return ""
	}
	e := skipValue(raw, i)
	if e <= i {
		return ""
	}
	return raw[i:e]
}

// start queues message_start.
func (s *stream) start(id gjson.Result) {
	s.started = true
	s.event(`{"type":"message_start","message":{"id":`)
	at := len(s.out)
	s.out = appendMessageID(s.out, id)
	s.msgID = string(s.out[at+5 : len(s.out)-1]) // inside "msg_…"
	s.out = append(s.out, `,"type":"message","role":"assistant","model":`...)
	s.out = wire.AppendJSONString(s.out, s.model)
	s.out = append(s.out, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	u := s.usage
	u.output = 0
	s.out = appendUsage(s.out, u, true)
	s.out = append(s.out, `}}`...)
	s.done()
}

// ensure opens a block of kind k unless it is the open one.
func (s *stream) ensure(k blockKind) {
	if s.open >= 0 && s.openKind == k {
		return
	}
	s.closeBlock()
	s.open, s.openKind = s.blocks, k
	s.blocks++
	s.event(`{"type":"content_block_start","index":`)
	s.out = strconv.AppendInt(s.out, int64(s.open), 10)
	if k == kindText {
		s.out = append(s.out, `,"content_block":{"type":"text","text":""}}`...)
	} else {
		s.out = append(s.out, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	}
	s.done()
}

func (s *stream) closeBlock() {
	if s.open < 0 {
		return
	}
	s.event(`{"type":"content_block_stop","index":`)
	s.out = strconv.AppendInt(s.out, int64(s.open), 10)
	s.out = append(s.out, '}')
	s.done()
	s.open = -1
}

// toolDelta handles one tool_calls delta (fn: its function object, when
// not call.function). A call with a new index, or with an id other than
// its index's, opens a tool_use block; argument fragments become
// input_json_delta events of the call's block.
func (s *stream) toolDelta(call gjson.Result, fn ...gjson.Result) {
	f := call.Get("function")
	if len(fn) > 0 {
		f = fn[0]
	}
	idx := int64(-1)
	if i := call.Get("index"); i.Type == gjson.Number {
		idx = i.Int()
	}
	id := call.Get("id")
	t := -1
	for k := len(s.tools) - 1; k >= 0; k-- {
		tc := s.tools[k]
		if (idx >= 0 && tc.index == idx) || (idx < 0 && (id.Str == "" || tc.id == id.Str)) {
			t = k
			break
		}
	}
	if t >= 0 && id.Type == gjson.String && id.Str != "" && s.tools[t].id != id.Str {
		t = -1 // a new call reusing the index (servers that send each call whole)
	}
	if t < 0 {
		if idx < 0 {
			idx = int64(len(s.tools))
		}
		s.closeBlock()
		block := s.blocks
		s.blocks++
		s.tools = append(s.tools, toolCall{index: idx, id: id.Str, block: block})
		t = len(s.tools) - 1
		s.open, s.openKind, s.openTool = block, kindTool, t
		s.event(`{"type":"content_block_start","index":`)
		s.out = strconv.AppendInt(s.out, int64(block), 10)
		s.out = append(s.out, `,"content_block":{"type":"tool_use","id":`...)
		if id.Type == gjson.String && id.Str != "" {
			s.out = wire.AppendRawString(s.out, id)
		} else {
			s.out = append(s.out, `"toolu_`...)
			s.out = wire.AppendJSONStringBody(s.out, s.msgID)
			s.out = append(s.out, '_')
			s.out = strconv.AppendInt(s.out, int64(t), 10)
			s.out = append(s.out, '"')
		}
		s.out = append(s.out, `,"name":`...)
		s.out = wire.AppendRawString(s.out, f.Get("name"))
		s.out = append(s.out, `,"input":{}}}`...)
		s.done()
	}
	args := f.Get("arguments")
	if args.Type != gjson.String || args.Str == "" {
		if args.IsObject() { // arguments sent as an object, not a string
			s.fragment(s.tools[t].block, gjson.Result{Type: gjson.String, Str: args.Raw})
		}
		return
	}
	s.fragment(s.tools[t].block, args)
}

// fragment queues an input_json_delta for block. A fragment for a tool
// block already closed (a server interleaving its calls' arguments) still
// goes to that block's index, as clients accumulate by index.
func (s *stream) fragment(block int, args gjson.Result) {
	s.event(`{"type":"content_block_delta","index":`)
	s.out = strconv.AppendInt(s.out, int64(block), 10)
	s.out = append(s.out, `,"delta":{"type":"input_json_delta","partial_json":`...)
	s.out = wire.AppendRawString(s.out, args)
	s.out = append(s.out, `}}`...)
	s.done()
}

// end queues the events after the source's end: the open block's stop,
// message_delta (stop_reason, usage) and message_stop.
func (s *stream) end() {
	if !s.started {
		s.err = &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream's stream ended before its first chunk (model " + s.model + ")"}
		return
	}
	s.closeBlock()
	stop := s.stop
	if stop == "" {
		stop = stopReason("", len(s.tools) > 0)
	}
	s.event(`{"type":"message_delta","delta":{"stop_reason":"`)
	s.out = append(s.out, stop...)
	s.out = append(s.out, `","stop_sequence":null},"usage":`...)
	s.out = appendUsage(s.out, s.usage, s.usage.known)
	s.out = append(s.out, '}')
	s.done()
	s.event(`{"type":"message_stop"}`)
	s.done()
	s.finished = true
}

// chunkError turns an "error" chunk into the error the stream ends with.
func chunkError(e gjson.Result, model string) *wire.Error {
	we := &wire.Error{Status: 502, Type: wire.TypeUpstream}
	if code := e.Get("code"); code.Exists() {
		if n, err := strconv.Atoi(code.String()); err == nil && n >= 400 && n <= 599 {
			we.Status = n
		}
	}
	if t := e.Get("type"); t.Type == gjson.String && t.Str != "" {
		we.Type = t.Str
	}
	if m := e.Get("message"); m.Type == gjson.String && m.Str != "" {
		we.Message = m.Str
	} else if e.Type == gjson.String && e.Str != "" {
		we.Message = e.Str
	} else {
		we.Message = "the upstream's stream failed (model " + model + ")"
	}
	return we
}
