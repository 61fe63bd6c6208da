package configs

import "testing"

func TestOperatorCredentials(t *testing.T) {
	t.Parallel()
	v1, _ := Encrypt("test-salt-key", "sk-1")
	v2, _ := EncryptBound("test-salt-key", Binding{"t", "m"}, "sk-2")
	for _, tc := range []struct {
		params, info string
		operator     bool
	}{
		{"api_key: " + v2, "api_key_set_by: team", false},
		{"api_base: https://x.example", "api_key_set_by: team", false}, // no key: no default key either
		{"api_key: " + v2, "api_key_set_by: master", true},
		{"api_key: " + v2, "", true}, // a reviewed file
		{"api_key: " + v1, "api_key_set_by: team", true},
		{"api_key: os.environ/K", "api_key_set_by: team", true},
		{"api_key: " + v2 + ", api_base: os.environ/B", "api_key_set_by: team", true},
		{"api_key: " + v2 + ", api_version: os.environ/B", "api_key_set_by: team", true},
	} {
		in := Input{Teams: []File{{Path: "t.yaml", Data: []byte("team_id: t\n")}},
			Models: []File{{Path: "m.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, " + tc.params +
				"}\n    model_info: {id: m, team_id: t, team_public_model_name: x, " + tc.info + "}\n")}}}
		snap, ps := Build(in, envOf(map[string]string{"GATEWAY_SALT_KEY": "test-salt-key", "K": "k", "B": "https://b.example"}))
		if snap == nil {
			t.Fatalf("%s: %v", tc.params, ps)
		}
		// The live deployment has its os.environ/ values resolved; the rule
		// still sees them.
		if got := snap.TeamDeployments["t"][0].OperatorCredentials(); got != tc.operator {
			t.Errorf("%s / %s: OperatorCredentials = %v, want %v", tc.params, tc.info, got, tc.operator)
		}
	}
}
