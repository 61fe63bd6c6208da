package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

func TestEncryptSubcommand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gateway.yaml": "general_settings:\n  salt_key: os.environ/GATEWAY_SALT_KEY\n"})
	cfg := filepath.Join(dir, "gateway.yaml")

	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	var out, errb bytes.Buffer
	if code := run([]string{"encrypt", "--config", cfg, "--model", "g1"}, strings.NewReader("sk-upstream-secret\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	enc := strings.TrimSpace(out.String())
	if plain, err := configs.DecryptBound(saltKey, configs.Binding{ModelID: "g1"}, enc); err != nil || plain != "sk-upstream-secret" || !strings.HasPrefix(enc, "enc:v2:") {
		t.Fatalf("%q decrypts to %q, %v", enc, plain, err)
	}
	// The output loads as the api_key of the deployment it is for, and
	// nowhere else.
	load := func(info string) (*configs.Snapshot, []configs.Problem) {
		return configs.Build(configs.Input{Config: configs.File{Path: cfg, Data: []byte("general_settings:\n  salt_key: os.environ/GATEWAY_SALT_KEY\n")},
			Teams:  []configs.File{{Path: "t.yaml", Data: []byte("team_id: t1\n")}},
			Models: []configs.File{{Path: "m.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: " + enc + "}\n    model_info: " + info + "\n")}}}, nil)
	}
	if snap, ps := load("{id: g1}"); snap == nil || snap.Global[0].APIKey != "sk-upstream-secret" {
		t.Fatalf("does not load: %v", ps)
	}
	for _, info := range []string{"{id: g2}", "{id: g1, team_id: t1}", "{}"} {
		if snap, ps := load(info); snap != nil || len(ps) == 0 || !strings.HasPrefix(ps[0].String(), "m.yaml:3:") {
			t.Errorf("model_info %s: loads (%v)", info, ps)
		}
	}
	// --team binds to a team deployment; --model is required; --unbound is
	// the legacy enc:v1: form.
	out.Reset()
	if code := run([]string{"encrypt", "--config", cfg, "--team", "t1", "--model", "m1"}, strings.NewReader("sk-team"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if plain, err := configs.DecryptBound(saltKey, configs.Binding{TeamID: "t1", ModelID: "m1"}, strings.TrimSpace(out.String())); err != nil || plain != "sk-team" {
		t.Errorf("--team: %q %v", plain, err)
	}
	errb.Reset()
	if code := run([]string{"encrypt", "--config", cfg, "--team", "t1"}, strings.NewReader("sk-team"), &out, &errb); code != 2 || !strings.Contains(errb.String(), "--model is required") {
		t.Errorf("no --model: exit %d, %s", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"encrypt", "--config", cfg, "--unbound"}, strings.NewReader("sk-master"), &out, &errb); code != 0 {
		t.Fatalf("--unbound: exit %d: %s", code, errb.String())
	}
	if plain, err := configs.Decrypt(saltKey, strings.TrimSpace(out.String())); err != nil || plain != "sk-master" {
		t.Errorf("--unbound: %q %v", plain, err)
	}

	t.Setenv("GATEWAY_SALT_KEY", "")
	out.Reset()
	errb.Reset()
	if code := run([]string{"encrypt", "--config", cfg, "--model", "m"}, strings.NewReader("x"), &out, &errb); code == 0 || !strings.Contains(errb.String(), "GATEWAY_SALT_KEY") || out.Len() != 0 {
		t.Errorf("no salt key: exit %d, %q %q", code, out.String(), errb.String())
	}
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	if code := run([]string{"encrypt", "--config", cfg, "--model", "m"}, strings.NewReader(""), &out, &errb); code == 0 {
		t.Error("empty input accepted")
	}
}
