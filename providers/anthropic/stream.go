package anthropic

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// streamState translates Anthropic stream events into OpenAI
// chat.completion.chunk payloads, queued until Next hands them out.
type streamState struct {
	info    reqInfo
	name    string // the deployment's public name, for messages
	created int64

	head    []byte // `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":`
	started bool   // message_start seen
	done    bool   // message_delta with a stop_reason seen

	blockTool []int // per content block index: the tool call's index, -1 for other blocks
	jsonBlock int   // the json tool's block index (response_format), -1: none
	nTools    int
	u         usage

	buf  []byte // queued chunks, back to back
	ends []int  // where each queued chunk ends in buf
	next int    // the next chunk to hand out
}

func newStreamState(info reqInfo, name string, created int64) *streamState {
	s := &streamState{info: info, name: name, created: created, jsonBlock: -1}
	s.setHead(`""`, `""`)
	return s
}

func (s *streamState) setHead(id, model string) {
	s.head = append(s.head[:0], `{"id":`...)
	s.head = append(s.head, id...)
	s.head = append(s.head, `,"object":"chat.completion.chunk","created":`...)
	s.head = appendInt(s.head, s.created)
	s.head = append(s.head, `,"model":`...)
	s.head = append(s.head, model...)
	s.head = append(s.head, `,"choices":`...)
}

// pop returns the next queued chunk.
func (s *streamState) pop() ([]byte, bool) {
	if s.next >= len(s.ends) {
		return nil, false
	}
	start := 0
	if s.next > 0 {
		start = s.ends[s.next-1]
	}
	s.next++
	return s.buf[start:s.ends[s.next-1]], true
}

// reset empties the queue (only once every chunk was handed out).
func (s *streamState) reset() { s.buf, s.ends, s.next = s.buf[:0], s.ends[:0], 0 }

// delta starts a chunk with one choice whose delta follows; end closes it.
func (s *streamState) delta() {
	s.buf = append(s.buf, s.head...)
	s.buf = append(s.buf, `[{"index":0,"delta":{`...)
}

func (s *streamState) end(finish string) {
	s.buf = append(s.buf, `},"finish_reason":`...)
	if finish == "" {
		s.buf = append(s.buf, "null"...)
	} else {
		s.buf = append(s.buf, '"')
		s.buf = append(s.buf, finish...)
		s.buf = append(s.buf, '"')
	}
	s.buf = append(s.buf, "}]}"...)
	s.ends = append(s.ends, len(s.buf))
}

