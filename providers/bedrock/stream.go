package bedrock

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// streamState turns ConverseStream events into chat.completion.chunk
// payloads, queued in buf (ends marks where each one ends).
type streamState struct {
	info    reqInfo
	head    []byte // {"id":...,"object":...,"created":...,"model":...,
	buf     []byte
	ends    []int
	next    int
	tools   map[int64]int // contentBlockIndex -> tool call index
	jsonBlk int64         // the json tool's block (jsonMode), -1: none
	nTools  int
	stopped bool // messageStop seen
	usage   bool // the usage chunk was queued
}

func newStreamState(info reqInfo, id string, created int64) *streamState {
	s := &streamState{info: info, jsonBlk: -1}
	s.head = append(s.head, `{"id":`...)
	s.head = wire.AppendJSONString(s.head, id)
	s.head = append(s.head, `,"object":"chat.completion.chunk","created":`...)
	s.head = appendInt(s.head, created)
	s.head = append(s.head, `,"model":`...)
	s.head = wire.AppendJSONString(s.head, info.model)
	s.head = append(s.head, ',')
	return s
}

// pop returns the next queued chunk.
func (s *streamState) pop() ([]byte, bool) {
	if s.next >= len(s.ends) {
		s.buf, s.ends, s.next = s.buf[:0], s.ends[:0], 0
		return nil, false
	}
	start := 0
	if s.next > 0 {
		start = s.ends[s.next-1]
	}
	s.next++
	return s.buf[start:s.ends[s.next-1]], true
}

func (s *streamState) pending() bool { return s.next < len(s.ends) }

