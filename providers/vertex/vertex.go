// Package vertex is the vertex_ai/<model> provider: Google Cloud's Vertex
// AI with a service account's OAuth2 token.
//
//   - Claude models (a model starting with "claude") go to Anthropic's
//     publisher: publishers/anthropic/models/{model}:rawPredict (unary) or
//     :streamRawPredict, with Anthropic's Messages body without "model"
//     and with "anthropic_version": "vertex-2023-10-16"; the anthropic
//     package translates chat (anthropic.NewWith).
//   - Every other model is Google's: publishers/google/models/{model}:
//     generateContent / streamGenerateContent (the gemini package
//     translates chat: gemini.NewWith).
//   - /v1/embeddings of any model goes to :predict (text-embedding-005,
//     text-multilingual-embedding-002, gemini-embedding-001), translated
//     here.
//
// The URL is https://{location}-aiplatform.googleapis.com/v1/projects/
// {project}/locations/{location}/publishers/{publisher}/models/{model}:
// {method} (location "global": https://aiplatform.googleapis.com); a set
// api_base replaces the scheme and host part. vertex_project defaults to
// the credentials' project_id (and, for the operator's deployments, to
// VERTEXAI_PROJECT or GOOGLE_CLOUD_PROJECT); vertex_location to
// VERTEXAI_LOCATION (the operator's deployments), then us-central1.
// Auth is googleauth's (see that package for what a team may send).
package vertex

import (
	"errors"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/anthropic"
	"github.com/llmgateway/gateway/providers/gemini"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/providers/vertex/internal/googleauth"
	"github.com/llmgateway/gateway/wire"
)

// DefaultLocation is the location of a deployment without vertex_location
// (LiteLLM's default).
const DefaultLocation = "us-central1"

// AnthropicVersion is the anthropic_version Vertex AI wants in a Claude
// request body.
const AnthropicVersion = "vertex-2023-10-16"

// Environment variables the operator's deployments read (LiteLLM's
// names).
const (
	EnvProject      = "VERTEXAI_PROJECT"
	EnvCloudProject = "GOOGLE_CLOUD_PROJECT"
	EnvLocation     = "VERTEXAI_LOCATION"
)

// Provider is the vertex_ai provider: chat (Claude or Gemini models) and
// embeddings.
type Provider struct {
	auth    *googleauth.Cache
	claude  providers.Provider
	gemini  providers.Provider
	predict *providers.HTTP
}

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Forwarder = (*Provider)(nil)
)

// New returns the vertex_ai provider over the shared client.
func New(client *providers.Client) providers.Provider { return newProvider(client) }

func newProvider(client *providers.Client) *Provider {
	p := &Provider{auth: googleauth.NewCache(client)}
	p.claude = anthropic.NewWith(client, anthropic.Target{URL: p.claudeURL, Auth: p.bearer, Body: claudeBody})
	p.gemini = gemini.NewWith(client, gemini.Target{URL: p.geminiURL, Auth: p.bearer})
	p.predict = providers.NewHTTP(client, p.preparePredict)
	return p
}

// IsClaude reports whether an upstream model is Anthropic's (served with
// rawPredict) rather than Google's.
func IsClaude(model string) bool { return strings.HasPrefix(model, "claude") }

// Complete serves chat: Claude models through the anthropic translation,
// the others through the gemini one.
func (p *Provider) Complete(call *providers.Call) (*providers.Response, error) {
	var resp *providers.Response
	var err error
	if call.Deployment != nil && IsClaude(call.Deployment.UpstreamModel) {
		resp, err = p.claude.Complete(call)
	} else {
		resp, err = p.gemini.Complete(call)
	}
	return resp, p.check(call, err)
}

// OpenStream serves streamed chat as Complete does.
func (p *Provider) OpenStream(call *providers.Call) (providers.Stream, error) {
	var st providers.Stream
	var err error
	if call.Deployment != nil && IsClaude(call.Deployment.UpstreamModel) {
		st, err = p.claude.OpenStream(call)
	} else {
		st, err = p.gemini.OpenStream(call)
	}
	return st, p.check(call, err)
}

// check forgets the deployment's cached token when a call fails with 401
// (Vertex AI refused the token: it was revoked, or the key deleted), so
// the next call fetches a new one.
func (p *Provider) check(call *providers.Call, err error) error {
	if err != nil && call.Deployment != nil {
		if we, ok := errors.AsType[*wire.Error](err); ok && we.Status == 401 {
			p.auth.Forget(call.Deployment)
		}
	}
	return err
}

// Forward serves /v1/embeddings (translated to :predict and back).
func (p *Provider) Forward(call *providers.Call) (*providers.Response, error) {
	if call.EndpointOrChat() != registry.EndpointEmbeddings || call.Method != "" {
		return nil, p.notServed(call)
	}
	resp, err := p.embed(call)
	return resp, p.check(call, err)
}

// ForwardStream: no endpoint of vertex_ai streams besides chat.
func (p *Provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	return nil, p.notServed(call)
}

