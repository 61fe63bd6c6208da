package openai

import (
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
)

// The tests' environment: OPENAI_API_KEY is set.
const TestEnvKey = "sk-env-operator-0123456789abcdef"

// TestGroqKey is GROQ_API_KEY in the tests' environment.
const TestGroqKey = "gsk-env-operator-0123456789abcdef"

func init() {
	getenv = func(name string) string {
		switch name {
		case EnvKey:
			return TestEnvKey
		case "GROQ_API_KEY":
			return TestGroqKey
		}
		return ""
	}
}

// Prepare exposes a provider's request building for the tests.
func Prepare(p any, call *providers.Call, req *fasthttp.Request) error {
	return p.(*providers.HTTP).Prepare(call, req)
}
