package fakegemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// validated is what the answer needs of a valid generateContent request.
type validated struct {
	functions       []string // declared function names
	mode            string   // functionCallingConfig.mode (upper case), "" unset
	allowed         []string
	includeThoughts bool
	jsonMode        bool
	candidates      int
}

// validateGenerate checks a GenerateContentRequest's meaning (its shape
// was checked already).
func validateGenerate(obj map[string]any) (*validated, error) {
	v := &validated{candidates: 1}
	contents, _ := get(obj, "contents").([]any)
	if len(contents) == 0 {
		return nil, fmt.Errorf("* GenerateContentRequest.contents: contents is not specified")
	}
	if err := validateContents(contents, "contents"); err != nil {
		return nil, err
	}
	if si, ok := get(obj, "systemInstruction").(map[string]any); ok {
		parts, _ := si["parts"].([]any)
		if len(parts) == 0 {
			return nil, fmt.Errorf("* GenerateContentRequest.system_instruction.parts: contents.parts must not be empty.")
		}
		for i, p := range parts {
			if t, _ := p.(map[string]any)["text"].(string); t == "" {
				return nil, fmt.Errorf("* GenerateContentRequest.system_instruction.parts[%d].data: required oneof field 'data' must have one initialized field", i)
			}
		}
	}
	tools, _ := get(obj, "tools").([]any)
	for ti, t := range tools {
		decls, _ := get(t.(map[string]any), "functionDeclarations").([]any)
		for di, d := range decls {
			dm := d.(map[string]any)
			name, _ := dm["name"].(string)
			at := fmt.Sprintf("tools[%d].function_declarations[%d]", ti, di)
			if name == "" {
				return nil, fmt.Errorf("* GenerateContentRequest.%s.name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 64.", at)
			}
			if p, ok := dm["parameters"].(map[string]any); ok {
				if err := validateSchema(p, "GenerateContentRequest."+at+".parameters"); err != nil {
					return nil, err
				}
			}
			v.functions = append(v.functions, name)
		}
	}
	if tc, ok := get(obj, "toolConfig").(map[string]any); ok {
		if fcc, ok := get(tc, "functionCallingConfig").(map[string]any); ok {
			v.mode, _ = fcc["mode"].(string)
			v.mode = strings.ToUpper(v.mode)
			names, _ := get(fcc, "allowedFunctionNames").([]any)
			if len(names) > 0 && v.mode != "ANY" && v.mode != "VALIDATED" {
				return nil, fmt.Errorf("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: only allowed when mode is ANY or VALIDATED")
			}
			for _, n := range names {
				s, _ := n.(string)
				if !contains(v.functions, s) {
					return nil, fmt.Errorf("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: %q is not a declared function", s)
				}
				v.allowed = append(v.allowed, s)
			}
			if (v.mode == "ANY") && len(v.functions) == 0 {
				return nil, fmt.Errorf("* GenerateContentRequest.tool_config.function_calling_config.mode: function calling mode ANY requires function declarations")
			}
		}
	}
	if gc, ok := get(obj, "generationConfig").(map[string]any); ok {
		if t, ok := get(gc, "temperature").(json.Number); ok {
			if f, _ := t.Float64(); f < 0 || f > 2 {
				return nil, fmt.Errorf("* GenerateContentRequest.generation_config.temperature: must be between 0 and 2, got %v", f)
			}
		}
		if t, ok := get(gc, "topP").(json.Number); ok {
			if f, _ := t.Float64(); f < 0 || f > 1 {
				return nil, fmt.Errorf("* GenerateContentRequest.generation_config.top_p: must be between 0 and 1")
			}
		}
		if n, ok := get(gc, "maxOutputTokens").(json.Number); ok {
			if i, _ := n.Int64(); i < 1 {
				return nil, fmt.Errorf("* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.")
			}
		}
		if n, ok := get(gc, "candidateCount").(json.Number); ok {
			i, _ := n.Int64()
			if i < 1 || i > 8 {
				return nil, fmt.Errorf("* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8")
			}
			v.candidates = int(i)
		}
		mime, _ := get(gc, "responseMimeType").(string)
		_, hasSchema := get(gc, "responseSchema").(map[string]any)
		_, hasJSONSchema := get(gc, "responseJsonSchema").(map[string]any)
		if (hasSchema || hasJSONSchema) && mime != "application/json" && mime != "text/x.enum" {
			return nil, fmt.Errorf("* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be set to application/json or text/x.enum when response_schema is set")
		}
		if hasSchema && hasJSONSchema {
			return nil, fmt.Errorf("* GenerateContentRequest.generation_config: response_schema and response_json_schema cannot both be set")
		}
		if s, ok := get(gc, "responseSchema").(map[string]any); ok {
			if err := validateSchema(s, "GenerateContentRequest.generation_config.response_schema"); err != nil {
				return nil, err
			}
		}
		switch mime {
		case "", "text/plain", "application/json", "text/x.enum":
		default:
			return nil, fmt.Errorf("* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.")
		}
		v.jsonMode = mime == "application/json"
		if tc, ok := get(gc, "thinkingConfig").(map[string]any); ok {
			v.includeThoughts, _ = get(tc, "includeThoughts").(bool)
			_, hasBudget := get(tc, "thinkingBudget").(json.Number)
			_, hasLevel := get(tc, "thinkingLevel").(string)
			if hasBudget && hasLevel {
				return nil, fmt.Errorf("* GenerateContentRequest.generation_config.thinking_config: thinking_budget and thinking_level cannot both be set")
			}
		}
	}
	return v, nil
}

