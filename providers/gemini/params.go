package gemini

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// appendTools appends "tools": OpenAI function tools (and the legacy
// functions) as one Tool of functionDeclarations, web_search as
// googleSearch.
func appendTools(out []byte, tools, functions gjson.Result) ([]byte, *wire.Error) {
	if !tools.IsArray() && !functions.IsArray() {
		return out, nil
	}
	decls := make([]byte, 0, len(tools.Raw)+len(functions.Raw))
	n := 0
	search := false
	var werr *wire.Error
	add := func(fn gjson.Result, param string) {
		var name, desc, params gjson.Result
		fn.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "name":
				name = v
			case "description":
				desc = v
			case "parameters":
				params = v
			}
			return true
		})
		if name.Type != gjson.String || name.Str == "" {
			werr = invalid(param+".name", "%s.name is required", param)
			return
		}
		if n > 0 {
			decls = append(decls, ',')
		}
		n++
		decls = append(decls, `{"name":`...)
		decls = wire.AppendRawString(decls, name)
		if desc.Type == gjson.String && desc.Str != "" {
			decls = append(decls, `,"description":`...)
			decls = wire.AppendRawString(decls, desc)
		}
		if params.IsObject() && hasProperties(params) {
			decls = append(decls, `,"parameters":`...)
			decls = appendSchema(decls, params, params, 0)
		}
		decls = append(decls, '}')
	}
	tools.ForEach(func(k, t gjson.Result) bool {
		param := "tools[" + k.String() + "]"
		var typ, fn gjson.Result
		t.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "type":
				typ = v
			case "function":
				fn = v
			}
			return true
		})
		switch typ.Str {
		case "function", "":
			if !fn.IsObject() {
				werr = invalid(param+".function", "%s.function is required", param)
				return false
			}
			add(fn, param+".function")
		case "web_search", "web_search_preview":
			search = true
		default:
			werr = invalid(param+".type", "%s.type %q is not supported by Gemini models (function, web_search)", param, truncate(typ.Str, 50))
		}
		return werr == nil
	})
	if werr != nil {
		return out, werr
	}
	functions.ForEach(func(k, fn gjson.Result) bool {
		add(fn, "functions["+k.String()+"]")
		return werr == nil
	})
	if werr != nil {
		return out, werr
	}
	if n == 0 && !search {
		return out, nil
	}
	out = append(out, `,"tools":[`...)
	if n > 0 {
		out = append(out, `{"functionDeclarations":[`...)
		out = append(out, decls...)
		out = append(out, "]}"...)
	}
	if search {
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"googleSearch":{}}`...)
	}
	return append(out, ']'), nil
}

// hasProperties: an object schema with at least one property, or a
// schema of another kind. Gemini refuses an OBJECT schema whose
// properties are empty, so a function without parameters declares none.
func hasProperties(s gjson.Result) bool {
	ok := false
	s.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			if v.Type == gjson.String && v.Str != "object" {
				ok = true
			}
		case "properties":
			ok = ok || nonEmptyObject(v)
		case "anyOf", "oneOf", "$ref":
			ok = true
		}
		return !ok
	})
	return ok
}

// nonEmptyObject reports whether v is an object with a member.
func nonEmptyObject(v gjson.Result) bool {
	if !v.IsObject() {
		return false
	}
	found := false
	v.ForEach(func(_, _ gjson.Result) bool {
		found = true
		return false
	})
	return found
}

// nonEmptyArray reports whether v is an array with an element.
func nonEmptyArray(v gjson.Result) bool {
	if !v.IsArray() {
		return false
	}
	found := false
	v.ForEach(func(_, _ gjson.Result) bool {
		found = true
		return false
	})
	return found
}

// maxSchemaDepth bounds the nesting (and $ref expansion) of a schema.
const maxSchemaDepth = 32

// appendSchema appends JSON schema s reduced to the OpenAPI subset Gemini's
// Schema accepts (as LiteLLM's _build_vertex_schema does): $ref to $defs /
// definitions inlined, a type list with "null" as nullable, oneOf as
// anyOf, const as a one-value enum, formats Gemini knows; $schema,
// additionalProperties, strict and every other keyword dropped. root is
// the whole schema, for $ref.
func appendSchema(dst []byte, s, root gjson.Result, depth int) []byte {
	if depth > maxSchemaDepth || !s.IsObject() {
		return append(dst, `{"type":"object"}`...)
	}
	var typ string
	nullable, hasEnum := false, false
	var props, ref gjson.Result
	s.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "$ref":
			ref = v
		case "type":
			switch {
			case v.Type == gjson.String:
				if v.Str == "null" {
					nullable = true
				} else {
					typ = v.Str
				}
			case v.IsArray():
				v.ForEach(func(_, t gjson.Result) bool {
					if t.Str == "null" {
						nullable = true
					} else if typ == "" {
						typ = t.Str
					}
					return true
				})
			}
		case "nullable":
			if v.Type == gjson.True {
				nullable = true
			}
		case "properties":
			props = v
		case "enum":
			hasEnum = v.IsArray()
		case "const":
			hasEnum = hasEnum || v.Type == gjson.String
		case "anyOf", "oneOf":
			v.ForEach(func(_, sub gjson.Result) bool {
				if sub.Get("type").Str == "null" {
					nullable = true
				}
				return true
			})
		}
		return true
	})
	if ref.Type == gjson.String {
		if target, ok := resolveRef(root, ref.Str); ok && depth < maxSchemaDepth {
			return appendSchema(dst, target, root, depth+1)
		}
		return append(dst, `{"type":"object"}`...)
	}
	dst = append(dst, '{')
	n := 0
	key := func(k string) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, `":`...)
	}
	hasProps := nonEmptyObject(props)
	switch {
	case typ == "object" && !hasProps:
		// A free-form object (a map): Gemini refuses an OBJECT without
		// properties, so the schema says nothing of its type.
	case typ != "":
		key("type")
		dst = wire.AppendJSONString(dst, typ)
	case hasEnum:
		key("type") // Gemini takes enums on strings only
		dst = append(dst, `"string"`...)
	}
	if nullable {
		key("nullable")
		dst = append(dst, "true"...)
	}
	s.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "description", "title", "pattern":
			if v.Type == gjson.String {
				key(k.Str)
				dst = wire.AppendRawString(dst, v)
			}
		case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minimum", "maximum":
			if v.Type == gjson.Number {
				key(k.Str)
				dst = append(dst, v.Raw...)
			}
		case "format":
			switch v.Str {
			case "enum", "date-time", "int32", "int64", "float", "double":
				key("format")
				dst = wire.AppendRawString(dst, v)
			}
		case "enum":
			if v.IsArray() && allStrings(v) {
				key("enum")
				dst = wire.AppendCompact(dst, v.Raw)
			}
		case "const":
			if v.Type == gjson.String {
				key("enum")
				dst = append(dst, '[')
				dst = wire.AppendRawString(dst, v)
				dst = append(dst, ']')
			}
		case "default", "example":
			key(k.Str)
			dst = wire.AppendCompact(dst, v.Raw)
		case "items":
			it := v
			if v.IsArray() { // a tuple: its first item's schema
				it = v.Get("0")
			}
			if it.IsObject() {
				key("items")
				dst = appendSchema(dst, it, root, depth+1)
			}
		case "anyOf", "oneOf":
			if nonEmptyArray(v) {
				key("anyOf")
				dst = append(dst, '[')
				i := 0
				v.ForEach(func(_, sub gjson.Result) bool {
					if sub.Get("type").Str == "null" && len(sub.Map()) == 1 {
						return true // {"type":"null"}: nullable, said above
					}
					if i > 0 {
						dst = append(dst, ',')
					}
					i++
					dst = appendSchema(dst, sub, root, depth+1)
					return true
				})
				dst = append(dst, ']')
			}
		case "required":
			if v.IsArray() && props.IsObject() {
				key("required")
				dst = append(dst, '[')
				i := 0
				v.ForEach(func(_, r gjson.Result) bool {
					if r.Type == gjson.String && props.Get(gjson.Escape(r.Str)).Exists() {
						if i > 0 {
							dst = append(dst, ',')
						}
						i++
						dst = wire.AppendRawString(dst, r)
					}
					return true
				})
				dst = append(dst, ']')
			}
		}
		return true
	})
	if hasProps {
		key("properties")
		dst = append(dst, '{')
		i := 0
		props.ForEach(func(k, v gjson.Result) bool {
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			dst = wire.AppendRawString(dst, k)
			dst = append(dst, ':')
			dst = appendSchema(dst, v, root, depth+1)
			return true
		})
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func allStrings(v gjson.Result) bool {
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		ok = e.Type == gjson.String
		return ok
	})
	return ok
}

