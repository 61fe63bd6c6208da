package bridge

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// Echo is what a Responses object repeats of the request that made it:
// built once per request by EchoOf, used by ResponseFromChat and
// StreamFromChat.
type Echo struct {
	model string
	// namespaces are the request's tool namespaces, "<name>__": a chat
	// tool call named with one is a call in that namespace.
	namespaces []string
	// fields: the members after "model" up to "output" (exclusive), with
	// a leading comma.
	fields []byte
}

// EchoOf reads the fields a Responses object echoes from the client's
// request body; model is the model name the client asked for.
func EchoOf(req []byte, model string) *Echo {
	var instructions, maxOut, metadata, parallel, reasoning, temperature, text, toolChoice, tools, topP, user gjson.Result
	gjson.ParseBytes(req).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "instructions":
			instructions = v
		case "max_output_tokens":
			maxOut = v
		case "metadata":
			metadata = v
		case "parallel_tool_calls":
			parallel = v
		case "reasoning":
			reasoning = v
		case "temperature":
			temperature = v
		case "text":
			text = v
		case "tool_choice":
			toolChoice = v
		case "tools":
			tools = v
		case "top_p":
			topP = v
		case "user":
			user = v
		}
		return true
	})
	get := func(k string) gjson.Result {
		switch k {
		case "instructions":
			return instructions
		case "max_output_tokens":
			return maxOut
		case "metadata":
			return metadata
		case "parallel_tool_calls":
			return parallel
		case "reasoning":
			return reasoning
		case "temperature":
			return temperature
		case "text.format":
			return text.Get("format")
		case "tool_choice":
			return toolChoice
		case "tools":
			return tools
		case "top_p":
			return topP
		}
		return user
	}
	b := make([]byte, 0, 256)
	b = append(b, `,"instructions":`...)
	if v := get("instructions"); v.Type == gjson.String {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `,"max_output_tokens":`...)
	if v := get("max_output_tokens"); v.Type == gjson.Number {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `,"metadata":`...)
	if v := get("metadata"); v.IsObject() {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `{}`...)
	}
	b = append(b, `,"parallel_tool_calls":`...)
	if v := get("parallel_tool_calls"); v.IsBool() {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `true`...)
	}
	b = append(b, `,"previous_response_id":null,"reasoning":{"effort":`...)
	r := get("reasoning")
	if v := r.Get("effort"); v.Type == gjson.String {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `,"summary":`...)
	if v := r.Get("summary"); v.Type == gjson.String {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `},"service_tier":"default","store":false,"temperature":`...)
	b = appendNum(b, get("temperature"), "1")
	b = append(b, `,"text":{"format":`...)
	if v := get("text.format"); v.IsObject() {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `{"type":"text"}`...)
	}
	b = append(b, `},"tool_choice":`...)
	if v := get("tool_choice"); v.Type == gjson.String || v.IsObject() {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `"auto"`...)
	}
	b = append(b, `,"tools":`...)
	var namespaces []string
	if v := get("tools"); v.IsArray() {
		b = append(b, v.Raw...)
		v.ForEach(func(_, t gjson.Result) bool {
			if t.Get("type").Str == "namespace" {
				if ns := t.Get("name"); nonEmpty(ns) {
					namespaces = append(namespaces, string(wire.AppendRawStringBody(nil, ns))+nsSep)
				}
			}
			return true
		})
	} else {
		b = append(b, `[]`...)
	}
	b = append(b, `,"top_p":`...)
	b = appendNum(b, get("top_p"), "1")
	b = append(b, `,"truncation":"disabled","user":`...)
	if v := get("user"); v.Type == gjson.String {
		b = append(b, v.Raw...)
	} else {
		b = append(b, `null`...)
	}
	return &Echo{model: model, fields: b, namespaces: namespaces}
}

func appendNum(b []byte, v gjson.Result, def string) []byte {
	if v.Type == gjson.Number {
		return append(b, v.Raw...)
	}
	return append(b, def...)
}

// usage is a chat answer's usage in the Responses API's terms.
type usage struct {
	in, out, cached, reasoning int64
}

// readUsage reads a chat usage object: input_tokens counts the cached
// tokens, as prompt_tokens does.
func readUsage(u gjson.Result) usage {
	r := usage{in: u.Get("prompt_tokens").Int(), out: u.Get("completion_tokens").Int()}
	if c := u.Get("prompt_tokens_details.cached_tokens"); c.Exists() {
		r.cached = c.Int()
	} else {
		r.cached = u.Get("cache_read_input_tokens").Int()
	}
	r.reasoning = u.Get("completion_tokens_details.reasoning_tokens").Int()
	return r
}

func (u usage) append(b []byte) []byte {
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, u.in)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.cached)
	b = append(b, `},"output_tokens":`...)
	b = appendInt(b, u.out)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, u.reasoning)
	b = append(b, `},"total_tokens":`...)
	b = appendInt(b, u.in+u.out)
	return append(b, '}')
}

