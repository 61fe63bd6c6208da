package manage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// TestAPIBasePolicy: the API-time check applies the egress policy to team
// deployments, whoever writes them; global deployments are not restricted.
// The policy itself is tested in package egress.
func TestAPIBasePolicy(t *testing.T) {
	t.Parallel()
	def := ModelPolicy{APIBase: egress.New(nil, nil, nil)}
	allowLocal := ModelPolicy{APIBase: egress.New([]string{"127.0.0.1"}, nil, nil)}
	denyCorp := ModelPolicy{APIBase: egress.New(nil, []string{"*.corp.example"}, nil)}
	cases := []struct {
		pol   ModelPolicy
		team  string
		base  string
		allow bool
	}{
		{def, "t", "https://my-endpoint.openai.azure.com", true},
		{def, "t", "http://169.254.169.254/latest/meta-data", false},
		{def, "t", "http://[::ffff:169.254.169.254]/", false},
		{def, "t", "http://metadata.google.internal/computeMetadata/v1", false},
		{def, "t", "http://2852039166/", false},
		{def, "t", "http://127.0.0.1:8000/v1", false},
		{def, "t", "http://localhost:8000/v1", false},
		{def, "t", "http://[::1]:8000/v1", false},
		{def, "t", "os.environ/TEAM_BASE", true},   // judged when dialled
		{def, "", "http://169.254.169.254/", true}, // a global deployment: the operator's
		{def, "", "http://127.0.0.1:8000/v1", true},
		{allowLocal, "t", "http://127.0.0.1:8000/v1", true},
		{denyCorp, "t", "https://llm.corp.example/", false},
		{ModelPolicy{}, "t", "http://169.254.169.254/", false}, // nil policy: the default
	}
	for _, c := range cases {
		d := &configs.Deployment{LiteLLMParams: configs.LiteLLMParams{APIBase: c.base}, ModelInfo: configs.ModelInfo{TeamID: c.team}}
		err := checkAPIBase(d, map[string]bool{"api_base": true}, c.pol)
		if (err == nil) != c.allow {
			t.Errorf("team %q %s: %v, want allow=%v", c.team, c.base, err, c.allow)
		}
		if err != nil && (err.Status != 403 || err.Param != "litellm_params.api_base" || !strings.Contains(err.Message, "not allowed") ||
			!strings.Contains(err.Message, "general_settings.team_api_base_")) {
			t.Errorf("%s: %+v", c.base, err)
		}
	}
	// Not sent (an update of another field): not re-judged here.
	d := &configs.Deployment{LiteLLMParams: configs.LiteLLMParams{APIBase: "http://127.0.0.1/"}, ModelInfo: configs.ModelInfo{TeamID: "t"}}
	if err := checkAPIBase(d, map[string]bool{"rpm": true}, def); err != nil {
		t.Errorf("unsent api_base: %v", err)
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	var req TeamRequest
	cases := map[string]string{
		`{not json`:                             "not valid JSON",
		``:                                      "empty",
		`[]`:                                    "JSON object",
		`{"tpm_limit": "10"}`:                   "tpm_limit",
		`{"members_with_roles": [{"role": 1}]}`: "members_with_roles.role",
		`{"metadata": []}`:                      "metadata",
	}
	for body, want := range cases {
		e := Decode([]byte(body), &req)
		if e == nil || e.Status != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("%s: %+v, want 400 naming %q", body, e, want)
		}
	}
	if e := Decode([]byte(`{"team_alias": "x", "unknown_litellm_field": 1}`), &req); e != nil {
		t.Errorf("unknown fields must be accepted: %v", e)
	}
}

