package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// signingService is SigV4's service name for the Bedrock runtime.
const signingService = "bedrock"

// Credential cache bounds: entries unused for an hour are dropped once
// the cache holds maxIdleCheck of them; it never holds more than
// maxCreds.
const (
	maxCreds     = 1024
	maxIdleCheck = 64
	idleTTL      = time.Hour
)

// credEntry is one deployment's credentials provider (an
// aws.CredentialsCache around STS AssumeRole or the default chain, or
// static keys).
type credEntry struct {
	prov aws.CredentialsProvider
	used atomic.Int64 // unix seconds
}

// credCache holds a credentials provider per deployment and credential
// material: a rotated secret gets a fresh provider.
type credCache struct {
	mu sync.Mutex
	m  map[string]*credEntry
}

// credKey is the cache key of d's credentials: its id and a hash of every
// value the provider is built from.
func credKey(d *configs.Deployment, region string) string {
	h := sha256.New()
	for _, v := range [...]string{d.Credentials.AWSAccessKeyID, d.Credentials.AWSSecretAccessKey, d.Credentials.AWSSessionToken,
		d.LiteLLMParams.AWSRoleName, d.LiteLLMParams.AWSSessionName, d.LiteLLMParams.AWSSTSEndpoint, region,
		strconv.FormatBool(d.MayUseHostIdentity()), d.ModelInfo.TeamID} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return d.ModelInfo.ID + "/" + hex.EncodeToString(h.Sum(nil))
}

// get returns the cached provider for key, or builds one with mk.
func (c *credCache) get(key string, mk func() (aws.CredentialsProvider, error)) (aws.CredentialsProvider, error) {
	now := time.Now().Unix()
	c.mu.Lock()
	if e, ok := c.m[key]; ok {
		c.mu.Unlock()
		e.used.Store(now)
		return e.prov, nil
	}
	c.mu.Unlock()
	prov, err := mk()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok { // built concurrently: keep the first
		e.used.Store(now)
		return e.prov, nil
	}
	if c.m == nil {
		c.m = map[string]*credEntry{}
	}
	if len(c.m) >= maxIdleCheck {
		for k, e := range c.m {
			if now-e.used.Load() > int64(idleTTL/time.Second) {
				delete(c.m, k)
			}
		}
	}
	for k := range c.m { // still full: drop any one
		if len(c.m) < maxCreds {
			break
		}
		delete(c.m, k)
	}
	e := &credEntry{prov: prov}
	e.used.Store(now)
	c.m[key] = e
	return prov, nil
}

// noCredentials is the 401 of a deployment that has no AWS credentials
// and may not use the host's.
func noCredentials(d *configs.Deployment, role bool) *wire.Error {
	if role {
		return wire.Errorf(401, wire.TypeAuth, "deployment %q sets aws_role_name but has no AWS keys to assume it with; "+
			"set litellm_params.aws_access_key_id and aws_secret_access_key", d.PublicName())
	}
	return wire.Errorf(401, wire.TypeAuth, "deployment %q has no AWS credentials; set litellm_params.aws_access_key_id and "+
		"aws_secret_access_key (and aws_session_token for temporary keys), optionally with aws_role_name to assume a role", d.PublicName())
}

