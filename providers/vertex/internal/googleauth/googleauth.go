// Package googleauth obtains Google OAuth2 access tokens for a deployment's
// vertex_credentials, with golang.org/x/oauth2/google:
//
//   - a team deployment must carry a service account's JSON key itself
//     (type "service_account", the only type whose every URL is its
//     token_uri, which the api_base policy checks at dial time); any other
//     type (authorized_user, external_account, impersonated_service_account:
//     those can make the library call arbitrary URLs or run executables),
//     a file path or no credentials at all is refused with a 401;
//   - the operator's deployments (configs.Deployment.MayUseHostIdentity)
//     may also name a file holding the JSON, give a JSON of type
//     service_account, authorized_user, external_account or
//     impersonated_service_account, or give none: Application Default
//     Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, the
//     metadata server).
//
// Every connection the library makes goes through the shared client's
// net/http client for the deployment (providers.Client.HTTPFor), so a
// team's token_uri passes the dial-time api_base policy. Token sources are
// cached per deployment id, sha256 of the credential value and who may use
// it (a call finds its deployment's last source by comparing the value,
// without hashing: ~0.2 µs), refresh a token Early before it expires, and
// are dropped after an hour unused once the cache holds 4096.
package googleauth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// Scope is the OAuth2 scope asked for: Vertex AI accepts cloud-platform.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

// DefaultEarly is how long before its expiry a token is replaced.
const DefaultEarly = 5 * time.Minute

// maxEntries caps the cache; entries unused for idleTTL are dropped first.
const (
	maxEntries = 4096
	idleTTL    = time.Hour
)

// maxKeyJSON caps a credential JSON (a service account key is ~2.4 KB).
const maxKeyJSON = 64 << 10

// Key is the parsed part of a service account JSON key the gateway checks.
type Key struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// Types the operator's deployments may use (a team's: service_account).
var operatorTypes = []string{"service_account", "authorized_user", "external_account", "impersonated_service_account"}

// ParseKey checks a credential JSON: for a team (team true) a complete
// service account key (type, client_email, private_key as PEM PKCS#8 or
// PKCS#1, an https token_uri when set); for the operator any of the types
// listed in the package comment, a service account checked as for a
// team. The message says what is wrong and never quotes the JSON.
func ParseKey(data []byte, team bool) (*Key, string) {
	if len(data) > maxKeyJSON {
		return nil, "is larger than 64 KB; it must be a service account's JSON key"
	}
	var k Key
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, "is not a JSON object (a service account's JSON key is expected: IAM > Service accounts > Keys > Add key > JSON)"
	}
	switch {
	case k.Type == "service_account":
	case k.Type == "":
		return nil, "has no \"type\"; a service account's JSON key has \"type\": \"service_account\""
	case team:
		return nil, "has type " + quoteType(k.Type) + "; a team deployment must use a service account's JSON key (\"type\": \"service_account\")"
	case isOperatorType(k.Type):
		return &k, ""
	default:
		return nil, "has type " + quoteType(k.Type) + "; use a service account's JSON key, or (the operator's deployments) authorized_user, external_account or impersonated_service_account"
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"client_email", k.ClientEmail}, {"private_key", k.PrivateKey}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, "is a service account key without " + strings.Join(missing, " and ") + "; download a new JSON key for the service account"
	}
	if !validPrivateKey(k.PrivateKey) {
		return nil, "has a private_key that is not a PEM RSA private key (PKCS#8 or PKCS#1); download a new JSON key for the service account"
	}
	if k.TokenURI != "" {
		u, err := url.Parse(k.TokenURI)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, "has a token_uri that is not an http(s) URL; a service account key has \"token_uri\": \"https://oauth2.googleapis.com/token\""
		}
	}
	return &k, ""
}

func isOperatorType(t string) bool {
	for _, o := range operatorTypes {
		if t == o {
			return true
		}
	}
	return false
}

// quoteType quotes a type value for a message, cut short and without
// control characters (it is not secret, but it is the caller's text).
func quoteType(t string) string {
	if len(t) > 40 {
		t = t[:40] + "…"
	}
	b := []byte{'"'}
	for _, r := range t {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			r = '?'
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '"'))
}