// appendResponse writes a Responses object. incomplete is "" or the
// incomplete_details reason; errJSON is "" or the error object; output is
// the items, comma-separated; usageJSON "" is null.
func (e *Echo) appendResponse(b []byte, id string, created int64, status, incomplete, errJSON string, output, usageJSON []byte) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","object":"response","created_at":`...)
	b = appendInt(b, created)
	b = append(b, `,"status":"`...)
	b = append(b, status...)
	b = append(b, `","background":false,"error":`...)
	if errJSON == "" {
		b = append(b, `null`...)
	} else {
		b = append(b, errJSON...)
	}
	b = append(b, `,"incomplete_details":`...)
	if incomplete == "" {
		b = append(b, `null`...)
	} else {
		b = append(b, `{"reason":"`...)
		b = append(b, incomplete...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"model":`...)
	b = wire.AppendJSONString(b, e.model)
	b = append(b, `,"output":[`...)
	b = append(b, output...)
	b = append(b, ']')
	b = append(b, e.fields...)
	b = append(b, `,"usage":`...)
	if usageJSON == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, usageJSON...)
	}
	return append(b, '}')
}

// statusOf maps a chat finish_reason to a status and incomplete reason.
func statusOf(finish string) (status, incomplete string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}

// newSuffix is a random id suffix, for a chat answer without an id.
func newSuffix() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// appendMessageItem writes an assistant message item with one output_text
// (or refusal) part; text is a JSON string's inside.
func appendMessageItem(b []byte, id, status string, text []byte, refusal bool) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","type":"message","status":"`...)
	b = append(b, status...)
	b = append(b, `","content":[`...)
	if text != nil {
		b = appendTextPart(b, text, refusal)
	}
	return append(b, `],"role":"assistant"}`...)
}

func appendTextPart(b []byte, text []byte, refusal bool) []byte {
	if refusal {
		b = append(b, `{"type":"refusal","refusal":"`...)
		b = append(b, text...)
		return append(b, `"}`...)
	}
	b = append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":"`...)
	b = append(b, text...)
	return append(b, `"}`...)
}

// appendReasoningItem writes a reasoning item whose summary is text (a
// JSON string's inside; nil: no summary part yet).
func appendReasoningItem(b []byte, id string, text []byte) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","type":"reasoning","summary":[`...)
	if text != nil {
		b = append(b, `{"type":"summary_text","text":"`...)
		b = append(b, text...)
		b = append(b, `"}`...)
	}
	return append(b, `]}`...)
}

// appendCallItem writes a function_call item; name and args are JSON
// strings' insides. A name in one of the request's namespaces is split
// into the namespace and the function's name.
func (e *Echo) appendCallItem(b []byte, id, status, callID string, name, args []byte) []byte {
	var ns []byte
	for _, p := range e.namespaces {
		if len(name) > len(p) && string(name[:len(p)]) == p {
			ns, name = name[:len(p)-len(nsSep)], name[len(p):]
			break
		}
	}
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","type":"function_call","status":"`...)
	b = append(b, status...)
	b = append(b, `","arguments":"`...)
	b = append(b, args...)
	b = append(b, `","call_id":`...)
	b = wire.AppendJSONString(b, callID)
	b = append(b, `,"name":"`...)
	b = append(b, name...)
	if ns != nil {
		b = append(b, `","namespace":"`...)
		b = append(b, ns...)
	}
	return append(b, `"}`...)
}

// fcID is the item id of a function call with call id callID.
func fcID(callID string) string {
	s := callID
	if len(s) > 5 && s[:5] == "call_" {
		s = s[5:]
	}
	return "fc_" + idSuffix(s)
}

// ResponseFromChat translates a chat.completion into a Responses object
// for the request echo describes. Its id is "resp_" + the chat id (without
// "chatcmpl-"); the gateway seals it into the id the client sees.
func ResponseFromChat(chat []byte, echo *Echo) ([]byte, *wire.Error) {
	root := gjson.ParseBytes(chat)
	if !root.IsObject() {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream's answer is not a chat completion (model " + echo.model + ")"}
	}
	sfx := idSuffix(root.Get("id").Str)
	if sfx == "" {
		sfx = newSuffix()
	}
	created := root.Get("created").Int()
	if created <= 0 {
		created = time.Now().Unix()
	}
	choice := root.Get("choices.0")
	msg := choice.Get("message")
	out := make([]byte, 0, len(chat)+512)
	var items []byte
	reasoning := msg.Get("reasoning_content")
	if !nonEmpty(reasoning) {
		reasoning = msg.Get("reasoning")
	}
	if nonEmpty(reasoning) {
		items = appendReasoningItem(items, "rs_"+sfx, wire.AppendRawStringBody(nil, reasoning))
	}
	finish := choice.Get("finish_reason").Str
	status, incomplete := statusOf(finish)
	itemStatus := "completed"
	if incomplete != "" {
		itemStatus = "incomplete"
	}
	content, refusal := msg.Get("content"), false
	if !nonEmpty(content) {
		if r := msg.Get("refusal"); nonEmpty(r) {
			content, refusal = r, true
		}
	}
	if nonEmpty(content) {
		if len(items) > 0 {
			items = append(items, ',')
		}
		items = appendMessageItem(items, "msg_"+sfx, itemStatus, wire.AppendRawStringBody(nil, content), refusal)
	}
	k := 0
	msg.Get("tool_calls").ForEach(func(_, c gjson.Result) bool {
		fn := c.Get("function")
		name := fn.Get("name")
		if !nonEmpty(name) {
			return true
		}
		callID := c.Get("id").Str
		if callID == "" {
			callID = "call_" + sfx + "_" + strconv.Itoa(k)
		}
		k++
		if len(items) > 0 {
			items = append(items, ',')
		}
		args := fn.Get("arguments")
		var a []byte
		if args.Type == gjson.String {
			a = wire.AppendRawStringBody(nil, args)
		} else if args.Exists() && args.Type != gjson.Null {
			a = wire.AppendJSONStringBody(nil, args.Raw) // an object, from a lax upstream
		} else {
			a = []byte("{}")
		}
		items = echo.appendCallItem(items, fcID(callID), itemStatus, callID, wire.AppendRawStringBody(nil, name), a)
		return true
	})
	u := readUsage(root.Get("usage")).append(nil)
	out = echo.appendResponse(out, "resp_"+sfx, created, status, incomplete, "", items, u)
	return out, nil
}
