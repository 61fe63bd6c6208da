package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

const (
	operatorUpKey = "sk-operator-upstream-key-7f1c2e"
	teamRawKey    = "sk-team-a-own-upstream-key-41d0"
	oldSalt       = "old-salt-key-0123456789"
	newSalt       = "new-salt-key-9876543210"
)

// secretsGateway writes two teams (keyA, keyB, plain members), a global
// model on up with the operator's key from the environment, and a settings
// file that lets team keys use loopback upstreams (the fake ones).
func secretsGateway(t *testing.T, up *fakeUpstream) ([]string, string) {
	t.Helper()
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	t.Setenv("GATEWAY_SALT_KEY_PREVIOUS", "")
	t.Setenv("OPERATOR_UPSTREAM_KEY", operatorUpKey)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"  team_api_base_allow: [127.0.0.1]\n",
		"teams.d/a.yaml": teamYAML(teamA, "search", keyA),
		"teams.d/b.yaml": teamYAML(teamB, "other", keyB),
		"models.d/global/gpt.yaml": "# the operator's model, reviewed in git\nmodel_list:\n  - model_name: gpt-global\n" +
			"    litellm_params: {model: openai/gpt-4o, api_base: " + up.url + "/v1, api_key: os.environ/OPERATOR_UPSTREAM_KEY}\n    model_info: {id: global-1}\n",
	})
	return []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state")}, dir
}

// neverReceived fails if any request up received carries one of secrets
// in its headers, query or body.
func neverReceived(t *testing.T, up *fakeUpstream, secrets ...string) {
	t.Helper()
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, r := range up.requests {
		all := fmt.Sprint(r.Header, r.Query, r.Body)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("the upstream at %s received a secret (%s...) in %s %s", up.url, s[:6], r.Method, r.Path)
			}
		}
	}
}