func (p *Provider) notServed(call *providers.Call) error {
	name := ""
	if call.Deployment != nil {
		name = call.Deployment.PublicName()
	}
	return wire.Errorf(404, wire.TypeNotFound, "model %q (a Vertex AI deployment) does not serve /v1/%s", name, call.EndpointOrChat())
}

// bearer sets Authorization: Bearer <the deployment's access token>.
func (p *Provider) bearer(d *configs.Deployment, req *fasthttp.Request) (string, error) {
	a, err := p.auth.Token(d)
	if err != nil {
		return "", err
	}
	req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+a.Token)
	return a.Token, nil
}

func (p *Provider) claudeURL(d *configs.Deployment, stream bool) (string, error) {
	method := "rawPredict"
	if stream {
		method = "streamRawPredict"
	}
	return p.URL(d, "anthropic", method)
}

func (p *Provider) geminiURL(d *configs.Deployment, method string) (string, error) {
	return p.URL(d, "google", method)
}

// URL is the Vertex AI URL of method of d's model at publisher.
// Credentials that cannot be used are reported first (a 401 saying
// which litellm_params to set), not as a missing project.
func (p *Provider) URL(d *configs.Deployment, publisher, method string) (string, error) {
	var credErr error
	project := Project(d, func(d *configs.Deployment) string {
		v, err := p.auth.Project(d)
		credErr = err
		return v
	})
	if project == "" && credErr != nil {
		return "", credErr
	}
	return BuildURL(d, project, publisher, method)
}

// Project is d's project: vertex_project, else the credentials' project
// (credProject), else, for the operator's deployments, VERTEXAI_PROJECT or
// GOOGLE_CLOUD_PROJECT.
func Project(d *configs.Deployment, credProject func(*configs.Deployment) string) string {
	if v := d.LiteLLMParams.VertexProject; v != "" {
		return v
	}
	if credProject != nil {
		if v := credProject(d); v != "" {
			return v
		}
	}
	if d.MayUseHostIdentity() {
		if v := os.Getenv(EnvProject); v != "" {
			return v
		}
		return os.Getenv(EnvCloudProject)
	}
	return ""
}

// Location is d's vertex_location, else (the operator's deployments)
// VERTEXAI_LOCATION, else us-central1.
func Location(d *configs.Deployment) string {
	if v := d.LiteLLMParams.VertexLocation; v != "" {
		return v
	}
	if d.MayUseHostIdentity() {
		if v := os.Getenv(EnvLocation); v != "" {
			return v
		}
	}
	return DefaultLocation
}

// BuildURL is the URL of method of d's model at publisher in project:
// {base}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method},
// base being api_base when set, else https://{location}-aiplatform.googleapis.com
// (https://aiplatform.googleapis.com for location "global").
func BuildURL(d *configs.Deployment, project, publisher, method string) (string, error) {
	name := d.PublicName()
	if project == "" {
		return "", wire.Errorf(400, wire.TypeInvalidRequest,
			"deployment %q has no Vertex AI project; set litellm_params.vertex_project (or use a service account key with a project_id)", name)
	}
	if !validProject(project) {
		return "", wire.Errorf(400, wire.TypeInvalidRequest,
			"deployment %q: vertex_project is not a Google Cloud project id (lower-case letters, digits and hyphens, e.g. my-project-123)", name)
	}
	location := Location(d)
	if !validName(location, false) {
		return "", wire.Errorf(400, wire.TypeInvalidRequest,
			"deployment %q: vertex_location is not a Vertex AI location (e.g. us-central1, europe-west4, global)", name)
	}
	model := d.UpstreamModel
	if model == "" || !validName(model, true) {
		return "", wire.Errorf(400, wire.TypeInvalidRequest,
			"deployment %q: the model of litellm_params.model (vertex_ai/<model>) must be a Vertex AI model id such as gemini-2.5-flash or claude-sonnet-4@20250514", name)
	}
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	switch {
	case base != "":
		base = strings.TrimSuffix(base, "/v1")
	case location == "global":
		base = "https://aiplatform.googleapis.com"
	default:
		base = "https://" + location + "-aiplatform.googleapis.com"
	}
	n := len(base) + len(project) + 2*len(location) + len(publisher) + len(model) + len(method) + 64
	b := make([]byte, 0, n)
	b = append(b, base...)
	b = append(b, "/v1/projects/"...)
	b = append(b, project...)
	b = append(b, "/locations/"...)
	b = append(b, location...)
	b = append(b, "/publishers/"...)
	b = append(b, publisher...)
	b = append(b, "/models/"...)
	b = append(b, model...)
	b = append(b, ':')
	b = append(b, method...)
	return string(b), nil
}

// validProject: a project id (6-30 lower-case letters, digits, hyphens),
// possibly domain-scoped ("example.com:my-project"), or a project number.
func validProject(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// validName: a location (lower-case letters, digits, hyphens) or a model
// id (also upper-case letters, '.', '_' and '@' of a version).
func validName(s string, model bool) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case model && (c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '@'):
		default:
			return false
		}
	}
	return s[0] != '-' && s[0] != '.'
}