// resolveRef finds a local reference (#/$defs/X, #/definitions/X) in root.
func resolveRef(root gjson.Result, ref string) (gjson.Result, bool) {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return gjson.Result{}, false
	}
	v := root
	for _, seg := range strings.Split(path, "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		v = v.Get(gjson.Escape(seg))
		if !v.Exists() {
			return gjson.Result{}, false
		}
	}
	return v, v.IsObject()
}

// appendToolConfig appends toolConfig.functionCallingConfig for
// tool_choice (or the legacy function_call).
func appendToolConfig(out []byte, choice, legacy gjson.Result) ([]byte, *wire.Error) {
	if !choice.Exists() || choice.Type == gjson.Null {
		choice = legacy
	}
	var mode, name string
	switch {
	case !choice.Exists() || choice.Type == gjson.Null:
		return out, nil
	case choice.Type == gjson.String:
		switch choice.Str {
		case "auto":
			mode = "AUTO"
		case "none":
			mode = "NONE"
		case "required", "any":
			mode = "ANY"
		default:
			return out, invalid("tool_choice", "tool_choice %q is not one of auto, none, required", truncate(choice.Str, 50))
		}
	case choice.IsObject():
		name = choice.Get("function.name").Str
		if name == "" {
			name = choice.Get("name").Str
		}
		if name == "" {
			return out, invalid("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
		}
		mode = "ANY"
	default:
		return out, invalid("tool_choice", "tool_choice must be a string or an object")
	}
	out = append(out, `,"toolConfig":{"functionCallingConfig":{"mode":"`...)
	out = append(out, mode...)
	out = append(out, '"')
	if name != "" {
		out = append(out, `,"allowedFunctionNames":[`...)
		out = wire.AppendJSONString(out, name)
		out = append(out, ']')
	}
	return append(out, "}}"...), nil
}

// appendGenerationConfig appends generationConfig for the sampling,
// output and thinking parameters.
func appendGenerationConfig(out []byte, f *fields, model string) ([]byte, *wire.Error) {
	start := len(out)
	out = append(out, `,"generationConfig":{`...)
	body := len(out)
	key := func(k string) {
		if len(out) > body {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, k...)
		out = append(out, `":`...)
	}
	num := func(k string, v gjson.Result, param string, integer bool) *wire.Error {
		if !v.Exists() || v.Type == gjson.Null {
			return nil
		}
		if v.Type != gjson.Number || (integer && v.Num != float64(int64(v.Num))) {
			what := "a number"
			if integer {
				what = "an integer"
			}
			return invalid(param, "%s must be %s", param, what)
		}
		key(k)
		out = append(out, v.Raw...)
		return nil
	}
	max, maxParam := f.maxCompletionTokens, "max_completion_tokens"
	if !max.Exists() || max.Type == gjson.Null {
		max, maxParam = f.maxTokens, "max_tokens"
	}
	for _, p := range []struct {
		k     string
		v     gjson.Result
		param string
		int   bool
	}{
		{"maxOutputTokens", max, maxParam, true},
		{"temperature", f.temperature, "temperature", false},
		{"topP", f.topP, "top_p", false},
		{"candidateCount", f.n, "n", true},
		{"seed", f.seed, "seed", true},
		{"presencePenalty", f.presencePenalty, "presence_penalty", false},
		{"frequencyPenalty", f.frequencyPenalty, "frequency_penalty", false},
		{"logprobs", f.topLogprobs, "top_logprobs", true},
	} {
		if werr := num(p.k, p.v, p.param, p.int); werr != nil {
			return out, werr
		}
	}
	if f.logprobs.Type == gjson.True {
		key("responseLogprobs")
		out = append(out, "true"...)
	}
	switch st := f.stop; {
	case st.Type == gjson.String:
		key("stopSequences")
		out = append(out, '[')
		out = wire.AppendRawString(out, st)
		out = append(out, ']')
	case st.IsArray():
		if !allStrings(st) {
			return out, invalid("stop", "stop must be a string or an array of strings")
		}
		if len(st.Array()) > 0 {
			key("stopSequences")
			out = wire.AppendCompact(out, st.Raw)
		}
	case !st.Exists() || st.Type == gjson.Null:
	default:
		return out, invalid("stop", "stop must be a string or an array of strings")
	}
	if rf := f.responseFormat; rf.IsObject() {
		switch typ := rf.Get("type").Str; typ {
		case "json_object":
			key("responseMimeType")
			out = append(out, `"application/json"`...)
		case "json_schema":
			schema := rf.Get("json_schema.schema")
			key("responseMimeType")
			out = append(out, `"application/json"`...)
			if schema.IsObject() {
				if jsonSchemaModel(model) {
					// Gemini 2.0 and later take JSON Schema as is.
					key("responseJsonSchema")
					out = appendJSONSchema(out, schema)
				} else {
					key("responseSchema")
					out = appendSchema(out, schema, schema, 0)
				}
			}
		case "text", "":
		default:
			return out, invalid("response_format.type", "response_format.type %q is not one of text, json_object, json_schema", truncate(typ, 50))
		}
	}
	if tc, werr := thinkingConfig(f, model); werr != nil {
		return out, werr
	} else if tc != "" {
		key("thinkingConfig")
		out = append(out, tc...)
	}
	if len(out) == body {
		return out[:start], nil
	}
	return append(out, '}'), nil
}

// jsonSchemaModel: the model takes responseJsonSchema (Gemini 2.0 and
// later; 1.x takes the OpenAPI responseSchema only).
func jsonSchemaModel(model string) bool {
	m := strings.TrimPrefix(model, "models/")
	return !strings.HasPrefix(m, "gemini-1.") && !strings.HasPrefix(m, "gemini-pro")
}

// appendJSONSchema appends a JSON schema for responseJsonSchema: as is,
// without the keywords Gemini refuses there ($schema, strict).
func appendJSONSchema(dst []byte, s gjson.Result) []byte {
	dst = append(dst, '{')
	n := 0
	s.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "$schema" || k.Str == "strict" {
			return true
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = wire.AppendRawString(dst, k)
		dst = append(dst, ':')
		dst = wire.AppendCompact(dst, v.Raw)
		return true
	})
	return append(dst, '}')
}

