package wire

import "github.com/tidwall/gjson"

// Completion is what the gateway reads of a unary chat completion answer.
type Completion struct {
	// Usage is the top-level "usage" value (Exists() false when absent).
	// Its Raw points into the body.
	Usage gjson.Result
	// ModelAt is where the top-level "model" string value is (zero: none),
	// for SetModelAt.
	ModelAt Span
}

// ParseCompletion checks, in one pass over its top-level fields, that body
// is a chat completion as far as the gateway relies on it: one valid JSON
// object with a "choices" array. why is empty for one; otherwise it says
// what body is instead ("a body that is not JSON", ...), for a message
// "the upstream answered 200 with <why>". The full schema is the
// client's SDK's to check; this is what tells an answer from an HTML page,
// a truncated body or an error object sent with status 200.
func ParseCompletion(body []byte) (c Completion, why string) {
	if !gjson.ValidBytes(body) {
		if len(body) == 0 {
			return c, "an empty body"
		}
		return c, "a body that is not JSON"
	}
	r := gjson.Parse(View(body))
	if !r.IsObject() {
		return c, "a JSON body that is not an object"
	}
	choices, errObj := false, false
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "choices":
			choices = v.IsArray()
		case "usage":
			c.Usage = v
		case "model":
			if v.Type == gjson.String {
				c.ModelAt = Span{Off: v.Index, Len: len(v.Raw)}
			}
		case "error":
			errObj = true
		}
		return true
	})
	switch {
	case choices:
		return c, ""
	case errObj:
		return c, "an error object instead of a chat completion"
	default:
		return c, "a JSON object without a \"choices\" array, which is not a chat completion"
	}
}
