package fakevertex

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"
)

func token(t *testing.T, s *Server) string {
	t.Helper()
	cfg, err := google.JWTConfigFromJSON([]byte(s.ServiceAccountJSON("")), Scope)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.TokenSource(context.Background()).Token()
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func post(t *testing.T, u, tok, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	tok := token(t, s)
	if !s.ValidToken(tok) || s.Issued() != 1 {
		t.Fatalf("token %q issued %d", tok, s.Issued())
	}
	for form, want := range map[string]string{
		"grant_type=client_credentials":                                                                  "unsupported_grant_type",
		"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=a.b":                           "Invalid JWT",
		"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=eyJhbGciOiJSUzI1NiJ9.e30.AAAA": "Invalid JWT Signature",
	} {
		resp, err := http.PostForm(s.TokenURL, mustValues(form))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s", form, resp.StatusCode, b)
		}
	}
	// Another key pair's assertion is refused.
	other := Start(t, Options{})
	cfg, _ := google.JWTConfigFromJSON([]byte(other.ServiceAccountJSON(s.TokenURL)), Scope)
	if _, err := cfg.TokenSource(context.Background()).Token(); err == nil || !strings.Contains(err.Error(), "Invalid JWT") {
		t.Errorf("a foreign key: %v", err)
	}
	// A wrong scope.
	cfg, _ = google.JWTConfigFromJSON([]byte(s.ServiceAccountJSON("")), "https://www.googleapis.com/auth/drive")
	if _, err := cfg.TokenSource(context.Background()).Token(); err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("a wrong scope: %v", err)
	}
}

func mustValues(s string) url.Values {
	v, _ := url.ParseQuery(s)
	return v
}

func TestVertexRules(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	tok := token(t, s)
	claude := s.URL + "/v1/projects/fake-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:"
	good := `{"anthropic_version":"vertex-2023-10-16","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	for _, c := range []struct {
		url, tok, body string
		status         int
		want           string
	}{
		{claude + "rawPredict", tok, good, 200, `"type":"message"`},
		{claude + "rawPredict", "", good, 401, "UNAUTHENTICATED"},
		{claude + "rawPredict", "ya29.forged", good, 401, "UNAUTHENTICATED"},
		{strings.Replace(claude, "fake-project", "other", 1) + "rawPredict", tok, good, 403, "PERMISSION_DENIED"},
		{claude + "rawPredict", tok, `{"model":"x","anthropic_version":"vertex-2023-10-16","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 400, "model: Extra inputs"},
		{claude + "rawPredict", tok, `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 400, "anthropic_version"},
		{claude + "rawPredict", tok, `{"anthropic_version":"vertex-2023-10-16","messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens"},
		{claude + "streamRawPredict", tok, good, 400, "stream"},
		{claude + "streamRawPredict", tok, strings.Replace(good, `"max_tokens"`, `"stream":true,"max_tokens"`, 1), 200, "event: message_start"},
		{s.URL + "/v1/projects/fake-project/locations/us-central1/publishers/google/models/text-embedding-005:predict", tok, `{"instances":[{"content":"a"}],"parameters":{"outputDimensionality":3}}`, 200, `"token_count"`},
		{s.URL + "/v1/projects/fake-project/locations/us-central1/publishers/google/models/text-embedding-005:predict", tok, `{"instances":[{"text":"a"}]}`, 400, "unknown field"},
		{s.URL + "/v1/projects/fake-project/locations/us-central1/publishers/google/models/gemini-embedding-001:predict", tok, `{"instances":[{"content":"a"},{"content":"b"}]}`, 400, "one instance"},
		{s.URL + "/v1/projects/fake-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent", tok, `{}`, 404, "not found"},
	} {
		status, body := post(t, c.url, c.tok, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.url[len(s.URL):], status, body, c.status, c.want)
		}
	}
	s.SetFailure(&Failure{Status: 429, RetryAfter: "9"})
	if status, _ := post(t, claude+"rawPredict", tok, good); status != 429 {
		t.Errorf("failure on demand: %d", status)
	}
}
