package bedrock

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakebedrock"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRole   = "arn:aws:iam::123456789012:role/bedrock-caller"
	claude     = "anthropic.claude-3-5-sonnet-20240620-v1:0"
)

func newFake(t *testing.T) *fakebedrock.Server {
	t.Helper()
	f := fakebedrock.New("us-east-1")
	t.Cleanup(f.Close)
	f.AddKey(testKeyID, testSecret, "")
	f.AddRole(testRole, testKeyID)
	return f
}

// deployment is an operator deployment of model on f with static keys.
func deployment(f *fakebedrock.Server, model string) *configs.Deployment {
	d := &configs.Deployment{ModelName: "claude", Provider: "bedrock", UpstreamModel: model}
	d.ModelInfo.ID = "dep-" + model
	d.LiteLLMParams.Model = "bedrock/" + model
	d.LiteLLMParams.AWSRegionName = "us-east-1"
	d.LiteLLMParams.AWSBedrockRuntimeEndpoint = f.URL
	d.Credentials.AWSAccessKeyID = testKeyID
	d.Credentials.AWSSecretAccessKey = testSecret
	return d
}

// team makes d a team's deployment (credentials a team key supplied).
func team(d *configs.Deployment) *configs.Deployment {
	d.ModelInfo.TeamID = "team-1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	return d
}

func newProvider() *Provider { return New(providers.NewClient()).(*Provider) }

func call(d *configs.Deployment, body string) *providers.Call {
	return &providers.Call{Deployment: d, Body: []byte(body), Deadline: time.Now().Add(10 * time.Second)}
}

func wantErr(t *testing.T, err error, status int, contains string) *wire.Error {
	t.Helper()
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		t.Fatalf("error %T %v, want a *wire.Error", err, err)
	}
	if we.Status != status || !strings.Contains(we.Message, contains) {
		t.Fatalf("error %d %q, want %d containing %q", we.Status, we.Message, status, contains)
	}
	return we
}

func TestRegistryLine(t *testing.T) {
	t.Parallel()
	s, ok := registry.Lookup("bedrock")
	if !ok || s.Auth != registry.AuthSigV4 || !s.Serves(registry.EndpointEmbeddings) || s.StreamUsage == nil || !s.StreamUsage("") {
		t.Fatalf("registry entry %+v", s)
	}
	for _, p := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
		"aws_role_name", "aws_session_name", "aws_bedrock_runtime_endpoint", "aws_sts_endpoint"} {
		if !s.Reads(p) {
			t.Errorf("the registry entry does not list %s", p)
		}
	}
}

func TestCompleteStaticKeys(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	res, err := p.Complete(call(d, `{"model":"`+claude+`","messages":[{"role":"system","content":"Be nice."},{"role":"user","content":"Hi there"}],"max_tokens":50}`))
	if err != nil {
		t.Fatal(err)
	}
	b := gjson.ParseBytes(res.Body)
	if got := b.Get("choices.0.message.content").Str; !strings.Contains(got, "You said: Hi there") {
		t.Fatalf("answer %s", res.Body)
	}
	if b.Get("object").Str != "chat.completion" || b.Get("choices.0.finish_reason").Str != "stop" || b.Get("usage.completion_tokens").Int() != 5 {
		t.Fatalf("answer %s", res.Body)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse" || reqs[0].KeyID != testKeyID {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestConverseRouteAndProfile(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, "converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0")
	if _, err := p.Complete(call(d, `{"model":"x","messages":[{"role":"user","content":"hi"}]}`)); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].Path; got != "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse" {
		t.Fatalf("path %s", got)
	}
}

func TestToolsRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","description":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	res, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"What's the weather in Paris?"}],`+tools+`}`))
	if err != nil {
		t.Fatal(err)
	}
	b := gjson.ParseBytes(res.Body)
	tc := b.Get("choices.0.message.tool_calls.0")
	if b.Get("choices.0.finish_reason").Str != "tool_calls" || tc.Get("function.name").Str != "get_weather" || tc.Get("function.arguments").Str != `{"city":"Paris"}` {
		t.Fatalf("answer %s", res.Body)
	}
	follow := `{"model":"m","messages":[{"role":"user","content":"What's the weather in Paris?"},` +
		`{"role":"assistant","content":"Let me check.","tool_calls":[` + tc.Raw + `]},` +
		`{"role":"tool","tool_call_id":"` + tc.Get("id").Str + `","content":"sunny"}],` + tools + `}`
	res, err = p.Complete(call(d, follow))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(res.Body, "choices.0.message.content").Str; got != "The tool said: sunny" {
		t.Fatalf("answer %s", res.Body)
	}
}

