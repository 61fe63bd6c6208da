package azure

import "time"

// The tests' environment: AZURE_API_KEY is set (AZURE_OPENAI_API_KEY is
// not).
const TestEnvKey = "az-env-operator-0123456789abcdef"

func init() {
	getenv = func(name string) string {
		if name == "AZURE_API_KEY" {
			return TestEnvKey
		}
		return ""
	}
}

// ResolveAuthEnv is ResolveAuth with the environment given.
var ResolveAuthEnv = resolveAuth

// SetNow replaces the token cache's clock.
func (t *Tokens) SetNow(now func() time.Time) { t.now = now }

// FirstSentence is firstSentence.
var FirstSentence = firstSentence
