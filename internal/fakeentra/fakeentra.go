// Package fakeentra is an in-process fake of Microsoft Entra ID's token
// service over TLS (the Azure identity library refuses a plain-http
// authority), on 127.0.0.1, for tests of the azure providers and of the
// gateway end to end. It serves what MSAL (under azidentity) asks of a
// custom authority with instance discovery disabled, for the client
// credentials flow:
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration: the tenant
//     discovery document (token endpoint, issuer on this host);
//   - POST /{tenant}/oauth2/v2.0/token: checks the form as Entra ID does
//     (grant_type=client_credentials, a known client_id, its
//     client_secret, a scope naming one resource's /.default) and issues
//     a random access token valid for ExpiresIn seconds, answering
//     Entra ID's error bodies (AADSTS codes) otherwise;
//
// and an App Service style managed identity endpoint (ManagedIdentityURL,
// for IDENTITY_ENDPOINT with IDENTITY_HEADER = IdentityHeader). It counts
// token requests, knows every token it issued (Valid, for a fake upstream
// that checks Authorization: Bearer) and fails on demand.
package fakeentra

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of Options.
const (
	DefaultTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	DefaultClient = "3c6d2b3a-5b1e-4a6e-9f0e-6d1f5b2c7a10"
	DefaultSecret = "Fk8Q~entra-fake-client-secret-0123456789ab"
	// DefaultScope is the scope a token request must ask for.
	DefaultScope = "https://cognitiveservices.azure.com/.default"
	// IdentityHeader is the X-IDENTITY-HEADER the managed identity
	// endpoint requires (IDENTITY_HEADER).
	IdentityHeader = "fake-identity-header-5b7e"
)

// Options configure a server; the zero value is usable.
type Options struct {
	// Tenant, Client and Secret are the one application registered
	// (defaults above).
	Tenant, Client, Secret string
	// Scope is the scope token requests must ask for (DefaultScope).
	Scope string
	// ExpiresIn is the lifetime of issued tokens in seconds (3600).
	ExpiresIn int
}

// TokenRequest is one request to the token or managed identity endpoint.
type TokenRequest struct {
	Path   string
	Form   map[string]string // the form (token) or query (managed identity)
	Status int               // the status answered
}

// Server is a running fake Entra ID.
type Server struct {
	// URL is https://127.0.0.1:<port>, the authority host.
	URL string
	// CAFile is a PEM file of the certificate that signs the server's
	// (SSL_CERT_FILE for a gateway started in the test).
	CAFile string
	// Roots trusts the server's certificate.
	Roots *x509.CertPool

	opts Options

	mu       sync.Mutex
	issued   map[string]time.Time // token -> expiry
	requests []TokenRequest
	fails    []failure
}

type failure struct {
	status     int
	body       string
	retryAfter string
}

// Start serves a fake Entra ID until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Tenant == "" {
		opts.Tenant = DefaultTenant
	}
	if opts.Client == "" {
		opts.Client = DefaultClient
	}
	if opts.Secret == "" {
		opts.Secret = DefaultSecret
	}
	if opts.Scope == "" {
		opts.Scope = DefaultScope
	}
	if opts.ExpiresIn == 0 {
		opts.ExpiresIn = 3600
	}
	s := &Server{opts: opts, issued: map[string]time.Time{}}
	srv := httptest.NewTLSServer(http.HandlerFunc(s.serve))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	cert := srv.Certificate()
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(cert)
	s.CAFile = filepath.Join(tb.TempDir(), "fakeentra-ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		tb.Fatalf("fakeentra: %v", err)
	}
	return s
}

// Tenant, Client and Secret are the registered application's.
func (s *Server) Tenant() string { return s.opts.Tenant }
func (s *Server) Client() string { return s.opts.Client }
func (s *Server) Secret() string { return s.opts.Secret }

// ManagedIdentityURL is the managed identity endpoint (IDENTITY_ENDPOINT).
func (s *Server) ManagedIdentityURL() string { return s.URL + "/msi/token" }

// SetExpiresIn sets the lifetime of the tokens issued from now on.
func (s *Server) SetExpiresIn(seconds int) {
	s.mu.Lock()
	s.opts.ExpiresIn = seconds
	s.mu.Unlock()
}

// Valid reports whether token was issued by this server and has not
// expired: what a fake Azure upstream checks of Authorization: Bearer.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.issued[token]
	return ok && time.Now().Before(exp)
}

// Issued is the number of tokens issued.
func (s *Server) Issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// TokenRequests returns the token (and managed identity) requests so far.
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TokenRequest(nil), s.requests...)
}

// FailNext makes the next token request answer status with body
// (Entra ID's error JSON); retryAfter is sent when not "". Calls queue.
func (s *Server) FailNext(status int, body, retryAfter string) {
	s.mu.Lock()
	s.fails = append(s.fails, failure{status, body, retryAfter})
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/msi/token":
		s.managedIdentity(w, r)
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration" && r.Method == http.MethodGet:
		s.discovery(w, parts[0])
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		s.token(w, r, parts[0])
	default:
		writeError(w, 404, "invalid_request", 90009, "The requested endpoint "+r.URL.Path+" does not exist.")
	}
}

