package configs

import (
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func rotationInput(t *testing.T) Input {
	t.Helper()
	master, _ := Encrypt("old-salt", "sk-master-0123456789")
	legacy, _ := Encrypt("old-salt", "sk-global-legacy")
	m1, _ := EncryptBound("old-salt", Binding{"team-a", "m1"}, "sk-team-a-m1")
	m2, _ := EncryptBound("new-salt", Binding{"team-a", "m2"}, "sk-team-a-m2")
	return Input{
		Config: File{Path: "gateway.yaml", Data: []byte("general_settings:\n  master_key: " + master + "  # the master key\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"model_list:\n  - model_name: legacy\n    litellm_params: {model: openai/gpt-4o, api_key: " + legacy + "}\n")},
		Teams: []File{{Path: "teams.d/team-a.yaml", Data: []byte("team_id: team-a\n")}},
		Models: []File{
			{Path: "models.d/team-a/m1.yaml", Data: []byte("# team a's model\nmodel_list:\n  - model_name: model_name_team-a_m1\n    litellm_params:\n      model: openai/gpt-4o\n" +
				"      api_key: " + m1 + " # rotated\n    model_info: {id: m1, team_id: team-a, team_public_model_name: one, api_key_set_by: team}\n")},
			{Path: "models.d/team-a/m2.yaml", Data: []byte("model_list:\n  - model_name: model_name_team-a_m2\n    litellm_params: {model: openai/gpt-4o, api_key: " + m2 + "}\n" +
				"    model_info: {id: m2, team_id: team-a, team_public_model_name: two}\n")},
			{Path: "models.d/env.yaml", Data: []byte("model_list:\n  - model_name: env\n    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_KEY}\n")},
		},
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	in := rotationInput(t)
	// m2 is already under the new key: the gateway runs with the new key
	// and the old one as previous while the rotation is under way.
	during := envOf(map[string]string{"GATEWAY_SALT_KEY": "new-salt", "GATEWAY_SALT_KEY_PREVIOUS": "old-salt", "OPENAI_KEY": "sk-env"})
	before, ps := Build(in, during)
	if before == nil {
		t.Fatalf("does not load during the rotation: %v", ps)
	}
	r, ps := Rotate(in, during, "new-salt")
	if r == nil {
		t.Fatalf("Rotate: %v", ps)
	}
	var paths []string
	for _, f := range r.Files {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, " ") != "gateway.yaml models.d/team-a/m1.yaml" || len(r.Values) != 3 || r.Unchanged != 1 {
		t.Fatalf("rotated files %v, values %+v, unchanged %d", paths, r.Values, r.Unchanged)
	}
	next := in
	next.Models = append([]File(nil), in.Models...)
	for _, f := range r.Files {
		if f.Path == "gateway.yaml" {
			next.Config = f
			if !strings.Contains(string(f.Data), "# the master key") || !strings.Contains(string(f.Data), "id: ") {
				t.Errorf("config comments or pinned id lost:\n%s", f.Data)
			}
		} else {
			next.Models[0] = f
			if !strings.Contains(string(f.Data), "# team a's model") || !strings.Contains(string(f.Data), "# rotated") || !strings.Contains(string(f.Data), "api_key: enc:v2:") {
				t.Errorf("m1 lost its comments:\n%s", f.Data)
			}
		}
	}
	after, ps := Build(next, envOf(map[string]string{"GATEWAY_SALT_KEY": "new-salt", "OPENAI_KEY": "sk-env"}))
	if after == nil {
		t.Fatalf("rotated files do not load with the new key alone: %v", ps)
	}
	if after.Settings.MasterKey != "sk-master-0123456789" || after.Global[0].APIKey != "sk-global-legacy" || after.Global[0].ModelInfo.ID != before.Global[0].ModelInfo.ID {
		t.Errorf("global: %q %q %q", after.Settings.MasterKey, after.Global[0].APIKey, after.Global[0].ModelInfo.ID)
	}
	if !strings.HasPrefix(after.Global[0].LiteLLMParams.APIKey, "enc:v2:") {
		t.Errorf("the legacy key was not bound: %s", after.Global[0].LiteLLMParams.APIKey)
	}
	if old, _ := Build(next, envOf(map[string]string{"GATEWAY_SALT_KEY": "old-salt", "OPENAI_KEY": "sk-env"})); old != nil {
		t.Error("rotated files still load with the old key")
	}
	// Run again: nothing left to do.
	again, ps := Rotate(next, envOf(map[string]string{"GATEWAY_SALT_KEY": "new-salt", "OPENAI_KEY": "sk-env"}), "new-salt")
	if again == nil || len(again.Files) != 0 || again.Unchanged != 4 {
		t.Errorf("second rotation: %+v %v", again, ps)
	}
}

func TestRotateRefuses(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"GATEWAY_SALT_KEY": "old-salt", "GATEWAY_SALT_KEY_PREVIOUS": "", "OPENAI_KEY": "k"})
	in := rotationInput(t)
	in.Models = in.Models[:1]
	other, _ := Encrypt("unknown-salt", "x")
	bound, _ := EncryptBound("old-salt", Binding{"team-a", "m1"}, "x")
	for name, tc := range map[string]struct {
		team, want string
	}{
		"undecryptable":   {"team_id: team-a\nmetadata: {token: " + other + "}\n", "teams.d/team-a.yaml:2:19: metadata.token cannot be decrypted"},
		"bound elsewhere": {"team_id: team-a\nmetadata: {token: " + bound + "}\n", "teams.d/team-a.yaml:2:19: metadata.token is an enc: value that is not enc:v1:"},
	} {
		bad := in
		bad.Teams = []File{{Path: "teams.d/team-a.yaml", Data: []byte(tc.team)}}
		r, ps := Rotate(bad, env, "new-salt")
		if r != nil || len(ps) == 0 || !strings.HasPrefix(ps[0].String(), tc.want) {
			t.Errorf("%s: %+v %v, want %q", name, r, ps, tc.want)
		}
	}
	if r, ps := Rotate(in, envOf(map[string]string{"OPENAI_KEY": "k"}), "new-salt"); r != nil || len(ps) == 0 {
		t.Errorf("no salt key: %v", ps)
	}
	if r, ps := Rotate(in, env, ""); r != nil || len(ps) == 0 {
		t.Errorf("empty new key: %v", ps)
	}
}

// FuzzRotate: rotating any models file never panics, and a rotation that
// succeeds loads with the new key alone (Rotate checks it; here it is
// checked again from the outside).
func FuzzRotate(f *testing.F) {
	v1, _ := Encrypt("old-salt", "sk-1")
	v2, _ := EncryptBound("old-salt", Binding{"t", "m"}, "sk-2")
	f.Add([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: " + v1 + "}\n"))
	f.Add([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: " + v2 + "}\n    model_info: {id: m, team_id: t}\n"))
	f.Add([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: " + v1 + "}\n    model_info: null\n  - &x {model_name: b, litellm_params: {model: mock/b}}\n"))
	f.Add([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: *k}\n"))
	f.Add([]byte("a: &k " + v1 + "\nmodel_list: []\n"))
	teams := []File{{Path: "teams.d/t.yaml", Data: []byte("team_id: t\n")}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		in := Input{Config: File{Path: "gateway.yaml", Data: []byte("general_settings:\n  salt_key: os.environ/S\n")}, Teams: teams,
			Models: []File{{Path: "models.d/m.yaml", Data: data}}}
		r, _ := Rotate(in, envOf(map[string]string{"S": "old-salt"}), "new-salt")
		if r == nil || len(r.Files) == 0 {
			return
		}
		next := in
		next.Models = []File{r.Files[len(r.Files)-1]}
		if snap, ps := Build(next, envOf(map[string]string{"S": "new-salt"})); snap == nil {
			t.Fatalf("the rotated file does not load: %v\n%s", ps, r.Files[0].Data)
		}
	})
}