// validPrivateKey reports whether s is a PEM block of an RSA private key.
func validPrivateKey(s string) bool {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return false
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		_, ok := k.(*rsa.PrivateKey) // the library signs RS256 only
		return ok
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}

// Cache holds one token source per deployment and credential value.
type Cache struct {
	client *providers.Client
	// Early is how long before expiry a token is replaced (DefaultEarly).
	Early time.Duration
	// ReadFile reads an operator's credential file (os.ReadFile).
	ReadFile func(string) ([]byte, error)
	// FindDefault finds Application Default Credentials
	// (google.FindDefaultCredentials).
	FindDefault func(ctx context.Context, scopes ...string) (*google.Credentials, error)

	mu      sync.RWMutex
	entries map[string]*entry // by id, sha256 of the credential value and who may use it
	// recent is each deployment's last entry, found without hashing the
	// credential (compared by value instead): the per-call path.
	recent map[slot]*entry
}

// slot is a deployment and who may use its credentials.
type slot struct {
	id                  string
	hostIdentity, teams bool
}

type entry struct {
	ts        oauth2.TokenSource
	project   string
	lastUsed  atomic.Int64 // unix seconds
	lastErr   atomic.Pointer[error]
	fileStamp string // a file's size and mtime when read ("" for JSON)
	cred      string // the credential value it was built from
}

// NewCache returns an empty cache over client.
func NewCache(client *providers.Client) *Cache {
	return &Cache{client: client, Early: DefaultEarly, ReadFile: os.ReadFile, FindDefault: google.FindDefaultCredentials,
		entries: map[string]*entry{}, recent: map[slot]*entry{}}
}

// Auth is a deployment's access token and the project of its credentials
// ("" when they name none).
type Auth struct {
	Token   string
	Project string
}

// Project returns the project id of d's credentials without fetching a
// token ("" when they name none); the error is the credentials' problem.
func (c *Cache) Project(d *configs.Deployment) (string, error) {
	e, err := c.entry(d)
	if err != nil {
		return "", err
	}
	return e.project, nil
}

// Token returns an access token for d (cached until Early before its
// expiry). Errors are *wire.Error values that never quote the credentials.
func (c *Cache) Token(d *configs.Deployment) (Auth, error) {
	e, err := c.entry(d)
	if err != nil {
		return Auth{}, err
	}
	tok, terr := e.ts.Token()
	if terr != nil {
		return Auth{}, c.tokenError(d, e, terr)
	}
	if tok.AccessToken == "" {
		return Auth{}, wire.Errorf(502, wire.TypeUpstream, "the token endpoint of deployment %q answered without an access_token", d.PublicName())
	}
	return Auth{Token: tok.AccessToken, Project: e.project}, nil
}

