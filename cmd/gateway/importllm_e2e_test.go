package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/litellmtest"
)

// A LiteLLM deployment moves over: `gateway import-litellm` reads its
// PostgreSQL database (LiteLLM's schema, params encrypted as LiteLLM
// does), the gateway starts on the files it wrote, and LiteLLM's virtual
// key calls the imported models through the running server.
func TestImportLiteLLMEndToEnd(t *testing.T) {
	const (
		litellmSalt = "litellm-salt-for-e2e"
		virtual     = "sk-litellm-e2e-virtual-key"
		upGlobal    = "sk-upstream-global-e2e"
		upTeam      = "sk-upstream-team-e2e"
	)
	db := litellmtest.New(t)
	up := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	t.Setenv("LITELLM_SALT_KEY", litellmSalt)
	enc := func(s string) string { return litellmtest.EncryptNaCl(litellmSalt, s) }

	db.Exec(t, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles, models, tpm_limit, max_budget, budget_duration)
		VALUES ('team-e2e', 'imported', '[{"role": "admin", "user_id": "u-1"}]', ARRAY['gpt-4o', 'team-mini'], 100000, 50, '30d')`)
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, user_id, team_id, rpm_limit, metadata)
		VALUES ($1, 'sk-...-key', 'e2e-key', 'u-1', 'team-e2e', 100, '{"owner": "search"}')`, litellmtest.Token(virtual))
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES
		('e2e-global', 'gpt-4o', $1, '{"id": "e2e-global", "db_model": true}', 'admin', 'admin')`,
		`{"model": "`+enc("openai/gpt-4o")+`", "api_key": "`+enc(upGlobal)+`", "api_base": "`+enc(up.url+"/v1")+`"}`)
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES
		('e2e-team', 'model_name_team-e2e_e2e-team', $1, '{"id": "e2e-team", "team_id": "team-e2e", "team_public_model_name": "team-mini", "db_model": true}', 'admin', 'admin')`,
		`{"model": "`+litellmtest.EncryptGCM("v3", litellmSalt, "openai/gpt-4o-mini")+`", "api_key": "`+litellmtest.EncryptGCM("v3", litellmSalt, upTeam)+`", "api_base": "`+enc(up.url+"/v1")+`"}`)

	importArgs := []string{"import-litellm", "--database-url", db.URL, "--config", filepath.Join(dir, "gateway.yaml"),
		"--teams-dir", filepath.Join(dir, "teams.d"), "--models-dir", filepath.Join(dir, "models.d")}
	var out, errOut bytes.Buffer
	if code := run(append(importArgs, "--dry-run"), nil, &out, &errOut); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "teams.d")); !os.IsNotExist(err) || !strings.Contains(out.String(), "dry run, nothing was written") {
		t.Fatalf("the dry run wrote files (%v):\n%s", err, out.String())
	}
	out.Reset()
	if code := run(importArgs, nil, &out, &errOut); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut.String())
	}
	report := out.String()
	if !strings.Contains(report, "teams:  1 imported") || !strings.Contains(report, "keys:   1 imported") || !strings.Contains(report, "models: 2 imported") {
		t.Fatalf("report:\n%s", report)
	}
	for _, s := range []string{virtual, upGlobal, upTeam, litellmSalt, saltKey, "gw:gw"} {
		if strings.Contains(report+errOut.String(), s) {
			t.Errorf("the output holds the secret %q", s)
		}
	}
	grepTree(t, dir, upGlobal)
	grepTree(t, dir, upTeam)
	grepTree(t, dir, virtual)
	out.Reset()
	if code := run(importArgs, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "no file written") || !strings.Contains(out.String(), "1 already present") {
		t.Fatalf("second import: exit %d:\n%s%s", code, out.String(), errOut.String())
	}

	g := startGateway(t, args...)
	for _, c := range []struct{ model, upstreamModel, upstreamKey string }{{"gpt-4o", "gpt-4o", upGlobal}, {"team-mini", "gpt-4o-mini", upTeam}} {
		client := openaiClient(g, virtual)
		resp, err := client.Chat.Completions.New(context.Background(), userSays(c.model, "hello"))
		if err != nil {
			t.Fatalf("chat %s with the imported key: %v\n%s", c.model, err, g.logs.String())
		}
		if resp.Model != c.model {
			t.Errorf("answer model %q", resp.Model)
		}
		got := up.last()
		if got.Header.Get("Authorization") != "Bearer "+c.upstreamKey || got.Body["model"] != c.upstreamModel {
			t.Errorf("%s: upstream got Authorization %q model %v", c.model, got.Header.Get("Authorization"), got.Body["model"])
		}
	}
	// The imported objects are the API's: /key/info and /team/info show them.
	info := g.ok(t, "GET", "/key/info?key="+configs.HashKey(virtual), masterKey, nil)
	if ki, _ := info["info"].(map[string]any); ki == nil || ki["key_alias"] != "e2e-key" || ki["team_id"] != "team-e2e" || ki["rpm_limit"] != float64(100) {
		t.Errorf("/key/info: %v", info)
	}
	team := g.ok(t, "GET", "/team/info?team_id=team-e2e", masterKey, nil)
	if ti, _ := team["team_info"].(map[string]any); ti == nil || ti["team_alias"] != "imported" || ti["max_budget"] != float64(50) {
		t.Errorf("/team/info: %v", team)
	}
	// The imported team takes API writes like any other.
	g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": "team-e2e", "key_alias": "after-import"})
}

func TestImportLiteLLMFlags(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"import-litellm"}, nil, &out, &errOut); code != 2 && os.Getenv("DATABASE_URL") == "" {
		t.Errorf("no --database-url: exit %d", code)
	}
	errOut.Reset()
	if code := run([]string{"import-litellm", "--database-url", "mysql://u:pw-secret@h/db"}, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "postgres://") || strings.Contains(errOut.String(), "pw-secret") {
		t.Errorf("bad URL: exit %d: %s", code, errOut.String())
	}
}
