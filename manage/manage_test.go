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
	if e := func() *Error { _, _, e := NewKey(KeyRequest{Duration: ptr("1y")}, "m", now); return e }(); e == nil || e.Param != "duration" {
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
	if plain, err := configs.DecryptBound("salt", configs.Binding{TeamID: "t", ModelID: "id1"}, d.LiteLLMParams.APIKey); err != nil || plain != "sk-raw-secret-ccb07" {
		t.Fatalf("api_key %q not encrypted: %v", d.LiteLLMParams.APIKey, err)
	}
	view, _ := json.Marshal(ModelView(d, true))
	stored, _ := json.Marshal(StoredView(d))
	for _, b := range [][]byte{view, stored} {
		if strings.Contains(string(b), "sk-raw-secret") || strings.Contains(string(b), "hf_secretvalue123") || strings.Contains(string(b), d.LiteLLMParams.APIKey) {
			t.Errorf("secret shown: %s", b)
		}
	}
	if strings.Contains(string(view), `"api_key":`) || !strings.Contains(string(view), `"model_name":"my-team-model"`) || !strings.Contains(string(view), `"author":"me"`) {
		t.Errorf("view: %s", view)
	}

	upd := parse(t, `{"model_name": "renamed", "litellm_params": {"rpm": 5}, "model_info": {"id": "id1", "author": null}}`)
	nd, e := UpdateDeployment(d, upd, team, ModelPolicy{SaltKey: "salt"}, now.Add(time.Hour))
	if e != nil || nd.ModelInfo.TeamPublicModelName != "renamed" || nd.ModelName != d.ModelName || nd.LiteLLMParams.APIKey != d.LiteLLMParams.APIKey ||
		*nd.LiteLLMParams.RPM != 5 || nd.ModelInfo.Extra["author"] != nil || nd.ModelInfo.Extra["created_at"] != d.ModelInfo.Extra["created_at"] {
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
		`{"model_name": "x", "litellm_params": {"model": "x", "custom_llm_provider": "sagemaker"}}`:          "custom_llm_provider",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_base": "example.com"}}`:            "not an http(s) URL",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_base": "http://169.254.169.254"}}`: "not allowed",
		`{"model_name": "x", "litellm_params": {"model": "openai/x", "api_key": "os.environ/"}}`:             "only for the master key",
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

func TestModelViewMasksQueryForNonOwners(t *testing.T) {
	t.Parallel()
	d := &configs.Deployment{ModelName: "g", LiteLLMParams: configs.LiteLLMParams{Model: "azure/x",
		APIBase: "https://user:pw@example.com/v1?api-key=SECRET&x=1&BARE#frag"}}
	other, _ := json.Marshal(ModelView(d, false))
	for _, leak := range []string{"SECRET", "pw", "BARE", "frag"} {
		if strings.Contains(string(other), leak) {
			t.Errorf("a non-owner sees %q: %s", leak, other)
		}
	}
	if !strings.Contains(string(other), "api-key=****") || !strings.Contains(string(other), "example.com/v1") {
		t.Errorf("masked api_base: %s", other)
	}
	own, _ := json.Marshal(ModelView(d, true))
	if !strings.Contains(string(own), "SECRET") || strings.Contains(string(own), "pw@") {
		t.Errorf("the owner sees the query string, never the userinfo: %s", own)
	}
}

func TestDecodeRefusesNonObjects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"null", " null ", "[]", "[1]", `"x"`, "5", "true"} {
		var req TeamRequest
		if e := Decode([]byte(body), &req); e == nil || e.Status != 400 || !strings.Contains(e.Message, "JSON object") {
			t.Errorf("%q: %v", body, e)
		}
	}
	var req TeamRequest
	if e := Decode([]byte("nul"), &req); e == nil || !strings.Contains(e.Message, "not valid JSON") {
		t.Errorf("invalid JSON: %v", e)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"null", "{}", `{"team_id": "x", "tpm_limit": 5}`, "[1]", `{"max_budget": 1e308}`, `{"rpm_limit": null}`, "\"\"", "{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req TeamRequest
		if e := Decode(b, &req); e != nil && e.Status != 400 {
			t.Fatalf("status %d for %q", e.Status, b)
		}
	})
}

func TestCheckKeyChange(t *testing.T) {
	t.Parallel()
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	team := &configs.Team{TeamID: "t", Limits: configs.Limits{RPMLimit: i64(100), MaxBudget: f64(10)}}
	admin := Caller{TeamID: "t", Key: &configs.Key{Token: "a", KeyAlias: "ann", UserID: "ann"}}
	byMaster := &configs.Key{Token: "k", Limits: configs.Limits{RPMLimit: i64(5), MaxBudget: f64(1), SetBy: map[string]string{"rpm_limit": "master", "max_budget": "master"}}}
	hand := &configs.Key{Token: "h", Limits: configs.Limits{TPMLimit: i64(5)}} // no set_by: the master's
	byAdmin := &configs.Key{Token: "b", Blocked: true, Limits: configs.Limits{RPMLimit: i64(5), SetBy: map[string]string{"rpm_limit": "ann (a)", "blocked": "ann (a)"}}}
	yes, no := true, false
	cases := []struct {
		name string
		c    Caller
		cur  *configs.Key
		req  KeyRequest
		ok   bool
	}{
		{"master anything", Caller{Master: true}, byMaster, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, Null: true}}}, true},
		{"remove master rpm", admin, byMaster, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, Null: true}}}, false},
		{"raise master budget", admin, byMaster, KeyRequest{LimitsRequest: LimitsRequest{MaxBudget: Nullable[float64]{Set: true, V: 2}}}, false},
		{"same value", admin, byMaster, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, V: 5}}}, true},
		{"shorter period of a master budget", admin, byMaster, KeyRequest{LimitsRequest: LimitsRequest{BudgetDuration: Nullable[string]{Set: true, V: "1s"}}}, false},
		{"hand-written limit", admin, hand, KeyRequest{LimitsRequest: LimitsRequest{TPMLimit: Nullable[int64]{Set: true, Null: true}}}, false},
		{"hand-written key, other field", admin, hand, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, V: 7}}}, true},
		{"own limit", admin, byAdmin, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, Null: true}}}, true},
		{"own block", admin, byAdmin, KeyRequest{Blocked: &no}, true},
		{"master block", admin, &configs.Key{Token: "m", Blocked: true, Limits: configs.Limits{SetBy: map[string]string{"blocked": "master"}}}, KeyRequest{Blocked: &no}, false},
		{"block", admin, hand, KeyRequest{Blocked: &yes}, true},
		{"above team rpm", admin, nil, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, V: 101}}}, false},
		{"at team rpm", admin, nil, KeyRequest{LimitsRequest: LimitsRequest{RPMLimit: Nullable[int64]{Set: true, V: 100}}}, true},
		{"above team budget", admin, nil, KeyRequest{LimitsRequest: LimitsRequest{MaxBudget: Nullable[float64]{Set: true, V: 10.01}}}, false},
		{"no team tpm", admin, nil, KeyRequest{LimitsRequest: LimitsRequest{TPMLimit: Nullable[int64]{Set: true, V: 1 << 40}}}, true},
	}
	for _, c := range cases {
		e := CheckKeyChange(c.c, team, c.cur, c.req)
		if (e == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, e, c.ok)
		}
		if e != nil && e.Status != 403 {
			t.Errorf("%s: status %d", c.name, e.Status)
		}
	}
}

func TestLimitsRecordSetBy(t *testing.T) {
	t.Parallel()
	var l configs.Limits
	r := LimitsRequest{RPMLimit: Nullable[int64]{Set: true, V: 5}, MaxBudget: Nullable[float64]{Set: true, V: 1}}
	_ = r.apply(&l, "master")
	if l.SetBy["rpm_limit"] != "master" || l.SetBy["max_budget"] != "master" || len(l.SetBy) != 2 {
		t.Fatalf("set_by %v", l.SetBy)
	}
	_ = LimitsRequest{RPMLimit: Nullable[int64]{Set: true, Null: true}, MaxBudget: Nullable[float64]{Set: true, Null: true}}.apply(&l, "ann")
	if l.RPMLimit != nil || l.SetBy != nil {
		t.Fatalf("after removing: %+v", l)
	}
}

// FuzzMaskQuery: whatever the api_base, a query value a non-owner would
// see never survives masking, and masking never panics.
func FuzzMaskQuery(f *testing.F) {
	f.Add("https://ops.example.com/openai", "api-key", "OPERATOR0SECRET")
	f.Add("http://[::1]:8080/v1", "key", "abcdefgh12345678")
	f.Add("https://u:p@h/x#frag", "sig", "zzzzzzzzzz")
	f.Fuzz(func(t *testing.T, base, name, secret string) {
		_ = maskQuery(base) // never panics
		if len(secret) < 8 || strings.ContainsAny(secret, "&=#?%+ ") || strings.Contains(base, secret) || strings.Contains(name, secret) {
			return
		}
		in := base + "?" + name + "=" + secret
		// The value must not survive in what follows the path (the path
		// itself is re-encoded and may spell the same characters).
		out := maskQuery(in)
		if i := strings.IndexAny(out, "?#"); i < 0 || strings.Contains(out[i:], secret) {
			t.Fatalf("maskQuery(%q) = %q keeps the value", in, out)
		}
	})
}
