package wire

import (
	"encoding/json"
	"testing"
)

func TestAnthropicJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		typ    string
		want   string
	}{
		{400, TypeInvalidRequest, "invalid_request_error"},
		{401, TypeAuth, "authentication_error"},
		{402, TypeInvalidRequest, "billing_error"},
		{403, TypePermission, "permission_error"},
		{404, TypeInvalidRequest, "not_found_error"},
		{404, TypeNotFound, "not_found_error"},
		{405, TypeInvalidRequest, "invalid_request_error"},
		{408, TypeInvalidRequest, "timeout_error"},
		{413, TypeInvalidRequest, "request_too_large"},
		{422, TypeInvalidRequest, "invalid_request_error"},
		{429, TypeRateLimit, "rate_limit_error"},
		{429, TypeBudget, "rate_limit_error"},
		{499, TypeTimeout, "timeout_error"},
		{500, TypeInternal, "api_error"},
		{501, TypeInvalidRequest, "api_error"},
		{502, TypeUpstream, "api_error"},
		{503, TypeInternal, "overloaded_error"},
		{504, TypeTimeout, "timeout_error"},
		{529, "overloaded_error", "overloaded_error"},
		{529, TypeUpstream, "overloaded_error"},
		{599, "overloaded_error", "overloaded_error"},
	}
	for _, c := range cases {
		e := &Error{Status: c.status, Type: c.typ, Message: `say "what" <&>`, Param: "model",
			Internal: "dial tcp 10.0.0.1:443: secret detail", Limit: "rpm"}
		var got struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		raw := e.AnthropicJSON()
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%d: %v: %s", c.status, err, raw)
		}
		if got.Type != "error" || got.Error.Type != c.want || got.Error.Message != e.Message {
			t.Errorf("%d %s: got %s, want type %s", c.status, c.typ, raw, c.want)
		}
		var keys map[string]json.RawMessage
		_ = json.Unmarshal(raw, &keys)
		if len(keys) != 2 {
			t.Errorf("%d: extra top-level fields: %s", c.status, raw)
		}
		for _, leak := range []string{"10.0.0.1", "secret", "rpm", "param"} {
			if json.Valid(raw) && contains(raw, leak) {
				t.Errorf("%d: %q leaked: %s", c.status, leak, raw)
			}
		}
		if ev := e.AnthropicErrorEvent(); string(ev) != string(raw) {
			t.Errorf("%d: event %s differs from body %s", c.status, ev, raw)
		}
	}
}

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