func TestJSONModeAndReasoning(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	res, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"json please"}],"response_format":{"type":"json_object"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(res.Body, "choices.0.message.content").Str; got != `{"answer":"ok"}` || gjson.GetBytes(res.Body, "choices.0.finish_reason").Str != "stop" {
		t.Fatalf("answer %s", res.Body)
	}
	res, err = p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"think"}],"reasoning_effort":"low"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(res.Body, "choices.0.message.reasoning_content").Str; got == "" ||
		gjson.GetBytes(res.Body, "choices.0.message.thinking_blocks.0.signature").Str != "sig" {
		t.Fatalf("answer %s", res.Body)
	}
	// Cache points, thinking blocks given back, a tool round trip: the
	// fake accepts the translation.
	body, err := os.ReadFile("testdata/request/cache_and_thinking.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Complete(call(d, string(body))); err != nil {
		t.Fatal(err)
	}
}

func readStream(t *testing.T, s providers.Stream) (chunks []gjson.Result, err error) {
	t.Helper()
	defer s.Close()
	for {
		b, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return chunks, nil
			}
			return chunks, err
		}
		if !gjson.ValidBytes(b) {
			t.Fatalf("invalid chunk %s", b)
		}
		chunks = append(chunks, gjson.ParseBytes(b))
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	s, err := p.OpenStream(call(d, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello stream"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := readStream(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	finish := ""
	for _, c := range chunks {
		text.WriteString(c.Get("choices.0.delta.content").Str)
		if f := c.Get("choices.0.finish_reason").Str; f != "" {
			finish = f
		}
	}
	last := chunks[len(chunks)-1]
	if !strings.Contains(text.String(), "You said: Hello stream") || finish != "stop" || last.Get("usage.completion_tokens").Int() != 5 {
		t.Fatalf("text %q finish %q last %s", text.String(), finish, last.Raw)
	}
	if f.Requests()[0].Path != "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream" {
		t.Fatalf("path %s", f.Requests()[0].Path)
	}
}

func TestStreamToolsAndMidStreamError(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	s, err := p.OpenStream(call(d, `{"model":"m","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := readStream(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var args strings.Builder
	for _, c := range chunks {
		args.WriteString(c.Get("choices.0.delta.tool_calls.0.function.arguments").Str)
	}
	if args.String() != `{"city":"Paris"}` {
		t.Fatalf("arguments %q", args.String())
	}

	f.Fail(fakebedrock.Failure{MidStream: true, Type: "modelStreamErrorException", Message: "the model broke, key " + testSecret})
	s, err = p.OpenStream(call(d, `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readStream(t, s)
	we := wantErr(t, err, 424, "modelStreamErrorException: the model broke")
	if strings.Contains(we.Message, testSecret) {
		t.Fatalf("secret in %q", we.Message)
	}
}

func TestUpstreamErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	f.Fail(fakebedrock.Failure{Status: 429, Type: "ThrottlingException", Message: "Too many requests from " + testKeyID + " / " + testSecret, RetryAfter: 3})
	_, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	we := wantErr(t, err, 429, "ThrottlingException: Too many requests")
	if we.RetryAfter != 3 || strings.Contains(we.Message, testSecret) || strings.Contains(we.Message, testKeyID) {
		t.Fatalf("error %+v", we)
	}
	f.Fail(fakebedrock.Failure{Status: 500, Type: "InternalServerException", Message: "boom"})
	_, err = p.OpenStream(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 500, "InternalServerException: boom")
	// The fake validates like Bedrock: a bad temperature is its 400.
	res, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":1.5}`))
	if err == nil {
		t.Log(string(res.Body), len(f.Requests()))
	}
	wantErr(t, err, 400, "ValidationException")
	// A wrong secret: the fake's signature check.
	d2 := deployment(f, claude)
	d2.Credentials.AWSSecretAccessKey = "not-the-secret-at-all-1234567890"
	_, err = p.Complete(call(d2, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	we = wantErr(t, err, 403, "InvalidSignatureException")
	if strings.Contains(we.Message, "not-the-secret") {
		t.Fatal("secret in message")
	}
}

func TestRequestRefusals(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	for body, want := range map[string]string{
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`: "does not fetch URLs",
		`{"messages":[{"role":"user","content":"hi"}],"n":2}`:                                                             "n=2",
		`{"messages":[]}`: "at least one user message",
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}`: "image/bmp",
		`{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search"}]}`:                                    "function tools",
		`not json`: "not valid JSON",
	} {
		_, err := p.Complete(call(d, body))
		wantErr(t, err, 400, want)
	}
	if len(f.Requests()) != 0 {
		t.Fatal("a refused request was sent")
	}
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, claude)
	d.LiteLLMParams.AWSRoleName = testRole
	d.LiteLLMParams.AWSSTSEndpoint = f.URL
	for range 3 {
		if _, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.STSCalls(); n != 1 {
		t.Fatalf("%d STS calls, want 1 (cached)", n)
	}
	for _, r := range f.Requests() {
		if !strings.HasPrefix(r.KeyID, "ASIA") {
			t.Fatalf("signed with %s, not the assumed role's key", r.KeyID)
		}
	}
	// A rotated secret gets a fresh credentials provider.
	d2 := deployment(f, claude)
	d2.LiteLLMParams = d.LiteLLMParams
	d2.Credentials.AWSSecretAccessKey = "rotated-secret-0123456789"
	_, err := p.Complete(call(d2, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	we := wantErr(t, err, 401, "AWS refused the credentials")
	if strings.Contains(we.Message, "rotated-secret") || strings.Contains(we.Internal, "rotated-secret") {
		t.Fatalf("secret in %+v", we)
	}
	// A role the keys may not assume.
	d3 := deployment(f, claude)
	d3.LiteLLMParams = d.LiteLLMParams
	d3.LiteLLMParams.AWSRoleName = "arn:aws:iam::123456789012:role/other"
	_, err = p.Complete(call(d3, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 401, "AccessDenied")
}

func TestTeamCredentials(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := team(deployment(f, claude))
	d.Credentials = configs.Credentials{}
	_, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 401, "set litellm_params.aws_access_key_id and aws_secret_access_key")
	d.LiteLLMParams.AWSRoleName = testRole
	_, err = p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 401, "no AWS keys to assume it with")
	// A team's STS endpoint goes through the api_base policy (loopback is
	// refused by the default policy), as does its runtime endpoint.
	d = team(deployment(f, claude))
	d.LiteLLMParams.AWSRoleName = testRole
	d.LiteLLMParams.AWSSTSEndpoint = f.URL
	_, err = p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 403, "cannot reach its STS endpoint")
	d = team(deployment(f, claude))
	_, err = p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 403, "cannot be called")
	if f.STSCalls() != 0 || len(f.Requests()) != 0 {
		t.Fatal("a team call reached the fake")
	}
}

// TestOperatorChain: an operator deployment without keys uses the default
// chain (here the environment's keys); the same deployment of a team
// does not.
func TestOperatorChain(t *testing.T) {
	f := newFake(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	p := newProvider()
	d := deployment(f, claude)
	d.Credentials = configs.Credentials{}
	d.LiteLLMParams.AWSRegionName = ""
	if _, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)); err != nil {
		we, _ := errors.AsType[*wire.Error](err)
		t.Fatal(err, we.Internal)
	}
	td := team(deployment(f, claude))
	td.Credentials = configs.Credentials{}
	_, err := p.Complete(call(td, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 401, "no AWS credentials")
	td.LiteLLMParams.AWSRegionName = ""
	td.LiteLLMParams.AWSBedrockRuntimeEndpoint = ""
	_, err = p.Complete(call(td, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	wantErr(t, err, 400, "set litellm_params.aws_region_name")
}

func TestRegion(t *testing.T) {
	t.Parallel()
	d := &configs.Deployment{ModelName: "m"}
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	d.LiteLLMParams.AWSBedrockRuntimeEndpoint = "https://bedrock-runtime.eu-west-3.amazonaws.com"
	if r, err := region(d); err != nil || r != "eu-west-3" {
		t.Fatalf("region %q %v", r, err)
	}
	d.LiteLLMParams.AWSRegionName = "us-west-2"
	if r, _ := region(d); r != "us-west-2" || endpoint(d, r) != "https://bedrock-runtime.eu-west-3.amazonaws.com" {
		t.Fatal(r)
	}
	d.LiteLLMParams.AWSBedrockRuntimeEndpoint = ""
	if e := endpoint(d, "us-west-2"); e != "https://bedrock-runtime.us-west-2.amazonaws.com" {
		t.Fatal(e)
	}
	if got := escapePath("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"); got != "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fabc" {
		t.Fatal(got)
	}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := newProvider()
	d := deployment(f, "amazon.titan-embed-text-v2:0")
	c := call(d, `{"model":"m","input":["one","two words","three more words","four","five"],"dimensions":256}`)
	c.Endpoint = registry.EndpointEmbeddings
	res, err := p.Forward(c)
	if err != nil {
		t.Fatal(err)
	}
	b := gjson.ParseBytes(res.Body)
	if b.Get("data.#").Int() != 5 || b.Get("data.4.index").Int() != 4 || b.Get("data.0.embedding.#").Int() != 256 ||
		b.Get("usage.prompt_tokens").Int() != 2+3+4+2+2 || b.Get("object").Str != "list" {
		t.Fatalf("answer %.300s", res.Body)
	}
	if len(f.Requests()) != 5 {
		t.Fatalf("%d calls, want one per input", len(f.Requests()))
	}

	d = deployment(f, "cohere.embed-english-v3")
	c = call(d, `{"model":"m","input":["a b","c"],"encoding_format":"base64"}`)
	c.Endpoint = registry.EndpointEmbeddings
	res, err = p.Forward(c)
	if err != nil {
		t.Fatal(err)
	}
	b = gjson.ParseBytes(res.Body)
	if b.Get("data.#").Int() != 2 || b.Get("data.1.embedding").Type != gjson.String || b.Get("usage.prompt_tokens").Int() != 5 {
		t.Fatalf("answer %.300s", res.Body)
	}
	if got := gjson.GetBytes(f.Requests()[5].Body, "input_type").Str; got != "search_document" {
		t.Fatalf("input_type %q", got)
	}

	// More texts than Bedrock's Cohere models take in one call.
	many := make([]string, 200)
	for i := range many {
		many[i] = `"text ` + strconv.Itoa(i) + `"`
	}
	before := len(f.Requests())
	c = call(d, `{"model":"m","input":[`+strings.Join(many, ",")+`]}`)
	c.Endpoint = registry.EndpointEmbeddings
	res, err = p.Forward(c)
	if err != nil {
		t.Fatal(err)
	}
	b = gjson.ParseBytes(res.Body)
	if b.Get("data.#").Int() != 200 || b.Get("data.199.index").Int() != 199 || len(f.Requests())-before != 3 || b.Get("usage.prompt_tokens").Int() != 600 {
		t.Fatalf("%d calls; answer %.200s", len(f.Requests())-before, res.Body)
	}

	f.Fail(fakebedrock.Failure{Status: 429, Type: "ThrottlingException", Message: "slow down", RetryAfter: 2})
	c = call(d, `{"model":"m","input":"x"}`)
	c.Endpoint = registry.EndpointEmbeddings
	_, err = p.Forward(c)
	if we := wantErr(t, err, 429, "slow down"); we.RetryAfter != 2 {
		t.Fatal(we)
	}
	c.Endpoint = registry.EndpointResponses
	_, err = p.Forward(c)
	wantErr(t, err, 404, "does not serve")
}

// TestSessionToken: temporary keys send their session token, signed.
func TestSessionToken(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.AddKey("ASIATEMPORARY0000001", "temp-secret-0123456789", "session-token-abcdef0123456789")
	p := newProvider()
	d := deployment(f, claude)
	d.Credentials = configs.Credentials{AWSAccessKeyID: "ASIATEMPORARY0000001", AWSSecretAccessKey: "temp-secret-0123456789",
		AWSSessionToken: "session-token-abcdef0123456789"}
	if _, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)); err != nil {
		t.Fatal(err)
	}
	d.Credentials.AWSSessionToken = "another-token-abcdef0123456789"
	_, err := p.Complete(call(d, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	we := wantErr(t, err, 403, "UnrecognizedClientException")
	if strings.Contains(we.Message, "another-token") {
		t.Fatal("token in message")
	}
}

// TestCredCacheBounded: the cache never holds more than maxCreds
// providers, and entries unused for an hour go first.
func TestCredCacheBounded(t *testing.T) {
	t.Parallel()
	var c credCache
	mk := func() (aws.CredentialsProvider, error) {
		return credentials.NewStaticCredentialsProvider("a", "b", ""), nil
	}
	for i := range maxCreds + 50 {
		if _, err := c.get("k"+strconv.Itoa(i), mk); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.m); n > maxCreds {
		t.Fatalf("%d entries", n)
	}
	for _, e := range c.m {
		e.used.Store(time.Now().Add(-2 * time.Hour).Unix())
	}
	if _, err := c.get("fresh", mk); err != nil {
		t.Fatal(err)
	}
	if n := len(c.m); n != 1 {
		t.Fatalf("%d entries after the idle ones expired, want 1", n)
	}
	// Another secret is another key.
	d := &configs.Deployment{}
	d.ModelInfo.ID = "x"
	d.Credentials.AWSSecretAccessKey = "s1"
	k1 := credKey(d, "us-east-1")
	d.Credentials.AWSSecretAccessKey = "s2"
	if credKey(d, "us-east-1") == k1 || strings.Contains(k1, "s1") {
		t.Fatal("the key does not follow the secret, or shows it")
	}
}
