package azure_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeentra"
	"github.com/llmgateway/gateway/internal/fakeopenai"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/azure"
	"github.com/llmgateway/gateway/wire"
)

// TestResolveAuthOrder: api_key > azure_ad_token > client credentials >
// (operator only) key variables > the host's service principal > its
// managed identity; a team's deployment without its own is refused.
func TestResolveAuthOrder(t *testing.T) {
	t.Parallel()
	team := map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	full := map[string]string{"AZURE_API_KEY": "env-key", "AZURE_TENANT_ID": "env-tenant", "AZURE_CLIENT_ID": "env-client",
		"AZURE_CLIENT_SECRET": "env-secret"}
	onlyClientID := map[string]string{"AZURE_CLIENT_ID": "mi-client"}
	for _, tc := range []struct {
		name   string
		d      configs.Deployment
		env    map[string]string
		want   azure.Method
		key    string
		status int    // an error's
		msg    string // in the error's message
	}{
		{name: "api_key first", d: dep("k", "tok", "t", "c", "s", ""), want: azure.MethodAPIKey, key: "k"},
		{name: "azure_ad_token before client credentials", d: dep("", "tok", "t", "c", "s", ""), want: azure.MethodStaticToken, key: "tok"},
		{name: "client credentials", d: dep("", "", "t", "c", "s", ""), want: azure.MethodClientSecret},
		{name: "client credentials, team", d: withExtra(dep("", "", "t", "c", "s", ""), team), env: full, want: azure.MethodClientSecret},
		{name: "operator: key variable", d: dep("", "", "", "", "", ""), env: full, want: azure.MethodAPIKey, key: "env-key"},
		{name: "operator: service principal", d: dep("", "", "", "", "", ""), env: map[string]string{"AZURE_TENANT_ID": "a", "AZURE_CLIENT_ID": "b", "AZURE_CLIENT_SECRET": "c"}, want: azure.MethodClientSecret},
		{name: "operator: managed identity", d: dep("", "", "", "", "", ""), want: azure.MethodManagedIdentity},
		{name: "operator: user-assigned managed identity", d: dep("", "", "", "", "", ""), env: onlyClientID, want: azure.MethodManagedIdentity},
		{name: "team: no key variable, no host identity", d: withExtra(dep("", "", "", "", "", ""), team), env: full, status: 401, msg: "tenant_id + client_id + client_secret"},
		{name: "team: no managed identity", d: withExtra(dep("", "", "", "", "", ""), team), env: onlyClientID, status: 401, msg: "cannot use the gateway's own Azure identity"},
		{name: "partial: no secret", d: dep("", "", "t", "c", "", ""), status: 500, msg: "litellm_params.client_secret missing"},
		{name: "partial: only a secret", d: dep("", "", "", "", "s", ""), status: 500, msg: "litellm_params.tenant_id and litellm_params.client_id missing"},
		{name: "authority not https", d: dep("", "", "t", "c", "s", "http://login.example.com"), status: 500, msg: "not an https URL"},
	} {
		env := func(name string) string { return tc.env[name] }
		a, err := azure.ResolveAuthEnv(&tc.d, azure.EnvKeys, "Azure OpenAI", env)
		if tc.status != 0 {
			we, ok := errors.AsType[*wire.Error](err)
			if !ok || we.Status != tc.status || !strings.Contains(we.Message, tc.msg) {
				t.Errorf("%s: %v, want %d with %q", tc.name, err, tc.status, tc.msg)
			}
			continue
		}
		if err != nil || a.Method != tc.want || (tc.key != "" && a.Key != tc.key) {
			t.Errorf("%s: %+v %v, want %s %q", tc.name, a, err, tc.want, tc.key)
		}
		if tc.name == "operator: user-assigned managed identity" && a.ManagedID != "mi-client" {
			t.Errorf("%s: managed id %q", tc.name, a.ManagedID)
		}
		if tc.name == "client credentials" && (a.Authority != azure.DefaultAuthorityHost || a.Custom) {
			t.Errorf("%s: authority %q custom %v", tc.name, a.Authority, a.Custom)
		}
	}
	a, _ := azure.ResolveAuthEnv(ptr(dep("", "", "t", "c", "s", "https://login.microsoftonline.us")), nil, "x", func(string) string { return "" })
	if a.Authority != "https://login.microsoftonline.us/" || !a.Custom {
		t.Errorf("custom authority: %+v", a)
	}
}

