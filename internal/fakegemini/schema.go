package fakegemini

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// kind is a proto field's type, as Google's JSON parser checks it.
type kind int

const (
	kString kind = iota
	kBytes       // base64
	kInt32
	kInt64
	kFloat
	kBool
	kEnum
	kStruct // google.protobuf.Struct: a JSON object
	kValue  // google.protobuf.Value: any JSON
	kMsg
	kMap // map<string, msg>
)

type field struct {
	kind     kind
	repeated bool
	msg      string   // kMsg, kMap
	enum     []string // kEnum
	typeName string   // for messages: TYPE_STRING, ...
}

// messages are the request messages the fake knows, by name; field names
// in snake_case (the JSON may use camelCase or snake_case, as Google's
// parser accepts).
var messages = map[string]map[string]field{
	"GenerateContentRequest": {
		"model":              {kind: kString},
		"contents":           {kind: kMsg, msg: "Content", repeated: true},
		"system_instruction": {kind: kMsg, msg: "Content"},
		"tools":              {kind: kMsg, msg: "Tool", repeated: true},
		"tool_config":        {kind: kMsg, msg: "ToolConfig"},
		"generation_config":  {kind: kMsg, msg: "GenerationConfig"},
		"safety_settings":    {kind: kMsg, msg: "SafetySetting", repeated: true},
		"cached_content":     {kind: kString},
		"labels":             {kind: kStruct},
	},
	"Content": {
		"role":  {kind: kString},
		"parts": {kind: kMsg, msg: "Part", repeated: true},
	},
	"Part": {
		"text":                  {kind: kString},
		"inline_data":           {kind: kMsg, msg: "Blob"},
		"file_data":             {kind: kMsg, msg: "FileData"},
		"function_call":         {kind: kMsg, msg: "FunctionCall"},
		"function_response":     {kind: kMsg, msg: "FunctionResponse"},
		"thought":               {kind: kBool},
		"thought_signature":     {kind: kBytes},
		"executable_code":       {kind: kStruct},
		"code_execution_result": {kind: kStruct},
		"video_metadata":        {kind: kStruct},
	},
	"Blob":     {"mime_type": {kind: kString}, "data": {kind: kBytes}},
	"FileData": {"mime_type": {kind: kString}, "file_uri": {kind: kString}},
	"FunctionCall": {
		"id": {kind: kString}, "name": {kind: kString}, "args": {kind: kStruct},
	},
	"FunctionResponse": {
		"id": {kind: kString}, "name": {kind: kString}, "response": {kind: kStruct},
	},
	"Tool": {
		"function_declarations":   {kind: kMsg, msg: "FunctionDeclaration", repeated: true},
		"google_search":           {kind: kStruct},
		"google_search_retrieval": {kind: kStruct},
		"code_execution":          {kind: kStruct},
		"url_context":             {kind: kStruct},
	},
	"FunctionDeclaration": {
		"name":                   {kind: kString},
		"description":            {kind: kString},
		"parameters":             {kind: kMsg, msg: "Schema"},
		"parameters_json_schema": {kind: kValue},
		"response":               {kind: kMsg, msg: "Schema"},
		"behavior":               {kind: kEnum, enum: []string{"UNSPECIFIED", "BLOCKING", "NON_BLOCKING"}},
	},
	"Schema": {
		"type":              {kind: kEnum, enum: []string{"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}},
		"format":            {kind: kString},
		"title":             {kind: kString},
		"description":       {kind: kString},
		"nullable":          {kind: kBool},
		"enum":              {kind: kString, repeated: true},
		"max_items":         {kind: kInt64},
		"min_items":         {kind: kInt64},
		"properties":        {kind: kMap, msg: "Schema"},
		"required":          {kind: kString, repeated: true},
		"min_properties":    {kind: kInt64},
		"max_properties":    {kind: kInt64},
		"min_length":        {kind: kInt64},
		"max_length":        {kind: kInt64},
		"pattern":           {kind: kString},
		"example":           {kind: kValue},
		"any_of":            {kind: kMsg, msg: "Schema", repeated: true},
		"property_ordering": {kind: kString, repeated: true},
		"default":           {kind: kValue},
		"items":             {kind: kMsg, msg: "Schema"},
		"minimum":           {kind: kFloat},
		"maximum":           {kind: kFloat},
	},
	"ToolConfig": {
		"function_calling_config": {kind: kMsg, msg: "FunctionCallingConfig"},
		"retrieval_config":        {kind: kStruct},
	},
	"FunctionCallingConfig": {
		"mode":                   {kind: kEnum, enum: []string{"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"}},
		"allowed_function_names": {kind: kString, repeated: true},
	},
	"SafetySetting": {
		"category":  {kind: kString},
		"threshold": {kind: kString},
		"method":    {kind: kString},
	},
	"GenerationConfig": {
		"stop_sequences":       {kind: kString, repeated: true},
		"response_mime_type":   {kind: kString},
		"response_schema":      {kind: kMsg, msg: "Schema"},
		"response_json_schema": {kind: kValue},
		"response_modalities":  {kind: kString, repeated: true},
		"candidate_count":      {kind: kInt32},
		"max_output_tokens":    {kind: kInt32},
		"temperature":          {kind: kFloat},
		"top_p":                {kind: kFloat},
		"top_k":                {kind: kInt32},
		"seed":                 {kind: kInt32},
		"presence_penalty":     {kind: kFloat},
		"frequency_penalty":    {kind: kFloat},
		"response_logprobs":    {kind: kBool},
		"logprobs":             {kind: kInt32},
		"thinking_config":      {kind: kMsg, msg: "ThinkingConfig"},
		"speech_config":        {kind: kStruct},
		"media_resolution":     {kind: kString},
	},
	"ThinkingConfig": {
		"include_thoughts": {kind: kBool},
		"thinking_budget":  {kind: kInt32},
		"thinking_level":   {kind: kEnum, enum: []string{"THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"}},
	},
	"BatchEmbedContentsRequest": {
		"requests": {kind: kMsg, msg: "EmbedContentRequest", repeated: true},
	},
	"EmbedContentRequest": {
		"model":                 {kind: kString},
		"content":               {kind: kMsg, msg: "Content"},
		"task_type":             {kind: kString},
		"title":                 {kind: kString},
		"output_dimensionality": {kind: kInt32},
	},
	"CountTokensRequest": {
		"contents":                 {kind: kMsg, msg: "Content", repeated: true},
		"generate_content_request": {kind: kMsg, msg: "GenerateContentRequest"},
	},
}

// snake converts a camelCase JSON name to the proto field name.
func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			b.WriteByte('_')
			b.WriteByte(c + 'a' - 'A')
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// check validates v as message msg the way Google's JSON parser does; at
// is the path so far (for messages: 'generation_config.temperature').
func check(msg string, v any, at string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("Invalid value at '%s' (type.googleapis.com/google.ai.generativelanguage.v1beta.%s), %s", trimAt(at), msg, show(v))
	}
	fields := messages[msg]
	for k, fv := range obj {
		name := snake(k)
		f, ok := fields[name]
		if !ok {
			if at == "" {
				return fmt.Errorf("Invalid JSON payload received. Unknown name %q: Cannot find field.", k)
			}
			return fmt.Errorf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, trimAt(at))
		}
		p := join(at, name)
		if f.repeated {
			if fv == nil {
				continue
			}
			arr, ok := fv.([]any)
			if !ok {
				return fmt.Errorf("Invalid value at '%s' (%s), %s", p, typeName(f), show(fv))
			}
			for i, e := range arr {
				if err := checkValue(f, e, fmt.Sprintf("%s[%d]", p, i)); err != nil {
					return err
				}
			}
			continue
		}
		if err := checkValue(f, fv, p); err != nil {
			return err
		}
	}
	return nil
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func trimAt(at string) string { return at }

func typeName(f field) string {
	switch f.kind {
	case kString:
		return "TYPE_STRING"
	case kBytes:
		return "TYPE_BYTES"
	case kInt32:
		return "TYPE_INT32"
	case kInt64:
		return "TYPE_INT64"
	case kFloat:
		return "TYPE_FLOAT"
	case kBool:
		return "TYPE_BOOL"
	case kEnum:
		return "TYPE_ENUM"
	default:
		return "TYPE_MESSAGE"
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func checkValue(f field, v any, p string) error {
	if v == nil {
		return nil // null: the field's default
	}
	bad := fmt.Errorf("Invalid value at '%s' (%s), %s", p, typeName(f), show(v))
	switch f.kind {
	case kString:
		if _, ok := v.(string); !ok {
			return bad
		}
	case kBytes:
		s, ok := v.(string)
		if !ok {
			return bad
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			if _, err := base64.URLEncoding.DecodeString(s); err != nil {
				if _, err := base64.RawStdEncoding.DecodeString(s); err != nil {
					return fmt.Errorf("Invalid value at '%s' (TYPE_BYTES), Base64 decoding failed for %s", p, show(truncate(s, 40)))
				}
			}
		}
	case kInt32, kInt64:
		switch n := v.(type) {
		case json.Number:
			if _, err := n.Int64(); err != nil {
				return bad
			}
		case string: // int64 may be a string in proto JSON
			if _, err := json.Number(n).Int64(); err != nil {
				return bad
			}
		default:
			return bad
		}
	case kFloat:
		switch n := v.(type) {
		case json.Number:
		case string:
			if _, err := json.Number(n).Float64(); err != nil {
				return bad
			}
		default:
			return bad
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return bad
		}
	case kEnum:
		s, ok := v.(string)
		if !ok {
			return bad
		}
		for _, e := range f.enum {
			if strings.EqualFold(e, s) {
				return nil
			}
		}
		return fmt.Errorf("Invalid value at '%s' (%s), %q", p, typeName(f), s)
	case kStruct:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("Invalid value at '%s' (type.googleapis.com/google.protobuf.Struct), %s", p, show(v))
		}
	case kValue:
	case kMsg:
		return check(f.msg, v, p)
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad
		}
		for k, e := range m {
			if err := check(f.msg, e, fmt.Sprintf("%s[%s]", p, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
