package manage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

func TestCheckFields(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body, param string
		team        bool
	}{
		{`{"team_id":"t","tags":["a"],"allowed_routes":[],"soft_budget":1}`, "", false},
		{`{"guardrails":["pii"]}`, "guardrails", false},
		{`{"guardrails":[],"permissions":{},"enforced_params":null,"spend":0,"send_invite_email":false}`, "", false},
		{`{"config":{"a":1}}`, "config", false},
		{`{"enforced_params":["user"]}`, "enforced_params", false},
		{`{"bogus":1}`, "bogus", false},
		{`{"organization_id":"o"}`, "organization_id", false},
		{`{"organization_id":"o","tags":["x"]}`, "", true},
		{`{"guardrails":["pii"]}`, "guardrails", true},
		{`{"guardrails":[]}`, "", true},
		{`{"model_rpm_limit":{"m":1}}`, "model_rpm_limit", true},
		{`not json`, "", false}, // Decode reports it
	} {
		var e *Error
		if c.team {
			e = CheckTeamFields([]byte(c.body), "/team/new")
		} else {
			e = CheckKeyFields([]byte(c.body), "/key/generate")
		}
		switch {
		case c.param == "" && e != nil:
			t.Errorf("%s: %v", c.body, e)
		case c.param != "" && (e == nil || e.Param != c.param || e.Status != 400 || !strings.Contains(e.Message, c.param)):
			t.Errorf("%s: %v, want a 400 naming %s", c.body, e, c.param)
		}
	}
}

func TestCustomKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := "sk-Custom-4f9a1c7e2b8d6035"
	secret, k, e := NewKey(KeyRequest{Key: &v}, "master", now)
	if e != nil || secret != v || k.Token != configs.HashKey(v) || strings.Contains(k.KeyName, "4f9a1c7e2b8d") {
		t.Fatalf("custom key: %q %+v %v", secret, k, e)
	}
	for _, bad := range []string{"pk-0123456789abcdefghijklmn", "sk-short", "sk-" + strings.Repeat("ab", 20), "sk-0123456789 abcdefghijklmn", "sk-0123456789abcdéfghijklmn", "sk-" + strings.Repeat("x1y2z3w4", 40)} {
		if e := CheckCustomKey(bad); e == nil || e.Param != "key" || strings.Contains(e.Message, bad) {
			t.Errorf("CheckCustomKey(%q) = %v", bad, e)
		}
	}
}

func TestKeyFieldsApply(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var req KeyRequest
	if e := Decode([]byte(`{"tags":["a"],"allowed_routes":["/chat/completions"],"soft_budget":2,
		"model_max_budget":{"m":3,"n":{"budget_limit":4,"time_period":"1d"}},"model_rpm_limit":{"m":5},"model_tpm_limit":{"m":6}}`), &req); e != nil {
		t.Fatal(e)
	}
	_, k, e := NewKey(req, "master", now)
	if e != nil {
		t.Fatal(e)
	}
	if k.Tags[0] != "a" || k.AllowedRoutes[0] != "/chat/completions" || *k.SoftBudget != 2 ||
		*k.ModelMaxBudget["m"] != (configs.ModelBudget{BudgetLimit: 3}) || *k.ModelMaxBudget["n"] != (configs.ModelBudget{BudgetLimit: 4, TimePeriod: "1d"}) ||
		k.ModelRPMLimit["m"] != 5 || k.ModelTPMLimit["m"] != 6 {
		t.Fatalf("applied: %+v", k)
	}
	for _, f := range []string{"allowed_routes", "soft_budget", "model_max_budget", "model_rpm_limit", "model_tpm_limit"} {
		if k.SetBy[f] != "master" {
			t.Errorf("set_by %s = %q", f, k.SetBy[f])
		}
	}
	// A clone is deep: changing it leaves the original.
	c := cloneKey(k)
	c.ModelMaxBudget["m"].BudgetLimit = 99
	c.ModelRPMLimit["m"] = 99
	*c.SoftBudget = 99
	if k.ModelMaxBudget["m"].BudgetLimit != 3 || k.ModelRPMLimit["m"] != 5 || *k.SoftBudget != 2 {
		t.Fatal("cloneKey shares the per-model maps")
	}
	// Clearing: null, [] and {}.
	var clr KeyRequest
	if e := Decode([]byte(`{"tags":[],"allowed_routes":[],"soft_budget":null,"model_max_budget":{},"model_rpm_limit":{},"model_tpm_limit":{}}`), &clr); e != nil {
		t.Fatal(e)
	}
	u, e := UpdateKey(k, clr, "master", now)
	if e != nil || u.Tags != nil || u.AllowedRoutes != nil || u.SoftBudget != nil || u.ModelMaxBudget != nil || u.ModelRPMLimit != nil || u.ModelTPMLimit != nil || len(u.SetBy) != 0 {
		t.Fatalf("cleared: %+v %v", u, e)
	}
	var bad KeyRequest
	if e := Decode([]byte(`{"model_max_budget":{"m":"x"}}`), &bad); e == nil || e.Param != "model_max_budget" {
		t.Errorf("bad model_max_budget: %v", e)
	}
}

