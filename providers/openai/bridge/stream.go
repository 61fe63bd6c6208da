package bridge

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// StreamFromChat wraps a stream of OpenAI chat.completion.chunk payloads
// into a stream of Responses API events for the request echo describes:
// each Next returns one event's data, whose "type" is the event name and
// which carries a sequence_number, then io.EOF after response.completed
// (or response.incomplete). An error of s is returned as is after a
// response.failed event; an "error" chunk becomes a *wire.Error. Ready
// and Close delegate to s; no goroutine is started.
func StreamFromChat(s providers.Stream, echo *Echo) providers.Stream {
	return &stream{src: s, echo: echo}
}

const (
	textNone = iota
	textReasoning
	textMessage
)

// call is a chat tool call (by its index in the chunks) and its
// function_call item.
type call struct {
	index  int64
	callID string
	itemID string
	outIdx int
	name   []byte // a JSON string's inside
	args   []byte
	open   bool
}

type stream struct {
	src  providers.Stream
	echo *Echo

	// pending events: out[ends[i-1]:ends[i]]
	out  []byte
	ends []int
	head int
	seq  int64

	started  bool
	finished bool
	err      error // returned once the queue is empty; sticky

	sfx     string
	created int64
	items   int      // output items opened
	done    [][]byte // the finished items, by output_index (nil: open)

	text     int // textNone, textReasoning, textMessage: the open text item
	textIdx  int
	textID   string
	textBuf  []byte
	refusal  bool
	messages int // message items opened

	calls []call

	finish string
	failed bool
	usage  usage
}