// entry returns d's cached token source, building it on first use.
func (c *Cache) entry(d *configs.Deployment) (*entry, error) {
	v := strings.TrimSpace(d.Credentials.VertexCredentials)
	stamp := ""
	if v != "" && configs.IsCredentialFile(v) {
		if !d.MayUseHostIdentity() {
			return nil, wire.Errorf(401, wire.TypeAuth,
				"deployment %q has a file path in vertex_credentials; a team deployment sends the service account's JSON key itself in litellm_params.vertex_credentials", d.PublicName())
		}
		fi, err := os.Stat(v)
		if err != nil {
			return nil, wire.Errorf(401, wire.TypeAuth, "deployment %q: the vertex_credentials file cannot be read (%s); the operator must fix the path", d.PublicName(), statWhy(err))
		}
		stamp = fmt.Sprint(fi.ModTime().UnixNano(), "/", fi.Size())
	}
	// Who may use what (host identity, the policy-checked client) is part
	// of the key: a deployment that changes owner gets a new source.
	sl := slot{id: d.ModelInfo.ID, hostIdentity: d.MayUseHostIdentity(), teams: providers.TeamSupplied(d)}
	now := time.Now().Unix()
	c.mu.RLock()
	e := c.recent[sl]
	c.mu.RUnlock()
	if e != nil && e.cred == v && e.fileStamp == stamp {
		if e.lastUsed.Load() != now {
			e.lastUsed.Store(now)
		}
		return e, nil
	}
	sum := sha256.Sum256([]byte(v))
	id := sl.id + "\x00" + string(sum[:]) + "\x00" + strconv.FormatBool(sl.hostIdentity) + strconv.FormatBool(sl.teams)
	c.mu.RLock()
	e = c.entries[id]
	c.mu.RUnlock()
	if e == nil || e.fileStamp != stamp {
		// Built outside the lock (ADC may ask the metadata server); a
		// source fetches no token until asked, so of concurrent first
		// calls' sources only the one stored is ever used.
		built, err := c.build(d, v)
		if err != nil {
			return nil, err
		}
		built.fileStamp, built.cred = stamp, v
		c.mu.Lock()
		if x := c.entries[id]; x != nil && x.fileStamp == stamp {
			built = x // another call stored one first
		} else {
			if len(c.entries) >= maxEntries {
				c.evictLocked(now)
			}
			c.entries[id] = built
		}
		c.recent[sl] = built
		c.mu.Unlock()
		e = built
	} else {
		c.mu.Lock()
		c.recent[sl] = e
		c.mu.Unlock()
	}
	e.lastUsed.Store(now)
	return e, nil
}

// evictLocked drops entries unused for idleTTL, or the oldest half.
func (c *Cache) evictLocked(now int64) {
	for k, e := range c.entries {
		if now-e.lastUsed.Load() > int64(idleTTL/time.Second) {
			delete(c.entries, k)
		}
	}
	defer func() { // recent holds only cached entries
		live := make(map[*entry]bool, len(c.entries))
		for _, x := range c.entries {
			live[x] = true
		}
		for k, e := range c.recent {
			if !live[e] {
				delete(c.recent, k)
			}
		}
	}()
	if len(c.entries) < maxEntries {
		return
	}
	n := 0
	for k := range c.entries { // random order: drop half
		if n%2 == 0 {
			delete(c.entries, k)
		}
		n++
	}
}

// Forget drops d's cached token source (Vertex AI refused its token: a
// revoked key or a token revoked early), so the next call builds a new
// one and fetches a fresh token.
func (c *Cache) Forget(d *configs.Deployment) {
	sl := slot{id: d.ModelInfo.ID, hostIdentity: d.MayUseHostIdentity(), teams: providers.TeamSupplied(d)}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.recent[sl]
	if e == nil {
		return
	}
	delete(c.recent, sl)
	for k, x := range c.entries {
		if x == e {
			delete(c.entries, k)
		}
	}
}

// Len is the number of cached sources (tests).
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func statWhy(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return "not readable"
}

