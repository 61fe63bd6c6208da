package configs

import (
	"strings"
	"testing"
)

// LITELLM_MASTER_KEY and LITELLM_SALT_KEY are read when the settings name
// no key, or when the variable they name is unset; a warning says which
// variable was used. A set variable the settings name always wins.
func TestLiteLLMKeyVariables(t *testing.T) {
	t.Parallel()
	named := "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n"
	litellm := map[string]string{"LITELLM_MASTER_KEY": "sk-litellm-master", "LITELLM_SALT_KEY": "litellm-salt"}
	for _, c := range []struct {
		name, cfg      string
		env            map[string]string
		master, salt   string
		warnings       []string
		absentWarnings []string
	}{
		{name: "named and set: the named variables", cfg: named,
			env:    map[string]string{"GATEWAY_MASTER_KEY": "sk-gw", "GATEWAY_SALT_KEY": "gw-salt", "LITELLM_MASTER_KEY": "sk-litellm-master", "LITELLM_SALT_KEY": "litellm-salt"},
			master: "sk-gw", salt: "gw-salt", absentWarnings: []string{"LITELLM_"}},
		{name: "named but unset: LiteLLM's", cfg: named, env: litellm, master: "sk-litellm-master", salt: "litellm-salt",
			warnings: []string{"environment variable GATEWAY_MASTER_KEY is not set (master_key: os.environ/GATEWAY_MASTER_KEY); using LITELLM_MASTER_KEY instead",
				"environment variable GATEWAY_SALT_KEY is not set (salt_key: os.environ/GATEWAY_SALT_KEY); using LITELLM_SALT_KEY instead"}},
		{name: "not named: LiteLLM's", cfg: "general_settings: {}\n", env: litellm, master: "sk-litellm-master", salt: "litellm-salt",
			warnings: []string{"general_settings.master_key is not set; using LITELLM_MASTER_KEY from the environment",
				"general_settings.salt_key is not set; using LITELLM_SALT_KEY from the environment"}},
		{name: "not named, LiteLLM's unset: none", cfg: "general_settings: {}\n", env: nil, absentWarnings: []string{"LITELLM_"}},
		{name: "named LiteLLM's own and unset: none", cfg: "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", env: map[string]string{"LITELLM_SALT_KEY": "s"},
			salt: "s", warnings: []string{"environment variable LITELLM_MASTER_KEY is not set (master_key: os.environ/LITELLM_MASTER_KEY); the management API answers 403"}},
		{name: "only the master: salt stays unset", cfg: named, env: map[string]string{"LITELLM_MASTER_KEY": "sk-litellm-master"}, master: "sk-litellm-master",
			warnings: []string{"using LITELLM_MASTER_KEY instead", "environment variable GATEWAY_SALT_KEY is not set (salt_key: os.environ/GATEWAY_SALT_KEY); the management API refuses raw upstream keys"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			snap, ps := Build(Input{Config: File{Path: "gateway.yaml", Data: []byte(c.cfg)}}, envMap(c.env))
			if snap == nil || HasErrors(ps) {
				t.Fatalf("problems: %v", ps)
			}
			if snap.Settings.MasterKey != c.master || snap.Settings.SaltKey != c.salt {
				t.Errorf("master %q salt %q, want %q %q", snap.Settings.MasterKey, snap.Settings.SaltKey, c.master, c.salt)
			}
			all := strings.Join(problemLines(ps), "\n")
			for _, w := range c.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("no warning %q in:\n%s", w, all)
				}
			}
			for _, w := range c.absentWarnings {
				if strings.Contains(all, w) {
					t.Errorf("unexpected %q in:\n%s", w, all)
				}
			}
			for _, secret := range []string{"sk-litellm-master", "litellm-salt", "sk-gw"} {
				if strings.Contains(all, secret) {
					t.Errorf("a warning holds the secret %q", secret)
				}
			}
		})
	}
}