// credentialsFor returns the AWS credentials a call to d signs with:
// the deployment's static keys; a role assumed with them (aws_role_name);
// or, only for the operator's deployments without keys, the host's
// default credential chain (environment, shared files, instance roles).
func (p *Provider) credentialsFor(ctx context.Context, d *configs.Deployment, region string) (aws.Credentials, error) {
	c := &d.Credentials
	lp := &d.LiteLLMParams
	if (c.AWSAccessKeyID == "") != (c.AWSSecretAccessKey == "") {
		return aws.Credentials{}, wire.Errorf(401, wire.TypeAuth, "deployment %q sets only one of aws_access_key_id and aws_secret_access_key; set both", d.PublicName())
	}
	static := c.AWSAccessKeyID != ""
	if !static && !d.MayUseHostIdentity() {
		return aws.Credentials{}, noCredentials(d, lp.AWSRoleName != "")
	}
	if static && lp.AWSRoleName == "" {
		return aws.Credentials{AccessKeyID: c.AWSAccessKeyID, SecretAccessKey: c.AWSSecretAccessKey,
			SessionToken: c.AWSSessionToken, Source: "litellm_params"}, nil
	}
	prov, err := p.creds.get(credKey(d, region), func() (aws.CredentialsProvider, error) {
		var source aws.CredentialsProvider
		if static {
			source = credentials.NewStaticCredentialsProvider(c.AWSAccessKeyID, c.AWSSecretAccessKey, c.AWSSessionToken)
		} else {
			// Only the operator's deployments reach here (checked above).
			cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithHTTPClient(p.chainHTTP(d)))
			if err != nil {
				return nil, err
			}
			source = cfg.Credentials
		}
		if lp.AWSRoleName == "" {
			return source, nil
		}
		opts := sts.Options{Region: region, Credentials: source, HTTPClient: p.client.HTTPFor(d)}
		if lp.AWSSTSEndpoint != "" {
			opts.BaseEndpoint = aws.String(strings.TrimRight(lp.AWSSTSEndpoint, "/"))
		}
		session := lp.AWSSessionName
		if session == "" {
			session = "llmgateway-session-" + strconv.FormatInt(time.Now().Unix(), 10)
		}
		ar := stscreds.NewAssumeRoleProvider(sts.New(opts), lp.AWSRoleName, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
			o.Duration = time.Hour // boto3's default, as LiteLLM asks; every role allows it
		})
		return aws.NewCredentialsCache(ar, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = 5 * time.Minute
		}), nil
	})
	if err != nil {
		return aws.Credentials{}, credError(d, err)
	}
	cr, err := prov.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, credError(d, err)
	}
	return cr, nil
}

// chainHTTP is the HTTP client of the default credential chain's own
// calls (instance metadata, SSO, STS): HTTPFor(d)'s dialer and TLS
// settings in the SDK's buildable client, which the chain needs to apply
// AWS_CA_BUNDLE. No proxy: every connection goes through the dialer.
func (p *Provider) chainHTTP(d *configs.Deployment) config.HTTPClient {
	hc := p.client.HTTPFor(d)
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return hc
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil
		t.DialContext = tr.DialContext
		if tr.TLSClientConfig != nil {
			t.TLSClientConfig = tr.TLSClientConfig.Clone()
		}
	})
}

// credError is the *wire.Error of a failure to obtain credentials (the
// default chain found none, STS refused the role or was unreachable),
// scrubbed of the deployment's secrets.
func credError(d *configs.Deployment, err error) error {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	var denied *egress.Denied
	if errors.As(err, &denied) {
		return wire.Errorf(403, wire.TypePermission, "deployment %q cannot reach its STS endpoint: %s", d.PublicName(), denied.Public())
	}
	detail := scrubAll(d, "", err.Error())
	var api smithy.APIError
	if errors.As(err, &api) {
		e := wire.Errorf(401, wire.TypeAuth, "AWS refused the credentials of deployment %q: %s: %s",
			d.PublicName(), api.ErrorCode(), scrubAll(d, "", api.ErrorMessage()))
		e.Internal = "bedrock credentials: " + detail
		return e
	}
	if d.LiteLLMParams.AWSRoleName == "" && d.Credentials.AWSAccessKeyID == "" {
		e := wire.Errorf(401, wire.TypeAuth, "deployment %q has no AWS credentials and the gateway host has none either; "+
			"set litellm_params.aws_access_key_id and aws_secret_access_key", d.PublicName())
		e.Internal = "bedrock credentials: " + detail
		return e
	}
	e := wire.Errorf(502, wire.TypeUpstream, "the AWS credentials of deployment %q could not be obtained (assuming aws_role_name failed); check aws_role_name and aws_sts_endpoint", d.PublicName())
	e.Internal = "bedrock credentials: " + detail
	return e
}