// itemStatus is the status of the items closed now: incomplete when the
// output was cut (max_output_tokens, content filter, a failure).
func (s *stream) itemStatus() string {
	if st, _ := statusOf(s.finish); st != "completed" || s.failed {
		return "incomplete"
	}
	return "completed"
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

// Ready reports whether Next would return without waiting.
func (s *stream) Ready() bool {
	for s.head == len(s.ends) && s.err == nil && !s.finished && s.src.Ready() {
		s.pull()
	}
	return s.head < len(s.ends) || s.err != nil || s.finished
}

func (s *stream) Close() { s.src.Close() }

func (s *stream) pull() {
	data, err := s.src.Next()
	if err == io.EOF {
		s.end()
		return
	}
	if err != nil {
		s.fail(err)
		return
	}
	s.chunk(data)
}

// begin starts a queued event of type typ; finish it with s.close().
func (s *stream) begin(typ string) {
	s.out = append(s.out, `{"type":"`...)
	s.out = append(s.out, typ...)
	s.out = append(s.out, `","sequence_number":`...)
	s.out = appendInt(s.out, s.seq)
	s.seq++
}

func (s *stream) close() {
	s.out = append(s.out, '}')
	s.ends = append(s.ends, len(s.out))
}

// item appends the item_id and output_index members.
func (s *stream) item(id string, idx int) {
	s.out = append(s.out, `,"item_id":"`...)
	s.out = append(s.out, id...)
	s.out = append(s.out, `","output_index":`...)
	s.out = appendInt(s.out, int64(idx))
}

func (s *stream) outputIndex(idx int) {
	s.out = append(s.out, `,"output_index":`...)
	s.out = appendInt(s.out, int64(idx))
}

// output is the finished items, comma-separated.
func (s *stream) output() []byte {
	var b []byte
	for _, it := range s.done {
		if it == nil {
			continue
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return b
}

func (s *stream) response(typ, status, incomplete, errJSON string, usage []byte) {
	s.begin(typ)
	s.out = append(s.out, `,"response":`...)
	s.out = s.echo.appendResponse(s.out, "resp_"+s.sfx, s.created, status, incomplete, errJSON, s.output(), usage)
	s.close()
}

func (s *stream) start(id string, created int64) {
	s.started = true
	s.sfx = idSuffix(id)
	if s.sfx == "" {
		s.sfx = newSuffix()
	}
	s.created = created
	if s.created <= 0 {
		s.created = time.Now().Unix()
	}
	s.response("response.created", "in_progress", "", "", nil)
	s.response("response.in_progress", "in_progress", "", "", nil)
}

func (s *stream) newItem() int {
	s.done = append(s.done, nil)
	s.items++
	return s.items - 1
}

// openText makes the open text item one of kind (closing another).
func (s *stream) openText(kind int, refusal bool) {
	if s.text == kind && (kind != textMessage || s.refusal == refusal || len(s.textBuf) == 0) {
		if kind == textMessage {
			s.refusal = refusal
		}
		return
	}
	s.closeText()
	s.text, s.textIdx, s.textBuf, s.refusal = kind, s.newItem(), s.textBuf[:0], refusal
	s.begin("response.output_item.added")
	s.outputIndex(s.textIdx)
	s.out = append(s.out, `,"item":`...)
	if kind == textReasoning {
		s.textID = "rs_" + s.sfx
		if s.textIdx > 0 {
			s.textID += "_" + strconv.Itoa(s.textIdx)
		}
		s.out = appendReasoningItem(s.out, s.textID, nil)
		s.close()
		s.begin("response.reasoning_summary_part.added")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"summary_index":0,"part":{"type":"summary_text","text":""}`...)
		s.close()
		return
	}
	s.textID = "msg_" + s.sfx
	if s.messages > 0 {
		s.textID += "_" + strconv.Itoa(s.textIdx)
	}
	s.messages++
	s.out = appendMessageItem(s.out, s.textID, "in_progress", nil, false)
	s.close()
}

// textDelta sends a fragment (a JSON string literal) of the open text item.
func (s *stream) textDelta(lit string) {
	if s.text == textMessage && len(s.textBuf) == 0 {
		// the part opens with the first text: it is a refusal or not
		s.begin("response.content_part.added")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"content_index":0,"part":`...)
		s.out = appendTextPart(s.out, nil, s.refusal)
		s.close()
	}
	switch {
	case s.text == textReasoning:
		s.begin("response.reasoning_summary_text.delta")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"summary_index":0,"delta":`...)
		s.out = append(s.out, lit...)
	case s.refusal:
		s.begin("response.refusal.delta")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"content_index":0,"delta":`...)
		s.out = append(s.out, lit...)
	default:
		s.begin("response.output_text.delta")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"content_index":0,"delta":`...)
		s.out = append(s.out, lit...)
		s.out = append(s.out, `,"logprobs":[]`...)
	}
	s.close()
	s.textBuf = append(s.textBuf, lit[1:len(lit)-1]...)
}

func (s *stream) closeText() {
	switch s.text {
	case textNone:
		return
	case textReasoning:
		s.begin("response.reasoning_summary_text.done")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"summary_index":0,"text":"`...)
		s.out = append(s.out, s.textBuf...)
		s.out = append(s.out, `"`...)
		s.close()
		s.begin("response.reasoning_summary_part.done")
		s.item(s.textID, s.textIdx)
		s.out = append(s.out, `,"summary_index":0,"part":{"type":"summary_text","text":"`...)
		s.out = append(s.out, s.textBuf...)
		s.out = append(s.out, `"}`...)
		s.close()
		s.done[s.textIdx] = appendReasoningItem(nil, s.textID, s.textBuf)
	case textMessage:
		var text []byte
		if len(s.textBuf) > 0 {
			text = s.textBuf
			if s.refusal {
				s.begin("response.refusal.done")
				s.item(s.textID, s.textIdx)
				s.out = append(s.out, `,"content_index":0,"refusal":"`...)
				s.out = append(s.out, s.textBuf...)
				s.out = append(s.out, `"`...)
			} else {
				s.begin("response.output_text.done")
				s.item(s.textID, s.textIdx)
				s.out = append(s.out, `,"content_index":0,"text":"`...)
				s.out = append(s.out, s.textBuf...)
				s.out = append(s.out, `","logprobs":[]`...)
			}
			s.close()
			s.begin("response.content_part.done")
			s.item(s.textID, s.textIdx)
			s.out = append(s.out, `,"content_index":0,"part":`...)
			s.out = appendTextPart(s.out, s.textBuf, s.refusal)
			s.close()
		}
		s.done[s.textIdx] = appendMessageItem(nil, s.textID, s.itemStatus(), text, s.refusal)
	}
	s.begin("response.output_item.done")
	s.outputIndex(s.textIdx)
	s.out = append(s.out, `,"item":`...)
	s.out = append(s.out, s.done[s.textIdx]...)
	s.close()
	s.text, s.textBuf = textNone, s.textBuf[:0]
}

