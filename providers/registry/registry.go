// Package registry says what each upstream kind is and can do: its
// prefix in litellm_params.model, its default api_base, its auth scheme,
// the endpoints it serves, whether its streams report usage and whether
// its calls are priced. It is a leaf (it imports nothing of the project),
// so every layer asks it — configs validation, manage, pricing, the
// actors — and nothing else lists providers. The implementations live in
// one package each under providers/; adding a provider is that package,
// one line in Table, and its constructor in the gateway's wiring (a test
// keeps the two lists equal).
package registry

import (
	"slices"
	"strings"
)

// Auth is how a provider sends the upstream key.
type Auth string

// Auth schemes.
const (
	AuthBearer  Auth = "bearer"    // Authorization: Bearer <key>
	AuthAPIKey  Auth = "api-key"   // api-key: <key> (Azure)
	AuthXAPIKey Auth = "x-api-key" // x-api-key: <key> (Anthropic)
	AuthNone    Auth = "none"      // no key (the built-in mock)
	// AuthSigV4: AWS Signature Version 4 with the deployment's AWS
	// credentials (bedrock).
	AuthSigV4 Auth = "aws-sigv4"
	// AuthGoogleOAuth: Authorization: Bearer <an OAuth2 access token of a
	// service account> (vertex_ai).
	AuthGoogleOAuth Auth = "google-oauth2"
	// AuthGoogAPIKey: x-goog-api-key: <key> (gemini, Google AI Studio).
	AuthGoogAPIKey Auth = "x-goog-api-key"
)

// Endpoint is an API a provider serves natively.
type Endpoint string

// Endpoints: the path after /v1/ of the API (OpenAI's, or Anthropic's
// for messages and messages/count_tokens).
const (
	EndpointChat           Endpoint = "chat/completions"
	EndpointCompletions    Endpoint = "completions"
	EndpointEmbeddings     Endpoint = "embeddings"
	EndpointResponses      Endpoint = "responses"
	EndpointModerations    Endpoint = "moderations"
	EndpointImages         Endpoint = "images/generations"
	EndpointSpeech         Endpoint = "audio/speech"
	EndpointTranscriptions Endpoint = "audio/transcriptions"
	EndpointMessages       Endpoint = "messages"
	EndpointCountTokens    Endpoint = "messages/count_tokens"
)

// Serves reports whether the provider serves ep natively (chat: with its
// own translation or none). An endpoint it does not serve may still be
// bridged by the gateway (Anthropic messages over chat).
func (s Spec) Serves(ep Endpoint) bool { return slices.Contains(s.Endpoints, ep) }

// Spec is what one upstream kind declares.
type Spec struct {
	// Name is the prefix of litellm_params.model ("azure/my-deployment")
	// and the value of custom_llm_provider.
	Name string
	// DefaultAPIBase is used when api_base is empty ("" = api_base is
	// required).
	DefaultAPIBase string
	// DefaultAPIVersion is used when api_version is empty ("" = none).
	DefaultAPIVersion string
	Auth              Auth
	// Endpoints are the APIs the provider serves natively; every provider
	// serves EndpointChat (translated in its package when its own API is
	// another). A provider serving more than chat implements
	// providers.Forwarder.
	Endpoints []Endpoint
	// StreamUsage reports whether the upstream sends a final usage chunk
	// when asked with stream_options.include_usage, for the deployment's
	// api_version (the default one when empty); nil: never.
	StreamUsage func(apiVersion string) bool
	// Free marks a provider whose calls cost nothing unless the
	// deployment sets a price (the built-in mock calls no one).
	Free bool
	// EnvKey is the environment variable an operator's deployment without
	// an api_key reads (LiteLLM's name; "": none). A team's deployment
	// never reads the gateway's environment.
	EnvKey string
	// Family names the package that implements a provider declared here
	// only ("openai": an OpenAI-compatible host by name, served by the
	// openai package with this entry's api_base and key variable;
	// "azure": azure_ai, served by the azure package); "" for a provider
	// with its own package of the same name.
	Family string
	// Reasoning reports whether the provider's chat takes reasoning_effort
	// for an upstream model (the bridges drop it otherwise: Codex sends an
	// effort with every call); nil: only OpenAI's reasoning families do.
	Reasoning func(upstreamModel string) bool
	// Params are the provider-specific litellm_params it reads (of
	// ProviderParams); the others are common to every provider. A
	// deployment setting one its provider does not read gets a warning.
	Params []string
}

// ProviderParams are the litellm_params only some providers read.
var ProviderParams = []string{"api_version", "organization", "mock_response", "stream_include_usage",
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name", "aws_role_name",
	"aws_session_name", "aws_bedrock_runtime_endpoint", "aws_sts_endpoint",
	"vertex_project", "vertex_location", "vertex_credentials",
	"tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_authority_host"}