// Thinking budgets of reasoning_effort (LiteLLM's defaults).
const (
	budgetLow    = 1024
	budgetMedium = 2048
	budgetHigh   = 4096
)

// thinkingConfig maps reasoning_effort (or Anthropic's thinking, which
// the /v1/messages bridge may carry) as LiteLLM does: a thinking budget
// with includeThoughts for Gemini 2.5, a thinking level for Gemini 3.
func thinkingConfig(f *fields, model string) (string, *wire.Error) {
	m := strings.TrimPrefix(model, "models/")
	if strings.HasPrefix(m, "gemini-1.") || strings.HasPrefix(m, "gemini-2.0") || strings.HasPrefix(m, "gemini-pro") {
		return "", nil // models without thinking refuse a thinkingConfig: the effort is dropped
	}
	gemini3 := strings.HasPrefix(m, "gemini-3")
	if re := f.reasoningEffort; re.Exists() && re.Type != gjson.Null {
		effort := re.Str
		if re.IsObject() {
			effort = re.Get("effort").Str
		}
		if gemini3 {
			flash := strings.HasPrefix(m, "gemini-3-flash") || strings.HasPrefix(m, "gemini-3.1-flash")
			switch effort {
			case "minimal":
				if flash {
					return `{"thinkingLevel":"minimal","includeThoughts":true}`, nil
				}
				return `{"thinkingLevel":"low","includeThoughts":true}`, nil
			case "low":
				return `{"thinkingLevel":"low","includeThoughts":true}`, nil
			case "medium":
				if flash || strings.HasPrefix(m, "gemini-3.1-pro") {
					return `{"thinkingLevel":"medium","includeThoughts":true}`, nil
				}
				return `{"thinkingLevel":"high","includeThoughts":true}`, nil
			case "high":
				return `{"thinkingLevel":"high","includeThoughts":true}`, nil
			case "none", "disable":
				if flash {
					return `{"thinkingLevel":"minimal","includeThoughts":false}`, nil
				}
				return `{"thinkingLevel":"low","includeThoughts":false}`, nil
			}
		} else {
			switch effort {
			case "minimal":
				budget := 128
				switch {
				case strings.Contains(m, "gemini-2.5-flash-lite"):
					budget = 512
				case strings.Contains(m, "gemini-2.5-flash"):
					budget = 1
				}
				return `{"thinkingBudget":` + strconv.Itoa(budget) + `,"includeThoughts":true}`, nil
			case "low":
				return `{"thinkingBudget":` + strconv.Itoa(budgetLow) + `,"includeThoughts":true}`, nil
			case "medium":
				return `{"thinkingBudget":` + strconv.Itoa(budgetMedium) + `,"includeThoughts":true}`, nil
			case "high":
				return `{"thinkingBudget":` + strconv.Itoa(budgetHigh) + `,"includeThoughts":true}`, nil
			case "none", "disable":
				return `{"thinkingBudget":0,"includeThoughts":false}`, nil
			}
		}
		return "", invalid("reasoning_effort", "reasoning_effort %q is not one of none, minimal, low, medium, high", truncate(effort, 50))
	}
	if th := f.thinking; th.IsObject() {
		enabled := th.Get("type").Str == "enabled"
		budget := th.Get("budget_tokens")
		if gemini3 {
			if enabled && budget.Int() != 0 {
				return `{"includeThoughts":true}`, nil
			}
			return `{"includeThoughts":false}`, nil
		}
		var b strings.Builder
		b.WriteByte('{')
		if enabled && !(budget.Exists() && budget.Int() == 0) {
			b.WriteString(`"includeThoughts":true`)
		}
		if budget.Type == gjson.Number {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			b.WriteString(`"thinkingBudget":`)
			b.WriteString(strconv.FormatInt(budget.Int(), 10))
		}
		b.WriteByte('}')
		if b.Len() == 2 {
			return "", nil
		}
		return b.String(), nil
	}
	return "", nil
}