// toolDelta handles one element of a chunk's tool_calls.
func (s *stream) toolDelta(tc gjson.Result) {
	var index int64
	var id, name, args gjson.Result
	hasIndex := false
	tc.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "index":
			index, hasIndex = v.Int(), v.Type == gjson.Number
		case "id":
			id = v
		case "function":
			name, args = v.Get("name"), v.Get("arguments")
		}
		return true
	})
	if !hasIndex {
		index = int64(len(s.calls)) // a host that numbers nothing: one call per element
		if len(s.calls) > 0 && !nonEmpty(id) && !nonEmpty(name) {
			index = s.calls[len(s.calls)-1].index
		}
	}
	c := s.findCall(index, id)
	if c == nil {
		s.closeText()
		callID := strings.Clone(id.Str) // id views the source's buffer
		if callID == "" || !nonEmpty(id) {
			callID = "call_" + s.sfx + "_" + strconv.Itoa(len(s.calls))
		}
		s.calls = append(s.calls, call{index: index, callID: callID, itemID: fcID(callID), outIdx: s.newItem(), open: true})
		c = &s.calls[len(s.calls)-1]
		if nonEmpty(name) {
			c.name = wire.AppendRawStringBody(nil, name)
		}
		s.begin("response.output_item.added")
		s.outputIndex(c.outIdx)
		s.out = append(s.out, `,"item":`...)
		s.out = s.echo.appendCallItem(s.out, c.itemID, "in_progress", c.callID, c.name, nil)
		s.close()
	} else if len(c.name) == 0 && nonEmpty(name) {
		c.name = wire.AppendRawStringBody(nil, name)
	}
	if nonEmpty(args) && len(args.Raw) >= 2 && args.Raw[0] == '"' {
		s.begin("response.function_call_arguments.delta")
		s.item(c.itemID, c.outIdx)
		s.out = append(s.out, `,"delta":`...)
		s.out = append(s.out, args.Raw...)
		s.close()
		c.args = append(c.args, args.Raw[1:len(args.Raw)-1]...)
	}
}

// findCall is the open call at chat index index (a new id there starts a
// new call).
func (s *stream) findCall(index int64, id gjson.Result) *call {
	for i := len(s.calls) - 1; i >= 0; i-- {
		c := &s.calls[i]
		if c.index == index && c.open {
			if nonEmpty(id) && id.Str != c.callID {
				s.closeCall(c)
				return nil
			}
			return c
		}
	}
	return nil
}

func (s *stream) closeCall(c *call) {
	if !c.open {
		return
	}
	c.open = false
	args := c.args
	if len(args) == 0 {
		args = []byte("{}")
	}
	s.begin("response.function_call_arguments.done")
	s.item(c.itemID, c.outIdx)
	s.out = append(s.out, `,"name":"`...)
	s.out = append(s.out, s.echo.shortName(c.name)...)
	s.out = append(s.out, `","arguments":"`...)
	s.out = append(s.out, args...)
	s.out = append(s.out, `"`...)
	s.close()
	s.done[c.outIdx] = s.echo.appendCallItem(nil, c.itemID, s.itemStatus(), c.callID, c.name, args)
	s.begin("response.output_item.done")
	s.outputIndex(c.outIdx)
	s.out = append(s.out, `,"item":`...)
	s.out = append(s.out, s.done[c.outIdx]...)
	s.close()
}

