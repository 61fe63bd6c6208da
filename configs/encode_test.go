package configs

import (
	"strings"
	"testing"
	"time"
)

func buildWith(t *testing.T, teams, models map[string]string) *Snapshot {
	t.Helper()
	var in Input
	for p, d := range teams {
		in.Teams = append(in.Teams, File{Path: p, Data: []byte(d)})
	}
	for p, d := range models {
		in.Models = append(in.Models, File{Path: p, Data: []byte(d)})
	}
	snap, ps := Build(in, envMap(map[string]string{"GATEWAY_SALT_KEY": "salt", "K": "v"}))
	if snap == nil {
		t.Fatalf("does not build: %v\nteams %v\nmodels %v", ps, teams, models)
	}
	return snap
}

func sampleTeam() *Team {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tpm, budget := int64(1000), 0.000000001
	return &Team{
		TeamID:           "t1",
		TeamAlias:        "search",
		MembersWithRoles: []Member{{UserID: "u1", Role: "admin"}},
		Metadata:         map[string]any{"b": 1, "a": "x"},
		Limits:           Limits{TPMLimit: &tpm, MaxBudget: &budget, BudgetDuration: "1d"},
		ModelAliases:     map[string]string{"fast": "g"},
		Keys:             []*Key{{Token: HashKey("sk-1"), KeyName: "sk-...", KeyAlias: "ci", CreatedAt: &now}},
		CreatedAt:        &now,
		CreatedBy:        "master",
	}
}

const globalG = "model_list:\n  - model_name: g\n    litellm_params: {model: mock/g}\n"

func TestEncodeTeamStableAndValid(t *testing.T) {
	a, err := EncodeTeam(sampleTeam())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeTeam(sampleTeam())
	if string(a) != string(b) {
		t.Fatal("same team, different bytes")
	}
	want := []string{"team_id: t1", "team_alias: search", "members_with_roles:", "metadata:", "tpm_limit: 1000", "max_budget: 1e-09", "budget_duration: 1d", "model_aliases:", "keys:", "created_at:", "created_by: master"}
	pos := -1
	for _, w := range want {
		i := strings.Index(string(a), w)
		if i < 0 || i < pos {
			t.Fatalf("%q missing or out of order in:\n%s", w, a)
		}
		pos = i
	}
	snap := buildWith(t, map[string]string{"teams.d/t1.yaml": string(a)}, map[string]string{"models.d/g.yaml": globalG})
	got := snap.Teams["t1"]
	if *got.MaxBudget != 0.000000001 || got.Keys[0].KeyAlias != "ci" || got.Metadata["b"] != 1 {
		t.Fatalf("round trip: %+v", got)
	}
}

const handTeam = `# Search team, owned by platform.
team_id: t1
team_alias: search   # shown in dashboards
models: [g]
model_aliases: {fast: g}
keys:
  # CI key, rotated monthly
  - token: ` + "TOKEN" + `
    key_alias: ci   # the pipeline
  - token: ` + "TOKEN2" + `
    key_alias: other
`

func TestUpdateTeamFileKeepsComments(t *testing.T) {
	src := strings.ReplaceAll(strings.ReplaceAll(handTeam, "TOKEN2", HashKey("sk-2")), "TOKEN", HashKey("sk-1"))
	snap := buildWith(t, map[string]string{"teams.d/t.yaml": src}, map[string]string{"models.d/g.yaml": globalG})
	team := *snap.Teams["t1"]
	team.TeamAlias = "search2"
	team.Blocked = true
	k0 := *team.Keys[0]
	k0.Blocked = true
	team.Keys = []*Key{&k0, {Token: HashKey("sk-3"), KeyAlias: "new"}} // drop sk-2, add sk-3
	out, err := UpdateTeamFile([]byte(src), &team)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, w := range []string{"# Search team, owned by platform.", "team_alias: search2 # shown in dashboards", "# CI key, rotated monthly", "key_alias: ci # the pipeline", "blocked: true", "models: [g]", HashKey("sk-3")} {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, s)
		}
	}
	if strings.Contains(s, HashKey("sk-2")) {
		t.Errorf("removed key still there:\n%s", s)
	}
	if i, j := strings.Index(s, "team_alias"), strings.Index(s, "blocked"); j < i {
		t.Errorf("blocked inserted before team_alias:\n%s", s)
	}
	snap2 := buildWith(t, map[string]string{"teams.d/t.yaml": s}, map[string]string{"models.d/g.yaml": globalG})
	if got := snap2.Teams["t1"]; !got.Blocked || len(got.Keys) != 2 || !got.Keys[0].Blocked || got.TeamAlias != "search2" {
		t.Fatalf("edited team: %+v", got)
	}
	// No change -> same bytes as the re-encoded original.
	again, _ := UpdateTeamFile(out, snap2.Teams["t1"])
	if string(again) != s {
		t.Errorf("idempotent edit changed the file:\n%s\n---\n%s", s, again)
	}
}

