package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

// The one-team configurations load: the pass-through one (the baseline's)
// without a problem, the one with bench-claude wherever the anthropic
// provider is in the registry, and otherwise with the unknown-provider
// error that makes the bench skip the Anthropic rows.
func TestSmallConfigLoads(t *testing.T) {
	t.Parallel()
	env := func(name string) (string, bool) {
		switch name {
		case "GATEWAY_MASTER_KEY":
			return masterKey, true
		case upstreamKeyEnv:
			return upstreamKey, true
		}
		return "", false
	}
	_, hasAnthropic := registry.Lookup("anthropic")
	for _, anthropic := range []bool{false, true} {
		dir := t.TempDir()
		if err := writeSmallConfig(dir, "http://127.0.0.1:1234", anthropic); err != nil {
			t.Fatal(err)
		}
		in, err := configs.ReadDirs(filepath.Join(dir, "gateway.yaml"), filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
		if err != nil {
			t.Fatal(err)
		}
		_, problems := configs.Build(in, env)
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		all := strings.Join(msgs, "\n")
		switch {
		case !anthropic || hasAnthropic:
			if len(problems) > 0 {
				t.Errorf("anthropic=%v: problems:\n%s", anthropic, all)
			}
		default:
			if !configs.HasErrors(problems) || !strings.Contains(all, `unknown provider "anthropic"`) {
				t.Errorf("without the anthropic provider, want the unknown-provider error, got:\n%s", all)
			}
		}
	}
}
