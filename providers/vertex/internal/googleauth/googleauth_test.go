package googleauth

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakevertex"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

func operator(creds string) *configs.Deployment {
	d := &configs.Deployment{ModelName: "claude", Provider: "vertex_ai", UpstreamModel: "claude-sonnet-4@20250514"}
	d.ModelInfo.ID = "dep-1"
	d.Credentials.VertexCredentials = creds
	return d
}

func team(creds string) *configs.Deployment {
	d := operator(creds)
	d.ModelInfo.TeamID = "t1"
	d.ModelInfo.Extra = map[string]any{configs.KeySetByField: configs.KeySetByTeam}
	return d
}

func wireErr(t *testing.T, err error, status int, contains ...string) *wire.Error {
	t.Helper()
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		t.Fatalf("error %v is not a *wire.Error", err)
	}
	if we.Status != status {
		t.Errorf("status %d, want %d: %s", we.Status, status, we.Message)
	}
	for _, c := range contains {
		if !strings.Contains(we.Message, c) {
			t.Errorf("message %q does not contain %q", we.Message, c)
		}
	}
	for _, bad := range []string{"PRIVATE KEY", "BEGIN", "MII"} {
		if strings.Contains(we.Message+we.Internal, bad) {
			t.Errorf("error leaks key material: %q", we.Message+we.Internal)
		}
	}
	return we
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	fv := fakevertex.Start(t, fakevertex.Options{})
	good := fv.ServiceAccountJSON("")
	k, why := ParseKey([]byte(good), true)
	if why != "" || k.ProjectID != "fake-project" || k.ClientEmail != fv.ClientEmail() {
		t.Fatalf("good key: %+v %q", k, why)
	}
	mod := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal([]byte(good), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, c := range []struct {
		name string
		data []byte
		team bool
		want string // "" accepted
	}{
		{"not json", []byte("not json"), true, "not a JSON object"},
		{"array", []byte("[1]"), true, "not a JSON object"},
		{"no type", mod(func(m map[string]any) { delete(m, "type") }), true, "no \"type\""},
		{"user team", []byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`), true, "must use a service account"},
		{"external team", []byte(`{"type":"external_account","credential_source":{"executable":{"command":"/bin/sh"}}}`), true, "must use a service account"},
		{"user operator", []byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`), false, ""},
		{"unknown operator", []byte(`{"type":"gdch_service_account"}`), false, "has type \"gdch_service_account\""},
		{"no email", mod(func(m map[string]any) { delete(m, "client_email") }), true, "without client_email"},
		{"no key", mod(func(m map[string]any) { m["private_key"] = "" }), true, "without private_key"},
		{"bad key", mod(func(m map[string]any) {
			m["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}), true, "not a PEM RSA private key"},
		{"bad token_uri", mod(func(m map[string]any) { m["token_uri"] = "file:///etc/passwd" }), true, "token_uri"},
		{"no token_uri", mod(func(m map[string]any) { delete(m, "token_uri") }), true, ""},
	} {
		_, why := ParseKey(c.data, c.team)
		if c.want == "" && why != "" || c.want != "" && !strings.Contains(why, c.want) {
			t.Errorf("%s: %q, want %q", c.name, why, c.want)
		}
		if strings.Contains(why, "PRIVATE") {
			t.Errorf("%s: message quotes the key: %q", c.name, why)
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	fv := fakevertex.Start(t, fakevertex.Options{})
	c := NewCache(providers.NewClient())
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, []byte(fv.ServiceAccountJSON("")), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := c.Token(team(""))
	wireErr(t, err, 401, "has no vertex_credentials", "litellm_params.vertex_credentials")
	_, err = c.Token(team(path))
	wireErr(t, err, 401, "file path", "JSON key itself")
	_, err = c.Token(team(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`))
	wireErr(t, err, 401, "service account")
	_, err = c.Token(team(`{"type":"external_account","audience":"x","subject_token_type":"y","token_url":"https://sts.googleapis.com/v1/token","credential_source":{"executable":{"command":"/bin/true"}}}`))
	wireErr(t, err, 401, "service account")
	_, err = c.Token(operator(filepath.Join(t.TempDir(), "missing.json")))
	wireErr(t, err, 401, "cannot be read", "no such file")

	// A team's JSON whose token_uri is loopback: refused by the api_base
	// policy at dial time, said so, nothing of the JSON in the message.
	_, err = c.Token(team(fv.ServiceAccountJSON("")))
	we := wireErr(t, err, 403, "token_uri", "not allowed for team deployments")
	if strings.Contains(we.Message, "127.0.0.1") {
		t.Errorf("the client message names the address: %q", we.Message)
	}
	if fv.Issued() != 0 {
		t.Errorf("tokens issued: %d", fv.Issued())
	}

	// The operator's file path works.
	a, err := c.Token(operator(path))
	if err != nil || a.Token == "" || a.Project != "fake-project" {
		t.Fatalf("operator file: %+v %v", a, err)
	}
	if !fv.ValidToken(a.Token) {
		t.Error("the token is not one the fake issued")
	}
}

func TestADCOnlyForOperators(t *testing.T) {
	t.Parallel()
	c := NewCache(providers.NewClient())
	called := 0
	c.FindDefault = func(ctx context.Context, scopes ...string) (*google.Credentials, error) {
		called++
		if len(scopes) != 1 || scopes[0] != Scope || ctx.Value(oauth2.HTTPClient) == nil {
			t.Errorf("ADC asked with %v (HTTP client set: %v)", scopes, ctx.Value(oauth2.HTTPClient) != nil)
		}
		return &google.Credentials{ProjectID: "adc-project",
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "adc-token", Expiry: time.Now().Add(time.Hour)})}, nil
	}
	a, err := c.Token(operator(""))
	if err != nil || a.Token != "adc-token" || a.Project != "adc-project" {
		t.Fatalf("ADC: %+v %v", a, err)
	}
	if _, err := c.Token(team("")); err == nil || called != 1 {
		t.Fatalf("a team deployment used ADC (%d calls): %v", called, err)
	}
	c2 := NewCache(providers.NewClient())
	c2.FindDefault = func(context.Context, ...string) (*google.Credentials, error) { return nil, errors.New("none") }
	_, err = c2.Token(operator(""))
	wireErr(t, err, 401, "Application Default Credentials")
}

func TestTokenCachingAndRefresh(t *testing.T) {
	t.Parallel()
	fv := fakevertex.Start(t, fakevertex.Options{TokenTTL: 3 * time.Second})
	c := NewCache(providers.NewClient())
	c.Early = 2 * time.Second // a token is fresh for its first second
	d := operator(fv.ServiceAccountJSON(""))

	var wg sync.WaitGroup
	toks := make([]string, 50)
	for i := range toks {
		wg.Go(func() {
			a, err := c.Token(d)
			if err != nil {
				t.Error(err)
			}
			toks[i] = a.Token
		})
	}
	wg.Wait()
	if fv.Issued() != 1 {
		t.Fatalf("50 concurrent calls fetched %d tokens, want 1", fv.Issued())
	}
	for _, tok := range toks {
		if tok != toks[0] {
			t.Fatal("calls got different tokens")
		}
	}
	time.Sleep(1100 * time.Millisecond)
	a, err := c.Token(d)
	if err != nil || a.Token == toks[0] || fv.Issued() != 2 {
		t.Fatalf("after the early-expiry window: issued %d, same token %v, %v", fv.Issued(), a.Token == toks[0], err)
	}
	if !fv.ValidToken(toks[0]) {
		t.Error("the first token was replaced only after it expired")
	}

	// Another deployment id, and a rotated key, get their own sources.
	d2 := operator(fv.ServiceAccountJSON(""))
	d2.ModelInfo.ID = "dep-2"
	if _, err := c.Token(d2); err != nil || fv.Issued() != 3 || c.Len() != 2 {
		t.Fatalf("second deployment: issued %d, len %d, %v", fv.Issued(), c.Len(), err)
	}
	fv2 := fakevertex.Start(t, fakevertex.Options{})
	d3 := operator(fv2.ServiceAccountJSON(""))
	if _, err := c.Token(d3); err != nil || fv2.Issued() != 1 || c.Len() != 3 {
		t.Fatalf("rotated key: issued %d, len %d, %v", fv2.Issued(), c.Len(), err)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	fv := fakevertex.Start(t, fakevertex.Options{})
	c := NewCache(providers.NewClient())
	d := operator(fv.ServiceAccountJSON(""))
	fv.FailTokens(400)
	_, err := c.Token(d)
	wireErr(t, err, 401, "token endpoint refused", "invalid_grant")
	fv.FailTokens(503)
	_, err = c.Token(d)
	wireErr(t, err, 502, "token endpoint failed")
	if _, err := c.Token(d); err != nil {
		t.Fatalf("after the failures: %v", err)
	}

	// A key the token endpoint does not know (another key pair).
	other := fakevertex.Start(t, fakevertex.Options{})
	var m map[string]any
	_ = json.Unmarshal([]byte(other.ServiceAccountJSON("")), &m)
	m["token_uri"] = fv.TokenURL
	b, _ := json.Marshal(m)
	_, err = c.Token(operator(string(b)))
	wireErr(t, err, 401, "Invalid JWT")

	// Unreachable endpoint.
	m["token_uri"] = "http://127.0.0.1:1/token"
	b, _ = json.Marshal(m)
	_, err = c.Token(operator(string(b)))
	wireErr(t, err, 502, "could not be reached")
}

func FuzzParseKey(f *testing.F) {
	f.Add([]byte(`{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n","token_uri":"https://oauth2.googleapis.com/token"}`), true)
	f.Add([]byte(`{"type":"authorized_user"}`), false)
	f.Add([]byte(`{"type":"\u0000\"x"}`), true)
	f.Add([]byte(`null`), true)
	f.Add([]byte(`{"type":"service_account","token_uri":"http://[::1"}`), true)
	f.Fuzz(func(t *testing.T, data []byte, team bool) {
		k, why := ParseKey(data, team)
		if (k == nil) == (why == "") {
			t.Fatalf("key %v with message %q", k, why)
		}
		if k != nil && team && k.Type != "service_account" {
			t.Fatalf("team accepted type %q", k.Type)
		}
		if len(why) > 400 {
			t.Fatalf("long message: %q", why)
		}
	})
}

func BenchmarkCachedToken(b *testing.B) {
	fv := fakevertex.Start(b, fakevertex.Options{})
	c := NewCache(providers.NewClient())
	d := operator(fv.ServiceAccountJSON(""))
	if _, err := c.Token(d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		dd := *d
		if _, err := c.Project(&dd); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Token(&dd); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvictionBounds(t *testing.T) {
	t.Parallel()
	c := NewCache(providers.NewClient())
	c.FindDefault = func(context.Context, ...string) (*google.Credentials, error) {
		return &google.Credentials{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x", Expiry: time.Now().Add(time.Hour)})}, nil
	}
	for i := range maxEntries + 10 {
		d := operator("")
		d.ModelInfo.ID = "dep-" + strconv.Itoa(i)
		if _, err := c.Token(d); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.RLock()
	n, r := len(c.entries), len(c.recent)
	c.mu.RUnlock()
	if n > maxEntries || r > n {
		t.Fatalf("%d entries, %d recent", n, r)
	}
}
