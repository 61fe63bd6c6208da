package litellmimport

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/internal/litellmtest"
)

const salt = "litellm-salt-0123456789"

func TestDecryptEveryLiteLLMFormat(t *testing.T) {
	t.Parallel()
	for name, enc := range map[string]func(string) string{
		"nacl urlsafe": func(p string) string { return litellmtest.EncryptNaCl(salt, p) },
		"nacl std":     func(p string) string { return litellmtest.EncryptNaClStd(salt, p) },
		"nacl unpadded": func(p string) string {
			return strings.TrimRight(litellmtest.EncryptNaCl(salt, p), "=")
		},
		"v2 gcm": func(p string) string { return litellmtest.EncryptGCM("v2", salt, p) },
		"v3 gcm": func(p string) string { return litellmtest.EncryptGCM("v3", salt, p) },
	} {
		for _, plain := range []string{"sk-upstream-secret", "openai/gpt-4o", "x", `{"type":"service_account"}`, strings.Repeat("é", 300)} {
			c := enc(plain)
			if !LooksEncrypted(c) {
				t.Errorf("%s: %q does not look encrypted", name, c)
			}
			got, err := Decrypt(salt, c)
			if err != nil || got != plain {
				t.Errorf("%s: Decrypt = %q, %v; want %q", name, got, err, plain)
			}
			if _, err := Decrypt("another-salt", c); !errors.Is(err, ErrWrongKey) {
				t.Errorf("%s: wrong key: err = %v, want ErrWrongKey", name, err)
			}
			if _, err := Decrypt("", c); !errors.Is(err, ErrNoKey) {
				t.Errorf("%s: no key: err = %v, want ErrNoKey", name, err)
			}
		}
	}
}

func TestPlaintextIsNotTakenForCiphertext(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"openai/gpt-4o", "https://api.openai.com/v1", "os.environ/OPENAI_API_KEY", "2024-10-21", "",
		"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "us-east-1", "azure/my-deployment"} {
		if LooksEncrypted(v) {
			t.Errorf("%q looks encrypted", v)
		}
		if _, err := Decrypt(salt, v); !errors.Is(err, ErrNotEncrypted) {
			t.Errorf("Decrypt(%q) err = %v, want ErrNotEncrypted", v, err)
		}
		if got, err := openValue(salt, v); err != nil || got != v {
			t.Errorf("openValue(%q) = %q, %v", v, got, err)
		}
	}
}

// The errors never quote the value.
func TestDecryptErrorsHoldNoValue(t *testing.T) {
	t.Parallel()
	c := litellmtest.EncryptNaCl(salt, "sk-secret-value")
	_, err := Decrypt("wrong", c)
	if err == nil || strings.Contains(err.Error(), c) || strings.Contains(err.Error(), "sk-secret") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzDecrypt(f *testing.F) {
	f.Add(salt, litellmtest.EncryptNaCl(salt, "sk-a"))
	f.Add(salt, litellmtest.EncryptNaClStd(salt, "sk-b"))
	f.Add(salt, litellmtest.EncryptGCM("v2", salt, "c"))
	f.Add(salt, litellmtest.EncryptGCM("v3", salt, "d"))
	f.Add("", "v3:gcm:")
	f.Add("k", "v2:gcm:AAAA")
	f.Add("k", strings.Repeat("A", 55))
	f.Add("k", "====")
	f.Add("k", "-_-_")
	f.Fuzz(func(t *testing.T, key, v string) {
		plain, err := Decrypt(key, v)
		if err != nil && plain != "" {
			t.Fatalf("error with a plaintext")
		}
		if err != nil && strings.Contains(err.Error(), v) && len(v) > 8 {
			t.Fatalf("error quotes the value")
		}
		_, _ = openValue(key, v)
		_ = LooksEncrypted(v)
	})
}

// Rows of any shape decode without a panic, and the request built from
// them is one the API's builders take or refuse with an error.
func FuzzRows(f *testing.F) {
	f.Add(`{"team_id":"t1","team_alias":"a","members_with_roles":[{"role":"admin","user_id":"u"}],"models":["m"],"tpm_limit":5,"metadata":{"a":1}}`,
		`{"token":"`+strings.Repeat("a", 64)+`","key_alias":"k","expires":"2030-01-01T00:00:00","team_id":"t1","models":["all-team-models"]}`,
		`{"model_id":"m1","model_name":"gpt","litellm_params":{"model":"openai/gpt-4o","api_key":"`+litellmtest.EncryptNaCl(salt, "sk-x")+`","rpm":3},"model_info":{"team_id":"t1"}}`)
	f.Add(`{"team_id":5,"members_with_roles":"[{\"user_id\":1}]","metadata":"{\"x\":[1]}","tpm_limit":"a"}`, `{"token":null,"expires":"garbage","blocked":"yes"}`,
		`{"litellm_params":"{\"model\":\"openai/x\"}","model_info":[1,2]}`)
	f.Add(`[]`, `null`, `"x"`)
	f.Add(`{"team_id":"../x","budget_duration":"1w","models":["all-proxy-models"]}`, `{"token":"ZZ","metadata":[1]}`, `{"model_id":"a","litellm_params":{"api_key":"v3:gcm:AAAA"}}`)
	f.Fuzz(func(t *testing.T, team, key, model string) {
		var lt ltTeam
		if _, _, err := decodeRow(json.RawMessage(team), &lt); err == nil {
			_, _ = teamRequest(&lt)
		}
		var lk ltKey
		if cols, _, err := decodeRow(json.RawMessage(key), &lk); err == nil {
			_ = uncarried(cols, keyCarried)
			_ = keyLabel(&lk)
			_, _ = parseTime(str(lk.Expires))
		}
		var lm ltModel
		if _, _, err := decodeRow(json.RawMessage(model), &lm); err == nil {
			im := &importer{litellmSalt: salt, r: &Report{}}
			_, _, _ = im.params(lm.LiteLLMParams)
			_, _ = object(lm.ModelInfo)
		}
	})
}