// scrubAll removes every secret of d (and extra, a token obtained for it)
// from s.
func scrubAll(d *configs.Deployment, extra, s string) string {
	for _, v := range d.Credentials.Values() {
		s = providers.Scrub(v, s)
	}
	s = providers.Scrub(d.APIKey, s)
	return providers.Scrub(extra, s)
}

// scrubErr scrubs a *wire.Error of d's secrets and the credentials cr a
// call signed with (an assumed role's keys and session token).
func scrubErr(err error, d *configs.Deployment, cr *aws.Credentials) error {
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		return err
	}
	e := *we
	for _, f := range [...]*string{&e.Message, &e.Internal, &e.Param, &e.Type} {
		*f = scrubAll(d, cr.SessionToken, *f)
		*f = providers.Scrub(cr.SecretAccessKey, *f)
	}
	return &e
}

// region is the AWS region of d's calls: aws_region_name; else the one
// in aws_bedrock_runtime_endpoint's host name; else, for the operator's
// deployments only, AWS_REGION or AWS_DEFAULT_REGION.
func region(d *configs.Deployment) (string, *wire.Error) {
	if r := d.LiteLLMParams.AWSRegionName; r != "" {
		return r, nil
	}
	if ep := d.LiteLLMParams.AWSBedrockRuntimeEndpoint; ep != "" {
		host := ep
		if _, rest, ok := strings.Cut(host, "://"); ok {
			host = rest
		}
		host, _, _ = strings.Cut(host, "/")
		labels := strings.Split(host, ".")
		for i, l := range labels {
			if strings.HasPrefix(l, "bedrock-runtime") && i+1 < len(labels) {
				return labels[i+1], nil
			}
		}
	}
	if d.MayUseHostIdentity() {
		for _, v := range [...]string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if r := os.Getenv(v); r != "" {
				return r, nil
			}
		}
		return "", wire.Errorf(500, wire.TypeInternal, "deployment %q has no AWS region; set litellm_params.aws_region_name (or AWS_REGION in the gateway's environment)", d.PublicName())
	}
	return "", wire.Errorf(400, wire.TypeInvalidRequest, "deployment %q has no AWS region; set litellm_params.aws_region_name", d.PublicName())
}

// endpoint is the base URL of d's Bedrock runtime calls.
func endpoint(d *configs.Deployment, region string) string {
	if ep := d.LiteLLMParams.AWSBedrockRuntimeEndpoint; ep != "" {
		return strings.TrimRight(ep, "/")
	}
	if base := d.LiteLLMParams.APIBase; base != "" {
		return strings.TrimRight(base, "/")
	}
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// escapePath escapes one path segment as AWS's REST protocols do (and as
// SigV4 then escapes it once more in the canonical request): every byte
// but the unreserved characters A-Z a-z 0-9 - _ . ~ becomes %XX, so a
// model id's ':' is sent as %3A and signed as %253A.
func escapePath(s string) string {
	const hexd = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// sign sets req's SigV4 headers (Authorization, X-Amz-Date and, for
// temporary credentials, X-Amz-Security-Token) for a POST of body to
// rawURL, with a signer of its own: the SDK's signer caches derived
// signing keys by access key id, date, region and service, not by secret,
// so a shared one would keep signing with a rotated-out secret. It signs host, content-length and x-amz-date (and the token):
// the headers fasthttp sends as signed.
func sign(ctx context.Context, cr aws.Credentials, region, rawURL string, body []byte, now time.Time, req *fasthttp.Request) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, nil)
	if err != nil {
		return err
	}
	hreq.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, cr, hreq, hex.EncodeToString(sum[:]), signingService, region, now); err != nil {
		return err
	}
	for _, h := range [...]string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := hreq.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	return nil
}