// chunk queues a chunk whose delta is delta (raw JSON object members).
func (s *streamState) chunk(delta []byte, finish string) {
	if s.next >= len(s.ends) && s.next > 0 {
		s.buf, s.ends, s.next = s.buf[:0], s.ends[:0], 0
	}
	s.buf = append(s.buf, s.head...)
	s.buf = append(s.buf, `"choices":[{"index":0,"delta":{`...)
	s.buf = append(s.buf, delta...)
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

// usageChunk queues the final usage chunk (no choices).
func (s *streamState) usageChunk(u usage) {
	if s.next >= len(s.ends) && s.next > 0 {
		s.buf, s.ends, s.next = s.buf[:0], s.ends[:0], 0
	}
	s.buf = append(s.buf, s.head...)
	s.buf = append(s.buf, `"choices":[],"usage":`...)
	s.buf = appendUsage(s.buf, u)
	s.buf = append(s.buf, '}')
	s.ends = append(s.ends, len(s.buf))
	s.usage = true
}

// event handles one event-stream message.
func (s *streamState) event(m *eventstream.Message) error {
	switch headerString(m, ":message-type") {
	case "event":
	case "exception":
		return exceptionError(headerString(m, ":exception-type"), m.Payload)
	case "error":
		return exceptionError(headerString(m, ":error-code"), []byte(`{"message":`+string(wire.AppendJSONString(nil, headerString(m, ":error-message")))+`}`))
	default:
		return nil
	}
	if !gjson.ValidBytes(m.Payload) {
		return errProtocol("an event that is not JSON")
	}
	p := gjson.ParseBytes(m.Payload)
	var d []byte
	switch headerString(m, ":event-type") {
	case "messageStart":
		s.chunk([]byte(`"role":"assistant","content":""`), "")
	case "contentBlockStart":
		tu := p.Get("start.toolUse")
		if !tu.IsObject() {
			return nil
		}
		idx := p.Get("contentBlockIndex").Int()
		name := tu.Get("name")
		if s.info.jsonMode && name.Str == jsonToolName {
			s.jsonBlk = idx
			return nil
		}
		if s.tools == nil {
			s.tools = map[int64]int{}
		}
		s.tools[idx] = s.nTools
		d = append(d, `"tool_calls":[{"index":`...)
		d = appendInt(d, int64(s.nTools))
		d = append(d, `,"id":`...)
		d = wire.AppendRawString(d, tu.Get("toolUseId"))
		d = append(d, `,"type":"function","function":{"name":`...)
		d = wire.AppendRawString(d, name)
		d = append(d, `,"arguments":""}}]`...)
		s.nTools++
		s.chunk(d, "")
	case "contentBlockDelta":
		idx := p.Get("contentBlockIndex").Int()
		p.Get("delta").ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "text":
				if v.Str != "" {
					d = append(d[:0], `"content":`...)
					d = wire.AppendRawString(d, v)
					s.chunk(d, "")
				}
			case "toolUse":
				in := v.Get("input")
				if in.Str == "" {
					return true
				}
				if idx == s.jsonBlk {
					d = append(d[:0], `"content":`...)
					d = wire.AppendRawString(d, in)
					s.chunk(d, "")
					return true
				}
				n, ok := s.tools[idx]
				if !ok {
					return true
				}
				d = append(d[:0], `"tool_calls":[{"index":`...)
				d = appendInt(d, int64(n))
				d = append(d, `,"function":{"arguments":`...)
				d = wire.AppendRawString(d, in)
				d = append(d, "}}]"...)
				s.chunk(d, "")
			case "reasoningContent":
				if t := v.Get("text"); t.Str != "" {
					d = append(d[:0], `"reasoning_content":`...)
					d = wire.AppendRawString(d, t)
					s.chunk(d, "")
				}
				// The signature ends a thinking block: a client that
				// gives the block back (thinking with tool use) needs it.
				if sig := v.Get("signature"); sig.Str != "" {
					d = append(d[:0], `"thinking_blocks":[{"type":"thinking","thinking":"","signature":`...)
					d = wire.AppendRawString(d, sig)
					d = append(d, "}]"...)
					s.chunk(d, "")
				}
				if rc := v.Get("redactedContent"); rc.Str != "" {
					d = append(d[:0], `"thinking_blocks":[{"type":"redacted_thinking","data":`...)
					d = wire.AppendRawString(d, rc)
					d = append(d, "}]"...)
					s.chunk(d, "")
				}
			}
			return true
		})
	case "messageStop":
		finish := finishReason(p.Get("stopReason").Str)
		if s.info.jsonMode && s.jsonBlk >= 0 && finish == "tool_calls" && s.nTools == 0 {
			finish = "stop"
		}
		s.stopped = true
		s.chunk(nil, finish)
	case "metadata":
		if s.info.includeUsage && !s.usage {
			var u usage
			u.read(p.Get("usage"))
			s.usageChunk(u)
		}
	}
	return nil
}

func headerString(m *eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		if s, ok := v.(eventstream.StringValue); ok {
			return string(s)
		}
		return v.String()
	}
	return ""
}

// errProtocol is a stream that broke Bedrock's protocol.
type errProtocol string

func (e errProtocol) Error() string { return "the upstream sent " + string(e) }

// chatStream is a providers.Stream of chat.completion.chunk payloads
// over a ConverseStream body (AWS event-stream framing).
type chatStream struct {
	r       *bufio.Reader
	dec     *eventstream.Decoder
	payload []byte
	st      *streamState
	release func()
	mapErr  func(error) error // a read error (timeout, reset) to a *wire.Error
	name    string            // the deployment's public name
	onFail  func()            // called when the stream fails (metrics)
	err     error
	ended   atomic.Bool // the body was read to its end (io.EOF)
	once    sync.Once
}

func newChatStream(body io.Reader, release func(), mapErr func(error) error, info reqInfo, name string) *chatStream {
	return &chatStream{
		r:       bufio.NewReaderSize(body, 32<<10),
		dec:     eventstream.NewDecoder(),
		payload: make([]byte, 0, 4<<10),
		st:      newStreamState(info, newID(), time.Now().Unix()),
		release: release,
		mapErr:  mapErr,
		name:    name,
	}
}

