package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// reloadConfig is a small configuration on the mock provider: team A
// (keyA, model a-model) and team B (keyB, model b-model).
func reloadConfig() map[string]string {
	return map[string]string{
		"gateway.yaml":        "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n",
		"teams.d/a.yaml":      teamYAML(teamA, "search", keyA),
		"teams.d/b.yaml":      teamYAML(teamB, "other", keyB),
		"models.d/a/m.yaml":   modelYAML(teamA, "a-1", "a-model"),
		"models.d/b/m.yaml":   modelYAML(teamB, "b-1", "b-model"),
		"models.d/README.txt": "not YAML, never read\n",
	}
}

func teamYAML(id, alias string, keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "team_id: %s\nteam_alias: %s\nkeys:\n", id, alias)
	for i, k := range keys {
		fmt.Fprintf(&b, "  - token: %s\n    key_alias: k%d\n", configs.HashKey(k), i)
	}
	return b.String()
}

func modelYAML(team, id, public string) string {
	return fmt.Sprintf(`model_list:
  - model_name: model_name_%s_%s
    litellm_params: {model: mock/%s}
    model_info: {id: %s, team_id: %s, team_public_model_name: %s}
`, team, id, public, id, team, public)
}

// startReloadGateway starts a gateway on dir's gateway.yaml, teams.d and
// models.d.
func startReloadGateway(t *testing.T, dir string) *gatewayProc {
	t.Helper()
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	return startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"),
		"--teams-dir", filepath.Join(dir, "teams.d"), "--models-dir", filepath.Join(dir, "models.d"),
		"--state-dir", t.TempDir())
}

// chatStatus calls model with key and returns the HTTP status.
func (g *gatewayProc) chatStatus(t *testing.T, key, model string) int {
	t.Helper()
	code, _, _ := g.do(t, "POST", "/v1/chat/completions", key,
		map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "hi"}}})
	return code
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 10s: %s", what, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitChat waits until calling model with key answers want.
func (g *gatewayProc) waitChat(t *testing.T, key, model string, want int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s answers %d", model, want), func() (bool, string) {
		got := g.chatStatus(t, key, model)
		return got == want, fmt.Sprintf("status %d", got)
	})
}

// configStatus returns GET /config/status with the master key.
func (g *gatewayProc) configStatus(t *testing.T) map[string]any {
	t.Helper()
	code, m, raw := g.do(t, "GET", "/config/status", masterKey, nil)
	if code != 200 {
		t.Fatalf("GET /config/status: %d %s", code, raw)
	}
	return m
}

// replaceFile writes data to a temp file next to path and renames it over
// path, as editors and the gateway's own writer do.
func replaceFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// gitIn runs git in dir with a fixed identity and no user configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
