package manage

import (
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

var (
	teamCaller   = Caller{TeamID: "t", Key: &configs.Key{Token: "x", KeyAlias: "member"}}
	masterCaller = Caller{Master: true}
	pol          = ModelPolicy{SaltKey: "salt", SaltKeyPrevious: "old-salt"}
)

// Only the master key may send values that read the gateway's environment
// or are already encrypted.
func TestOperatorValuesAreMasterOnly(t *testing.T) {
	t.Parallel()
	bound, _ := configs.EncryptBound("salt", configs.Binding{TeamID: "t", ModelID: "id"}, "sk-x")
	boundOld, _ := configs.EncryptBound("old-salt", configs.Binding{TeamID: "t", ModelID: "id"}, "sk-x")
	other, _ := configs.EncryptBound("salt", configs.Binding{TeamID: "u", ModelID: "id"}, "sk-x")
	v1, _ := configs.Encrypt("salt", "sk-x")
	for _, tc := range []struct {
		params      string
		team        int // status for a team key (0: accepted)
		master      int
		teamSays    string
		masterSays  string
		wantTeamKey string
	}{
		{`"api_key": "os.environ/GATEWAY_MASTER_KEY"`, 403, 0, "only for the master key", "", ""},
		{`"api_key": " os.environ/GATEWAY_SALT_KEY"`, 403, 0, "send the value itself", "", ""},
		{`"api_base": "os.environ/SECRET_BASE"`, 403, 0, "litellm_params.api_base", "", ""},
		{`"api_version": "os.environ/GATEWAY_MASTER_KEY"`, 403, 0, "litellm_params.api_version", "", ""},
		{`"organization": "os.environ/GATEWAY_MASTER_KEY"`, 403, 0, "litellm_params.organization", "", ""},
		{`"api_key": "` + v1 + `"`, 403, 0, "send the raw upstream key", "", ""},
		{`"api_key": "` + bound + `"`, 403, 0, "send the raw upstream key", "", ""},
		{`"api_key": "` + boundOld + `"`, 403, 0, "ask an operator", "", ""},
		{`"api_key": "` + other + `"`, 403, 400, "already encrypted", "does not decrypt for this deployment", ""},
		{`"api_key": "enc:v9:AAAA"`, 403, 400, "already encrypted", "neither enc:v1: nor enc:v2:", ""},
		{`"api_key": "sk-raw-team-key-123"`, 0, 0, "", "", "enc:v2:"},
	} {
		body := `{"model_name": "m", "litellm_params": {"model": "openai/x", ` + tc.params + `}}`
		for _, who := range []struct {
			c      Caller
			status int
			says   string
		}{{teamCaller, tc.team, tc.teamSays}, {masterCaller, tc.master, tc.masterSays}} {
			d, e := NewDeployment(parse(t, body), "t", "id", who.c, pol, now)
			switch {
			case who.status == 0 && e != nil:
				t.Errorf("master=%v %s: %v", who.c.Master, tc.params, e)
			case who.status != 0 && (e == nil || e.Status != who.status || !strings.Contains(e.Message, who.says)):
				t.Errorf("master=%v %s: %+v, want %d saying %q", who.c.Master, tc.params, e, who.status, who.says)
			case who.status != 0 && who.status == 403 && e.Param == "":
				t.Errorf("403 without a param: %+v", e)
			case e == nil && tc.wantTeamKey != "" && !strings.HasPrefix(d.LiteLLMParams.APIKey, tc.wantTeamKey):
				t.Errorf("stored key %q", d.LiteLLMParams.APIKey)
			}
		}
	}
}

func TestKeySetBy(t *testing.T) {
	t.Parallel()
	body := `{"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "sk-raw-team-key-123"}, "model_info": {"api_key_set_by": "master"}}`
	d, e := NewDeployment(parse(t, body), "t", "id", teamCaller, pol, now)
	if e != nil || d.KeySetBy() != "team" || d.OperatorCredentials() {
		t.Fatalf("team /model/new: %v %q", e, d.KeySetBy())
	}
	m, e := NewDeployment(parse(t, `{"model_name": "m", "litellm_params": {"model": "mock/x"}, "model_info": {"api_key_set_by": "team"}}`), "t", "id2", masterCaller, pol, now)
	if e != nil || m.KeySetBy() != "master" || !m.OperatorCredentials() {
		t.Fatalf("master /model/new: %v %q", e, m.KeySetBy())
	}
	// Sending api_key_set_by in an update changes nothing either.
	u, e := UpdateDeployment(d, parse(t, `{"model_info": {"id": "id", "api_key_set_by": "master"}}`), teamCaller, pol, now)
	if e != nil || u.KeySetBy() != "team" {
		t.Fatalf("update: %v %q", e, u.KeySetBy())
	}
}

// Keys follow their endpoint, and a team key never changes a deployment
// whose key it did not supply.
func TestKeysFollowTheirEndpoint(t *testing.T) {
	t.Parallel()
	own, e := NewDeployment(parse(t, `{"model_name": "m", "litellm_params": {"model": "openai/x", "api_base": "https://a.example/v1", "api_key": "sk-raw-team-key-123"}}`), "t", "id", teamCaller, pol, now)
	if e != nil {
		t.Fatal(e)
	}
	for _, tc := range []struct {
		update  string
		keeps   bool
		newBase string
	}{
		{`"rpm": 10`, true, ""},
		{`"api_base": "https://a.example/v1"`, true, ""},
		{`"api_base": "https://evil.example/v1"`, false, "https://evil.example/v1"},
		{`"api_version": "2024-10-21"`, false, ""},
		{`"model": "openai/y"`, false, ""},
		{`"custom_llm_provider": "openai"`, false, ""},
	} {
		nd, e := UpdateDeployment(own, parse(t, `{"model_info": {"id": "id"}, "litellm_params": {`+tc.update+`}}`), teamCaller, pol, now)
		if e != nil {
			t.Fatalf("%s: %v", tc.update, e)
		}
		if kept := nd.LiteLLMParams.APIKey == own.LiteLLMParams.APIKey; kept != tc.keeps || (!tc.keeps && nd.LiteLLMParams.APIKey != "") {
			t.Errorf("%s: api_key %q, kept=%v want %v", tc.update, nd.LiteLLMParams.APIKey, kept, tc.keeps)
		}
		if nd.KeySetBy() != "team" {
			t.Errorf("%s: set by %q", tc.update, nd.KeySetBy())
		}
	}
	// Sending a key with the new endpoint stores that key, bound.
	nd, e := UpdateDeployment(own, parse(t, `{"model_info": {"id": "id"}, "litellm_params": {"api_base": "https://b.example", "api_key": "sk-raw-new-key-4567"}}`), teamCaller, pol, now)
	if e != nil {
		t.Fatal(e)
	}
	if p, err := configs.DecryptBound("salt", configs.Binding{TeamID: "t", ModelID: "id"}, nd.LiteLLMParams.APIKey); err != nil || p != "sk-raw-new-key-4567" {
		t.Errorf("new key: %q %v", p, err)
	}
	// The master changing the endpoint drops the key too, and now owns it.
	nd, e = UpdateDeployment(own, parse(t, `{"model_info": {"id": "id"}, "litellm_params": {"api_base": "https://c.example"}}`), masterCaller, pol, now)
	if e != nil || nd.LiteLLMParams.APIKey != "" || nd.KeySetBy() != "master" {
		t.Errorf("master endpoint change: %v %q %q", e, nd.LiteLLMParams.APIKey, nd.KeySetBy())
	}

	// Deployments whose key is the operator's: a team key may not touch them.
	masterMade, _ := NewDeployment(parse(t, `{"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "os.environ/OPENAI_KEY"}}`), "t", "id", masterCaller, pol, now)
	masterNoKey, _ := NewDeployment(parse(t, `{"model_name": "m", "litellm_params": {"model": "openai/x"}}`), "t", "id", masterCaller, pol, now)
	handWritten := &configs.Deployment{ModelName: "m", LiteLLMParams: configs.LiteLLMParams{Model: "openai/x", APIKey: "enc:v2:AAAA"}, ModelInfo: configs.ModelInfo{ID: "id", TeamID: "t"}}
	envInTeamFile := &configs.Deployment{ModelName: "m", LiteLLMParams: configs.LiteLLMParams{Model: "openai/x", APIVersion: "os.environ/V"},
		ModelInfo: configs.ModelInfo{ID: "id", TeamID: "t", Extra: map[string]any{"api_key_set_by": "team"}}}
	v1, _ := configs.Encrypt("salt", "sk-x")
	v1Team := &configs.Deployment{ModelName: "m", LiteLLMParams: configs.LiteLLMParams{Model: "openai/x", APIKey: v1},
		ModelInfo: configs.ModelInfo{ID: "id", TeamID: "t", Extra: map[string]any{"api_key_set_by": "team"}}}
	for name, d := range map[string]*configs.Deployment{"master os.environ": masterMade, "master no key": masterNoKey, "hand-written": handWritten, "env in a team file": envInTeamFile, "enc:v1": v1Team} {
		for _, upd := range []string{`"api_base": "https://evil.example"`, `"rpm": 1`, `"input_cost_per_token": 0`, `"api_key": "sk-raw-mine-0123"`} {
			if _, e := UpdateDeployment(d, parse(t, `{"model_info": {"id": "id"}, "litellm_params": {`+upd+`}}`), teamCaller, pol, now); e == nil || e.Status != 403 || !strings.Contains(e.Message, "only the master key") {
				t.Errorf("%s, team update %s: %+v, want 403", name, upd, e)
			}
		}
		if e := RequireKeyOwner(teamCaller, d, "/model/delete"); e == nil || e.Status != 403 {
			t.Errorf("%s: team delete allowed", name)
		}
		if e := RequireKeyOwner(masterCaller, d, "/model/delete"); e != nil {
			t.Errorf("%s: master delete refused: %v", name, e)
		}
		if _, e := UpdateDeployment(d, parse(t, `{"model_info": {"id": "id"}, "litellm_params": {"rpm": 1}}`), masterCaller, pol, now); e != nil {
			t.Errorf("%s: master update refused: %v", name, e)
		}
	}
	if e := RequireKeyOwner(teamCaller, own, "/model/delete"); e != nil {
		t.Errorf("team delete of its own model: %v", e)
	}
}