func TestCheckKeyChangeKeyFields(t *testing.T) {
	t.Parallel()
	team := &configs.Team{TeamID: "t", Limits: configs.Limits{RPMLimit: ptr(int64(10)), TPMLimit: ptr(int64(100)), MaxBudget: ptr(5.0)},
		MembersWithRoles: []configs.Member{{UserID: "boss", Role: "admin"}}}
	admin := Caller{TeamID: "t", Key: &configs.Key{UserID: "boss"}}
	masterKey := &configs.Key{AllowedRoutes: []string{"/chat/completions"}, SoftBudget: ptr(1.0),
		ModelRPMLimit: map[string]int64{"m": 2}, ModelMaxBudget: map[string]*configs.ModelBudget{"m": {BudgetLimit: 1}},
		Limits: configs.Limits{SetBy: map[string]string{"allowed_routes": "master", "soft_budget": "master", "model_rpm_limit": "master", "model_max_budget": "master"}}}
	dec := func(body string) KeyRequest {
		var r KeyRequest
		if e := Decode([]byte(body), &r); e != nil {
			t.Fatal(e)
		}
		return r
	}
	for _, c := range []struct {
		cur  *configs.Key
		body string
		ok   bool
	}{
		{nil, `{"model_rpm_limit":{"m":10},"model_tpm_limit":{"m":100},"model_max_budget":{"m":5},"soft_budget":9,"allowed_routes":["/x"],"tags":["t"]}`, true},
		{nil, `{"model_rpm_limit":{"m":11}}`, false},
		{nil, `{"model_tpm_limit":{"m":101}}`, false},
		{nil, `{"model_max_budget":{"m":5.5}}`, false},
		{masterKey, `{"allowed_routes":[]}`, false},
		{masterKey, `{"allowed_routes":["/chat/completions"]}`, true}, // unchanged
		{masterKey, `{"soft_budget":null}`, false},
		{masterKey, `{"model_rpm_limit":{"m":3}}`, false},
		{masterKey, `{"model_max_budget":{"m":{"budget_limit":2}}}`, false},
		{masterKey, `{"model_max_budget":{"m":1}}`, true},
		{masterKey, `{"tags":["mine"]}`, true},
	} {
		e := CheckKeyChange(admin, team, c.cur, dec(c.body))
		if (e == nil) != c.ok || (e != nil && e.Status != 403) {
			t.Errorf("%s (cur %v): %v, want ok=%v", c.body, c.cur != nil, e, c.ok)
		}
		if e := CheckKeyChange(Caller{Master: true}, team, c.cur, dec(c.body)); e != nil {
			t.Errorf("master: %s: %v", c.body, e)
		}
	}
}

func FuzzKeyRequest(f *testing.F) {
	for _, s := range []string{`{"model_max_budget":{"m":1}}`, `{"model_max_budget":{"m":{"budget_limit":1,"time_period":"1d"}}}`,
		`{"key":"sk-abcdefghijklmnopqrstu","tags":["x"]}`, `{"soft_budget":null}`, `{"guardrails":["x"],"spend":0}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = CheckKeyFields(body, "/key/generate")
		_ = CheckTeamFields(body, "/team/new")
		var req KeyRequest
		if Decode(body, &req) != nil {
			return
		}
		secret, k, e := NewKey(req, "master", now)
		if e != nil {
			return
		}
		if k.Token != configs.HashKey(secret) {
			t.Fatal("token is not the secret's hash")
		}
		if _, err := json.Marshal(KeyView("t", k, Spend{}, now)); err != nil {
			t.Fatal(err)
		}
	})
}
