package fakeentra_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/internal/fakeentra"
)

// TestTokenEndpoint: the fake checks what Entra ID checks and issues
// tokens Valid knows.
func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := fakeentra.Start(t, fakeentra.Options{ExpiresIn: 120})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(s)}}
	post := func(tenant string, form url.Values) (int, map[string]any) {
		resp, err := c.PostForm(s.URL+"/"+tenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.Client()}, "client_secret": {s.Secret()},
		"scope": {fakeentra.DefaultScope + " openid offline_access profile"}}
	code, m := post(s.Tenant(), good)
	tok, _ := m["access_token"].(string)
	if code != 200 || !s.Valid(tok) || m["expires_in"].(float64) != 120 {
		t.Fatalf("good request: %d %v", code, m)
	}
	for _, tc := range []struct {
		tenant, field, value, code string
		status                     int
	}{
		{s.Tenant(), "client_secret", "wrong", "invalid_client", 401},
		{s.Tenant(), "client_id", "other", "unauthorized_client", 400},
		{s.Tenant(), "grant_type", "password", "unsupported_grant_type", 400},
		{s.Tenant(), "scope", "https://graph.microsoft.com/.default", "invalid_scope", 400},
		{"other-tenant", "", "", "invalid_tenant", 400},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		if tc.field != "" {
			form.Set(tc.field, tc.value)
		}
		code, m := post(tc.tenant, form)
		if code != tc.status || m["error"] != tc.code || !strings.HasPrefix(m["error_description"].(string), "AADSTS") {
			t.Errorf("%s=%s: %d %v", tc.field, tc.value, code, m)
		}
	}
	if s.Valid("made-up") {
		t.Error("an unissued token is valid")
	}
	s.FailNext(500, fakeentra.ErrorBody("temporarily_unavailable", 50000, "busy."), "")
	if code, _ := post(s.Tenant(), good); code != 500 {
		t.Errorf("FailNext: %d", code)
	}
	resp, err := c.Get(s.URL + "/" + s.Tenant() + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if doc["token_endpoint"] != s.URL+"/"+s.Tenant()+"/oauth2/v2.0/token" || doc["issuer"] != s.URL+"/"+s.Tenant()+"/v2.0" {
		t.Errorf("discovery %v", doc)
	}
}
