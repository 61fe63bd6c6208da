package azure

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// Entra ID tokens: one azidentity credential per deployment and
// credential material (model_info.id plus a sha256 of the method, tenant,
// client, secret, authority, managed identity and whether the deployment
// is a team's), so a rotated secret gets a fresh credential. azidentity
// (MSAL) caches the token per credential and asks for a new one when it
// has less than five minutes left; Tokens keeps the last token of each
// credential too, so a call with a fresh one costs a hash and an atomic
// load instead of MSAL's lock and cache lookup. Entries unused for an
// hour are dropped, and there are at most maxCredentials.
const (
	maxCredentials = 4096
	idleCredential = time.Hour
	// refreshMargin: a token with less left is renewed (MSAL's margin).
	refreshMargin = 5 * time.Minute
	// tokenTimeout bounds getting a token when the call's deadline is
	// later.
	tokenTimeout = 30 * time.Second
)

// Tokens gets and caches Entra ID tokens for the deployments of the
// providers that share it. Safe for concurrent use.
type Tokens struct {
	client *providers.Client
	now    func() time.Time

	mu     sync.Mutex
	m      map[string]*credential
	swept  time.Time
	scopes []string
}

// credential is one cached azidentity credential.
type credential struct {
	cred azcore.TokenCredential
	tok  atomic.Pointer[azcore.AccessToken]
	used atomic.Int64 // unix nanoseconds of the last call
}

// NewTokens returns an empty token cache whose token requests go through
// client (client.HTTPFor(d): a team deployment's authority host passes
// the api_base policy at dial time).
func NewTokens(client *providers.Client) *Tokens {
	return &Tokens{client: client, now: time.Now, m: map[string]*credential{}, scopes: []string{Scope}}
}

// cacheKey is the credential's key for d and a.
func cacheKey(d *configs.Deployment, a *Auth) string {
	var buf [512]byte
	b := buf[:0]
	team := "operator"
	if providers.TeamSupplied(d) {
		team = "team"
	}
	for _, v := range [...]string{a.Method.String(), a.TenantID, a.ClientID, a.ClientSecret, a.Authority, a.ManagedID, team} {
		b = append(b, v...)
		b = append(b, 0)
	}
	sum := sha256.Sum256(b)
	return d.ModelInfo.ID + "\x00" + string(sum[:])
}

// Token returns a token for a call to d authenticated by a
// (MethodClientSecret or MethodManagedIdentity), from the cache while it
// has more than five minutes left, else from Entra ID (or the managed
// identity endpoint) within deadline. Errors are *wire.Error values that
// hold neither the secret nor Entra ID's whole answer.
func (t *Tokens) Token(d *configs.Deployment, a *Auth, deadline time.Time) (string, error) {
	c, err := t.credential(d, a)
	if err != nil {
		return "", err
	}
	now := t.now()
	c.used.Store(now.UnixNano())
	if tk := c.tok.Load(); tk != nil && fresh(tk, now) {
		return tk.Token, nil
	}
	if limit := now.Add(tokenTimeout); deadline.IsZero() || deadline.After(limit) {
		deadline = limit
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	f := &fetch{}
	tk, err := c.cred.GetToken(context.WithValue(ctx, fetchKey{}, f), policy.TokenRequestOptions{Scopes: t.scopes})
	if err != nil {
		return "", tokenError(d, a, err, f, ctx.Err())
	}
	if tk.Token == "" {
		return "", &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "Microsoft Entra ID answered no access token for deployment " + quote(d.PublicName())}
	}
	c.tok.Store(&tk)
	return tk.Token, nil
}

// Current is the token a call to d authenticated by a last sent ("" when
// none), for scrubbing errors; it never asks for one.
func (t *Tokens) Current(d *configs.Deployment, a *Auth) string {
	t.mu.Lock()
	c := t.m[cacheKey(d, a)]
	t.mu.Unlock()
	if c == nil {
		return ""
	}
	if tk := c.tok.Load(); tk != nil {
		return tk.Token
	}
	return ""
}

// Len is the number of cached credentials.
func (t *Tokens) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func fresh(tk *azcore.AccessToken, now time.Time) bool {
	return now.Before(tk.ExpiresOn.Add(-refreshMargin)) && (tk.RefreshOn.IsZero() || now.Before(tk.RefreshOn))
}