func TestNewAndUpdateTeam(t *testing.T) {
	var req TeamRequest
	if e := Decode([]byte(`{"team_alias": "a", "admins": ["u1"], "users": ["u2"], "tpm_limit": 5, "budget_duration": "30d", "max_budget": 1.5}`), &req); e != nil {
		t.Fatal(e)
	}
	team, e := NewTeam(req, "master", now)
	if e != nil {
		t.Fatal(e)
	}
	if len(team.TeamID) != 36 || team.CreatedBy != "master" || !team.CreatedAt.Equal(now) || len(team.MembersWithRoles) != 2 || team.MembersWithRoles[0].Role != "admin" {
		t.Fatalf("team %+v", team)
	}
	var upd TeamRequest
	_ = Decode([]byte(`{"team_id": "x", "rpm_limit": 7}`), &upd)
	later := now.Add(time.Hour)
	t2, e := UpdateTeam(team, upd, "k", later)
	if e != nil || *t2.RPMLimit != 7 || *t2.TPMLimit != 5 || t2.TeamAlias != "a" || t2.UpdatedBy != "k" || !t2.CreatedAt.Equal(now) || team.RPMLimit != nil {
		t.Fatalf("update %+v (original %+v) %v", t2, team, e)
	}
	v := TeamView(t2, nil, Spend{}, later)
	if v.BudgetResetAt == nil || !v.BudgetResetAt.Equal(later.Add(30*24*time.Hour)) || len(v.Admins) != 1 {
		t.Errorf("view %+v", v)
	}
}

func TestKeys(t *testing.T) {
	secret, k, e := NewKey(KeyRequest{Duration: ptr("30d")}, "master", now)
	if e != nil || !strings.HasPrefix(secret, "sk-") || len(secret) < 3+22 || k.Token != configs.HashKey(secret) || !k.Expires.Equal(now.Add(30*24*time.Hour)) {
		t.Fatalf("%s %+v %v", secret, k, e)
	}
	s2, _, _ := NewKey(KeyRequest{}, "master", now)
	if s2 == secret {
		t.Fatal("two keys are equal")
	}
	secret3, k3, _ := Regenerate(k, "m", now)
	if k3.Token == k.Token || k3.Token != configs.HashKey(secret3) || k3.Expires != k.Expires {
		t.Fatalf("regenerate %+v", k3)
	}
	team := &configs.Team{TeamID: "t", Keys: []*configs.Key{k}}
	snap := &configs.Snapshot{Teams: map[string]*configs.Team{"t": team}}
	if _, got := FindKey(snap, secret); got != k {
		t.Error("find by value")
	}
	if _, got := FindKey(snap, k.Token); got != k {
		t.Error("find by token")
	}
	if e := func() *Error { _, _, e := NewKey(KeyRequest{Duration: ptr("1w")}, "m", now); return e }(); e == nil || e.Param != "duration" {
		t.Errorf("bad duration: %v", e)
	}
}

func TestCallerAndAuthz(t *testing.T) {
	team := &configs.Team{TeamID: "t", MembersWithRoles: []configs.Member{{UserID: "boss", Role: "admin"}, {UserID: "dev", Role: "user"}}}
	admin := Caller{TeamID: "t", Key: &configs.Key{Token: "x", KeyAlias: "ci", UserID: "boss"}}
	dev := Caller{TeamID: "t", Key: &configs.Key{Token: "y", UserID: "dev"}}
	if !admin.IsTeamAdmin(team) || dev.IsTeamAdmin(team) || admin.Name() != "ci (x)" || (Caller{Master: true}).Name() != "master" {
		t.Fatal("caller")
	}
	if e := RequireMaster(dev, configs.Settings{}, "/team/new"); e == nil || !strings.Contains(e.Message, "GATEWAY_MASTER_KEY") {
		t.Errorf("no master key: %v", e)
	}
	if RequireTeamAdmin(admin, configs.Settings{}, team, "t", "x") != nil || RequireTeamAdmin(dev, configs.Settings{}, team, "t", "x") == nil ||
		RequireTeamAdmin(admin, configs.Settings{}, nil, "other", "x") == nil {
		t.Error("team admin")
	}
	if RequireTeamKey(dev, "t", "x") != nil || RequireTeamKey(dev, "u", "x") == nil {
		t.Error("team key")
	}
}

func parse(t *testing.T, body string) *ParsedModel {
	t.Helper()
	var req ModelRequest
	if e := Decode([]byte(body), &req); e != nil {
		t.Fatal(e)
	}
	p, e := ParseModel(req)
	if e != nil {
		t.Fatal(e)
	}
	return p
}

