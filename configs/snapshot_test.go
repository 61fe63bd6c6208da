package configs

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestDemoSnapshot(t *testing.T) {
	snap, ps := loadCase(t, "testdata/good/demo")
	if snap == nil {
		t.Fatalf("no snapshot: %v", ps)
	}
	const teamID = "e59e2671-a064-436a-a0fa-16ae96e5a0a1"

	s := snap.Settings
	if s.MasterKey != "sk-master-test" || s.SaltKey != "test-salt-key" {
		t.Errorf("master/salt = %q/%q", s.MasterKey, s.SaltKey)
	}
	if s.Timeout != 600*time.Second || s.MaxRequestBody != 8<<20 || s.RescanInterval != 30*time.Second {
		t.Errorf("defaults: timeout %v, body %d, rescan %v", s.Timeout, s.MaxRequestBody, s.RescanInterval)
	}
	if g := s.GitOps; g.AuthorName != "gateway" || g.AuthorEmail != "gateway@localhost" || g.Remote != "origin" || g.Commit {
		t.Errorf("gitops = %+v", g)
	}

	team := snap.Teams[teamID]
	if team == nil || len(snap.Teams) != 1 {
		t.Fatalf("teams = %v", snap.Teams)
	}
	if team.Source != (Pos{"teams.d/search.yaml", 1, 1}) {
		t.Errorf("team source = %v", team.Source)
	}
	if team.TPMLimit == nil || *team.TPMLimit != 100000 || team.MaxBudget == nil || *team.MaxBudget != 50 || team.BudgetDuration != "30d" {
		t.Errorf("team limits = %+v", team.Limits)
	}
	if team.OrganizationID != nil || team.CreatedAt == nil || !team.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("organization_id %v, created_at %v", team.OrganizationID, team.CreatedAt)
	}
	if len(team.Keys) != 2 || team.Keys[0].Source != (Pos{"teams.d/search.yaml", 20, 5}) || team.Keys[0].KeyAlias != "ci" {
		t.Fatalf("keys = %+v", team.Keys)
	}
	if k := team.Keys[1]; k.Expires == nil || k.Expires.Year() != 2027 {
		t.Errorf("quoted expires not parsed: %v", k.Expires)
	}
	if team.Keys[0].Token != HashKey("sk-demo-key-1") {
		t.Errorf("token = %s", team.Keys[0].Token)
	}

	if len(snap.Global) != 1 {
		t.Fatalf("global = %v", snap.Global)
	}
	g := snap.Global[0]
	if g.Provider != "openai" || g.UpstreamModel != "gpt-4o-mini" || g.APIKey != "sk-openai-test" || g.ModelInfo.ID != "global-gpt-4o-mini" {
		t.Errorf("global deployment = %+v", g)
	}
	if g.Source != (Pos{"models.d/global/gpt.yaml", 2, 5}) {
		t.Errorf("global source = %v", g.Source)
	}

	own := snap.TeamDeployments[teamID]
	if len(own) != 2 {
		t.Fatalf("team deployments = %v", own)
	}
	az, mock := own[0], own[1]
	if az.Provider != "azure" || az.UpstreamModel != "my-finetune" || az.APIKey != "sk-azure-secret-1234" ||
		az.LiteLLMParams.APIVersion != "2023-12-01-preview" || az.PublicName() != "my-team-model" {
		t.Errorf("azure deployment = %+v", az)
	}
	wantExtra := map[string]any{"description": "our fine-tune", "metadata": map[string]any{"owner": "search"}}
	if !reflect.DeepEqual(az.ModelInfo.Extra, wantExtra) {
		t.Errorf("model_info extra = %#v, want %#v", az.ModelInfo.Extra, wantExtra)
	}
	if mock.Provider != "mock" || mock.UpstreamModel != "echo" || mock.APIKey != "" || mock.ModelInfo.ID != DeploymentID(mock) {
		t.Errorf("mock deployment = %+v", mock)
	}

	for _, f := range []string{EmbeddedConfigPath, "teams.d/search.yaml", "models.d/global/empty.yaml", "models.d/global/gpt.yaml"} {
		if len(snap.Files[f]) != 64 {
			t.Errorf("Files[%q] = %q", f, snap.Files[f])
		}
	}
	if len(snap.Files) != 6 || len(snap.Hash) != 64 {
		t.Errorf("files %d, hash %q", len(snap.Files), snap.Hash)
	}
}

func TestDeterministic(t *testing.T) {
	in := Input{Models: []File{{Path: "models.d/m.yaml", Data: []byte("model_list:\n  - model_name: m\n    litellm_params: {model: mock/x, rpm: 5}\n")}}}
	env := envMap(map[string]string{"GATEWAY_MASTER_KEY": "m", "GATEWAY_SALT_KEY": "s"})
	a, _ := Build(in, env)
	b, _ := Build(in, env)
	if a == nil || b == nil {
		t.Fatal("no snapshot")
	}
	// A golden value: the id must never change between releases, or every
	// deployment without model_info.id would change identity on upgrade.
	const wantID = "53be0f88-5f67-8219-7336-d4903e804db8"
	if id := a.Global[0].ModelInfo.ID; id != wantID || b.Global[0].ModelInfo.ID != id {
		t.Errorf("generated ids %s, %s; want %s", id, b.Global[0].ModelInfo.ID, wantID)
	}
	if a.Hash != b.Hash {
		t.Errorf("hash differs between identical builds")
	}
	in.Models[0].Data = append(in.Models[0].Data, "# comment\n"...)
	c, _ := Build(in, env)
	if c.Hash == a.Hash || c.Global[0].ModelInfo.ID != wantID {
		t.Errorf("a changed file must change the hash but not the id")
	}
	// Input order does not matter.
	in2 := Input{Teams: []File{{Path: "teams.d/b.yaml", Data: []byte("team_id: b\n")}, {Path: "teams.d/a.yaml", Data: []byte("team_id: a\n")}}}
	in3 := Input{Teams: []File{in2.Teams[1], in2.Teams[0]}}
	s2, _ := Build(in2, env)
	s3, _ := Build(in3, env)
	if s2.Hash != s3.Hash {
		t.Errorf("hash depends on input order")
	}
}