// credential returns the cached credential of d and a, making it.
func (t *Tokens) credential(d *configs.Deployment, a *Auth) (*credential, error) {
	key := cacheKey(d, a)
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.m[key]; c != nil {
		return c, nil
	}
	now := t.now()
	if len(t.m) >= maxCredentials || now.Sub(t.swept) > time.Minute {
		t.sweep(now)
	}
	cred, err := t.newCredential(d, a)
	if err != nil {
		return nil, err
	}
	c := &credential{cred: cred}
	c.used.Store(now.UnixNano())
	t.m[key] = c
	return c, nil
}

// sweep drops credentials unused for idleCredential and, while the cache
// is full, the least recently used. t.mu is held.
func (t *Tokens) sweep(now time.Time) {
	t.swept = now
	for k, c := range t.m {
		if now.Sub(time.Unix(0, c.used.Load())) > idleCredential {
			delete(t.m, k)
		}
	}
	for len(t.m) >= maxCredentials {
		var oldest string
		var at int64
		for k, c := range t.m {
			if u := c.used.Load(); oldest == "" || u < at {
				oldest, at = k, u
			}
		}
		delete(t.m, oldest)
	}
}

// newCredential makes the azidentity credential for a. Its HTTP requests
// go through the deployment's net/http client (the api_base policy for a
// team's; a managed identity's through the operator's), retried once at
// most.
func (t *Tokens) newCredential(d *configs.Deployment, a *Auth) (azcore.TokenCredential, error) {
	opts := azcore.ClientOptions{
		Transport: &transport{client: t.client.HTTPFor(d)},
		Retry:     policy.RetryOptions{MaxRetries: 1, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: time.Second},
	}
	if a.Method == MethodManagedIdentity {
		// The host's own endpoint (IMDS or IDENTITY_ENDPOINT), never one
		// from litellm_params, and only ever for the operator's
		// deployments: the operator's client (the team policy refuses
		// link-local addresses such as IMDS's).
		opts.Transport = &transport{client: t.client.HTTPFor(nil)}
	}
	switch a.Method {
	case MethodClientSecret:
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: a.Authority}
		cred, err := azidentity.NewClientSecretCredential(a.TenantID, a.ClientID, a.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: a.Custom})
		if err != nil {
			param, what := "tenant_id", "litellm_params.tenant_id "+quote(a.TenantID)+" is not a valid tenant (a GUID or a domain name such as contoso.onmicrosoft.com)"
			if !strings.Contains(err.Error(), "tenant") {
				param, what = "client_secret", "its Microsoft Entra ID client credentials cannot be used: "+providers.Scrub(a.ClientSecret, err.Error())
			}
			return nil, &wire.Error{Status: 500, Type: wire.TypeInternal, Param: param,
				Message: "deployment " + quote(d.PublicName()) + " is misconfigured: " + what}
		}
		return cred, nil
	case MethodManagedIdentity:
		// The managed identity endpoint (IMDS) retries more by default;
		// a call cannot wait that long.
		opts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: time.Second,
			TryTimeout: 5 * time.Second}
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if a.ManagedID != "" {
			mo.ID = azidentity.ClientID(a.ManagedID)
		}
		cred, err := azidentity.NewManagedIdentityCredential(mo)
		if err != nil {
			return nil, &wire.Error{Status: 500, Type: wire.TypeInternal, Message: "deployment " + quote(d.PublicName()) +
				" has no credentials and the gateway's managed identity cannot be used: " + err.Error() +
				"; set litellm_params.api_key, azure_ad_token, or tenant_id + client_id + client_secret"}
		}
		return cred, nil
	}
	return nil, wire.Errorf(500, wire.TypeInternal, "deployment %q: no Entra ID credential for auth method %s", d.PublicName(), a.Method)
}

// fetch records what the transport saw during one GetToken, for the error
// message: azidentity keeps only the text of a transport error.
type fetch struct {
	mu  sync.Mutex
	err error
}

type fetchKey struct{}

// transport is the credential's HTTP transport: the deployment's client,
// noting transport errors in the request's fetch.
type transport struct{ client *http.Client }

func (t *transport) Do(r *http.Request) (*http.Response, error) {
	resp, err := t.client.Do(r)
	if err != nil {
		if f, _ := r.Context().Value(fetchKey{}).(*fetch); f != nil {
			f.mu.Lock()
			f.err = err
			f.mu.Unlock()
		}
	}
	return resp, err
}

