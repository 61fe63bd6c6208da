package litellmimport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/litellmtest"
)

// The import without PostgreSQL: rows as row_to_json gives them.
func TestImportRows(t *testing.T) {
	t.Parallel()
	opts, _ := gatewayDirs(t)
	key := litellmtest.Token("sk-rows-key")
	d := &Dump{
		Teams: []json.RawMessage{json.RawMessage(`{"team_id":"t1","team_alias":"rows","members_with_roles":{},"metadata":"{\"a\": 1}","models":[],"tpm_limit":5,"blocked":false,"spend":0,"created_at":"2025-03-04T05:06:07.123"}`)},
		Keys: []json.RawMessage{json.RawMessage(`{"token":"` + key + `","key_alias":"k","team_id":"t1","expires":"2099-01-01T00:00:00+00:00","models":["all-team-models"],"metadata":{},"tpm_limit":"not a number","spend":0}`),
			// Refused by the configuration's checks: the other keys still go in.
			json.RawMessage(`{"token":"` + litellmtest.Token("sk-bad-limit") + `","key_alias":"bad","team_id":"t1","rpm_limit":-1}`)},
		Models: []json.RawMessage{json.RawMessage(`{"model_id":"m1","model_name":"model_name_t1_m1","model_info":"{\"team_id\": \"t1\", \"team_public_model_name\": \"mine\"}",` +
			`"litellm_params":{"model":"` + litellmtest.EncryptNaCl("litellm-salt", "openai/gpt-4o") + `","api_key":"` + litellmtest.EncryptGCM("v2", "litellm-salt", "sk-up") + `","timeout":30}}`)},
	}
	rep, err := Import(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Teams.Imported != 1 || rep.Keys.Imported != 1 || rep.Keys.Skipped != 1 || rep.Models.Imported != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if items := strings.Join(rep.Items, "\n"); !strings.Contains(items, `key "k" (token `+key[:8]+`…): not carried over: tpm_limit`) ||
		!strings.Contains(items, `key "bad" (token `) || !strings.Contains(items, "rpm_limit") {
		t.Errorf("items: %q", rep.Items)
	}
	in, err := configs.ReadDirs(opts.ConfigPath, opts.TeamsDir, opts.ModelsDir)
	if err != nil {
		t.Fatal(err)
	}
	snap, ps := configs.Build(in, opts.Env)
	if snap == nil {
		t.Fatal(ps)
	}
	tm := snap.Teams["t1"]
	if tm.Metadata["a"] != 1 || tm.CreatedAt.Format("15:04:05") != "05:06:07" || len(tm.Keys) != 1 || tm.Keys[0].Models != nil || tm.Keys[0].TPMLimit != nil {
		t.Errorf("team %+v key %+v", tm, tm.Keys[0])
	}
	dep := snap.TeamDeployments["t1"][0]
	if dep.ModelInfo.TeamPublicModelName != "mine" || dep.APIKey != "sk-up" || *dep.LiteLLMParams.Timeout != 30 {
		t.Errorf("deployment %+v", dep)
	}
	b, _ := os.ReadFile(filepath.Join(opts.ModelsDir, "t1", "m1.yaml"))
	if strings.Contains(string(b), "sk-up") || !strings.Contains(string(b), "api_key: enc:v2:") || !strings.Contains(string(b), "api_key_set_by: master") {
		t.Errorf("model file:\n%s", b)
	}
	rep, err = Import(d, opts)
	if err != nil || rep.Changed() {
		t.Errorf("second run: %+v %v", rep, err)
	}
}

// A settings file that does not build stops the import before anything
// is written.
func TestImportInvalidSettings(t *testing.T) {
	t.Parallel()
	opts, _ := gatewayDirs(t)
	if err := os.WriteFile(opts.ConfigPath, []byte("general_settings: {max_request_size_mb: -1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(&Dump{}, opts); err == nil || !strings.Contains(err.Error(), "configuration is invalid") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzConnConfig(f *testing.F) {
	f.Add("postgres://u:pw@h:5432/db?schema=litellm&sslmode=disable")
	f.Add("postgresql://u:pw@/db?host=/tmp")
	f.Add("postgres://%zz")
	f.Add("mysql://u:pw@h/db")
	f.Fuzz(func(t *testing.T, u string) {
		_, err := connConfig(u)
		if err != nil && strings.Contains(u, "secretpw") && strings.Contains(err.Error(), "secretpw") {
			t.Fatal("the error quotes the password")
		}
	})
}
