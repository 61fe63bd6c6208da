package configs

import "strings"

// Credentials are a deployment's resolved secret litellm_params besides
// api_key (which is Deployment.APIKey). Each is resolved as api_key is:
// os.environ/NAME from the environment, enc:v2: bound to the deployment,
// enc:v1: with the salt key, a literal with a warning. They are never
// serialized, logged or returned.
type Credentials struct {
	AWSAccessKeyID     string
	AWSSecretAccessKey string
	AWSSessionToken    string
	// VertexCredentials is a service account's JSON key, or (only for
	// the operator's deployments: OperatorCredentials) the path of a file
	// holding it, read by the provider: Build never reads the disk.
	VertexCredentials string
	ClientSecret      string
	AzureADToken      string
}

// Values lists the credentials that are set, for scrubbing them from
// upstream errors.
func (c *Credentials) Values() []string {
	var out []string
	for _, v := range []string{c.AWSAccessKeyID, c.AWSSecretAccessKey, c.AWSSessionToken, c.VertexCredentials, c.ClientSecret, c.AzureADToken} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// SecretParams are the litellm_params that hold a secret: stored only
// encrypted and bound to their deployment when a caller of the API sends
// them, masked in every view, never logged.
var SecretParams = []string{"api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"vertex_credentials", "client_secret", "azure_ad_token"}

// EndpointParams are the litellm_params that name a server the gateway
// connects to; a team deployment's pass the api_base policy at dial time
// (the client the providers share applies it to every connection of a
// team deployment, token endpoints included).
var EndpointParams = []string{"api_base", "aws_bedrock_runtime_endpoint", "aws_sts_endpoint", "azure_authority_host"}

// IsSecretParam reports whether the litellm_params field name holds a
// secret.
func IsSecretParam(name string) bool {
	for _, s := range SecretParams {
		if s == name {
			return true
		}
	}
	return false
}

// StringParam returns a pointer to the string litellm_params field named
// name (its YAML name), or nil for a name that is not a string field.
func (p *LiteLLMParams) StringParam(name string) *string {
	switch name {
	case "model":
		return &p.Model
	case "api_base":
		return &p.APIBase
	case "api_version":
		return &p.APIVersion
	case "api_key":
		return &p.APIKey
	case "custom_llm_provider":
		return &p.CustomLLMProvider
	case "organization":
		return &p.Organization
	case "mock_response":
		return &p.MockResponse
	case "aws_access_key_id":
		return &p.AWSAccessKeyID
	case "aws_secret_access_key":
		return &p.AWSSecretAccessKey
	case "aws_session_token":
		return &p.AWSSessionToken
	case "aws_region_name":
		return &p.AWSRegionName
	case "aws_role_name":
		return &p.AWSRoleName
	case "aws_session_name":
		return &p.AWSSessionName
	case "aws_bedrock_runtime_endpoint":
		return &p.AWSBedrockRuntimeEndpoint
	case "aws_sts_endpoint":
		return &p.AWSSTSEndpoint
	case "vertex_project":
		return &p.VertexProject
	case "vertex_location":
		return &p.VertexLocation
	case "vertex_credentials":
		return &p.VertexCredentials
	case "tenant_id":
		return &p.TenantID
	case "client_id":
		return &p.ClientID
	case "client_secret":
		return &p.ClientSecret
	case "azure_ad_token":
		return &p.AzureADToken
	case "azure_authority_host":
		return &p.AzureAuthorityHost
	}
	return nil
}

// credential returns the resolved field of c for the secret param name
// (nil for api_key, which is Deployment.APIKey).
func (c *Credentials) credential(name string) *string {
	switch name {
	case "aws_access_key_id":
		return &c.AWSAccessKeyID
	case "aws_secret_access_key":
		return &c.AWSSecretAccessKey
	case "aws_session_token":
		return &c.AWSSessionToken
	case "vertex_credentials":
		return &c.VertexCredentials
	case "client_secret":
		return &c.ClientSecret
	case "azure_ad_token":
		return &c.AzureADToken
	}
	return nil
}

// cloudEnvParams are the non-secret cloud params that may read the
// environment (os.environ/NAME), resolved like api_version.
var cloudEnvParams = []string{"aws_region_name", "aws_role_name", "aws_session_name", "aws_bedrock_runtime_endpoint",
	"aws_sts_endpoint", "vertex_project", "vertex_location", "tenant_id", "client_id", "azure_authority_host"}

// IsCredentialFile reports whether a resolved vertex_credentials value is
// a file path rather than the JSON key itself.
func IsCredentialFile(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && !strings.HasPrefix(v, "{")
}

// MayUseHostIdentity reports whether a call to d may fall back to the
// gateway host's own cloud identity (an instance profile, the metadata
// server, a managed identity, the default credential chain, a default key
// variable): only for the operator's deployments (OperatorCredentials).
// Providers ask this before any such fallback.
func (d *Deployment) MayUseHostIdentity() bool { return d.OperatorCredentials() }

// credentialSets are litellm_params that only work together: a set with
// some but not all of them given is an error naming the missing ones.
var credentialSets = [][]string{
	{"aws_access_key_id", "aws_secret_access_key"},
	{"tenant_id", "client_id", "client_secret"},
}

// credentialNeeds are params that mean nothing without another one.
var credentialNeeds = []struct{ param, needs string }{
	{"aws_session_token", "aws_access_key_id"},
	{"aws_session_name", "aws_role_name"},
	{"aws_sts_endpoint", "aws_role_name"},
	{"azure_authority_host", "tenant_id"},
}

// checkCredentialSets reports incomplete credentials of d (as written, so
// an os.environ/ value counts as given).
func (b *builder) checkCredentialSets(d *Deployment, r *depRec) {
	p := &d.LiteLLMParams
	set := func(name string) bool { return *p.StringParam(name) != "" }
	for _, group := range credentialSets {
		var given, missing []string
		for _, name := range group {
			if set(name) {
				given = append(given, name)
			} else {
				missing = append(missing, name)
			}
		}
		if len(given) > 0 && len(missing) > 0 {
			b.problems.errorf(r.at(r.cloudPos[given[0]]), "%s given without %s; these credentials work together: set %s, or remove %s",
				strings.Join(given, " and "), strings.Join(missing, " and "), strings.Join(group, ", "), strings.Join(given, " and "))
		}
	}
	for _, n := range credentialNeeds {
		if set(n.param) && !set(n.needs) {
			b.problems.errorf(r.at(r.cloudPos[n.param]), "%s is set without %s, which it is used with; set %s or remove %s", n.param, n.needs, n.needs, n.param)
		}
	}
}