func (s *stream) closeAll() {
	s.closeText()
	for i := range s.calls {
		s.closeCall(&s.calls[i])
	}
}

func (s *stream) chunk(data []byte) {
	root := gjson.Parse(wire.View(data))
	if !root.IsObject() {
		s.fail(&wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream sent a stream event that is not a JSON object (model " + s.echo.model + ")"})
		return
	}
	var id, created, choices, usageR, errR gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "created":
			created = v
		case "choices":
			choices = v
		case "usage":
			usageR = v
		case "error":
			errR = v
		}
		return true
	})
	if errR.Exists() && errR.Type != gjson.Null && !choices.Exists() {
		s.fail(chunkError(errR, s.echo.model))
		return
	}
	if usageR.IsObject() {
		s.usage = readUsage(usageR)
	}
	if !s.started {
		s.start(id.Str, created.Int())
	}
	choice := choices.Get("0")
	if !choice.IsObject() {
		return
	}
	delta := choice.Get("delta")
	var content, reasoning, reasoning2, refusal, calls gjson.Result
	delta.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
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
		}
		return true
	})
	if !nonEmpty(reasoning) {
		reasoning = reasoning2
	}
	if nonEmpty(reasoning) && len(reasoning.Raw) >= 2 && reasoning.Raw[0] == '"' {
		s.openText(textReasoning, false)
		s.textDelta(reasoning.Raw)
	}
	if nonEmpty(content) && len(content.Raw) >= 2 && content.Raw[0] == '"' {
		s.openText(textMessage, s.text == textMessage && s.refusal)
		s.textDelta(content.Raw)
	} else if nonEmpty(refusal) && len(refusal.Raw) >= 2 && refusal.Raw[0] == '"' {
		s.openText(textMessage, true)
		s.textDelta(refusal.Raw)
	}
	if calls.IsArray() {
		calls.ForEach(func(_, tc gjson.Result) bool {
			if tc.IsObject() {
				s.toolDelta(tc)
			}
			return true
		})
	}
	if f := choice.Get("finish_reason"); nonEmpty(f) {
		s.finish = f.Str
		s.closeAll()
	}
}

// end queues the last events after the source's end.
func (s *stream) end() {
	if !s.started {
		s.err = &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream's stream ended before its first event (model " + s.echo.model + ")"}
		return
	}
	s.closeAll()
	status, incomplete := statusOf(s.finish)
	typ := "response.completed"
	if status == "incomplete" {
		typ = "response.incomplete"
	}
	s.response(typ, status, incomplete, "", s.usage.append(nil))
	s.finished = true
}

// fail queues response.failed (once the stream started) and makes err
// the stream's error: the gateway sends it as an error event.
func (s *stream) fail(err error) {
	if s.started {
		code := "server_error"
		var we *wire.Error
		if errors.As(err, &we) && we.Status == 429 {
			code = "rate_limit_exceeded"
		}
		msg := err.Error()
		if we != nil {
			msg = we.Message
		}
		e := `{"code":"` + code + `","message":` + string(wire.AppendJSONString(nil, msg)) + `}`
		s.failed = true
		s.closeAll()
		s.response("response.failed", "failed", "", e, s.usage.append(nil))
	}
	s.err = err
}

// chunkError is the error of an "error" chunk.
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

// shortName is a function's name without its namespace.
func (e *Echo) shortName(name []byte) []byte {
	for _, p := range e.namespaces {
		if len(name) > len(p) && string(name[:len(p)]) == p {
			return name[len(p):]
		}
	}
	return name
}