// event translates one Anthropic event's data, queueing zero or more
// chunks. An error event, or an event that breaks the protocol, is an
// error ending the stream.
func (s *streamState) event(data []byte) error {
	var ev event
	ev.read(gjson.Parse(wire.View(data)))
	switch ev.typ.Str {
	case "message_start":
		m := ev.message
		id, model := m.Get("id"), m.Get("model")
		idRaw, modelRaw := `""`, `""`
		if id.Type == gjson.String {
			idRaw = id.Raw
		}
		if model.Type == gjson.String {
			modelRaw = model.Raw
		}
		s.setHead(idRaw, modelRaw)
		s.u.read(m.Get("usage"))
		if !s.started {
			s.started = true
			s.delta()
			s.buf = append(s.buf, `"role":"assistant","content":""`...)
			s.end("")
		}
	case "content_block_start":
		idx := ev.index.Int()
		if idx < 0 || idx > 1<<16 {
			return s.protocol("a content block index out of range")
		}
		for int64(len(s.blockTool)) <= idx {
			s.blockTool = append(s.blockTool, -1)
		}
		blk := ev.block
		switch blk.Get("type").Str {
		case "text":
			if t := blk.Get("text"); t.Type == gjson.String && t.Str != "" {
				s.delta()
				s.buf = append(s.buf, `"content":`...)
				s.buf = append(s.buf, t.Raw...)
				s.end("")
			}
		case "tool_use":
			name := blk.Get("name")
			if s.info.jsonMode && name.Str == jsonToolName {
				s.jsonBlock = int(idx)
				return nil
			}
			s.blockTool[idx] = s.nTools
			s.delta()
			s.buf = append(s.buf, `"tool_calls":[{"index":`...)
			s.buf = appendInt(s.buf, int64(s.nTools))
			s.buf = append(s.buf, `,"id":`...)
			s.buf = wire.AppendRawString(s.buf, blk.Get("id"))
			s.buf = append(s.buf, `,"type":"function","function":{"name":`...)
			s.buf = wire.AppendRawString(s.buf, name)
			s.buf = append(s.buf, `,"arguments":""}}]`...)
			s.end("")
			s.nTools++
		case "thinking":
			if t := blk.Get("thinking"); t.Type == gjson.String && t.Str != "" {
				s.thinking(t)
			}
		case "redacted_thinking":
			s.delta()
			s.buf = append(s.buf, `"thinking_blocks":[`...)
			s.buf = wire.AppendCompact(s.buf, blk.Raw) // one line: it goes into an SSE event
			s.buf = append(s.buf, ']')
			s.end("")
		}
	case "content_block_delta":
		idx := ev.index.Int()
		var d delta
		d.read(ev.delta)
		switch d.typ.Str {
		case "text_delta":
			if t := d.text; t.Type == gjson.String && t.Str != "" {
				s.delta()
				s.buf = append(s.buf, `"content":`...)
				s.buf = append(s.buf, t.Raw...)
				s.end("")
			}
		case "input_json_delta":
			p := d.partialJSON
			if p.Type != gjson.String || p.Str == "" {
				return nil
			}
			if s.info.jsonMode && int(idx) == s.jsonBlock {
				s.delta()
				s.buf = append(s.buf, `"content":`...)
				s.buf = append(s.buf, p.Raw...)
				s.end("")
				return nil
			}
			if idx < 0 || idx >= int64(len(s.blockTool)) || s.blockTool[idx] < 0 {
				return nil // a server tool's input (web search): not a call for the client
			}
			s.delta()
			s.buf = append(s.buf, `"tool_calls":[{"index":`...)
			s.buf = appendInt(s.buf, int64(s.blockTool[idx]))
			s.buf = append(s.buf, `,"function":{"arguments":`...)
			s.buf = append(s.buf, p.Raw...)
			s.buf = append(s.buf, "}}]"...)
			s.end("")
		case "thinking_delta":
			if t := d.thinking; t.Type == gjson.String && t.Str != "" {
				s.thinking(t)
			}
		case "signature_delta":
			if sig := d.signature; sig.Type == gjson.String {
				s.delta()
				s.buf = append(s.buf, `"thinking_blocks":[{"type":"thinking","thinking":"","signature":`...)
				s.buf = append(s.buf, sig.Raw...)
				s.buf = append(s.buf, "}]"...)
				s.end("")
			}
		}
	case "message_delta":
		s.u.read(ev.usage)
		if stop := ev.delta.Get("stop_reason"); stop.Type == gjson.String && !s.done {
			s.done = true
			finish := finishReason(stop.Str)
			if s.info.jsonMode && s.jsonBlock >= 0 && s.nTools == 0 && finish == "tool_calls" {
				finish = "stop"
			}
			s.delta()
			s.end(finish)
			if s.info.includeUsage {
				s.buf = append(s.buf, s.head...)
				s.buf = append(s.buf, `[],"usage":`...)
				s.buf = appendUsage(s.buf, s.u)
				s.buf = append(s.buf, '}')
				s.ends = append(s.ends, len(s.buf))
			}
		}
	case "error":
		return s.streamError(ev.err)
	}
	// ping, content_block_stop, message_stop and event types added later
	// carry nothing for a chat client.
	return nil
}

// event is the top level of an Anthropic event, read in one pass.
type event struct {
	typ, index, message, block, delta, usage, err gjson.Result
}