// Next returns the next chunk; io.EOF after the last one.
func (c *chatStream) Next() ([]byte, error) {
	for {
		if b, ok := c.st.pop(); ok {
			return b, nil
		}
		if c.err != nil {
			return nil, c.err
		}
		m, err := c.dec.Decode(c.r, c.payload[:0])
		if err != nil {
			c.err = c.fail(err)
			continue
		}
		if cap(m.Payload) > cap(c.payload) {
			c.payload = m.Payload[:0]
		}
		if err := c.st.event(&m); err != nil {
			c.err = c.fail(err)
		}
	}
}

// fail maps the error that ended the stream.
func (c *chatStream) fail(err error) error {
	if errors.Is(err, io.EOF) && c.st.stopped {
		c.ended.Store(true)
		if c.st.info.includeUsage && !c.st.usage { // no metadata event
			c.st.usageChunk(usage{})
		}
		return io.EOF
	}
	if c.onFail != nil {
		c.onFail()
	}
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	var pe errProtocol
	switch {
	case errors.As(err, &pe):
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + strconv.Quote(c.name) + " " + pe.Error()[len("the upstream "):] + "; the stream was ended"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + strconv.Quote(c.name) + " ended the stream before its last event"}
	case isFramingError(err):
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + strconv.Quote(c.name) + " sent a malformed event-stream frame; the stream was ended",
			Internal: "bedrock: " + err.Error()}
	}
	if c.mapErr != nil {
		return c.mapErr(err)
	}
	return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + strconv.Quote(c.name) + " failed mid-stream"}
}

func isFramingError(err error) bool {
	var le eventstream.LengthError
	var ce eventstream.ChecksumError
	return errors.As(err, &le) || errors.As(err, &ce)
}

// Ready reports whether Next would return without waiting: a chunk is
// queued, the stream has ended, or a whole frame is already buffered.
func (c *chatStream) Ready() bool {
	if c.st.pending() || c.err != nil {
		return true
	}
	n := c.r.Buffered()
	if n < 4 {
		return false
	}
	b, err := c.r.Peek(4)
	return err == nil && int(binary.BigEndian.Uint32(b)) <= n
}

// Close releases the upstream connection (aborting an unfinished body);
// safe to call more than once and while Next waits.
func (c *chatStream) Close() {
	c.once.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
}

// exceptionError is the *wire.Error of an exception Bedrock reports (in
// a stream frame, or as x-amzn-errortype), keeping its status.
func exceptionError(typ string, payload []byte) *wire.Error {
	msg := gjson.GetBytes(payload, "message").Str
	if msg == "" {
		msg = gjson.GetBytes(payload, "Message").Str
	}
	status := exceptionStatus(typ)
	if msg == "" {
		msg = "Bedrock reported " + typ
	} else if typ != "" {
		msg = typ + ": " + msg
	}
	return &wire.Error{Status: status, Type: typeFor(status), Message: truncate(msg, 2048)}
}

// exceptionStatus is the HTTP status of a Bedrock exception type (as in
// the Bedrock runtime API reference), in either letter case of its
// first letter.
func exceptionStatus(typ string) int {
	if typ != "" && typ[0] >= 'a' && typ[0] <= 'z' {
		typ = string(typ[0]-'a'+'A') + typ[1:]
	}
	switch typ {
	case "ThrottlingException", "TooManyRequestsException":
		return 429
	case "ValidationException":
		return 400
	case "AccessDeniedException":
		return 403
	case "ResourceNotFoundException":
		return 404
	case "ModelTimeoutException":
		return 408
	case "ModelNotReadyException":
		return 429
	case "ModelErrorException":
		return 424
	case "ModelStreamErrorException":
		return 424
	case "ServiceQuotaExceededException":
		return 400
	case "ServiceUnavailableException":
		return 503
	case "InternalServerException":
		return 500
	case "ConflictException":
		return 409
	default:
		return 502
	}
}

// typeFor is the OpenAI error type for a status.
func typeFor(status int) string {
	switch status {
	case 400, 413, 422:
		return wire.TypeInvalidRequest
	case 401:
		return wire.TypeAuth
	case 403:
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

// truncate cuts s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