func TestEnvSecrets(t *testing.T) {
	cfg := []byte("general_settings:\n  master_key: os.environ/MK\n  salt_key: os.environ/SK\n")
	models := []File{{Path: "models.d/m.yaml", Data: []byte("model_list:\n  - model_name: m\n    litellm_params: {model: azure/x, api_base: os.environ/BASE, api_key: os.environ/KEY}\n")}}
	in := Input{Config: File{Path: "gateway.yaml", Data: cfg}, Models: models}

	snap, ps := Build(in, envMap(map[string]string{"MK": "sk-master", "SK": "salt", "BASE": "https://x.openai.azure.com", "KEY": "upstream"}))
	if snap == nil || len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	d := snap.Global[0]
	if snap.Settings.MasterKey != "sk-master" || snap.Settings.SaltKey != "salt" || d.APIKey != "upstream" || d.LiteLLMParams.APIBase != "https://x.openai.azure.com" {
		t.Errorf("resolved: %+v %+v", snap.Settings, d)
	}

	// Unset master and salt keys fail closed with warnings; an unset
	// deployment key is an error.
	snap, ps = Build(in, envMap(map[string]string{"BASE": "https://x.openai.azure.com"}))
	want := []string{
		"gateway.yaml:2:15: warning: environment variable MK is not set (master_key: os.environ/MK); the management API answers 403 to everyone until it is set (team keys still work)",
		"gateway.yaml:3:13: warning: environment variable SK is not set (salt_key: os.environ/SK); the management API refuses raw upstream keys until it is set (the master key may still send os.environ/NAME)",
		"models.d/m.yaml:3:74: environment variable KEY is not set (api_key: os.environ/KEY); set it in the gateway's environment or use an enc:v2: value from `gateway encrypt`",
	}
	if snap != nil {
		t.Error("snapshot despite an unset api_key variable")
	}
	compareLines(t, problemLines(ps), want)

	in.Models = nil
	snap, ps = Build(in, envMap(nil))
	if snap == nil || HasErrors(ps) || snap.Settings.MasterKey != "" || snap.Settings.SaltKey != "" {
		t.Errorf("unset master/salt must load with empty keys: %v", ps)
	}
}

func TestConfigModelsAndProviders(t *testing.T) {
	cfg := `model_list:
  - model_name: plain
    litellm_params: {model: gpt-4o}
  - model_name: vllm
    litellm_params: {model: meta-llama/Llama-3-8B, custom_llm_provider: openai, api_base: "http://vllm:8000/v1"}
  - model_name: prefixed
    litellm_params: {model: openai/gpt-4o, custom_llm_provider: openai}
general_settings: {max_request_size_mb: 1.5, rescan_interval: 5s, team_api_base_allow: [example.com]}
router_settings: {timeout: 2.5}
gitops: {commit: true, author_name: bot}
`
	snap, ps := Build(Input{Config: File{Path: "c.yaml", Data: []byte(cfg)}}, envMap(nil))
	if snap == nil || HasErrors(ps) {
		t.Fatalf("problems: %v", ps)
	}
	got := map[string][2]string{}
	for _, d := range snap.Global {
		got[d.ModelName] = [2]string{d.Provider, d.UpstreamModel}
	}
	want := map[string][2]string{
		"plain":    {"openai", "gpt-4o"},
		"vllm":     {"openai", "meta-llama/Llama-3-8B"},
		"prefixed": {"openai", "gpt-4o"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("providers = %v, want %v", got, want)
	}
	s := snap.Settings
	if s.MaxRequestBody != 3<<19 || s.RescanInterval != 5*time.Second || s.Timeout != 2500*time.Millisecond ||
		!s.GitOps.Commit || s.GitOps.AuthorName != "bot" || s.GitOps.AuthorEmail != "gateway@localhost" || len(s.TeamAPIBaseAllow) != 1 {
		t.Errorf("settings = %+v", s)
	}
}

func TestEmbeddedDefault(t *testing.T) {
	snap, ps := Build(Input{}, envMap(map[string]string{"GATEWAY_MASTER_KEY": "m", "GATEWAY_SALT_KEY": "s"}))
	if snap == nil || len(ps) != 0 {
		t.Fatalf("embedded default: %v", ps)
	}
	if snap.Settings.Timeout != 600*time.Second || snap.Files[EmbeddedConfigPath] == "" {
		t.Errorf("settings %+v files %v", snap.Settings, snap.Files)
	}
	data, err := os.ReadFile("gateway.yaml")
	if err != nil || string(data) != string(DefaultConfig()) {
		t.Errorf("DefaultConfig differs from configs/gateway.yaml")
	}
}
