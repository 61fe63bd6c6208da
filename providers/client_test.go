package providers_test

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
)

func okHandler(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"id":"x"}`)
}

// urlProvider posts to the deployment's api_base + "/chat/completions".
func urlProvider(c *providers.Client) providers.Provider {
	return providers.NewHTTP(c, func(call *providers.Call, req *fasthttp.Request) error {
		d := call.Deployment
		req.SetRequestURI(d.LiteLLMParams.APIBase + "/chat/completions")
		return nil
	})
}

func deploymentCall(base, team string) *providers.Call {
	d := &configs.Deployment{ModelName: "m", LiteLLMParams: configs.LiteLLMParams{APIBase: base}}
	if team != "" {
		d.ModelInfo = configs.ModelInfo{ID: "1", TeamID: team, TeamPublicModelName: "team-model"}
	}
	return &providers.Call{Deployment: d, Body: []byte(`{"model":"m"}`), Deadline: time.Now().Add(5 * time.Second)}
}

// TestTeamDeploymentsPassThePolicyAtDialTime: a team deployment pointing at
// a loopback upstream is refused with a 403 that names no address and
// reaches nothing; a global one to the same upstream works, and its pooled
// connection is never lent to the team deployment; allowing the address
// lets the team deployment through.
func TestTeamDeploymentsPassThePolicyAtDialTime(t *testing.T) {
	t.Parallel()
	up := fakeupstream.Start(t, okHandler)
	c := providers.NewClient()
	p := urlProvider(c)
	if _, err := p.Complete(deploymentCall(up.URL, "")); err != nil {
		t.Fatalf("global deployment: %v", err)
	}
	for _, base := range []string{up.URL, strings.Replace(up.URL, "127.0.0.1", "localhost", 1)} {
		_, err := p.Complete(deploymentCall(base, "team-a"))
		we := wireErr(t, err, 403)
		if strings.Contains(we.Message, "127.0.0.1") || strings.Contains(we.Message, "::1") ||
			!strings.Contains(we.Message, "team-model") || !strings.Contains(we.Message, "team_api_base_allow") {
			t.Fatalf("%s: %q", base, we.Message)
		}
		if _, err := p.OpenStream(deploymentCall(base, "team-a")); err == nil {
			t.Fatalf("%s: stream opened", base)
		}
	}
	if n := len(up.Requests()); n != 1 {
		t.Fatalf("upstream saw %d requests, want only the global one", n)
	}
	c.SetTeamPolicy(egress.New([]string{"127.0.0.1", "localhost"}, nil, nil))
	for _, base := range []string{up.URL, strings.Replace(up.URL, "127.0.0.1", "localhost", 1)} {
		if _, err := p.Complete(deploymentCall(base, "team-a")); err != nil {
			t.Fatalf("%s allowed: %v", base, err)
		}
	}
	// Tightened again: the idle allowed connections are closed, new dials refused.
	c.SetTeamPolicy(egress.New(nil, nil, nil))
	_, err := p.Complete(deploymentCall(up.URL, "team-a"))
	wireErr(t, err, 403)
}

// TestIPv6Upstream: an api_base with an IPv6 literal is reached over IPv6,
// for a global deployment and for an allowed team deployment.
func TestIPv6Upstream(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("this machine has no IPv6 loopback (%v): cannot test IPv6 upstreams", err)
	}
	var hits atomic.Int32
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { hits.Add(1); okHandler(ctx) }}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	base := "http://" + ln.Addr().String() + "/v1" // http://[::1]:port/v1
	c := providers.NewClient()
	p := urlProvider(c)
	if _, err := p.Complete(deploymentCall(base, "")); err != nil {
		t.Fatalf("global: %v", err)
	}
	_, err = p.Complete(deploymentCall(base, "team-a"))
	wireErr(t, err, 403)
	c.SetTeamPolicy(egress.New([]string{"::1"}, nil, nil))
	if _, err := p.Complete(deploymentCall(base, "team-a")); err != nil {
		t.Fatalf("team: %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d requests reached the IPv6 upstream, want 2", hits.Load())
	}
}

// TestRedirectsAreNotFollowed: a 3xx is an upstream error; its target
// receives nothing (a redirect must not carry a team's call past the
// policy, nor an upstream key to another host).
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	target := fakeupstream.Start(t, okHandler)
	for _, code := range []int{301, 302, 303, 307, 308} {
		up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.Set("Location", target.URL+"/chat/completions")
			ctx.SetStatusCode(code)
		})
		c := providers.NewClient()
		c.SetTeamPolicy(egress.New([]string{"127.0.0.1"}, nil, nil))
		for _, team := range []string{"", "team-a"} {
			_, err := urlProvider(c).Complete(deploymentCall(up.URL, team))
			wireErr(t, err, 502)
			if _, err := urlProvider(c).OpenStream(deploymentCall(up.URL, team)); err == nil {
				t.Fatalf("%d: stream opened", code)
			}
		}
	}
	if n := len(target.Requests()); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

// TestBusyTeamConnectionsDoNotOutliveThePolicy: a team connection busy
// when a tighter policy comes into force is not closed with the idle ones;
// it must still never carry another request (the egress e2e test saw 200s
// for 10 s under load before this).
func TestBusyTeamConnectionsDoNotOutliveThePolicy(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		if calls.Add(1) == 1 {
			<-release // the first call holds its connection busy
		}
		okHandler(ctx)
	})
	c := providers.NewClient()
	c.SetTeamPolicy(egress.New([]string{"127.0.0.1"}, nil, nil))
	p := urlProvider(c)
	done := make(chan error, 1)
	go func() {
		_, err := p.Complete(deploymentCall(up.URL, "team-a"))
		done <- err
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.SetTeamPolicy(egress.New(nil, nil, nil)) // loopback no longer allowed
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	_, err := p.Complete(deploymentCall(up.URL, "team-a"))
	wireErr(t, err, 403)
	if n := calls.Load(); n != 1 {
		t.Fatalf("the upstream saw %d calls; the kept-alive connection carried a call past the new policy", n)
	}
}