func TestModelBuildAndMask(t *testing.T) {
	p := parse(t, `{"model_name": "my-team-model", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-raw-secret-ccb07", "api_base": "https://x.example"},
		"model_info": {"team_id": "t", "author": "me", "created_by": "spoof", "hf_token": "hf_secretvalue123"}}`)
	team := Caller{TeamID: "t", Key: &configs.Key{Token: "x", KeyAlias: "ci"}}
	if _, e := NewDeployment(p, "t", "id1", team, ModelPolicy{}, now); e == nil || !strings.Contains(e.Message, "GATEWAY_SALT_KEY") {
		t.Fatalf("no salt: %v", e)
	}
	d, e := NewDeployment(p, "t", "id1", team, ModelPolicy{SaltKey: "salt"}, now)
	if e != nil {
		t.Fatal(e)
	}
	if d.ModelName != "model_name_t_id1" || d.ModelInfo.TeamPublicModelName != "my-team-model" || d.ModelInfo.Extra["created_by"] != "ci (x)" {
		t.Fatalf("deployment %+v", d)
	}
	if plain, err := configs.Decrypt("salt", d.LiteLLMParams.APIKey); err != nil || plain != "sk-raw-secret-ccb07" {
		t.Fatalf("api_key %q not encrypted: %v", d.LiteLLMParams.APIKey, err)
	}
	view, _ := json.Marshal(ModelView(d))
	stored, _ := json.Marshal(StoredView(d))
	for _, b := range [][]byte{view, stored} {
		if strings.Contains(string(b), "sk-raw-secret") || strings.Contains(string(b), "hf_secretvalue123") || strings.Contains(string(b), d.LiteLLMParams.APIKey) {
			t.Errorf("secret shown: %s", b)
		}
	}
	if strings.Contains(string(view), "api_key") || !strings.Contains(string(view), `"model_name":"my-team-model"`) || !strings.Contains(string(view), `"author":"me"`) {
		t.Errorf("view: %s", view)
	}

	upd := parse(t, `{"model_name": "renamed", "litellm_params": {"api_version": "2024-10-21"}, "model_info": {"id": "id1", "author": null}}`)
	nd, e := UpdateDeployment(d, upd, team, ModelPolicy{SaltKey: "salt"}, now.Add(time.Hour))
	if e != nil || nd.ModelInfo.TeamPublicModelName != "renamed" || nd.ModelName != d.ModelName || nd.LiteLLMParams.APIKey != d.LiteLLMParams.APIKey ||
		nd.LiteLLMParams.APIVersion != "2024-10-21" || nd.ModelInfo.Extra["author"] != nil || nd.ModelInfo.Extra["created_at"] != d.ModelInfo.Extra["created_at"] {
		t.Fatalf("update %+v %v", nd, e)
	}
	if d.ModelInfo.Extra["author"] != "me" {
		t.Error("update changed the original")
	}
	move := parse(t, `{"model_info": {"id": "id1", "team_id": "other"}}`)
	if _, e := UpdateDeployment(d, move, team, ModelPolicy{}, now); e == nil {
		t.Error("team change accepted")
	}
}

func TestModelValidation(t *testing.T) {
	team := Caller{TeamID: "t", Key: &configs.Key{Token: "x"}}
	cases := map[string]string{
		`{"model_name": "x", "litellm_params": {"model": "nope/x"}}`:                                         "unknown provider",
		`{"model_name": "x", "litellm_params": {"model": "mock/"}}`:                                          "no upstream model",
		`{"model_name": "x", "litellm_params": {"model": "x", "custom_llm_provider": "bedrock"}}`:            "custom_llm_provider",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_base": "example.com"}}`:            "not an http(s) URL",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_base": "http://169.254.169.254"}}`: "not allowed",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_key": "os.environ/"}}`:             "names no environment variable",
		`{"model_name": "", "litellm_params": {"model": "openai/x"}}`:                                        "model_name",
	}
	for body, want := range cases {
		p := parse(t, body)
		if _, e := NewDeployment(p, "t", "id", team, ModelPolicy{SaltKey: "s"}, now); e == nil || !strings.Contains(e.Message, want) {
			t.Errorf("%s: %v, want %q", body, e, want)
		}
	}
	var req ModelRequest
	_ = Decode([]byte(`{"model_name": "x", "litellm_params": {"model": "openai/x", "max_tokens": 5}}`), &req)
	if _, e := ParseModel(req); e == nil || !strings.Contains(e.Message, "accepted keys") {
		t.Errorf("unknown param: %v", e)
	}
	_ = Decode([]byte(`{"model_name": "x", "litellm_params": {"model": "openai/x", "timeout": "soon"}}`), &req)
	if _, e := ParseModel(req); e == nil || e.Param != "litellm_params.timeout" {
		t.Errorf("wrong type: %+v", e)
	}
}

func ptr[T any](v T) *T { return &v }