// validateContents checks the turns: roles, parts, the function call and
// response protocol.
func validateContents(contents []any, at string) error {
	var prevCalls []string // function calls of the previous model turn
	prevRole := ""
	prevHadResponses := false
	for i, c := range contents {
		cm, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("* GenerateContentRequest.%s[%d]: must be an object", at, i)
		}
		role, _ := cm["role"].(string)
		if role != "" && role != "user" && role != "model" {
			return fmt.Errorf("Please use a valid role: user, model.")
		}
		if role == "" {
			role = "user"
		}
		parts, _ := cm["parts"].([]any)
		if len(parts) == 0 {
			return fmt.Errorf("* GenerateContentRequest.%s[%d].parts: contents.parts must not be empty.", at, i)
		}
		var calls, responses []string
		for j, p := range parts {
			pm := p.(map[string]any)
			n := 0
			for _, k := range []string{"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult"} {
				if v, ok := pm[k]; ok && v != nil {
					n++
				} else if v, ok := pm[snake(k)]; ok && v != nil {
					n++
				}
			}
			if n == 0 {
				return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].data: required oneof field 'data' must have one initialized field", at, i, j)
			}
			if n > 1 {
				return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].data: oneof field 'data' is already set. Cannot set 'data' twice", at, i, j)
			}
			if b, ok := get(pm, "inlineData").(map[string]any); ok {
				if m, _ := get(b, "mimeType").(string); m == "" {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].inline_data.mime_type: mime_type is required", at, i, j)
				}
				if d, _ := b["data"].(string); d == "" {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].inline_data.data: data is required", at, i, j)
				}
			}
			if f, ok := get(pm, "fileData").(map[string]any); ok {
				if u, _ := get(f, "fileUri").(string); u == "" {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].file_data.file_uri: file_uri is required", at, i, j)
				}
			}
			if fc, ok := get(pm, "functionCall").(map[string]any); ok {
				name, _ := fc["name"].(string)
				if name == "" {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].function_call.name: name is required", at, i, j)
				}
				calls = append(calls, name)
			}
			if fr, ok := get(pm, "functionResponse").(map[string]any); ok {
				name, _ := fr["name"].(string)
				if name == "" {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].function_response.name: name is required", at, i, j)
				}
				if _, ok := fr["response"].(map[string]any); !ok {
					return fmt.Errorf("* GenerateContentRequest.%s[%d].parts[%d].function_response.response: response is required", at, i, j)
				}
				responses = append(responses, name)
			}
		}
		if len(calls) > 0 {
			if role != "model" {
				return fmt.Errorf("Please ensure that function call turns come from the model (role \"model\").")
			}
			if i == 0 || (prevRole != "user" && !prevHadResponses) {
				return fmt.Errorf("Please ensure that function call turn comes immediately after a user turn or after a function response turn.")
			}
		}
		if len(responses) > 0 {
			if role != "user" || len(prevCalls) == 0 {
				return fmt.Errorf("Please ensure that function response turn comes immediately after a function call turn.")
			}
			if len(responses) != len(prevCalls) {
				return fmt.Errorf("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.")
			}
			for _, r := range responses {
				if !contains(prevCalls, r) {
					return fmt.Errorf("Please ensure that function response turn comes immediately after a function call turn. (function response %q answers no function call of the previous turn)", r)
				}
			}
		} else if len(prevCalls) > 0 {
			return fmt.Errorf("Please ensure that function response turn comes immediately after a function call turn.")
		}
		prevCalls, prevRole, prevHadResponses = calls, role, len(responses) > 0
	}
	return nil
}

