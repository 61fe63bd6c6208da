package configs

import (
	"strings"
	"testing"
)

// The cloud credentials resolve like api_key into Deployment.Credentials;
// the rule of who may use operator values covers them too.
func TestCloudCredentials(t *testing.T) {
	t.Parallel()
	bind := Binding{"t", "m"}
	secret, _ := EncryptBound("test-salt-key", bind, "the-client-secret")
	other, _ := EncryptBound("test-salt-key", Binding{"u", "m"}, "the-client-secret")
	v1, _ := Encrypt("test-salt-key", "aws-secret")
	env := envOf(map[string]string{"GATEWAY_SALT_KEY": "test-salt-key", "AWS_SECRET": "from-env", "REGION": "eu-west-1"})
	for _, tc := range []struct {
		params, info string
		operator     bool
		check        func(*Deployment) string
		problem      string // an error that must be reported
	}{
		{params: "client_secret: " + secret + ", tenant_id: tid, client_id: cid", info: "api_key_set_by: team",
			check: func(d *Deployment) string {
				if d.Credentials.ClientSecret != "the-client-secret" || d.LiteLLMParams.TenantID != "tid" {
					return "client_secret not resolved"
				}
				return ""
			}},
		{params: "client_secret: " + other, info: "api_key_set_by: team", problem: "client_secret cannot be decrypted"},
		{params: "aws_access_key_id: AKIA, aws_secret_access_key: os.environ/AWS_SECRET, aws_region_name: os.environ/REGION", info: "api_key_set_by: team", operator: true,
			check: func(d *Deployment) string {
				if d.Credentials.AWSSecretAccessKey != "from-env" || d.LiteLLMParams.AWSRegionName != "eu-west-1" {
					return "environment values not resolved"
				}
				return ""
			}},
		{params: "aws_region_name: os.environ/REGION", info: "api_key_set_by: team", operator: true},
		{params: "aws_access_key_id: AKIA, aws_secret_access_key: " + v1, info: "api_key_set_by: team", operator: true},
		{params: "vertex_credentials: /etc/sa.json", info: "", operator: true,
			check: func(d *Deployment) string {
				if d.Credentials.VertexCredentials != "/etc/sa.json" {
					return "path not kept"
				}
				return ""
			}},
		{params: "vertex_credentials: /etc/sa.json", info: "api_key_set_by: team", problem: "a path reads the gateway's disk"},
		{params: "aws_bedrock_runtime_endpoint: 'ftp://x'", info: "api_key_set_by: team", problem: "aws_bedrock_runtime_endpoint \"ftp://x\" is not an http(s) URL"},
		{params: "azure_ad_token: os.environ/MISSING", info: "", problem: "environment variable MISSING is not set (azure_ad_token"},
		{params: "tenant_id: t, client_secret: " + secret, info: "api_key_set_by: team", problem: "tenant_id and client_secret given without client_id"},
		{params: "aws_access_key_id: AKIA", info: "", problem: "aws_access_key_id given without aws_secret_access_key"},
		{params: "aws_session_name: s", info: "", problem: "aws_session_name is set without aws_role_name"},
	} {
		in := Input{Teams: []File{{Path: "t.yaml", Data: []byte("team_id: t\n")}},
			Models: []File{{Path: "m.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: azure/x, api_base: https://x.example, " + tc.params +
				"}\n    model_info: {id: m, team_id: t, team_public_model_name: x, " + tc.info + "}\n")}}}
		snap, ps := Build(in, env)
		if tc.problem != "" {
			found := false
			for _, p := range ps {
				found = found || (!p.Warning && strings.Contains(p.Message, tc.problem))
			}
			if !found {
				t.Errorf("%s: no error %q in %v", tc.params, tc.problem, ps)
			}
			continue
		}
		if snap == nil {
			t.Fatalf("%s: %v", tc.params, ps)
		}
		d := snap.TeamDeployments["t"][0]
		if got := d.OperatorCredentials(); got != tc.operator {
			t.Errorf("%s / %s: OperatorCredentials = %v, want %v", tc.params, tc.info, got, tc.operator)
		}
		if tc.check != nil {
			if why := tc.check(d); why != "" {
				t.Errorf("%s: %s", tc.params, why)
			}
		}
		for _, v := range d.Credentials.Values() {
			if strings.HasPrefix(v, EncAnyPrefix) || strings.HasPrefix(v, EnvPrefix) {
				t.Errorf("%s: credential left unresolved: %.12s", tc.params, v)
			}
		}
	}
}

// salt rotation re-encrypts every secret param, bound to its deployment.
func TestRotateCloudCredentials(t *testing.T) {
	t.Parallel()
	bind := Binding{"", "m"}
	secret, _ := EncryptBound("old-salt", bind, "the-client-secret")
	key, _ := EncryptBound("old-salt", bind, "sk-1")
	in := Input{Config: File{Path: "gateway.yaml", Data: []byte("general_settings:\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
		"model_list:\n  - model_name: x\n    litellm_params: {model: azure/x, api_base: https://x.example, api_key: " + key +
		", tenant_id: t, client_id: c, client_secret: " + secret + "}\n    model_info: {id: m}\n")}}
	r, ps := Rotate(in, envOf(map[string]string{"GATEWAY_SALT_KEY": "old-salt"}), "new-salt")
	if r == nil {
		t.Fatal(ps)
	}
	if len(r.Values) != 2 || len(r.Files) != 1 {
		t.Fatalf("rotated %+v in %d files, want 2 values", r.Values, len(r.Files))
	}
	snap, ps := Build(Input{Config: r.Files[0]}, envOf(map[string]string{"GATEWAY_SALT_KEY": "new-salt"}))
	if snap == nil {
		t.Fatal(ps)
	}
	if d := snap.Global[0]; d.Credentials.ClientSecret != "the-client-secret" || d.APIKey != "sk-1" {
		t.Errorf("after rotation: %q %q", d.Credentials.ClientSecret, d.APIKey)
	}
}
