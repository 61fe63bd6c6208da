package litellmimport

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/litellmtest"
)

const (
	gatewaySalt = "gateway-salt-0123456789"
	upstreamKey = "sk-upstream-global-secret-42"
	teamUpKey   = "sk-upstream-team-secret-43"
	virtualKey  = "sk-litellm-virtual-key-a1"
)

// seed fills a LiteLLM schema with two teams, keys and models, their
// params encrypted as LiteLLM does with salt.
func seed(t *testing.T, db *litellmtest.DB, salt string) {
	t.Helper()
	enc := func(s string) string { return litellmtest.EncryptNaCl(salt, s) }
	db.Exec(t, `INSERT INTO "LiteLLM_ModelTable" (id, aliases, created_by, updated_by) VALUES (7, '{"fast": "gpt-4o-team"}', 'admin', 'admin')`)
	db.Exec(t, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, members_with_roles, metadata,
		max_budget, soft_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit, budget_duration, budget_reset_at, model_spend, router_settings, model_id, created_at)
		VALUES ('team-a', 'search', 'org-1', ARRAY['u-admin'], ARRAY['u-1'], '[{"role": "admin", "user_id": "u-admin", "user_email": null}, {"role": "user", "user_id": "u-2"}, {"role": "user", "user_id": null, "user_email": "x@example.com"}]',
		'{"cost_center": "42", "logging": [{"callback_name": "langfuse", "callback_vars": {"langfuse_secret_key": "sk-lf-secret-99"}}]}', 100.5, 50, 12.25, ARRAY['gpt-4o', 'gpt-4o-team'], 4, 10000, 60, '30d', now(), '{"gpt-4o": 12.25}', '{"routing_strategy": "latency"}', 7, '2025-01-02 03:04:05')`)
	db.Exec(t, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, models, blocked, budget_duration) VALUES ('team-b', 'blocked team', ARRAY['all-proxy-models'], true, '1w')`)
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, expires, models, aliases, user_id, team_id, max_parallel_requests, metadata, blocked,
		tpm_limit, rpm_limit, max_budget, budget_duration, allowed_routes, spend, created_at)
		VALUES ($1, 'sk-...y-a1', 'search-prod', '2099-01-01 00:00:00', ARRAY['gpt-4o-team'], '{"x": "gpt-4o"}', 'u-2', 'team-a', 2, '{"env": "prod", "langfuse_secret_key": "sk-lf-secret-99"}', false,
		1000, 10, 5.5, '1d', ARRAY['/chat/completions'], 3.5, '2025-02-03 04:05:06')`, litellmtest.Token(virtualKey))
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, team_id, blocked) VALUES ($1, 'sk-...b', 'b-key', 'team-b', true)`, litellmtest.Token("sk-team-b-key"))
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias) VALUES ($1, 'sk-...c', 'no-team')`, litellmtest.Token("sk-no-team"))
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, team_id) VALUES ($1, 'sk-...d', 'litellm-dashboard')`, litellmtest.Token("sk-ui"))
	db.Exec(t, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, team_id) VALUES ('not-a-hash', 'sk-...e', 'team-a')`)
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES
		('m-global', 'gpt-4o', $1, '{"id": "m-global", "db_model": true, "base_model": "gpt-4o", "mode": "chat"}', 'admin', 'admin')`,
		`{"model": "`+enc("openai/gpt-4o")+`", "api_key": "`+enc(upstreamKey)+`", "api_base": "`+enc("https://api.openai.com/v1")+`", "rpm": 100, "use_in_pass_through": false, "foo": "`+enc("bar")+`"}`)
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES
		('m-team', 'model_name_team-a_m-team', $1, '{"id": "m-team", "team_id": "team-a", "team_public_model_name": "gpt-4o-team", "db_model": true}', 'admin', 'admin')`,
		`{"model": "`+litellmtest.EncryptGCM("v3", salt, "openai/gpt-4o-mini")+`", "api_key": "`+litellmtest.EncryptGCM("v2", salt, teamUpKey)+`", "api_base": "`+enc("https://api.openai.com/v1")+`"}`)
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES
		('m-wrong-salt', 'other', $1, '{}', 'admin', 'admin')`,
		`{"model": "openai/gpt-4o", "api_key": "`+litellmtest.EncryptNaCl("some-other-salt", "sk-lost")+`"}`)
	db.Exec(t, `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, blocked, created_by, updated_by) VALUES
		('m-blocked', 'blocked', '{"model": "openai/gpt-4o"}', true, 'admin', 'admin')`)
	db.Exec(t, `INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES ('u-2', 'u2@example.com')`)
	db.Exec(t, `INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, "startTime", "endTime") VALUES ('r1', 'completion', now(), now())`)
}

func gatewayDirs(t *testing.T) (Options, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfg, []byte("general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GATEWAY_SALT_KEY": gatewaySalt, "GATEWAY_MASTER_KEY": "sk-master-xyz", "LITELLM_SALT_KEY": "litellm-salt"}
	return Options{ConfigPath: cfg, TeamsDir: filepath.Join(dir, "teams.d"), ModelsDir: filepath.Join(dir, "models.d"),
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	}, env
}

func TestImportFromPostgres(t *testing.T) {
	t.Parallel()
	db := litellmtest.New(t)
	seed(t, db, "litellm-salt")
	dump, err := Read(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := gatewayDirs(t)

	// A dry run writes nothing and says what it would write.
	dry := opts
	dry.DryRun = true
	rep, err := Import(dump, dry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(opts.TeamsDir); !os.IsNotExist(err) {
		t.Fatalf("the dry run created %s (%v)", opts.TeamsDir, err)
	}
	if !rep.Changed() || !strings.HasPrefix(rep.Files[0], opts.TeamsDir) {
		t.Fatalf("dry run files = %v", rep.Files)
	}

	rep, err = Import(dump, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, _ = rep.WriteTo(&out)
	text := out.String()
	t.Log(text)
	want := Tally{Imported: 2}
	if rep.Teams != want {
		t.Errorf("teams = %+v, want %+v", rep.Teams, want)
	}
	if want := (Tally{Imported: 2, Skipped: 3}); rep.Keys != want {
		t.Errorf("keys = %+v, want %+v", rep.Keys, want)
	}
	if want := (Tally{Imported: 2, Skipped: 2}); rep.Models != want {
		t.Errorf("models = %+v, want %+v", rep.Models, want)
	}
	for _, s := range []string{"LITELLM_SALT_KEY", `team "team-a": not carried over: model_spend, router_settings, soft_budget, spend`,
		`key "search-prod" (token `, "aliases, spend", `key "no-team"`, "has no team_id", `"litellm-dashboard" is not in LiteLLM_TeamTable`,
		"not a sha256 hex digest", "(token not a hash)", `model "m-wrong-salt": litellm_params.api_key does not decrypt`, `model "m-blocked": blocked in LiteLLM`,
		"litellm_params.foo is a parameter the gateway does not know", "members_with_roles[2] has no user_id",
		"LiteLLM_SpendLogs: 1 rows", "metadata.logging may hold credentials", `key "search-prod" (token d6b875c1…): metadata.langfuse_secret_key may hold credentials`, "LiteLLM_UserTable: 1 rows"} {
		if !strings.Contains(text, s) {
			t.Errorf("the report lacks %q", s)
		}
	}
	for _, secret := range []string{"sk-lf-secret-99", "not-a-ha", upstreamKey, teamUpKey, virtualKey, "sk-lost", "litellm-salt", gatewaySalt} {
		if strings.Contains(text, secret) {
			t.Errorf("the report holds the secret %q", secret)
		}
	}

	// The files load as the gateway's configuration, keys by their hash.
	in, err := configs.ReadDirs(opts.ConfigPath, opts.TeamsDir, opts.ModelsDir)
	if err != nil {
		t.Fatal(err)
	}
	snap, problems := configs.Build(in, opts.Env)
	if snap == nil {
		t.Fatalf("the imported configuration does not build: %v", problems)
	}
	a := snap.Teams["team-a"]
	if a == nil || a.TeamAlias != "search" || *a.OrganizationID != "org-1" || *a.MaxBudget != 100.5 || *a.TPMLimit != 10000 || *a.RPMLimit != 60 ||
		*a.MaxParallelRequests != 4 || a.BudgetDuration != "30d" || a.ModelAliases["fast"] != "gpt-4o-team" || a.Metadata["cost_center"] != "42" {
		t.Fatalf("team-a = %+v", a)
	}
	if len(a.MembersWithRoles) != 3 || a.MembersWithRoles[0] != (configs.Member{UserID: "u-admin", Role: "admin"}) ||
		a.MembersWithRoles[1] != (configs.Member{UserID: "u-2", Role: "user"}) || a.MembersWithRoles[2] != (configs.Member{UserID: "u-1", Role: "user"}) {
		t.Errorf("members = %+v", a.MembersWithRoles)
	}
	if len(a.Keys) != 1 {
		t.Fatalf("team-a keys = %d", len(a.Keys))
	}
	k := a.Keys[0]
	if len(k.AllowedRoutes) != 1 || k.AllowedRoutes[0] != "/chat/completions" {
		t.Errorf("allowed_routes not carried over: %v", k.AllowedRoutes)
	}
	if k.Token != configs.HashKey(virtualKey) || k.KeyAlias != "search-prod" || k.UserID != "u-2" || k.Models[0] != "gpt-4o-team" ||
		k.Expires == nil || k.Expires.Year() != 2099 || *k.TPMLimit != 1000 || *k.MaxBudget != 5.5 || k.BudgetDuration != "1d" || k.Metadata["env"] != "prod" ||
		k.KeyName != "sk-...y-a1" || k.CreatedAt.Format(time.RFC3339) != "2025-02-03T04:05:06Z" {
		t.Errorf("key = %+v", k)
	}
	b := snap.Teams["team-b"]
	if b == nil || !b.Blocked || len(b.Models) != 0 || b.BudgetDuration != "1w" || len(b.Keys) != 1 || !b.Keys[0].Blocked {
		t.Errorf("team-b = %+v", b)
	}
	keys := configs.SaltKeys{Current: gatewaySalt}
	if len(snap.Global) != 1 || snap.Global[0].ModelName != "gpt-4o" || snap.Global[0].LiteLLMParams.Model != "openai/gpt-4o" ||
		*snap.Global[0].LiteLLMParams.RPM != 100 || snap.Global[0].ModelInfo.BaseModel != "gpt-4o" || snap.Global[0].ModelInfo.Extra["mode"] != "chat" {
		t.Fatalf("global = %+v", snap.Global)
	}
	td := snap.TeamDeployments["team-a"]
	if len(td) != 1 || td[0].ModelName != "model_name_team-a_m-team" || td[0].ModelInfo.TeamPublicModelName != "gpt-4o-team" || td[0].LiteLLMParams.Model != "openai/gpt-4o-mini" {
		t.Fatalf("team deployments = %+v", td)
	}
	// The upstream keys are stored encrypted with the gateway's salt key,
	// bound to their deployment.
	for _, c := range []struct {
		file, team, id, key string
	}{{filepath.Join(opts.ModelsDir, "global", "m-global.yaml"), "", "m-global", upstreamKey}, {filepath.Join(opts.ModelsDir, "team-a", "m-team.yaml"), "team-a", "m-team", teamUpKey}} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		w, err := configs.ReadDeployment(data, c.id)
		if err != nil || w == nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !strings.HasPrefix(w.LiteLLMParams.APIKey, configs.EncBoundPrefix) {
			t.Fatalf("%s: api_key %q is not enc:v2:", c.file, w.LiteLLMParams.APIKey)
		}
		if plain, _, err := keys.Open(configs.Binding{TeamID: c.team, ModelID: c.id}, w.LiteLLMParams.APIKey); err != nil || plain != c.key {
			t.Errorf("%s: the api_key does not open for its deployment: %v", c.file, err)
		}
	}
	grep(t, filepath.Dir(opts.TeamsDir), upstreamKey, teamUpKey, virtualKey, "sk-lf-secret-99")
	if _, ok := a.Metadata["logging"]; ok {
		t.Errorf("metadata.logging was carried over")
	}

	// Again: nothing changes.
	before := tree(t, filepath.Dir(opts.TeamsDir))
	rep, err = Import(dump, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() || rep.Teams.Existing != 2 || rep.Keys.Existing != 2 || rep.Models.Existing != 2 || rep.Teams.Imported+rep.Keys.Imported+rep.Models.Imported != 0 {
		t.Errorf("second run: %+v", rep)
	}
	if after := tree(t, filepath.Dir(opts.TeamsDir)); after != before {
		t.Errorf("the second run changed the files")
	}
}

// Without LITELLM_SALT_KEY, LITELLM_MASTER_KEY decrypts (LiteLLM's own
// fallback); with neither, encrypted models are skipped with a message.
func TestImportSaltKeyFallback(t *testing.T) {
	t.Parallel()
	db := litellmtest.New(t)
	seed(t, db, "litellm-master")
	dump, err := Read(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts, env := gatewayDirs(t)
	delete(env, "LITELLM_SALT_KEY")
	delete(env, "GATEWAY_SALT_KEY")
	env["LITELLM_SALT_KEY"] = "" // set but empty: as unset
	opts.DryRun = true
	rep, err := Import(dump, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaltKeyFrom != "" || rep.Models.Imported != 0 {
		t.Errorf("no key: %+v", rep)
	}
	var out bytes.Buffer
	_, _ = rep.WriteTo(&out)
	if !strings.Contains(out.String(), "neither LITELLM_SALT_KEY nor LITELLM_MASTER_KEY is set") || !strings.Contains(out.String(), "the gateway has no salt key") ||
		!strings.Contains(out.String(), "environment variable GATEWAY_SALT_KEY is not set") {
		t.Errorf("report:\n%s", out.String())
	}
	env["LITELLM_MASTER_KEY"] = "litellm-master"
	env["GATEWAY_SALT_KEY"] = gatewaySalt
	rep, err = Import(dump, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaltKeyFrom != "LITELLM_MASTER_KEY" || rep.Models.Imported != 2 {
		t.Errorf("master key fallback: %+v", rep)
	}

	// A LiteLLM environment as it is: the gateway's salt key is
	// LITELLM_SALT_KEY too (GATEWAY_SALT_KEY unset), and the report says so.
	delete(env, "GATEWAY_SALT_KEY")
	env["LITELLM_SALT_KEY"] = "litellm-master"
	rep, err = Import(dump, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaltKeyFrom != "LITELLM_SALT_KEY" || rep.Models.Imported != 2 || !strings.Contains(strings.Join(rep.Notes, "\n"), "using LITELLM_SALT_KEY instead") {
		t.Errorf("LiteLLM's environment: %+v", rep)
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	if _, err := Read(context.Background(), "mysql://u:secretpw@h/db"); err == nil || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("err = %v", err)
	}
	db := litellmtest.New(t)
	db.Exec(t, `DROP TABLE "LiteLLM_TeamTable" CASCADE`)
	if _, err := Read(context.Background(), db.URL); err == nil || !strings.Contains(err.Error(), `no table "LiteLLM_TeamTable"`) {
		t.Errorf("err = %v", err)
	}
}

func grep(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a plaintext secret", p)
			}
		}
		return nil
	})
}

func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		b.WriteString(p + "\n" + string(data) + "\n")
		return nil
	})
	return b.String()
}