func ptr(d configs.Deployment) *configs.Deployment { return &d }

func dep(key, token, tenant, client, secret, authority string) configs.Deployment {
	d := configs.Deployment{ModelName: "gpt", Provider: "azure", UpstreamModel: "dep", APIKey: key,
		LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: "https://r.openai.azure.com",
			TenantID: tenant, ClientID: client, AzureAuthorityHost: authority},
		Credentials: configs.Credentials{AzureADToken: token, ClientSecret: secret}}
	d.ModelInfo.ID = "dep-1"
	return d
}

func withExtra(d configs.Deployment, extra map[string]any) configs.Deployment {
	d.ModelInfo.Extra = extra
	d.ModelInfo.TeamID = "team-1"
	return d
}

// entraSetup is a fake Entra ID, a fake Azure OpenAI that accepts its
// tokens, and a deployment using client credentials at the fake.
func entraSetup(t *testing.T, opts fakeentra.Options) (*fakeentra.Server, *fakeopenai.Server, *configs.Deployment, providers.Forwarder) {
	t.Helper()
	entra := fakeentra.Start(t, opts)
	up := fakeopenai.Start(t, fakeopenai.Options{Bearer: entra.Valid})
	d := &configs.Deployment{ModelName: "gpt", Provider: "azure", UpstreamModel: "dep",
		LiteLLMParams: configs.LiteLLMParams{Model: "azure/dep", APIBase: up.AzureBase(),
			TenantID: entra.Tenant(), ClientID: entra.Client(), AzureAuthorityHost: entra.URL},
		Credentials: configs.Credentials{ClientSecret: entra.Secret()}}
	d.ModelInfo.ID = "entra-1"
	p := azure.New(providers.NewClientWith(providers.ClientOptions{RootCAs: entra.Roots})).(providers.Forwarder)
	return entra, up, d, p
}

func chat(p providers.Forwarder, d *configs.Deployment) error {
	_, err := p.Forward(&providers.Call{Deployment: d, Body: []byte(`{"model":"dep","messages":[{"role":"user","content":"hi"}]}`),
		Deadline: time.Now().Add(10 * time.Second)})
	return err
}

func tokenRequests(e *fakeentra.Server) int {
	n := 0
	for _, r := range e.TokenRequests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			n++
		}
	}
	return n
}

