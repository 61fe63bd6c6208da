package fakebedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSignatureAWSExample: the verifier computes the signature of AWS's
// documented example (IAM ListUsers, "Examples of the complete
// Signature Version 4 signing process").
func TestSignatureAWSExample(t *testing.T) {
	t.Parallel()
	r, _ := http.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.RequestURI = "/?Action=ListUsers&Version=2010-05-08"
	r.Host = "iam.amazonaws.com"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	a := authorization{keyID: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "iam",
		signedHeaders: []string{"content-type", "host", "x-amz-date"}}
	sig, canonical := signature(r, nil, a, "20150830T123600Z", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if want := "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"; sig != want {
		t.Fatalf("signature %s, want %s; canonical request:\n%s", sig, want, canonical)
	}
}

// TestCanonicalURI: every service but S3 encodes each path segment twice:
// a model id's ':' sent as %3A is signed as %253A.
func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse": "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse",
		"/":                     "/",
		"/a b":                  "/a%20b",
		"/arn%3Aaws%2Fx/invoke": "/arn%253Aaws%252Fx/invoke",
	} {
		if got := canonicalURI(in); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// send signs a Converse call with the SDK's signer and returns the
// status and body.
func send(t *testing.T, s *Server, keyID, secret, region, service string, at time.Time, body []byte, alter func(*http.Request)) (int, string) {
	t.Helper()
	u := s.URL + "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
	r, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	if alter != nil {
		alter(r)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	s := New("us-east-1")
	defer s.Close()
	s.AddKey("AKIDTEST", "secret-1", "")
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`)
	now := time.Now()
	if st, b := send(t, s, "AKIDTEST", "secret-1", "us-east-1", "bedrock", now, body, nil); st != 200 {
		t.Fatalf("good signature: %d %s", st, b)
	}
	for name, c := range map[string]struct {
		key, secret, region, service string
		at                           time.Time
		alter                        func(*http.Request)
		want                         string
	}{
		"wrong secret":  {"AKIDTEST", "secret-2", "us-east-1", "bedrock", now, nil, "signature we calculated"},
		"unknown key":   {"AKIDOTHER", "secret-1", "us-east-1", "bedrock", now, nil, "security token"},
		"expired":       {"AKIDTEST", "secret-1", "us-east-1", "bedrock", now.Add(-10 * time.Minute), nil, "Signature expired"},
		"wrong region":  {"AKIDTEST", "secret-1", "us-west-2", "bedrock", now, nil, "region"},
		"wrong service": {"AKIDTEST", "secret-1", "us-east-1", "sts", now, nil, "region and service"},
		"no date":       {"AKIDTEST", "secret-1", "us-east-1", "bedrock", now, func(r *http.Request) { r.Header.Del("X-Amz-Date") }, "X-Amz-Date"},
		"altered body": {"AKIDTEST", "secret-1", "us-east-1", "bedrock", now, func(r *http.Request) {
			b := bytes.Replace(body, []byte("hi"), []byte("ho"), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}, "signature we calculated"},
	} {
		st, b := send(t, s, c.key, c.secret, c.region, c.service, c.at, body, c.alter)
		if st < 400 || !strings.Contains(b, c.want) && !strings.Contains(b, strings.ToLower(c.want)) {
			t.Errorf("%s: %d %s, want an error with %q", name, st, b, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"messages":[]}`: "start with a user",
		`{"messages":[{"role":"assistant","content":[{"text":"x"}]}]}`:                                         "start with a user",
		`{"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"user","content":[{"text":"y"}]}]}`:     "alternate",
		`{"messages":[{"role":"user","content":[{"text":"x"}]}],"foo":1}`:                                      "unknown field",
		`{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":1.5}}`:          "Malformed",
		`{"messages":[{"role":"user","content":[{"text":" "}]}]}`:                                              "blank",
		`{"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"a","content":[{"text":"x"}]}}]}]}`: "toolConfig",
	} {
		if _, err := validate([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	ok := `{"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"a","name":"f","input":{}}}]},{"role":"user","content":[{"toolResult":{"toolUseId":"a","content":[{"text":"x"}]}}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object"}}}}]}}`
	if _, err := validate([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(ok, `"toolUseId":"a","content"`, `"toolUseId":"b","content"`, 1)
	if _, err := validate([]byte(bad)); err == nil {
		t.Fatal("an unpaired toolResult was accepted")
	}
}
