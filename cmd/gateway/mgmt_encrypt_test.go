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
	if code := run([]string{"encrypt", "--config", cfg}, strings.NewReader("sk-upstream-secret\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	enc := strings.TrimSpace(out.String())
	if plain, err := configs.Decrypt(saltKey, enc); err != nil || plain != "sk-upstream-secret" {
		t.Fatalf("%q decrypts to %q, %v", enc, plain, err)
	}
	// The output loads as an api_key in a models file.
	snap, ps := configs.Build(configs.Input{Config: configs.File{Path: cfg, Data: []byte("general_settings:\n  salt_key: os.environ/GATEWAY_SALT_KEY\n")},
		Models: []configs.File{{Path: "m.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: " + enc + "}\n")}}}, nil)
	if snap == nil || snap.Global[0].APIKey != "sk-upstream-secret" {
		t.Fatalf("does not load: %v", ps)
	}

	t.Setenv("GATEWAY_SALT_KEY", "")
	out.Reset()
	errb.Reset()
	if code := run([]string{"encrypt", "--config", cfg}, strings.NewReader("x"), &out, &errb); code == 0 || !strings.Contains(errb.String(), "GATEWAY_SALT_KEY") || out.Len() != 0 {
		t.Errorf("no salt key: exit %d, %q %q", code, out.String(), errb.String())
	}
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	if code := run([]string{"encrypt", "--config", cfg}, strings.NewReader(""), &out, &errb); code == 0 {
		t.Error("empty input accepted")
	}
}
