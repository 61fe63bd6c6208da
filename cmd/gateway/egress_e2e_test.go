package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// allowLoopback lets team deployments reach the tests' fake upstreams,
// which listen on 127.0.0.1: loopback is denied to team-supplied
// api_base by default (package egress).
const allowLoopback = "  team_api_base_allow: [\"127.0.0.1\"]\n"

// newFakeUpstreamOn is newFakeUpstream listening on network/addr (e.g.
// tcp6 [::1]:0); it skips the test when the machine cannot.
func newFakeUpstreamOn(t *testing.T, network, addr string) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("this machine cannot listen on %s %s (%v); the test needs it", network, addr, err)
	}
	f := &fakeUpstream{t: t, url: "http://" + ln.Addr().String(), streamDone: make(chan string, 16)}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve)}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// egressConfig writes a configuration with team A (keyA) whose hand-written
// models point at bases (public name -> api_base), a global model
// "global-local" at globalBase, and settings.
func egressConfig(t *testing.T, settings, globalBase string, bases map[string]string) (string, []string) {
	t.Helper()
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", "egress-test-salt-key-0123456789abcdef")
	dir := t.TempDir()
	var models strings.Builder
	models.WriteString("model_list:\n")
	for name, base := range bases {
		models.WriteString("  - model_name: model_name_" + teamA + "_" + name + "\n" +
			"    litellm_params: {model: openai/gpt-4o, api_base: \"" + base + "\"}\n" +
			"    model_info: {id: " + name + ", team_id: " + teamA + ", team_public_model_name: " + name + "}\n")
	}
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" + settings +
			"model_list:\n  - model_name: global-local\n    litellm_params: {model: openai/gpt-4o, api_base: \"" + globalBase + "\"}\n",
		"teams.d/a.yaml":        "team_id: " + teamA + "\nteam_alias: search\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: a-ci\n",
		"models.d/a/local.yaml": models.String(),
	})
	return dir, []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state")}
}

func chatBody(model string, stream bool) map[string]any {
	return map[string]any{"model": model, "stream": stream, "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
}

// loopbackHostname is a name other than "localhost" that resolves only to
// loopback on this machine (the host name often does), or "".
func loopbackHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.EqualFold(h, "localhost") {
		return ""
	}
	addrs, err := net.LookupIP(h)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			return ""
		}
	}
	return h
}

// TestEgressTeamAPIBaseRefusedAtDialTime (issue 11, observation 16): a team
// model whose api_base is a name resolving to a denied address (loopback
// here: the machine cannot reach 169.254.169.254) is refused when dialled,
// with a 403 that names no internal address, and the upstream receives
// nothing; the log has the address. The operator's global model to the same
// upstream works. The API refuses such an api_base up front when it can
// tell from the URL, and the dial refuses it when only DNS can.
func TestEgressTeamAPIBaseRefusedAtDialTime(t *testing.T) {
	up := newFakeUpstream(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(up.url, "http://"))
	byName := "http://localhost:" + port + "/v1"
	_, args := egressConfig(t, "", byName, map[string]string{
		"by-name":    byName,
		"by-literal": up.url + "/v1",
		"by-zero":    "http://0.0.0.0:" + port + "/v1",
	})
	g := startGateway(t, args...)

	for _, model := range []string{"by-name", "by-literal", "by-zero"} {
		for _, stream := range []bool{false, true} {
			code, m, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody(model, stream))
			if code != 403 {
				t.Fatalf("%s (stream %v): %d %s, want 403", model, stream, code, raw)
			}
			msg := errorOf(t, m, raw)["message"].(string)
			for _, leak := range []string{"127.0.0.1", "::1", "0.0.0.0", ":" + port} {
				if strings.Contains(msg, leak) {
					t.Errorf("%s: message names an internal address (%s): %s", model, leak, msg)
				}
			}
			if !strings.Contains(msg, "team_api_base_allow") || !strings.Contains(msg, model) {
				t.Errorf("%s: message does not say what to do: %s", model, msg)
			}
		}
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d requests from refused team models", n)
	}
	logs := g.logsSoFar(t)
	if !strings.Contains(logs, "refused by the api_base policy") || !strings.Contains(logs, "127.0.0.1") {
		t.Errorf("the log does not record the refused address:\n%s", logs)
	}

	// The operator's global model is not restricted.
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("global-local", false)); code != 200 {
		t.Fatalf("global model: %d %s", code, raw)
	}
	if up.count() != 1 {
		t.Fatalf("the upstream received %d requests, want the global one", up.count())
	}

	// Through the API: the loopback name and literal are refused at once.
	for _, base := range []string{byName, up.url + "/v1", "http://[::1]:" + port + "/v1", "http://169.254.169.254/v1", "http://[::ffff:169.254.169.254]/"} {
		code, m, raw := g.do(t, "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": base}})
		if code != 403 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "team_api_base_allow") {
			t.Errorf("/model/new %s: %d %s, want 403", base, code, raw)
		}
	}
	// Even the master cannot register a team model the dialer would refuse.
	code, _, raw := g.do(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "x", "model_info": map[string]any{"team_id": teamA},
		"litellm_params": map[string]any{"model": "openai/x", "api_base": byName}})
	if code != 403 {
		t.Errorf("master /model/new of a team model at loopback: %d %s, want 403", code, raw)
	}
	// A name the API cannot judge (the host name, when it resolves to
	// loopback) is accepted and refused when dialled.
	if h := loopbackHostname(); h != "" {
		g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "by-hostname", "litellm_params": map[string]any{"model": "openai/x", "api_base": "http://" + h + ":" + port + "/v1"}})
		code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("by-hostname", false))
		if code != 403 || strings.Contains(string(raw), "127.0.0.1") {
			t.Errorf("by-hostname: %d %s, want 403 naming no address", code, raw)
		}
	} else {
		t.Logf("the host name does not resolve to loopback only: the API-accepted name case is not run")
	}
	if up.count() != 1 {
		t.Fatalf("the upstream received %d requests, want only the global one", up.count())
	}
}