// Reads reports whether the provider reads the provider-specific
// litellm_params param.
func (s Spec) Reads(param string) bool { return slices.Contains(s.Params, param) }

// Table is every provider the gateway knows, one line each.
var Table = []Spec{
	{Name: "openai", DefaultAPIBase: "https://api.openai.com/v1", Auth: AuthBearer, EnvKey: "OPENAI_API_KEY",
		Endpoints: openAIEndpoints, StreamUsage: always, Params: []string{"organization", "stream_include_usage"}},
	// Azure OpenAI has no moderations endpoint (content filtering is
	// built into every call instead).
	{Name: "azure", DefaultAPIVersion: "2024-10-21", Auth: AuthAPIKey,
		Endpoints: azureEndpoints, StreamUsage: azureStreamUsage, Params: append([]string{"api_version", "stream_include_usage"}, entraParams...)},
	{Name: "mock", Auth: AuthNone, Endpoints: []Endpoint{EndpointChat, EndpointCompletions, EndpointEmbeddings,
		EndpointResponses}, StreamUsage: always, Free: true, Params: []string{"mock_response"}},
	{Name: "anthropic", DefaultAPIBase: "https://api.anthropic.com", DefaultAPIVersion: "2023-06-01", Auth: AuthXAPIKey,
		Endpoints: []Endpoint{EndpointChat, EndpointMessages, EndpointCountTokens}, StreamUsage: always,
		Params: []string{"api_version"}, EnvKey: "ANTHROPIC_API_KEY", Reasoning: claudeThinks},
	// Vertex AI: Google's models (Gemini API) and Anthropic's (rawPredict)
	// with a service account's OAuth2 token; embeddings with :predict.
	{Name: "vertex_ai", Auth: AuthGoogleOAuth, Endpoints: []Endpoint{EndpointChat, EndpointEmbeddings}, StreamUsage: always,
		Params: []string{"vertex_project", "vertex_location", "vertex_credentials"}, Reasoning: vertexReasons},
	// Google AI Studio's Gemini API (providers/gemini translates chat and
	// embeddings); GEMINI_API_KEY for the operator's deployments only.
	{Name: "gemini", DefaultAPIBase: "https://generativelanguage.googleapis.com", Auth: AuthGoogAPIKey,
		Endpoints: []Endpoint{EndpointChat, EndpointEmbeddings}, StreamUsage: always, EnvKey: "GEMINI_API_KEY",
		Reasoning: func(string) bool { return true }}, // the translation drops it where a model has no thinking

	// Amazon Bedrock: chat through the Converse API, embeddings through
	// InvokeModel (Titan, Cohere), SigV4 with the deployment's AWS keys,
	// a role assumed with them, or (operator deployments only) the host's
	// default credential chain.
	{Name: "bedrock", Auth: AuthSigV4, Endpoints: []Endpoint{EndpointChat, EndpointEmbeddings}, StreamUsage: always,
		Params: []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
			"aws_role_name", "aws_session_name", "aws_bedrock_runtime_endpoint", "aws_sts_endpoint"}, Reasoning: bedrockReasons},

	// OpenAI-compatible hosts by name, as LiteLLM has them: the openai
	// package serves them with their default api_base and key variable.
	// stream_options.include_usage is asked only of those known to accept
	// it (the others' stream tokens are counted; stream_include_usage:
	// true turns it on for a server that accepts it).
	compatible("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", true),
	compatible("mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", false, EndpointEmbeddings),
	compatible("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", true),
	compatible("together_ai", "https://api.together.xyz/v1", "TOGETHERAI_API_KEY", true, EndpointCompletions, EndpointEmbeddings),
	compatible("fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY", true, EndpointCompletions, EndpointEmbeddings),
	compatible("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", true),
	compatible("xai", "https://api.x.ai/v1", "XAI_API_KEY", true),
	compatible("perplexity", "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY", false),
	compatible("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", true),
	compatible("nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY", true, EndpointEmbeddings),
	compatible("ollama", "http://localhost:11434/v1", "", false, EndpointEmbeddings),
	compatible("ollama_chat", "http://localhost:11434/v1", "", false),
	compatible("hosted_vllm", "", "HOSTED_VLLM_API_KEY", true, EndpointCompletions, EndpointEmbeddings),
	compatible("lm_studio", "http://localhost:1234/v1", "LM_STUDIO_API_KEY", false, EndpointEmbeddings),
	compatible("openai_like", "", "", false),

	// Azure AI Foundry models (model inference and serverless endpoints),
	// OpenAI's chat and embeddings wire with Azure's auth: served by the
	// azure package. Streams report usage only when stream_include_usage
	// is true (the model inference API takes stream_options as an extra
	// parameter that not every model accepts).
	{Name: "azure_ai", Family: "azure", Auth: AuthBearer, EnvKey: "AZURE_AI_API_KEY",
		Endpoints: []Endpoint{EndpointChat, EndpointEmbeddings},
		Params:    append([]string{"api_version", "stream_include_usage"}, entraParams...)},
}