// build makes the token source for credential value v of d.
func (c *Cache) build(d *configs.Deployment, v string) (*entry, error) {
	e := &entry{}
	base := c.client.HTTPFor(d)
	hc := &http.Client{Transport: &recorder{base: base.Transport, e: e}, CheckRedirect: base.CheckRedirect, Timeout: time.Minute}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	operator := d.MayUseHostIdentity()
	name := d.PublicName()
	if v == "" {
		if !operator {
			return nil, wire.Errorf(401, wire.TypeAuth,
				"deployment %q has no vertex_credentials; set litellm_params.vertex_credentials to the service account's JSON key (Vertex AI calls need an OAuth2 token of a service account with the Vertex AI User role)", name)
		}
		creds, err := c.FindDefault(ctx, Scope)
		if err != nil {
			return nil, wire.Errorf(401, wire.TypeAuth,
				"deployment %q has no vertex_credentials and the gateway found no Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the metadata server); set litellm_params.vertex_credentials", name)
		}
		e.ts, e.project = oauth2.ReuseTokenSourceWithExpiry(nil, creds.TokenSource, c.Early), creds.ProjectID
		return e, nil
	}
	data := []byte(v)
	if configs.IsCredentialFile(v) {
		b, err := c.ReadFile(v)
		if err != nil {
			return nil, wire.Errorf(401, wire.TypeAuth, "deployment %q: the vertex_credentials file cannot be read (%s); the operator must fix the path", name, statWhy(err))
		}
		data = b
	}
	k, why := ParseKey(data, !operator)
	if why != "" {
		return nil, wire.Errorf(401, wire.TypeAuth, "deployment %q: litellm_params.vertex_credentials %s", name, why)
	}
	e.project = k.ProjectID
	if k.Type == "service_account" {
		cfg, err := google.JWTConfigFromJSON(data, Scope)
		if err != nil { // ParseKey accepted it: not expected
			return nil, wire.Errorf(401, wire.TypeAuth, "deployment %q: litellm_params.vertex_credentials is not a usable service account key", name)
		}
		e.ts = oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), c.Early)
		return e, nil
	}
	// The operator's other credential types.
	creds, err := google.CredentialsFromJSONWithType(ctx, data, google.CredentialsType(k.Type), Scope)
	if err != nil {
		return nil, wire.Errorf(401, wire.TypeAuth, "deployment %q: litellm_params.vertex_credentials of type %s could not be loaded; check its fields", name, quoteType(k.Type))
	}
	e.ts = oauth2.ReuseTokenSourceWithExpiry(nil, creds.TokenSource, c.Early)
	if creds.ProjectID != "" {
		e.project = creds.ProjectID
	}
	return e, nil
}

// tokenError says why no token could be had, in words a client may see:
// the token endpoint's refusal (its OAuth2 error code and description),
// the api_base policy's refusal, or an unreachable endpoint. It never
// quotes the credentials.
func (c *Cache) tokenError(d *configs.Deployment, e *entry, err error) error {
	name := d.PublicName()
	secret := d.Credentials.VertexCredentials
	scrub := func(s string) string {
		s = providers.Scrub(secret, s)
		var k Key
		if json.Unmarshal([]byte(secret), &k) == nil && k.PrivateKey != "" {
			s = providers.Scrub(k.PrivateKey, s)
		}
		if len(s) > 512 {
			s = s[:512] + "…"
		}
		return s
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" { // the jwt flow leaves the body unparsed
			var b struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &b) == nil {
				code, desc = b.Error, b.ErrorDescription
			}
		}
		why := code
		if desc != "" {
			why += ": " + desc
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if why == "" {
			why = "HTTP " + http.StatusText(status)
		}
		out := wire.Errorf(401, wire.TypeAuth, "deployment %q: the service account's token endpoint refused vertex_credentials (%s); check that the key is valid and not deleted",
			name, scrub(why))
		if status == 429 || status >= 500 {
			out.Status, out.Type = 502, wire.TypeUpstream
			out.Message = "deployment \"" + name + "\": the service account's token endpoint failed (" + scrub(why) + "); try again"
		}
		return out
	}
	if p := e.lastErr.Load(); p != nil {
		if denied, ok := errors.AsType[*egress.Denied](*p); ok {
			out := wire.Errorf(403, wire.TypePermission, "deployment %q cannot get a Google access token: the token_uri of its vertex_credentials is refused: %s", name, denied.Public())
			out.Internal = "token endpoint: " + denied.Error()
			return out
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "private key") {
		return wire.Errorf(401, wire.TypeAuth, "deployment %q: the private_key of vertex_credentials cannot sign (an RSA key is required); download a new JSON key", name)
	}
	out := wire.Errorf(502, wire.TypeUpstream, "deployment %q could not get a Google access token: the token endpoint could not be reached", name)
	out.Internal = "googleauth: " + scrub(msg)
	return out
}

// recorder keeps the last transport error of an entry's token fetches
// (the oauth2 library quotes it with %v, losing the egress refusal type).
type recorder struct {
	base http.RoundTripper
	e    *entry
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		r.e.lastErr.Store(&err)
	} else {
		r.e.lastErr.Store(nil)
	}
	return resp, err
}