// filesUnder lists the files under dir (relative paths).
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// Observation 1: a team member's /model/new with os.environ/ values that
// name the gateway's own secrets is a 403, writes nothing, and no secret
// ever reaches the member's upstream.
func TestSecretsTeamCannotReadOperatorEnvironment(t *testing.T) {
	up, evil := newFakeUpstream(t), newFakeUpstream(t)
	args, dir := secretsGateway(t, up)
	g := startGateway(t, args...)
	before := filesUnder(t, filepath.Join(dir, "models.d"))

	for _, params := range []map[string]any{
		{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": "os.environ/GATEWAY_MASTER_KEY"},
		{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": "os.environ/GATEWAY_SALT_KEY"},
		{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": "os.environ/OPERATOR_UPSTREAM_KEY"},
		{"model": "openai/gpt-4o", "api_key": "os.environ/OPERATOR_UPSTREAM_KEY"}, // the operator's key at the default base
		{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "organization": "os.environ/GATEWAY_MASTER_KEY", "api_key": "sk-mine-0123456789"},
		{"model": "azure/gpt-4o", "api_base": evil.url, "api_version": "os.environ/GATEWAY_MASTER_KEY", "api_key": "sk-mine-0123456789"},
	} {
		for _, key := range []string{keyA, keyB} {
			code, m, raw := g.do(t, "POST", "/model/new", key, map[string]any{"model_name": "exfil", "litellm_params": params})
			e := errorOf(t, m, raw)
			if code != 403 || e["type"] != "permission_error" || !strings.Contains(e["message"].(string), "only for the master key") ||
				!strings.Contains(e["message"].(string), "ask an operator") {
				t.Errorf("%v: %d %s, want 403 saying to send the value or ask an operator", params, code, raw)
			}
		}
	}
	// /model/update of the team's own model is refused the same way.
	own := g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "mine",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": teamRawKey}})
	id := own["model_id"].(string)
	code, _, raw := g.do(t, "POST", "/model/update", keyA, map[string]any{"model_info": map[string]any{"id": id},
		"litellm_params": map[string]any{"api_key": "os.environ/GATEWAY_MASTER_KEY"}})
	if code != 403 {
		t.Errorf("/model/update with os.environ/: %d %s", code, raw)
	}
	if got := filesUnder(t, filepath.Join(dir, "models.d")); len(got) != len(before)+1 {
		t.Errorf("refused calls wrote files: %v (before %v)", got, before)
	}
	// The member's model works with its own key, and nothing else reaches
	// its upstream.
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("mine", false)); code != 200 {
		t.Fatalf("own model: %d %s", code, raw)
	}
	if h := evil.last().Header.Get("Authorization"); h != "Bearer "+teamRawKey {
		t.Errorf("own model sent Authorization %q", h)
	}
	neverReceived(t, evil, masterKey, saltKey, operatorUpKey)
	// The master key may still reference the environment.
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "ops", "model_info": map[string]any{"team_id": teamA},
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": "os.environ/OPERATOR_UPSTREAM_KEY"}})
}

// Observation 2: a team's encrypted key is bound to its team and
// deployment. Copied into another team's /model/new it is refused; copied
// into another team's file it does not decrypt: the reload is rejected
// with path:line:col and the last good configuration keeps serving.
func TestSecretsCopiedCiphertextDoesNotDecrypt(t *testing.T) {
	up, evil := newFakeUpstream(t), newFakeUpstream(t)
	args, dir := secretsGateway(t, up)
	g := startGateway(t, args...)
	m := g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "a-model",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": teamRawKey}})
	idA := m["model_id"].(string)
	if k, _ := m["litellm_params"].(map[string]any)["api_key"].(string); !strings.Contains(k, "****") || strings.Contains(k, teamRawKey) {
		t.Errorf("stored view of the key: %v", k)
	}
	fileA, err := os.ReadFile(filepath.Join(dir, "models.d", teamA, idA+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	enc := regexp.MustCompile(`enc:v2:[A-Za-z0-9_-]+`).FindString(string(fileA))
	if enc == "" || !bytes.Contains(fileA, []byte("api_key_set_by: team")) {
		t.Fatalf("team A's file:\n%s", fileA)
	}

	// Through the API: a team key may not send an enc: value at all, and
	// the master's is checked against the deployment it is for.
	for _, key := range []string{keyB, keyA} {
		code, m, raw := g.do(t, "POST", "/model/new", key, map[string]any{"model_name": "stolen",
			"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": enc}})
		if e := errorOf(t, m, raw); code != 403 || !strings.Contains(e["message"].(string), "send the raw upstream key") {
			t.Errorf("team /model/new with a copied enc: value: %d %s", code, raw)
		}
	}
	code, em, raw := g.do(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "stolen", "model_info": map[string]any{"team_id": teamB},
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": evil.url + "/v1", "api_key": enc}})
	if e := errorOf(t, em, raw); code != 400 || !strings.Contains(e["message"].(string), "does not decrypt for this deployment") {
		t.Errorf("master /model/new with another deployment's value: %d %s", code, raw)
	}

	// By hand: the value copied into team B's file (and into another of
	// team A's deployments) does not decrypt when the configuration loads.
	copied := filepath.Join(dir, "models.d", teamB, "stolen.yaml")
	writeFiles(t, dir, map[string]string{filepath.Join("models.d", teamB, "stolen.yaml"): "model_list:\n  - model_name: model_name_b_stolen\n" +
		"    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + evil.url + "/v1\n      api_key: " + enc + "\n" +
		"    model_info: {id: stolen, team_id: " + teamB + ", team_public_model_name: stolen, api_key_set_by: team}\n"})
	want := copied + ":6:16: api_key cannot be decrypted"
	eventually(t, "the reload is rejected", func() (bool, string) {
		st := g.configStatus(t)
		errs, _ := st["errors"].([]any)
		return st["ok"] == false && len(errs) > 0 && strings.HasPrefix(fmt.Sprint(errs[0]), want), fmt.Sprint(st)
	})
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyB, chatBody("stolen", false)); code == 200 {
		t.Errorf("team B calls the copied key: %d %s", code, raw)
	}
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("a-model", false)); code != 200 {
		t.Errorf("team A after the rejected reload: %d %s", code, raw)
	}
	if h := up.last().Header.Get("Authorization"); h != "Bearer "+teamRawKey {
		t.Errorf("team A's upstream got %q", h)
	}
	if evil.count() != 0 {
		t.Errorf("team B's upstream was called %d times", evil.count())
	}
	// The same value in a fresh start: the gateway refuses to start, naming
	// the position.
	g.stop()
	var logs syncBuffer
	if code := serve(t.Context(), append(args, "--addr", "127.0.0.1:0"), &logs, func(string) { t.Error("started with a copied key") }); code == 0 ||
		!strings.Contains(logs.String(), want) {
		t.Errorf("start with a copied key: exit %d\n%s", code, logs.String())
	}
}

// Observation 3: a member cannot point a model whose key the operator set
// at its own server, nor change or delete it; and a change of endpoint
// drops a stored key unless the same call supplies one.
func TestSecretsKeysFollowTheirEndpoint(t *testing.T) {
	up, evil := newFakeUpstream(t), newFakeUpstream(t)
	args, dir := secretsGateway(t, up)
	g := startGateway(t, args...)
	// The master adds a model for team A with the operator's key.
	ops := g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "ops-model", "model_info": map[string]any{"team_id": teamA},
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": "os.environ/OPERATOR_UPSTREAM_KEY"}})
	opsID := ops["model_id"].(string)
	if info := ops["model_info"].(map[string]any); info["api_key_set_by"] != "master" {
		t.Errorf("model_info: %v", info)
	}
	opsFile := filepath.Join(dir, "models.d", teamA, opsID+".yaml")
	written, _ := os.ReadFile(opsFile)

	for _, body := range []map[string]any{
		{"litellm_params": map[string]any{"api_base": evil.url + "/v1"}},
		{"litellm_params": map[string]any{"api_base": evil.url + "/v1", "api_key": "sk-mine-0123456789"}},
		{"litellm_params": map[string]any{"model": "openai/gpt-4o-expensive"}},
		{"litellm_params": map[string]any{"input_cost_per_token": 0, "output_cost_per_token": 0}},
		{"model_info": map[string]any{"api_key_set_by": "team"}},
	} {
		info, _ := body["model_info"].(map[string]any)
		if info == nil {
			info = map[string]any{}
		}
		info["id"] = opsID
		body["model_info"] = info
		code, m, raw := g.do(t, "POST", "/model/update", keyA, body)
		if e := errorOf(t, m, raw); code != 403 || e["type"] != "permission_error" || !strings.Contains(e["message"].(string), "only the master key") {
			t.Errorf("member /model/update %v: %d %s", body, code, raw)
		}
	}
	if code, _, raw := g.do(t, "POST", "/model/delete", keyA, map[string]any{"id": opsID}); code != 403 {
		t.Errorf("member /model/delete of the master's model: %d %s", code, raw)
	}
	// A hand-written global model is the operator's too (only the master
	// may change global models anyway).
	if code, _, _ := g.do(t, "POST", "/model/update", keyA, map[string]any{"model_info": map[string]any{"id": "global-1"}, "litellm_params": map[string]any{"api_base": evil.url}}); code != 403 {
		t.Errorf("member update of a global model: %d", code)
	}
	if now, _ := os.ReadFile(opsFile); !bytes.Equal(now, written) {
		t.Errorf("refused updates changed the file:\n%s", now)
	}
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("ops-model", false)); code != 200 || up.last().Header.Get("Authorization") != "Bearer "+operatorUpKey {
		t.Errorf("ops-model: %d %s", code, raw)
	}

	// The master moving its own model to another endpoint drops the key
	// too: it was given for the old endpoint only.
	upd := g.ok(t, "POST", "/model/update", masterKey, map[string]any{"model_info": map[string]any{"id": opsID}, "litellm_params": map[string]any{"api_base": evil.url + "/v1"}})
	if _, has := upd["litellm_params"].(map[string]any)["api_key"]; has {
		t.Errorf("the key survived the endpoint change: %v", upd)
	}
	g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("ops-model", false))
	if evil.count() == 0 {
		t.Fatal("the moved model did not reach its new endpoint")
	}

	// A team's own model: it may move it, and its key stays behind unless
	// sent again.
	own := g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "own-model",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": teamRawKey}})
	ownID := own["model_id"].(string)
	g.ok(t, "POST", "/model/update", keyA, map[string]any{"model_info": map[string]any{"id": ownID}, "litellm_params": map[string]any{"rpm": 100}})
	if code, _, _ := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("own-model", false)); code != 200 || up.last().Header.Get("Authorization") != "Bearer "+teamRawKey {
		t.Errorf("own model after an rpm change: %d %q", code, up.last().Header.Get("Authorization"))
	}
	g.ok(t, "POST", "/model/update", keyA, map[string]any{"model_info": map[string]any{"id": ownID}, "litellm_params": map[string]any{"api_base": evil.url + "/v2"}})
	g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("own-model", false))
	if r := evil.last(); r.Path != "/v2/chat/completions" || r.Header.Get("Authorization") != "" {
		t.Errorf("moved own model: %s with Authorization %q", r.Path, r.Header.Get("Authorization"))
	}
	g.ok(t, "POST", "/model/update", keyA, map[string]any{"model_info": map[string]any{"id": ownID}, "litellm_params": map[string]any{"api_key": "sk-new-team-key-0123"}})
	g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("own-model", false))
	if h := evil.last().Header.Get("Authorization"); h != "Bearer sk-new-team-key-0123" {
		t.Errorf("own model with its new key: %q", h)
	}
	g.ok(t, "POST", "/model/delete", keyA, map[string]any{"id": ownID})
	neverReceived(t, evil, operatorUpKey, masterKey, teamRawKey)
}