// discovery answers the tenant's OpenID configuration.
func (s *Server) discovery(w http.ResponseWriter, tenant string) {
	if tenant != s.opts.Tenant {
		writeError(w, 400, "invalid_tenant", 90002, "Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	base := s.URL + "/" + tenant
	writeJSON(w, 200, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              s.URL + "/" + tenant + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// token is the client credentials token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	req := TokenRequest{Path: r.URL.Path, Form: map[string]string{}}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	fail := func(status int, code string, aadsts int, desc string) {
		req.Status = status
		writeError(w, status, code, aadsts, desc)
	}
	if r.Method != http.MethodPost {
		fail(405, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a "+r.Method+" request.")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(400, "invalid_request", 900144, "The request body could not be parsed.")
		return
	}
	for k := range r.PostForm {
		req.Form[k] = r.PostForm.Get(k)
	}
	if f, ok := s.nextFailure(); ok {
		req.Status = f.status
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	form := r.PostForm
	switch {
	case tenant != s.opts.Tenant:
		fail(400, "invalid_tenant", 90002, "Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
	case form.Get("grant_type") == "":
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	case form.Get("grant_type") != "client_credentials":
		fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+form.Get("grant_type")+"'.")
	case form.Get("client_id") == "":
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	case form.Get("client_id") != s.opts.Client:
		fail(400, "unauthorized_client", 700016, "Application with identifier '"+form.Get("client_id")+"' was not found in the directory '"+tenant+"'. This can happen if the application has not been installed by the administrator of the tenant.")
	case form.Get("client_secret") == "" && form.Get("client_assertion") == "":
		fail(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case form.Get("client_secret") != s.opts.Secret:
		// The real service does not echo the secret; a careless proxy
		// might, so the fake does (the harder case for scrubbing).
		fail(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+form.Get("client_id")+"'. Received: "+form.Get("client_secret"))
	case !s.scopeOK(form.Get("scope")):
		fail(400, "invalid_scope", 1002012, "The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	default:
		req.Status = 200
		tok, n := s.issue()
		writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": n, "ext_expires_in": n, "access_token": tok})
	}
}

// scopeOK: the scope names exactly one resource, the expected one's
// /.default, besides OpenID scopes (which MSAL adds).
func (s *Server) scopeOK(scope string) bool {
	found := 0
	for sc := range strings.FieldsSeq(scope) {
		switch sc {
		case "openid", "offline_access", "profile":
		case s.opts.Scope:
			found++
		default:
			return false
		}
	}
	return found == 1
}

// managedIdentity is the App Service managed identity endpoint
// (api-version 2019-08-01).
func (s *Server) managedIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := TokenRequest{Path: r.URL.Path, Form: map[string]string{}}
	for k := range q {
		req.Form[k] = q.Get(k)
	}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	resource := strings.TrimSuffix(s.opts.Scope, "/.default")
	switch {
	case r.Header.Get("X-IDENTITY-HEADER") != IdentityHeader:
		req.Status = 401
		writeJSON(w, 401, map[string]any{"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER is missing or wrong."})
	case q.Get("api-version") != "2019-08-01":
		req.Status = 400
		writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "api-version is missing or unsupported."})
	case q.Get("resource") != resource:
		req.Status = 400
		writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "resource " + q.Get("resource") + " is not " + resource})
	case q.Get("client_id") != "" && q.Get("client_id") != s.opts.Client:
		req.Status = 400
		writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "No managed identity with client_id " + q.Get("client_id") + " is assigned to this resource."})
	default:
		req.Status = 200
		tok, n := s.issue()
		writeJSON(w, 200, map[string]any{"access_token": tok, "expires_on": strconv.FormatInt(time.Now().Add(time.Duration(n)*time.Second).Unix(), 10),
			"resource": resource, "token_type": "Bearer", "client_id": s.opts.Client})
	}
}

// issue makes a token.
func (s *Server) issue() (string, int) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-entra." + hex.EncodeToString(b[:])
	s.mu.Lock()
	n := s.opts.ExpiresIn
	s.issued[tok] = time.Now().Add(time.Duration(n) * time.Second)
	s.mu.Unlock()
	return tok, n
}

func (s *Server) nextFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) == 0 {
		return failure{}, false
	}
	f := s.fails[0]
	s.fails = s.fails[1:]
	return f, true
}

// ErrorBody is Entra ID's error JSON for error code, AADSTS number and
// description (which Entra ID follows with trace and correlation ids).
func ErrorBody(code string, aadsts int, desc string) string {
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: 0b1c2d3e-0000-4000-8000-000000000001 Correlation ID: 7f6e5d4c-0000-4000-8000-000000000002 Timestamp: %s", aadsts, desc, time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          "0b1c2d3e-0000-4000-8000-000000000001",
		"correlation_id":    "7f6e5d4c-0000-4000-8000-000000000002",
		"error_uri":         "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
	return string(b)
}

func writeError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ErrorBody(code, aadsts, desc)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