// tokenError maps a failed GetToken to the client's error: Entra ID's
// refusal (a bad secret, an unknown tenant or client) is a 401 quoting
// its error code and the first sentence of its description; its 429 keeps
// retry-after; its 5xx and an unreachable authority are 502; running out
// of time is 504; an authority host the api_base policy refuses is 403.
// The secret is scrubbed from everything, Internal (the log's) included.
func tokenError(d *configs.Deployment, a *Auth, err error, f *fetch, ctxErr error) *wire.Error {
	who := "Microsoft Entra ID"
	params := "litellm_params.tenant_id, client_id and client_secret"
	if a.Custom {
		params += " (and azure_authority_host)"
	}
	if a.Method == MethodManagedIdentity {
		who = "the gateway's managed identity endpoint"
		params = "the managed identity's role assignment and AZURE_CLIENT_ID"
	}
	scrub := func(s string) string { return truncate(providers.Scrub(a.ClientSecret, s), 2048) }
	name := d.PublicName()
	f.mu.Lock()
	terr := f.err
	f.mu.Unlock()

	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil {
		res := failed.RawResponse
		body, _ := runtime.Payload(res)
		code := gjson.GetBytes(body, "error").String()
		desc := firstSentence(gjson.GetBytes(body, "error_description").String())
		for _, path := range []string{"error.message", "message"} { // the managed identity endpoints' shapes
			if desc == "" {
				desc = firstSentence(gjson.GetBytes(body, path).String())
			}
		}
		internal := "token endpoint answered " + strconv.Itoa(res.StatusCode) + ": " + scrub(string(body))
		if res.Request != nil {
			internal = res.Request.URL.Host + " " + internal
		}
		detail := code
		if desc != "" {
			if detail != "" {
				detail += ": "
			}
			detail += scrub(desc)
		}
		if detail == "" {
			detail = "status " + strconv.Itoa(res.StatusCode)
		}
		switch s := res.StatusCode; {
		case s == 429:
			e := &wire.Error{Status: 429, Type: wire.TypeRateLimit, Internal: internal,
				Message: who + " is rate limiting the token requests of deployment " + quote(name) + " (" + detail + "); retry later"}
			if n, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && n > 0 {
				e.RetryAfter = n
			}
			return e
		case s >= 500:
			return &wire.Error{Status: 502, Type: wire.TypeUpstream, Internal: internal,
				Message: who + " failed to issue a token for deployment " + quote(name) + " (" + detail + "); retry later"}
		default:
			return &wire.Error{Status: 401, Type: wire.TypeAuth, Internal: internal,
				Message: who + " refused the credentials of deployment " + quote(name) + " (" + detail + "); check " + params}
		}
	}

	internal := "token request: " + scrub(err.Error())
	if terr != nil {
		internal = "token request: " + scrub(terr.Error())
	}
	var denied *egress.Denied
	var ne net.Error
	switch {
	case errors.As(terr, &denied):
		return &wire.Error{Status: 403, Type: wire.TypePermission, Internal: internal, Message: "deployment " + quote(name) +
			" cannot be called: its azure_authority_host is not allowed for team deployments (" + denied.Why +
			"); ask the operator to name it in " + egress.AllowSetting + ", or use the public cloud's authority"}
	case ctxErr != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(terr, &ne) && ne.Timeout()):
		return &wire.Error{Status: 504, Type: wire.TypeTimeout, Internal: internal,
			Message: who + " did not issue a token for deployment " + quote(name) + " in time"}
	case terr != nil:
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Internal: internal,
			Message: who + " could not be reached to get a token for deployment " + quote(name) + "; check " + authorityParam(a)}
	default:
		// Neither an answer nor a transport error: the authority's
		// discovery documents did not make sense, or the library refused.
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Internal: internal,
			Message: "no token could be obtained from " + who + " for deployment " + quote(name) + "; check " + authorityParam(a)}
	}
}

func authorityParam(a *Auth) string {
	if a.Method == MethodManagedIdentity {
		return "that the gateway runs where a managed identity is available"
	}
	return "litellm_params.azure_authority_host and tenant_id"
}

// firstSentence is s up to its first ". " (Entra ID's descriptions go on
// with trace and correlation ids), at most 300 bytes.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return truncate(s, 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