// gateway rotate-salt, end to end: rotate the files, restart with the new
// key and the previous one, then with the new key alone.
func TestSecretsRotateSalt(t *testing.T) {
	up := newFakeUpstream(t)
	args, dir := secretsGateway(t, up)
	t.Setenv("GATEWAY_SALT_KEY", oldSalt)
	legacy, _ := configs.Encrypt(oldSalt, "sk-legacy-global-key-77")
	writeFiles(t, dir, map[string]string{"models.d/global/legacy.yaml": "# a legacy hand-written key, no id\nmodel_list:\n  - model_name: legacy\n" +
		"    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + up.url + "/v1\n      api_key: " + legacy + "  # from gateway encrypt\n"})
	g := startGateway(t, args...)
	teamModel := g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "a-model",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": teamRawKey}})["model_id"].(string)
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "global-raw",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": "sk-global-raw-key-55"}})
	g.stop()
	rotateArgs := []string{"rotate-salt", args[0], args[1], args[2], args[3], args[4], args[5]}
	teamFile := filepath.Join(dir, "models.d", teamA, teamModel+".yaml")
	oldTeamFile, _ := os.ReadFile(teamFile)

	// Without the new key in the environment: a usage error.
	var out, errb bytes.Buffer
	t.Setenv("GATEWAY_SALT_KEY_NEW", "")
	if code := run(rotateArgs, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "GATEWAY_SALT_KEY_NEW is not set") {
		t.Fatalf("no new key: exit %d %s", code, errb.String())
	}
	t.Setenv("GATEWAY_SALT_KEY_NEW", newSalt)
	out.Reset()
	if code := run(append(rotateArgs, "--dry-run"), nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "dry run: 3 values in 3 files") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if now, _ := os.ReadFile(teamFile); !bytes.Equal(now, oldTeamFile) {
		t.Fatal("the dry run wrote")
	}
	out.Reset()
	if code := run(rotateArgs, nil, &out, &errb); code != 0 {
		t.Fatalf("rotate-salt: exit %d\n%s%s", code, out.String(), errb.String())
	}
	report := out.String()
	for _, want := range []string{"rotated 3 values in 3 files", teamFile, "legacy.yaml:7:16: re-encrypted api_key of model", "generated model_info.id is now written", "commit"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	for _, s := range []string{oldSalt, newSalt, teamRawKey, "sk-global-raw-key-55", "sk-legacy-global-key-77"} {
		if strings.Contains(report+errb.String(), s) {
			t.Errorf("the report shows a secret")
		}
	}
	grepTree(t, dir, teamRawKey)
	if b, _ := os.ReadFile(filepath.Join(dir, "models.d/global/legacy.yaml")); !strings.Contains(string(b), "# a legacy hand-written key") ||
		!strings.Contains(string(b), "# from gateway encrypt") || !strings.Contains(string(b), "api_key: enc:v2:") {
		t.Errorf("legacy file after rotation:\n%s", b)
	}
	// Run again with the old key as the current one: the rotated values no
	// longer open, so the configuration does not load and nothing is
	// written; with the new key as the current one there is nothing to do.
	out.Reset()
	errb.Reset()
	if code := run(rotateArgs, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "cannot be decrypted") {
		t.Errorf("second run with the old key: exit %d %s %s", code, out.String(), errb.String())
	}
	t.Setenv("GATEWAY_SALT_KEY", newSalt)
	out.Reset()
	if code := run(rotateArgs, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "nothing to rotate: 3 values") {
		t.Errorf("second run with the new key: exit %d %s %s", code, out.String(), errb.String())
	}

	check := func(g *gatewayProc) {
		t.Helper()
		for _, c := range []struct{ key, model, upKey string }{{keyA, "a-model", teamRawKey}, {keyA, "global-raw", "sk-global-raw-key-55"}, {keyB, "legacy", "sk-legacy-global-key-77"}} {
			if code, _, raw := g.do(t, "POST", "/v1/chat/completions", c.key, chatBody(c.model, false)); code != 200 {
				t.Errorf("%s: %d %s", c.model, code, raw)
			} else if h := up.last().Header.Get("Authorization"); h != "Bearer "+c.upKey {
				t.Errorf("%s sent %q", c.model, h)
			}
		}
	}
	// During the rotation: new key and the previous one.
	t.Setenv("GATEWAY_SALT_KEY", newSalt)
	t.Setenv("GATEWAY_SALT_KEY_PREVIOUS", oldSalt)
	g = startGateway(t, args...)
	check(g)
	if st := g.configStatus(t); !strings.Contains(fmt.Sprint(st), "GATEWAY_SALT_KEY_PREVIOUS is set") {
		t.Errorf("status does not warn about the rotation under way: %v", st)
	}
	// New values are encrypted with the new key.
	id := g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "after",
		"litellm_params": map[string]any{"model": "openai/gpt-4o", "api_base": up.url + "/v1", "api_key": "sk-after-rotation-1"}})["model_id"].(string)
	b, _ := os.ReadFile(filepath.Join(dir, "models.d", teamA, id+".yaml"))
	enc := regexp.MustCompile(`enc:v2:[A-Za-z0-9_-]+`).FindString(string(b))
	if p, err := configs.DecryptBound(newSalt, configs.Binding{TeamID: teamA, ModelID: id}, enc); err != nil || p != "sk-after-rotation-1" {
		t.Errorf("a new value is not under the new key: %v", err)
	}
	g.stop()
	// Finished: the new key alone.
	t.Setenv("GATEWAY_SALT_KEY_PREVIOUS", "")
	g = startGateway(t, args...)
	check(g)
	if st := g.configStatus(t); strings.Contains(fmt.Sprint(st), "PREVIOUS") {
		t.Errorf("status: %v", st)
	}
	g.stop()
	// The old key alone no longer opens the files.
	t.Setenv("GATEWAY_SALT_KEY", oldSalt)
	var logs syncBuffer
	if code := serve(t.Context(), append(args, "--addr", "127.0.0.1:0"), &logs, func(string) { t.Error("started with the old key") }); code == 0 {
		t.Errorf("start with the old key: exit 0\n%s", logs.String())
	}
}

// rotate-salt --commit makes the rotation one git commit of exactly the
// rewritten files.
func TestSecretsRotateSaltCommit(t *testing.T) {
	up := newFakeUpstream(t)
	args, dir := secretsGateway(t, up)
	enc, _ := configs.EncryptBound(saltKey, configs.Binding{TeamID: teamA, ModelID: "m1"}, teamRawKey)
	writeFiles(t, dir, map[string]string{
		"models.d/a/m1.yaml": "model_list:\n  - model_name: model_name_a_m1\n    litellm_params: {model: openai/gpt-4o, api_key: " + enc + "}\n" +
			"    model_info: {id: m1, team_id: " + teamA + ", team_public_model_name: m, api_key_set_by: team}\n",
		"notes.txt": "unrelated, modified but not staged\n",
	})
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-qm", "initial")
	writeFiles(t, dir, map[string]string{"notes.txt": "changed\n"})
	t.Setenv("GATEWAY_SALT_KEY_NEW", newSalt)
	var out, errb bytes.Buffer
	if code := run([]string{"rotate-salt", args[0], args[1], args[2], args[3], args[4], args[5], "--commit"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "committed ") {
		t.Errorf("report: %s", out.String())
	}
	if files := gitIn(t, dir, "show", "--name-only", "--format=%s", "HEAD"); !strings.HasPrefix(files, "Rotate the salt key: re-encrypt 1 values in 1 files") ||
		!strings.Contains(files, "models.d/a/m1.yaml") || strings.Contains(files, "notes.txt") {
		t.Errorf("commit:\n%s", files)
	}
	if st := gitIn(t, dir, "status", "--porcelain"); strings.TrimSpace(st) != "M notes.txt" {
		t.Errorf("work tree after the commit: %q", st)
	}
}