// validateSchema checks the Schema rules the API enforces: an OBJECT has
// non-empty properties, required names exist, enums only on strings.
func validateSchema(s map[string]any, at string) error {
	typ, _ := s["type"].(string)
	props, _ := s["properties"].(map[string]any)
	if strings.EqualFold(typ, "object") && len(props) == 0 {
		if _, hasAny := get(s, "anyOf").([]any); !hasAny {
			return fmt.Errorf("* %s.properties: should be non-empty for OBJECT type", at)
		}
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := props[name]; !ok {
				return fmt.Errorf("* %s.required[%s]: property is not defined", at, name)
			}
		}
	}
	if _, ok := s["enum"].([]any); ok && !strings.EqualFold(typ, "string") {
		return fmt.Errorf("* %s.enum: only allowed for STRING type", at)
	}
	if f, _ := s["format"].(string); f != "" && strings.EqualFold(typ, "string") && f != "enum" && f != "date-time" {
		return fmt.Errorf("* %s.format: only 'enum' and 'date-time' are supported for STRING type", at)
	}
	for k, p := range props {
		if err := validateSchema(p.(map[string]any), at+".properties["+k+"].value"); err != nil {
			return err
		}
	}
	if it, ok := s["items"].(map[string]any); ok {
		if err := validateSchema(it, at+".items"); err != nil {
			return err
		}
	}
	if anyOf, ok := get(s, "anyOf").([]any); ok {
		for i, a := range anyOf {
			if err := validateSchema(a.(map[string]any), fmt.Sprintf("%s.any_of[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateEmbed checks batchEmbedContents / embedContent.
func validateEmbed(obj map[string]any, verb, model string) error {
	reqs := []any{obj}
	if verb == "batchEmbedContents" {
		reqs, _ = get(obj, "requests").([]any)
		if len(reqs) == 0 {
			return fmt.Errorf("* BatchEmbedContentsRequest.requests: requests is not specified")
		}
		if len(reqs) > 100 {
			return fmt.Errorf("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch")
		}
	}
	for i, r := range reqs {
		rm := r.(map[string]any)
		if verb == "batchEmbedContents" {
			if m, _ := rm["model"].(string); m != "models/"+model {
				return fmt.Errorf("* BatchEmbedContentsRequest.requests[%d].model: the model of each request must be the batch's model (models/%s), got %q", i, model, m)
			}
		}
		c, ok := get(rm, "content").(map[string]any)
		if !ok {
			return fmt.Errorf("* EmbedContentRequest.content: content is not specified")
		}
		parts, _ := c["parts"].([]any)
		if len(parts) == 0 {
			return fmt.Errorf("* EmbedContentRequest.content.parts: contents.parts must not be empty.")
		}
		for _, p := range parts {
			if t, _ := p.(map[string]any)["text"].(string); t == "" {
				return fmt.Errorf("* EmbedContentRequest.content.parts[0].data: required oneof field 'data' must have one initialized field")
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Validate checks body as the fake checks a request to verb
// ("generateContent", "streamGenerateContent", "batchEmbedContents",
// "embedContent", "countTokens") of model; nil: the API would accept it.
// Translation tests use it on their outputs.
func Validate(verb, model string, body []byte) error {
	var req any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("Invalid JSON payload received. %v", err)
	}
	msg := map[string]string{"generateContent": "GenerateContentRequest", "streamGenerateContent": "GenerateContentRequest",
		"batchEmbedContents": "BatchEmbedContentsRequest", "embedContent": "EmbedContentRequest",
		"countTokens": "CountTokensRequest"}[verb]
	if msg == "" {
		return fmt.Errorf("unknown method %q", verb)
	}
	if err := check(msg, req, ""); err != nil {
		return err
	}
	obj := req.(map[string]any)
	switch verb {
	case "generateContent", "streamGenerateContent":
		_, err := validateGenerate(obj)
		return err
	case "batchEmbedContents", "embedContent":
		return validateEmbed(obj, verb, model)
	}
	return nil
}