// TestEgressAllowListNamesLoopback: with team_api_base_allow naming them,
// the same team models work; the policy follows the configuration live.
func TestEgressAllowListNamesLoopback(t *testing.T) {
	up := newFakeUpstream(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(up.url, "http://"))
	byName := "http://localhost:" + port + "/v1"
	dir, args := egressConfig(t, "  team_api_base_allow: [localhost, 127.0.0.1]\n", byName, map[string]string{
		"by-name":    byName,
		"by-literal": up.url + "/v1",
	})
	g := startGateway(t, args...)
	for _, model := range []string{"by-name", "by-literal"} {
		for _, stream := range []bool{false, true} {
			if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody(model, stream)); code != 200 {
				t.Fatalf("%s (stream %v): %d %s", model, stream, code, raw)
			}
		}
	}
	g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "api-local", "litellm_params": map[string]any{"model": "openai/x", "api_base": byName}})
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("api-local", false)); code != 200 {
		t.Fatalf("api-local: %d %s", code, raw)
	}
	if up.count() != 5 {
		t.Fatalf("the upstream received %d requests, want 5", up.count())
	}

	// The operator removes the allow entries: the live policy refuses new
	// connections at once (idle ones are closed).
	cfg := filepath.Join(dir, "gateway.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, cfg, strings.Replace(string(data), "  team_api_base_allow: [localhost, 127.0.0.1]\n", "", 1))
	g.waitChat(t, keyA, "by-name", 403)
	before := up.count()
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("by-literal", false)); code != 403 {
		t.Fatalf("by-literal after the allow list went: %d %s", code, raw)
	}
	if up.count() != before {
		t.Fatal("a refused call reached the upstream over a kept-alive connection")
	}
}

// TestEgressIPv6Literal: an api_base with an IPv6 literal reaches an IPv6
// upstream, for the operator's global model and for a team model the
// operator allowed (observation 16: it was accepted but never reachable).
func TestEgressIPv6Literal(t *testing.T) {
	up := newFakeUpstreamOn(t, "tcp6", "[::1]:0")
	base := up.url + "/v1" // http://[::1]:port/v1
	_, args := egressConfig(t, "  team_api_base_allow: [\"::1\"]\n", base, map[string]string{"v6-file": base})
	g := startGateway(t, args...)
	g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "v6-api", "litellm_params": map[string]any{"model": "openai/x", "api_base": base}})
	for _, model := range []string{"global-local", "v6-file", "v6-api"} {
		for _, stream := range []bool{false, true} {
			if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody(model, stream)); code != 200 {
				t.Fatalf("%s (stream %v): %d %s", model, stream, code, raw)
			}
		}
	}
	if up.count() != 6 {
		t.Fatalf("the IPv6 upstream received %d requests, want 6", up.count())
	}
}

// TestEgressRedirectNotFollowed: an upstream's redirect is answered as an
// upstream error; its target receives nothing (a redirect would otherwise
// carry the call, and the team's key, past the policy).
func TestEgressRedirectNotFollowed(t *testing.T) {
	target := newFakeUpstream(t)
	up := newFakeUpstream(t)
	up.handler = func(w http.ResponseWriter, r *http.Request, _ map[string]any) bool {
		http.Redirect(w, r, target.url+r.URL.Path, http.StatusTemporaryRedirect)
		return true
	}
	_, args := egressConfig(t, allowLoopback, up.url+"/v1", map[string]string{"redirecting": up.url + "/v1"})
	g := startGateway(t, args...)
	for _, model := range []string{"redirecting", "global-local"} {
		for _, stream := range []bool{false, true} {
			code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody(model, stream))
			if code != 502 {
				t.Errorf("%s (stream %v): %d %s, want 502", model, stream, code, raw)
			}
		}
	}
	if up.count() != 4 || target.count() != 0 {
		t.Fatalf("upstream %d requests (want 4), redirect target %d (want 0)", up.count(), target.count())
	}
}
