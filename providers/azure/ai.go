package azure

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// aiSpec is the azure_ai registry entry.
var aiSpec, _ = registry.Lookup("azure_ai")

// AIEnvKeys are the key variables of the operator's azure_ai deployments
// without an api_key (LiteLLM's name).
var AIEnvKeys = []string{"AZURE_AI_API_KEY"}

// AIModelInferenceVersion is the api-version sent to Azure AI Foundry's
// model inference API (a /models/... path) when neither api_version nor
// the api_base's query names one: the API requires one, and this is the
// version its SDKs send.
const AIModelInferenceVersion = "2024-05-01-preview"

// NewAI returns the azure_ai provider: Azure AI Foundry models (the model
// inference endpoint of a Foundry resource,
// https://<resource>.services.ai.azure.com/models, and serverless or
// managed endpoints such as https://<name>.<region>.models.ai.azure.com),
// which speak OpenAI's chat and embeddings API. As LiteLLM sends them:
//
//   - the URL is api_base with /models/chat/completions (a
//     *.services.ai.azure.com host) or /chat/completions (any other)
//     appended unless api_base already ends with it (or with a part of
//     it, such as /models); embeddings likewise;
//   - api-version is api_base's own query parameter, else api_version,
//     else (on a /models/ path only) AIModelInferenceVersion;
//   - an api key goes in the api-key header for *.services.ai.azure.com
//     and *.openai.azure.com hosts, else in Authorization: Bearer;
//     azure_ad_token and Entra ID tokens (tenant_id + client_id +
//     client_secret, or for the operator's deployments the host's
//     identity, as for azure/) in Authorization: Bearer, with the
//     Cognitive Services scope, which Foundry's endpoints accept;
//   - the operator's deployments without credentials read
//     AZURE_AI_API_KEY, then the host's Entra identity.
func NewAI(client *providers.Client) providers.Provider {
	a := &authenticator{tokens: NewTokens(client), envKeys: AIEnvKeys, provider: "Azure AI Foundry", bearerKey: aiBearerKey}
	return &providers.HTTP{Client: client, Prepare: a.prepare(prepareAI), Key: a.key}
}

// aiBearerKey reports whether an api key goes in Authorization: Bearer:
// for every host but Foundry resources and Azure OpenAI ones.
func aiBearerKey(req *fasthttp.Request) bool {
	host := strings.ToLower(string(req.URI().Host()))
	if h, _, found := strings.Cut(host, ":"); found {
		host = h
	}
	return !strings.HasSuffix(host, ".services.ai.azure.com") && !strings.HasSuffix(host, ".openai.azure.com")
}

func prepareAI(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	base := strings.TrimSpace(d.LiteLLMParams.APIBase)
	if base == "" {
		return wire.Errorf(500, wire.TypeInternal,
			"deployment %q has no litellm_params.api_base; set it to https://<resource>.services.ai.azure.com/models or to the endpoint's URL",
			d.PublicName())
	}
	ep := call.EndpointOrChat()
	if !aiSpec.Serves(ep) || call.ObjectID != "" {
		return wire.Errorf(400, wire.TypeInvalidRequest,
			"model %q (an Azure AI Foundry deployment) does not serve /v1/%s: use /v1/chat/completions or /v1/embeddings",
			d.PublicName(), ep)
	}
	u, err := AIURL(base, d.LiteLLMParams.APIVersion, ep)
	if err != nil {
		return wire.Errorf(500, wire.TypeInternal, "deployment %q: litellm_params.api_base is not a URL: %v", d.PublicName(), err)
	}
	req.SetRequestURI(u)
	return nil
}

// AIURL is the azure_ai URL of endpoint ep for api_base base and
// api_version version (see NewAI).
func AIURL(base, version string, ep registry.Endpoint) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	end := "/" + string(ep)
	if strings.HasSuffix(strings.ToLower(u.Hostname()), ".services.ai.azure.com") {
		end = "/models" + end
	}
	path := joinOverlap(u.EscapedPath(), end)
	q := u.Query()
	if q.Get("api-version") == "" {
		switch {
		case version != "":
			q.Set("api-version", version)
		case strings.Contains(path, "/models/"):
			q.Set("api-version", AIModelInferenceVersion)
		}
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	b.WriteString(path)
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode())
	}
	return b.String(), nil
}

// joinOverlap appends end to base (both paths) without repeating the
// segments base already ends with: /models + /models/chat/completions is
// /models/chat/completions, as LiteLLM joins them.
func joinOverlap(base, end string) string {
	bs := segments(base)
	es := segments(end)
	for i := range bs {
		n := len(bs) - i
		if n > len(es) {
			continue
		}
		match := true
		for j := range n {
			if bs[i+j] != es[j] {
				match = false
				break
			}
		}
		if match {
			return "/" + strings.Join(append(bs[:i:i], es...), "/")
		}
	}
	return "/" + strings.Join(append(bs, es...), "/")
}

func segments(p string) []string {
	var out []string
	for s := range strings.SplitSeq(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
