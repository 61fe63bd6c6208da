package azure

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

// Scope is the Microsoft Entra ID scope of the tokens both providers ask
// for: Azure OpenAI and Azure AI Foundry (the model inference endpoints,
// serverless ones included) accept Cognitive Services tokens, as LiteLLM
// asks for them.
const Scope = "https://cognitiveservices.azure.com/.default"

// DefaultAuthorityHost is the authority of the public Azure cloud, used
// when azure_authority_host is not set.
const DefaultAuthorityHost = "https://login.microsoftonline.com/"

// The environment variables of the host's own Entra identity, read only
// for the operator's deployments (configs.Deployment.MayUseHostIdentity):
// a service principal (all three set), else AZURE_CLIENT_ID selects a
// user-assigned managed identity, as LiteLLM and the Azure libraries read
// them.
const (
	envTenantID     = "AZURE_TENANT_ID"
	envClientID     = "AZURE_CLIENT_ID"
	envClientSecret = "AZURE_CLIENT_SECRET"
)

// Method is how a call authenticates.
type Method int

// Methods, in the order they are tried.
const (
	// MethodAPIKey: the deployment's api_key (or, for the operator's, the
	// provider's key variable): api-key header (or bearer, see azure_ai).
	MethodAPIKey Method = iota + 1
	// MethodStaticToken: azure_ad_token, sent as Authorization: Bearer.
	MethodStaticToken
	// MethodClientSecret: tenant_id + client_id + client_secret (or the
	// host's AZURE_* service principal, operator only), a token from
	// Entra ID's client credentials flow.
	MethodClientSecret
	// MethodManagedIdentity: the host's managed identity (operator only).
	MethodManagedIdentity
)

func (m Method) String() string {
	switch m {
	case MethodAPIKey:
		return "api_key"
	case MethodStaticToken:
		return "azure_ad_token"
	case MethodClientSecret:
		return "client_credentials"
	case MethodManagedIdentity:
		return "managed_identity"
	}
	return "none"
}

// Auth is how one call to a deployment authenticates.
type Auth struct {
	Method Method
	// Key is the api key (MethodAPIKey) or the static token
	// (MethodStaticToken).
	Key string
	// Client credentials (MethodClientSecret); Authority is the
	// authority host with a trailing slash; Custom reports one other than
	// the public cloud's.
	TenantID, ClientID, ClientSecret, Authority string
	Custom                                      bool
	// ManagedID is the user-assigned identity's client id (AZURE_CLIENT_ID)
	// for MethodManagedIdentity; "": the system-assigned one.
	ManagedID string
}

// ResolveAuth decides how a call to d authenticates, first match winning:
//
//  1. api_key (an api-key header, as before);
//  2. azure_ad_token (a ready token, Authorization: Bearer);
//  3. tenant_id + client_id + client_secret (Entra ID client credentials,
//     at azure_authority_host, default the public cloud); some of the
//     three without the others is a configuration error naming the
//     missing ones;
//  4. only for the operator's deployments (d.MayUseHostIdentity): the
//     provider's key variables (envKeys, first set wins), then the host's
//     service principal (AZURE_TENANT_ID + AZURE_CLIENT_ID +
//     AZURE_CLIENT_SECRET), then its managed identity (AZURE_CLIENT_ID
//     selecting a user-assigned one).
//
// A team's deployment with none of 1-3 is refused with a 401 naming the
// params to set: it may not use the gateway's own identity. provider
// names the provider in messages ("Azure OpenAI").
func ResolveAuth(d *configs.Deployment, envKeys []string, provider string) (Auth, error) {
	return resolveAuth(d, envKeys, provider, getenv)
}

func resolveAuth(d *configs.Deployment, envKeys []string, provider string, getenv func(string) string) (Auth, error) {
	if d.APIKey != "" {
		return Auth{Method: MethodAPIKey, Key: d.APIKey}, nil
	}
	if t := d.Credentials.AzureADToken; t != "" {
		return Auth{Method: MethodStaticToken, Key: t}, nil
	}
	p := &d.LiteLLMParams
	tenant, client, secret := p.TenantID, p.ClientID, d.Credentials.ClientSecret
	if tenant != "" || client != "" || secret != "" {
		var missing []string
		for _, f := range []struct{ name, v string }{{"tenant_id", tenant}, {"client_id", client}, {"client_secret", secret}} {
			if f.v == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return Auth{}, &wire.Error{Status: 500, Type: wire.TypeInternal, Param: missing[0], Message: "deployment " +
				quote(d.PublicName()) + " sets only part of its Microsoft Entra ID client credentials: litellm_params." +
				strings.Join(missing, " and litellm_params.") + " missing; set tenant_id, client_id and client_secret together (or use api_key or azure_ad_token instead)"}
		}
		authority, custom, err := authorityHost(d)
		if err != nil {
			return Auth{}, err
		}
		return Auth{Method: MethodClientSecret, TenantID: tenant, ClientID: client, ClientSecret: secret,
			Authority: authority, Custom: custom}, nil
	}
	if !d.MayUseHostIdentity() {
		return Auth{}, wire.Errorf(401, wire.TypeAuth,
			"deployment %q has no %s credentials: set litellm_params.api_key, or azure_ad_token, or tenant_id + client_id + client_secret (a team's deployment cannot use the gateway's own Azure identity or key variables)",
			d.PublicName(), provider)
	}
	for _, name := range envKeys {
		if v := getenv(name); v != "" {
			return Auth{Method: MethodAPIKey, Key: v}, nil
		}
	}
	authority, custom, err := authorityHost(d)
	if err != nil {
		return Auth{}, err
	}
	if t, c, s := getenv(envTenantID), getenv(envClientID), getenv(envClientSecret); t != "" && c != "" && s != "" {
		return Auth{Method: MethodClientSecret, TenantID: t, ClientID: c, ClientSecret: s, Authority: authority, Custom: custom}, nil
	}
	return Auth{Method: MethodManagedIdentity, ManagedID: getenv(envClientID)}, nil
}

// authorityHost is d's azure_authority_host (an https URL, with a
// trailing slash), else the public cloud's; custom reports one other
// than the public cloud's.
func authorityHost(d *configs.Deployment) (host string, custom bool, err error) {
	h := strings.TrimSpace(d.LiteLLMParams.AzureAuthorityHost)
	if h == "" {
		return DefaultAuthorityHost, false, nil
	}
	u, perr := url.Parse(h)
	if perr != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false, &wire.Error{Status: 500, Type: wire.TypeInternal, Param: "azure_authority_host", Message: "deployment " +
			quote(d.PublicName()) + " has litellm_params.azure_authority_host " + quote(h) +
			", which is not an https URL; Microsoft Entra ID authorities are https only: write e.g. https://login.microsoftonline.us"}
	}
	if !strings.HasSuffix(h, "/") {
		h += "/"
	}
	return h, !strings.EqualFold(u.Host, "login.microsoftonline.com"), nil
}

func quote(s string) string { return strconv.Quote(s) }