const handModels = `# Team models, hand-written.
model_list:
  # the first one
  - model_name: a
    litellm_params:
      model: mock/a   # keep me
    model_info: {id: id-a, team_id: t1, team_public_model_name: pub-a}
  - model_name: b
    litellm_params: {model: mock/b, api_key: os.environ/K}
    model_info:
      team_id: t1
      team_public_model_name: pub-b
`

func TestDeploymentEdits(t *testing.T) {
	teams := map[string]string{"teams.d/t.yaml": "team_id: t1\n"}
	snap := buildWith(t, teams, map[string]string{"models.d/m.yaml": handModels})
	genID := snap.TeamDeployments["t1"][1].ModelInfo.ID

	d, err := ReadDeployment([]byte(handModels), genID)
	if err != nil || d == nil || d.LiteLLMParams.APIKey != "os.environ/K" {
		t.Fatalf("read generated-id deployment: %+v %v", d, err)
	}
	d.ModelInfo.ID = genID // keep the id stable across the edit
	d.ModelInfo.TeamPublicModelName = "renamed"
	out, err := ReplaceDeployment([]byte(handModels), genID, d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, w := range []string{"# Team models, hand-written.", "# the first one", "# keep me", "team_public_model_name: renamed", "id: " + genID} {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, s)
		}
	}
	snap = buildWith(t, teams, map[string]string{"models.d/m.yaml": s})
	if got := snap.TeamDeployments["t1"][1]; got.ModelInfo.ID != genID || got.PublicName() != "renamed" {
		t.Fatalf("after replace: %+v", got.ModelInfo)
	}

	out, left, err := RemoveDeployments(out, "id-a")
	if err != nil || left != 1 || strings.Contains(string(out), "pub-a") || !strings.Contains(string(out), "# Team models") {
		t.Fatalf("remove: %d %v\n%s", left, err, out)
	}
	buildWith(t, teams, map[string]string{"models.d/m.yaml": string(out)})
	out, left, _ = RemoveDeployments(out, genID)
	if left != 0 {
		t.Fatalf("left %d", left)
	}
	buildWith(t, teams, map[string]string{"models.d/m.yaml": string(out)})
}

func TestEncodeModels(t *testing.T) {
	d := &Deployment{
		ModelName:     "model_name_t1_x",
		LiteLLMParams: LiteLLMParams{Model: "openai/gpt-4o", APIBase: "https://x.example", APIKey: "os.environ/K"},
		ModelInfo:     ModelInfo{ID: "x", TeamID: "t1", TeamPublicModelName: "pub", Extra: map[string]any{"created_by": "master", "b": 1}},
	}
	a, err := EncodeModels(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeModels(d)
	if string(a) != string(b) || !strings.HasPrefix(string(a), "model_list:\n  - model_name: model_name_t1_x\n") {
		t.Fatalf("encoding:\n%s", a)
	}
	snap := buildWith(t, map[string]string{"teams.d/t.yaml": "team_id: t1\n"}, map[string]string{"models.d/t1/x.yaml": string(a)})
	if got := snap.TeamDeployments["t1"][0]; got.APIKey != "v" || got.ModelInfo.Extra["created_by"] != "master" {
		t.Fatalf("round trip %+v", got)
	}
}
