package manage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// A service account key as Google issues it (the key is not a real one).
const serviceAccountJSON = `{"type":"service_account","project_id":"p","client_email":"sa@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----\n","token_uri":"https://oauth2.googleapis.com/token"}`

// Every cloud credential a caller sends is a secret like api_key: stored
// only encrypted and bound to its deployment, never shown, only the
// master's values may read the environment or the disk.
func TestCloudCredentialsAreSecrets(t *testing.T) {
	t.Parallel()
	saJSON, _ := json.Marshal(serviceAccountJSON)
	userJSON, _ := json.Marshal(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`)
	for _, tc := range []struct {
		params     string
		team       int // status for a team key (0: accepted)
		master     int
		says       string
		encrypted  []string // params stored enc:v2:
		unchanged  []string // params stored as sent
		masterOnly bool
	}{
		{`"model": "bedrock/anthropic.claude-3-haiku-20240307-v1:0", "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG", "aws_region_name": "us-east-1"`,
			0, 0, "", []string{"aws_access_key_id", "aws_secret_access_key"}, []string{"aws_region_name"}, false},
		{`"model": "azure/gpt", "api_base": "https://x.openai.azure.com", "tenant_id": "tid", "client_id": "cid", "client_secret": "the-client-secret"`,
			0, 0, "", []string{"client_secret"}, []string{"tenant_id", "client_id"}, false},
		{`"model": "azure/gpt", "api_base": "https://x.openai.azure.com", "azure_ad_token": "eyJ0eXAi.token"`, 0, 0, "", []string{"azure_ad_token"}, nil, false},
		{`"model": "vertex_ai/gemini-2.5-pro", "vertex_project": "p", "vertex_credentials": ` + string(saJSON), 0, 0, "", []string{"vertex_credentials"}, []string{"vertex_project"}, false},
		// Values only the operator may use.
		{`"model": "bedrock/x", "aws_secret_access_key": "os.environ/AWS_SECRET_ACCESS_KEY"`, 403, 0, "only for the master key", nil, nil, true},
		{`"model": "bedrock/x", "aws_region_name": "os.environ/AWS_REGION"`, 403, 0, "litellm_params.aws_region_name", nil, nil, true},
		{`"model": "vertex_ai/x", "vertex_credentials": "/etc/gateway/sa.json"`, 403, 0, "file path reads the gateway's disk", nil, nil, true},
		{`"model": "vertex_ai/x", "vertex_credentials": ` + string(userJSON), 403, 0, "only for the master key", nil, nil, true},
		{`"model": "vertex_ai/x", "vertex_credentials": "{not json"`, 400, 400, "is not valid JSON", nil, nil, false},
		{`"model": "vertex_ai/x", "vertex_credentials": "{\"type\":\"service_account\"}"`, 400, 400, "without client_email or private_key", nil, nil, false},
		{`"model": "azure/x", "client_secret": "enc:v1:AAAA"`, 403, 0, "already encrypted", nil, nil, true},
		{`"model": "bedrock/x", "aws_bedrock_runtime_endpoint": "ftp://x"`, 400, 400, "is not an http(s) URL", nil, nil, false},
	} {
		body := `{"model_name": "m", "litellm_params": {` + tc.params + `}}`
		for _, who := range []struct {
			c      Caller
			status int
		}{{teamCaller, tc.team}, {masterCaller, tc.master}} {
			d, e := NewDeployment(parse(t, body), "t", "id", who.c, pol, now)
			if who.status != 0 {
				if e == nil || e.Status != who.status || !strings.Contains(e.Message, tc.says) {
					t.Errorf("master=%v %s: %+v, want %d saying %q", who.c.Master, tc.params, e, who.status, tc.says)
				}
				continue
			}
			if e != nil {
				if !(who.c.Master && tc.masterOnly && e.Status == 400 && strings.Contains(e.Message, "salt")) {
					t.Errorf("master=%v %s: %v", who.c.Master, tc.params, e)
				}
				continue
			}
			for _, name := range tc.encrypted {
				v := *d.LiteLLMParams.StringParam(name)
				plain, _, err := configs.SaltKeys{Current: "salt"}.Open(configs.Binding{TeamID: "t", ModelID: "id"}, v)
				if !strings.HasPrefix(v, configs.EncBoundPrefix) || err != nil || plain == "" {
					t.Errorf("%s stored as %.20q (%v), want enc:v2: bound to the deployment", name, v, err)
				}
				// Never shown: omitted from /model/info, masked in the
				// stored view.
				if _, ok := ModelView(d, true).LiteLLMParams[name]; ok {
					t.Errorf("%s in /model/info", name)
				}
				if got := StoredView(d).LiteLLMParams[name]; got != "enc:v2:****" {
					t.Errorf("%s in the stored view: %v", name, got)
				}
				if out, _ := json.Marshal(ModelView(d, true)); strings.Contains(string(out), plain) {
					t.Errorf("%s's value in %s", name, out)
				}
			}
			for _, name := range tc.unchanged {
				if v := *d.LiteLLMParams.StringParam(name); strings.HasPrefix(v, "enc:") || v == "" {
					t.Errorf("%s stored as %q", name, v)
				}
			}
		}
	}
}

// A change of where the credentials go drops every stored secret the
// call does not send again; a change of anything else keeps them.
func TestCloudCredentialsFollowTheirEndpoint(t *testing.T) {
	t.Parallel()
	body := `{"model_name": "m", "litellm_params": {"model": "bedrock/x", "aws_access_key_id": "AKIA1", "aws_secret_access_key": "s1", "aws_region_name": "us-east-1"}}`
	d, e := NewDeployment(parse(t, body), "t", "id", teamCaller, pol, now)
	if e != nil {
		t.Fatal(e)
	}
	same, e := UpdateDeployment(d, parse(t, `{"litellm_params": {"rpm": 10}}`), teamCaller, pol, now)
	if e != nil || same.LiteLLMParams.AWSSecretAccessKey != d.LiteLLMParams.AWSSecretAccessKey {
		t.Fatalf("rpm change: %v", e)
	}
	moved, e := UpdateDeployment(d, parse(t, `{"litellm_params": {"aws_bedrock_runtime_endpoint": "https://bedrock.example.com"}}`), teamCaller, pol, now)
	if e != nil {
		t.Fatal(e)
	}
	if moved.LiteLLMParams.AWSSecretAccessKey != "" || moved.LiteLLMParams.AWSAccessKeyID != "" {
		t.Errorf("credentials kept for another endpoint: %+v", moved.LiteLLMParams)
	}
	resent, e := UpdateDeployment(d, parse(t, `{"litellm_params": {"aws_region_name": "eu-west-1", "aws_secret_access_key": "s2"}}`), teamCaller, pol, now)
	if e != nil || !strings.HasPrefix(resent.LiteLLMParams.AWSSecretAccessKey, configs.EncBoundPrefix) || resent.LiteLLMParams.AWSAccessKeyID != "" {
		t.Errorf("resent: %v %+v", e, resent.LiteLLMParams)
	}
}

// A team's endpoint params pass the api_base policy as api_base does.
func TestCloudEndpointsPassThePolicy(t *testing.T) {
	t.Parallel()
	for _, param := range []string{"aws_bedrock_runtime_endpoint", "aws_sts_endpoint", "azure_authority_host"} {
		body := `{"model_name": "m", "litellm_params": {"model": "bedrock/x", "` + param + `": "http://169.254.169.254/latest"}}`
		_, e := NewDeployment(parse(t, body), "t", "id", teamCaller, pol, now)
		if e == nil || e.Status != 403 || e.Param != "litellm_params."+param || !strings.Contains(e.Message, "not allowed for team deployments") {
			t.Errorf("%s: %+v", param, e)
		}
	}
}