func (e *event) read(v gjson.Result) {
	v.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			e.typ = v
		case "index":
			e.index = v
		case "message":
			e.message = v
		case "content_block":
			e.block = v
		case "delta":
			e.delta = v
		case "usage":
			e.usage = v
		case "error":
			e.err = v
		}
		return true
	})
}

// delta is a content_block_delta's delta, read in one pass.
type delta struct {
	typ, text, partialJSON, thinking, signature gjson.Result
}

func (d *delta) read(v gjson.Result) {
	v.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			d.typ = v
		case "text":
			d.text = v
		case "partial_json":
			d.partialJSON = v
		case "thinking":
			d.thinking = v
		case "signature":
			d.signature = v
		}
		return true
	})
}

func (s *streamState) thinking(t gjson.Result) {
	s.delta()
	s.buf = append(s.buf, `"reasoning_content":`...)
	s.buf = append(s.buf, t.Raw...)
	s.buf = append(s.buf, `,"thinking_blocks":[{"type":"thinking","thinking":`...)
	s.buf = append(s.buf, t.Raw...)
	s.buf = append(s.buf, "}]"...)
	s.end("")
}

func (s *streamState) protocol(what string) error {
	return &wire.Error{Status: 502, Type: wire.TypeUpstream,
		Message:  "the upstream of model " + strconv.Quote(s.name) + " sent a stream the gateway cannot translate; the stream was ended",
		Internal: "anthropic stream: " + what}
}

// streamError is the error of an Anthropic error event.
func (s *streamState) streamError(e gjson.Result) error {
	typ := e.Get("type").Str
	msg := e.Get("message").Str
	status := statusOf(typ)
	if msg == "" {
		msg = "no message"
	}
	return &wire.Error{Status: status, Type: openAIType(status),
		Message: "the upstream of model " + strconv.Quote(s.name) + " failed mid-stream: " + typ + ": " + truncate(msg, 2048)}
}

// statusOf is the HTTP status of an Anthropic error type.
func statusOf(typ string) int {
	switch typ {
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "billing_error":
		return 402
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "request_too_large":
		return 413
	case "rate_limit_error":
		return 429
	case "api_error":
		return 500
	case "timeout_error":
		return 504
	case "overloaded_error":
		return 529
	default:
		return 502
	}
}

// openAIType is the OpenAI error type for a status.
func openAIType(status int) string {
	switch status {
	case 400, 413, 422:
		return wire.TypeInvalidRequest
	case 401:
		return wire.TypeAuth
	case 402, 403:
		return wire.TypePermission
	case 404:
		return wire.TypeNotFound
	case 429:
		return wire.TypeRateLimit
	case 408, 504:
		return wire.TypeTimeout
	default:
		return wire.TypeUpstream
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// chatStream is the provider's translated Stream over the upstream's.
type chatStream struct {
	up  providers.Stream
	st  *streamState
	err error // sticky: the end (io.EOF) or the failure
}

func newChatStream(up providers.Stream, info reqInfo, name string) *chatStream {
	return &chatStream{up: up, st: newStreamState(info, name, time.Now().Unix())}
}

// Next returns the next chunk; io.EOF after the message is complete.
func (c *chatStream) Next() ([]byte, error) {
	for {
		if chunk, ok := c.st.pop(); ok {
			return chunk, nil
		}
		if c.err != nil {
			return nil, c.err
		}
		c.st.reset()
		data, err := c.up.Next()
		if err != nil {
			if errors.Is(err, io.EOF) && !c.st.done {
				err = &wire.Error{Status: 502, Type: wire.TypeUpstream,
					Message:  "the upstream of model " + strconv.Quote(c.st.name) + " ended its stream before the message was complete",
					Internal: "anthropic stream: end of body without a message_delta stop_reason"}
			}
			c.err = err
			continue
		}
		if err := c.st.event(data); err != nil {
			c.err = err
		}
	}
}

// Ready: a queued chunk, the end, or whatever the upstream stream has.
func (c *chatStream) Ready() bool {
	return c.st.next < len(c.st.ends) || c.err != nil || c.up.Ready()
}

func (c *chatStream) Close() { c.up.Close() }