// TestClientCredentialsCached: many concurrent calls ask Entra ID for one
// token, sent as Authorization: Bearer (no api-key) with the client
// credentials grant, the scope and the secret it checks.
func TestClientCredentialsCached(t *testing.T) {
	t.Parallel()
	entra, up, d, p := entraSetup(t, fakeentra.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() { errs <- chat(p, d) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := tokenRequests(entra); n != 1 {
		t.Fatalf("%d token requests for 16 calls, want 1", n)
	}
	req := entra.TokenRequests()[0]
	if req.Form["grant_type"] != "client_credentials" || req.Form["client_id"] != entra.Client() ||
		!strings.Contains(req.Form["scope"], azure.Scope) || req.Status != 200 {
		t.Errorf("token request %+v", req)
	}
	last := up.Last(t)
	tok, ok := strings.CutPrefix(last.Header["authorization"], "Bearer ")
	if !ok || !entra.Valid(tok) || last.Header["api-key"] != "" {
		t.Errorf("upstream auth: %v", last.Header)
	}
	// The same deployment with a rotated secret gets a credential of its
	// own (and the fake refuses the old... here: a wrong one).
	d2 := *d
	d2.Credentials.ClientSecret = "rotated-secret-0123456789"
	if err := chat(p, &d2); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
}

// TestTokenRenewedBeforeExpiry: a token with less than five minutes left
// is not used: the next call gets a new one.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	// 302s: usable for 2s (then within the five-minute margin).
	entra, up, d, p := entraSetup(t, fakeentra.Options{ExpiresIn: 302})
	if err := chat(p, d); err != nil {
		t.Fatal(err)
	}
	first := up.Last(t).Header["authorization"]
	if err := chat(p, d); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(entra); n != 1 {
		t.Fatalf("%d token requests, want 1 while the token is fresh", n)
	}
	time.Sleep(2200 * time.Millisecond)
	if err := chat(p, d); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(entra); n != 2 {
		t.Fatalf("%d token requests, want a second one once the token was near expiry", n)
	}
	if up.Last(t).Header["authorization"] == first {
		t.Error("the upstream got the old token")
	}
}

// TestBadClientSecret: Entra ID's invalid_client is a 401 naming the
// error and what to check, without the secret or Entra ID's trace ids;
// the log's detail has no secret either.
func TestBadClientSecret(t *testing.T) {
	t.Parallel()
	entra, up, d, p := entraSetup(t, fakeentra.Options{})
	d.Credentials.ClientSecret = "wrong-secret-Zq8~0123456789abcdef"
	err := chat(p, d)
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 401 || we.Type != wire.TypeAuth {
		t.Fatalf("error %v, want a 401", err)
	}
	for _, want := range []string{"invalid_client", "AADSTS7000215", "client_secret", `"gpt"`} {
		if !strings.Contains(we.Message, want) {
			t.Errorf("message lacks %q: %s", want, we.Message)
		}
	}
	for _, leak := range []string{d.Credentials.ClientSecret, "Trace ID", "Correlation ID", entra.URL} {
		if strings.Contains(we.Message, leak) {
			t.Errorf("message holds %q: %s", leak, we.Message)
		}
	}
	if strings.Contains(we.Internal, d.Credentials.ClientSecret) || !strings.Contains(we.Internal, "401") {
		t.Errorf("internal: %s", we.Internal)
	}
	if len(up.Requests()) != 0 {
		t.Error("the upstream was called without a token")
	}
}

// TestTokenEndpointFailures: Entra ID's 429 keeps retry-after, its 5xx and
// an unreachable authority are 502; an unknown tenant is a 401.
func TestTokenEndpointFailures(t *testing.T) {
	t.Parallel()
	entra, _, d, p := entraSetup(t, fakeentra.Options{})
	entra.FailNext(429, fakeentra.ErrorBody("temporarily_unavailable", 50196, "The server is busy."), "7")
	err := chat(p, d)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 429 || we.RetryAfter != 7 {
		t.Errorf("429: %v", err)
	}
	body := fakeentra.ErrorBody("temporarily_unavailable", 50000, "There was an error issuing a token.")
	entra.FailNext(503, body, "") // retried once
	entra.FailNext(503, body, "")
	err = chat(p, d)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 502 {
		t.Errorf("503: %v", err)
	}

	d2 := *d
	d2.LiteLLMParams.TenantID = "contoso.onmicrosoft.com"
	err = chat(p, &d2)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 401 || !strings.Contains(we.Message, "AADSTS90002") {
		t.Errorf("unknown tenant: %v", err)
	}

	d3 := *d
	d3.LiteLLMParams.AzureAuthorityHost = "https://127.0.0.1:1"
	err = chat(p, &d3)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 502 || strings.Contains(we.Message, "127.0.0.1") {
		t.Errorf("unreachable: %v", err)
	}
}

// TestTeamAuthorityRefusedAtDialTime: a team deployment's authority host
// passes the api_base policy (here the default one, which refuses
// loopback): refused with a 403 naming azure_authority_host, nothing sent.
func TestTeamAuthorityRefusedAtDialTime(t *testing.T) {
	t.Parallel()
	entra, _, d, p := entraSetup(t, fakeentra.Options{})
	d.ModelInfo.TeamID = "team-1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	err := chat(p, d)
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 403 || !strings.Contains(we.Message, "azure_authority_host") || strings.Contains(we.Message, "127.0.0.1") {
		t.Fatalf("error %v, want a 403 naming azure_authority_host", err)
	}
	if n := len(entra.TokenRequests()); n != 0 {
		t.Fatalf("the authority received %d token requests", n)
	}
}

// TestStaticToken: azure_ad_token is sent as it is.
func TestStaticToken(t *testing.T) {
	t.Parallel()
	const tok = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.static-token.sig"
	up := fakeopenai.Start(t, fakeopenai.Options{Bearer: func(s string) bool { return s == tok }})
	d := ptr(dep("", tok, "", "", "", ""))
	d.LiteLLMParams.APIBase = up.AzureBase()
	p := azure.New(providers.NewClient()).(providers.Forwarder)
	if err := chat(p, d); err != nil {
		t.Fatal(err)
	}
	if h := up.Last(t).Header; h["authorization"] != "Bearer "+tok || h["api-key"] != "" {
		t.Errorf("headers %v", h)
	}
	// An upstream echoing the token in an error: scrubbed.
	up.FailNext(400, `{"error":{"message":"bad token `+tok+`","type":"invalid_request_error"}}`)
	err := chat(p, d)
	if err == nil || strings.Contains(err.Error(), tok) {
		t.Errorf("error %v holds the token", err)
	}
}

// TestManagedIdentity: an operator's azure_ai deployment without
// credentials uses the host's managed identity (App Service's endpoint,
// emulated); a team's never does.
func TestManagedIdentity(t *testing.T) {
	entra := fakeentra.Start(t, fakeentra.Options{})
	t.Setenv("IDENTITY_ENDPOINT", entra.ManagedIdentityURL())
	t.Setenv("IDENTITY_HEADER", fakeentra.IdentityHeader)
	up := fakeopenai.Start(t, fakeopenai.Options{Bearer: entra.Valid})
	p := azure.NewAI(providers.NewClientWith(providers.ClientOptions{RootCAs: entra.Roots})).(providers.Forwarder)
	d := &configs.Deployment{ModelName: "phi", Provider: "azure_ai", UpstreamModel: "Phi-4",
		LiteLLMParams: configs.LiteLLMParams{Model: "azure_ai/Phi-4", APIBase: up.AIBase()}}
	d.ModelInfo.ID = "mi-1"
	for range 3 {
		if err := chat(p, d); err != nil {
			t.Fatal(err)
		}
	}
	reqs := entra.TokenRequests()
	if len(reqs) != 1 || reqs[0].Path != "/msi/token" || reqs[0].Form["resource"] != "https://cognitiveservices.azure.com" {
		t.Fatalf("managed identity requests %+v", reqs)
	}
	if h := up.Last(t).Header; !entra.Valid(strings.TrimPrefix(h["authorization"], "Bearer ")) {
		t.Errorf("upstream auth %v", h)
	}
	d.ModelInfo.TeamID = "team-1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	err := chat(p, d)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Status != 401 {
		t.Fatalf("team: %v, want 401", err)
	}
	if len(entra.TokenRequests()) != 1 {
		t.Fatal("a team deployment used the managed identity")
	}
}

// TestPrepareHeaders: Prepare never sends both headers.
func TestPrepareHeaders(t *testing.T) {
	t.Parallel()
	h := azure.New(providers.NewClient()).(*providers.HTTP)
	d := ptr(dep("", "tok-0123456789", "", "", "", ""))
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	if err := h.Prepare(&providers.Call{Deployment: d}, req); err != nil {
		t.Fatal(err)
	}
	if string(req.Header.Peek("Authorization")) != "Bearer tok-0123456789" || len(req.Header.Peek("api-key")) != 0 {
		t.Errorf("headers %s", req.Header.String())
	}
	if h.Key(d) != "tok-0123456789" {
		t.Errorf("Key = %q", h.Key(d))
	}
}

// FuzzFirstSentence: the quoted part of Entra ID's description is short
// and never a panic.
func FuzzFirstSentence(f *testing.F) {
	f.Add("AADSTS7000215: Invalid client secret provided. Ensure the secret... Trace ID: x")
	f.Add("no period\nsecond line")
	f.Add("\xff\xfe. ")
	f.Fuzz(func(t *testing.T, s string) {
		if got := azure.FirstSentence(s); len(got) > 303 {
			t.Fatalf("%d bytes", len(got))
		}
	})
}
