package gemini

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// streamState translates streamGenerateContent events (each a
// GenerateContentResponse) into chat.completion.chunk payloads, queued
// until Next hands them out.
type streamState struct {
	info    reqInfo
	name    string // the deployment's public name, for messages
	created int64
	id      string

	head     []byte // `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":`
	started  bool
	finished map[int64]bool // candidates that sent their finishReason
	nTools   map[int64]int  // tool calls so far, per candidate
	done     bool           // every candidate seen has finished
	u        usage

	buf  []byte
	ends []int
	next int
}

func newStreamState(info reqInfo, name string, created int64) *streamState {
	return &streamState{info: info, name: name, created: created}
}

func (s *streamState) setHead(model gjson.Result) {
	s.head = append(s.head[:0], `{"id":`...)
	s.head = wire.AppendJSONString(s.head, s.id)
	s.head = append(s.head, `,"object":"chat.completion.chunk","created":`...)
	s.head = appendInt(s.head, s.created)
	s.head = append(s.head, `,"model":`...)
	if model.Str != "" {
		s.head = wire.AppendRawString(s.head, model)
	} else {
		s.head = wire.AppendJSONString(s.head, s.info.model)
	}
	s.head = append(s.head, `,"choices":`...)
}

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

func (s *streamState) reset() { s.buf, s.ends, s.next = s.buf[:0], s.ends[:0], 0 }

func (s *streamState) delta(index int64) {
	s.buf = append(s.buf, s.head...)
	s.buf = append(s.buf, `[{"index":`...)
	s.buf = appendInt(s.buf, index)
	s.buf = append(s.buf, `,"delta":{`...)
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

// event translates one event's data, queueing zero or more chunks.
func (s *streamState) event(data []byte) error {
	root := gjson.Parse(wire.View(data))
	var cands, feedback, usageV, modelV, idV, errV gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "candidates":
			cands = v
		case "promptFeedback":
			feedback = v
		case "usageMetadata":
			usageV = v
		case "modelVersion":
			modelV = v
		case "responseId":
			idV = v
		case "error":
			errV = v
		}
		return true
	})
	if errV.Exists() {
		return s.streamError(errV)
	}
	s.u.read(usageV)
	if !s.started {
		s.started = true
		if idV.Str != "" {
			s.id = "chatcmpl-" + idV.Str
		} else {
			s.id = newID("chatcmpl-")
		}
		s.setHead(modelV)
		s.finished = make(map[int64]bool, 1)
		s.nTools = make(map[int64]int, 1)
		s.delta(0)
		s.buf = append(s.buf, `"role":"assistant","content":""`...)
		s.end("")
	}
	nCands := 0
	cands.ForEach(func(k, cv gjson.Result) bool {
		nCands++
		var idxV, parts, fr gjson.Result
		cv.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "index":
				idxV = v
			case "content":
				parts = v.Get("parts")
			case "finishReason":
				fr = v
			}
			return true
		})
		idx := k.Int()
		if idxV.Type == gjson.Number {
			idx = idxV.Int()
		}
		if s.finished[idx] {
			return true
		}
		if _, ok := s.nTools[idx]; !ok {
			s.nTools[idx] = 0 // seen
		}
		parts.ForEach(func(_, p gjson.Result) bool {
			s.part(idx, p)
			return true
		})
		if fr.Str != "" {
			finish := finishReason(fr.Str)
			if s.nTools[idx] > 0 && finish == "stop" {
				finish = "tool_calls"
			}
			s.finished[idx] = true
			s.delta(idx)
			s.end(finish)
		}
		return true
	})
	if nCands == 0 && feedback.Get("blockReason").Str != "" && len(s.finished) == 0 {
		// The prompt was blocked: no candidate will come.
		s.finished[0] = true
		s.delta(0)
		s.end("content_filter")
	}
	s.done = len(s.finished) > 0
	for idx := range s.nTools {
		if !s.finished[idx] {
			s.done = false
		}
	}
	return nil
}

// part queues the chunk of one part of candidate idx.
func (s *streamState) part(idx int64, p gjson.Result) {
	var text, fc, sig gjson.Result
	thought := false
	p.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "text":
			text = v
		case "thought":
			thought = v.Type == gjson.True
		case "functionCall":
			fc = v
		case "thoughtSignature":
			sig = v
		}
		return true
	})
	switch {
	case fc.IsObject():
		n := s.nTools[idx]
		s.nTools[idx] = n + 1
		s.delta(idx)
		s.buf = append(s.buf, `"tool_calls":[`...)
		s.buf = appendToolCall(s.buf, fc, sig, n)
		s.buf = append(s.buf, ']')
		s.end("")
	case text.Type == gjson.String && text.Str != "":
		s.delta(idx)
		if thought {
			s.buf = append(s.buf, `"reasoning_content":`...)
		} else {
			s.buf = append(s.buf, `"content":`...)
		}
		s.buf = wire.AppendRawString(s.buf, text)
		s.end("")
	}
}

// finish queues the usage chunk at the end of the stream, when asked.
func (s *streamState) finish() {
	if s.info.includeUsage {
		s.buf = append(s.buf, s.head...)
		s.buf = append(s.buf, `[],"usage":`...)
		s.buf = appendUsage(s.buf, s.u)
		s.buf = append(s.buf, '}')
		s.ends = append(s.ends, len(s.buf))
	}
}

// streamError is the error of an error event mid-stream.
func (s *streamState) streamError(e gjson.Result) error {
	status := int(e.Get("code").Int())
	if status < 400 || status > 599 {
		status = statusOf(e.Get("status").Str)
	}
	msg := e.Get("message").Str
	if msg == "" {
		msg = "no message"
	}
	if st := e.Get("status").Str; st != "" {
		msg = st + ": " + msg
	}
	return &wire.Error{Status: status, Type: openAIType(status),
		Message: "the upstream of model " + strconv.Quote(s.name) + " failed mid-stream: " + truncate(msg, 2048)}
}

// statusOf is the HTTP status of a google.rpc.Code name.
func statusOf(code string) int {
	switch code {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return 400
	case "UNAUTHENTICATED":
		return 401
	case "PERMISSION_DENIED":
		return 403
	case "NOT_FOUND":
		return 404
	case "ABORTED", "ALREADY_EXISTS":
		return 409
	case "RESOURCE_EXHAUSTED":
		return 429
	case "CANCELLED":
		return 499
	case "UNIMPLEMENTED":
		return 501
	case "UNAVAILABLE":
		return 503
	case "DEADLINE_EXCEEDED":
		return 504
	case "INTERNAL", "UNKNOWN", "DATA_LOSS":
		return 500
	default:
		return 502
	}
}

// openAIType is the OpenAI error type for a status.
func openAIType(status int) string {
	switch status {
	case 400, 409, 413, 422:
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

// chatStream is the provider's translated Stream over the upstream's.
type chatStream struct {
	up  providers.Stream
	st  *streamState
	err error // sticky: the end (io.EOF) or the failure
}

func newChatStream(up providers.Stream, info reqInfo, name string) *chatStream {
	return &chatStream{up: up, st: newStreamState(info, name, time.Now().Unix())}
}

// Next returns the next chunk; io.EOF once every candidate finished and
// the upstream's body ended.
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
			if errors.Is(err, io.EOF) {
				if !c.st.done {
					err = &wire.Error{Status: 502, Type: wire.TypeUpstream,
						Message:  "the upstream of model " + strconv.Quote(c.st.name) + " ended its stream before the answer was complete",
						Internal: "gemini stream: end of body without a finishReason"}
				} else {
					c.st.finish()
				}
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