// entraParams are the Microsoft Entra ID params of azure and azure_ai.
var entraParams = []string{"tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_authority_host"}

// compatible is the entry of an OpenAI-compatible host: chat, and the
// endpoints it serves besides.
func compatible(name, base, envKey string, streamUsage bool, more ...Endpoint) Spec {
	s := Spec{Name: name, DefaultAPIBase: base, EnvKey: envKey, Family: "openai", Auth: AuthBearer,
		Endpoints: append([]Endpoint{EndpointChat}, more...), Params: []string{"stream_include_usage"}}
	if streamUsage {
		s.StreamUsage = always
	}
	return s
}

// openAIEndpoints is OpenAI's API as the gateway serves it.
var openAIEndpoints = []Endpoint{EndpointChat, EndpointCompletions, EndpointEmbeddings, EndpointResponses,
	EndpointModerations, EndpointImages, EndpointSpeech, EndpointTranscriptions}

// azureEndpoints is openAIEndpoints without moderations.
var azureEndpoints = []Endpoint{EndpointChat, EndpointCompletions, EndpointEmbeddings, EndpointResponses,
	EndpointImages, EndpointSpeech, EndpointTranscriptions}

func always(string) bool { return true }

// claudeThinks reports whether a Claude model has extended thinking: every
// one from Claude 3.7 on (claude-3-5-*, claude-3-* and older have none).
func claudeThinks(model string) bool {
	m := strings.ToLower(model)
	for _, old := range []string{"claude-3-5", "claude-3-haiku", "claude-3-opus", "claude-3-sonnet", "claude-2", "claude-instant"} {
		if strings.HasPrefix(m, old) {
			return false
		}
	}
	return true
}

// vertexReasons: Claude models as claudeThinks, Google's through the
// Gemini translation (which drops it where a model has no thinking).
func vertexReasons(model string) bool {
	return !strings.HasPrefix(strings.ToLower(model), "claude") || claudeThinks(model)
}

// bedrockReasons: Anthropic models with extended thinking and OpenAI's
// gpt-oss (Bedrock refuses it for the others).
func bedrockReasons(model string) bool {
	m := strings.ToLower(model)
	if strings.Contains(m, "gpt-oss") {
		return true
	}
	i := strings.Index(m, "anthropic.")
	return i >= 0 && claudeThinks(m[i+len("anthropic."):])
}

// azureStreamUsage: Azure OpenAI accepts stream_options from api_version
// 2024-10-21 on (the default one), and in its v1 API ("v1", "preview",
// "latest").
func azureStreamUsage(v string) bool {
	return v == "" || v == "v1" || v == "preview" || v == "latest" || (len(v) >= 10 && v[:10] >= "2024-10-21")
}

// Lookup returns the provider named name.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(Table, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return Table[i], true
}

// Names lists the providers, for messages ("openai, azure, mock").
func Names() string {
	names := make([]string, len(Table))
	for i, s := range Table {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// DefaultProvider is the provider of a model written without a prefix
// ("gpt-4o"), as LiteLLM reads it.
const DefaultProvider = "openai"

// ParseModel splits litellm_params.model into its provider and upstream
// model, honouring custom_llm_provider: "azure/x" is ("azure", "x"); "x"
// is ("openai", "x"); with custom_llm_provider "azure", "x" and "azure/x"
// are both ("azure", "x"). It does not check that the provider exists
// (Lookup does).
func ParseModel(model, customProvider string) (provider, upstream string) {
	if customProvider != "" {
		return customProvider, strings.TrimPrefix(model, customProvider+"/")
	}
	provider, upstream, found := strings.Cut(model, "/")
	if !found {
		return DefaultProvider, model
	}
	return provider, upstream
}

// StreamUsage reports whether the gateway should ask a deployment of
// provider (with apiVersion and litellm_params.stream_include_usage, nil
// when unset) for a final usage chunk.
func StreamUsage(provider, apiVersion string, includeUsage *bool) bool {
	if includeUsage != nil {
		if !*includeUsage {
			return false
		}
		if s, ok := Lookup(provider); ok && (s.Family == "openai" || s.Name == "azure_ai") {
			return true // an OpenAI-compatible server said to accept it
		}
	}
	s, ok := Lookup(provider)
	return ok && s.StreamUsage != nil && s.StreamUsage(apiVersion)
}
