package openai

// The tests' environment: OPENAI_API_KEY is set.
const TestEnvKey = "sk-env-operator-0123456789abcdef"

func init() {
	getenv = func(name string) string {
		if name == EnvKey {
			return TestEnvKey
		}
		return ""
	}
}
