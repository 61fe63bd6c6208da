package configs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// routerHeader defines the global model names a, b and c (lines 1-4);
// a case's YAML starts at line 5.
const routerHeader = `model_list:
  - {model_name: a, litellm_params: {model: mock/a}}
  - {model_name: b, litellm_params: {model: mock/b}}
  - {model_name: c, litellm_params: {model: mock/c}}
`

func buildRouter(t *testing.T, cfg string, teams ...string) (*Snapshot, []string) {
	t.Helper()
	in := Input{Config: File{Path: "gateway.yaml", Data: []byte(routerHeader + cfg)}}
	for i, tf := range teams {
		in.Teams = append(in.Teams, File{Path: "teams.d/t" + string(rune('0'+i)) + ".yaml", Data: []byte(tf)})
	}
	snap, ps := Build(in, func(string) (string, bool) { return "", false })
	checkPositions(t, in, ps)
	// A cached build (a reload) agrees.
	c := NewParseCache()
	for range 2 {
		s2, p2 := c.Build(in, func(string) (string, bool) { return "", false })
		if (s2 == nil) != (snap == nil) || len(p2) != len(ps) {
			t.Errorf("cached build differs: %v vs %v", p2, ps)
		}
	}
	return snap, problemLines(ps)
}

func ip(v int) *int { return &v }

func TestRouterSettingsValid(t *testing.T) {
	t.Parallel()
	def := DefaultRouter()
	for _, tc := range []struct {
		name, cfg string
		want      func(*Router) // edits DefaultRouter() into the expected value
		timeout   time.Duration // 0: the default
	}{
		{"empty", "", func(*Router) {}, 0},
		{"strategy", "router_settings: {routing_strategy: least-busy}", func(r *Router) { r.Strategy = StrategyLeastBusy }, 0},
		{"strategy latency", "router_settings: {routing_strategy: latency-based-routing}", func(r *Router) { r.Strategy = StrategyLatency }, 0},
		{"strategy usage", "router_settings: {routing_strategy: usage-based-routing-v2}", func(r *Router) { r.Strategy = StrategyUsage }, 0},
		{"strategy shuffle", "router_settings: {routing_strategy: simple-shuffle}", func(r *Router) {}, 0},
		{"num_retries", "router_settings: {num_retries: 5}", func(r *Router) { r.NumRetries = 5 }, 0},
		{"num_retries 0", "router_settings: {num_retries: 0}", func(r *Router) { r.NumRetries = 0 }, 0},
		{"num_retries litellm", "litellm_settings: {num_retries: 4}", func(r *Router) { r.NumRetries = 4 }, 0},
		{"retry_after", "router_settings: {retry_after: 1.5}", func(r *Router) { r.RetryAfter = 1500 * time.Millisecond }, 0},
		{"allowed_fails", "router_settings: {allowed_fails: 1}", func(r *Router) { r.AllowedFails = 1 }, 0},
		{"allowed_fails litellm", "litellm_settings: {allowed_fails: 7}", func(r *Router) { r.AllowedFails = 7 }, 0},
		{"cooldown_time", "router_settings: {cooldown_time: 30}", func(r *Router) { r.CooldownTime = 30 * time.Second }, 0},
		{"cooldown_time litellm", "litellm_settings: {cooldown_time: 0.5}", func(r *Router) { r.CooldownTime = 500 * time.Millisecond }, 0},
		{"retry_policy", "router_settings:\n  retry_policy: {TimeoutErrorRetries: 1, RateLimitErrorRetries: 2, InternalServerErrorRetries: 3, ContentPolicyViolationErrorRetries: 4, AuthenticationErrorRetries: 0, BadRequestErrorRetries: 5}",
			func(r *Router) {
				r.RetryPolicy = RetryPolicy{Timeout: ip(1), RateLimit: ip(2), InternalServer: ip(3), ContentPolicy: ip(4), Authentication: ip(0), BadRequest: ip(5)}
			}, 0},
		{"fallbacks", `router_settings: {fallbacks: [{"a": ["b", "c"]}, {"b": ["c"]}]}`,
			func(r *Router) { r.Fallbacks = map[string][]string{"a": {"b", "c"}, "b": {"c"}} }, 0},
		{"fallbacks litellm", `litellm_settings: {fallbacks: [{"a": ["b"]}]}`,
			func(r *Router) { r.Fallbacks = map[string][]string{"a": {"b"}} }, 0},
		{"context_window_fallbacks", "router_settings:\n  context_window_fallbacks:\n    - a: [c]",
			func(r *Router) { r.ContextWindowFallbacks = map[string][]string{"a": {"c"}} }, 0},
		{"context_window_fallbacks litellm", `litellm_settings: {context_window_fallbacks: [{"a": ["c"]}]}`,
			func(r *Router) { r.ContextWindowFallbacks = map[string][]string{"a": {"c"}} }, 0},
		{"content_policy_fallbacks", `router_settings: {content_policy_fallbacks: [{"b": ["a"]}]}`,
			func(r *Router) { r.ContentPolicyFallbacks = map[string][]string{"b": {"a"}} }, 0},
		{"content_policy_fallbacks litellm", `litellm_settings: {content_policy_fallbacks: [{"b": ["a"]}]}`,
			func(r *Router) { r.ContentPolicyFallbacks = map[string][]string{"b": {"a"}} }, 0},
		{"default_fallbacks", "router_settings: {default_fallbacks: [c, a]}", func(r *Router) { r.DefaultFallbacks = []string{"c", "a"} }, 0},
		{"default_fallbacks litellm", "litellm_settings: {default_fallbacks: [c]}", func(r *Router) { r.DefaultFallbacks = []string{"c"} }, 0},
		{"model_group_alias", `router_settings: {model_group_alias: {"gpt-4": "a"}}`, func(r *Router) { r.ModelGroupAlias = map[string]string{"gpt-4": "a"} }, 0},
		{"model_group_alias hidden", `router_settings: {model_group_alias: {"gpt-4": {"model": "a", "hidden": true}, "x": {"model": "b", "hidden": false}}}`,
			func(r *Router) {
				r.ModelGroupAlias = map[string]string{"gpt-4": "a", "x": "b"}
				r.HiddenAliases = map[string]bool{"gpt-4": true}
			}, 0},
		{"model_group_alias chain", `router_settings: {model_group_alias: {"x": "y", "y": "b"}}`, func(r *Router) { r.ModelGroupAlias = map[string]string{"x": "b", "y": "b"} }, 0},
		{"fallbacks through an alias", `router_settings: {model_group_alias: {"x": "b"}, fallbacks: [{"x": ["a"]}, {"a": ["x", "c"]}], default_fallbacks: [x]}`,
			func(r *Router) {
				r.ModelGroupAlias = map[string]string{"x": "b"}
				r.Fallbacks = map[string][]string{"b": {"a"}, "a": {"b", "c"}}
				r.DefaultFallbacks = []string{"b"}
			}, 0},
		{"fallback to a wildcard's name", "  - {model_name: \"mock/*\", litellm_params: {model: \"mock/*\"}}\nrouter_settings: {fallbacks: [{a: [mock/x]}]}",
			func(r *Router) { r.Fallbacks = map[string][]string{"a": {"mock/x"}} }, 0},
		{"stream_first_byte_timeout", "router_settings: {stream_first_byte_timeout: 2.5}", func(r *Router) { r.StreamFirstByteTimeout = 2500 * time.Millisecond }, 0},
		{"lowest_latency_buffer", "router_settings: {routing_strategy_args: {lowest_latency_buffer: 0.5}}", func(r *Router) { r.LatencyBuffer = 0.5 }, 0},
		{"enable_pre_call_checks false", "router_settings: {enable_pre_call_checks: false}", func(*Router) {}, 0},
		{"health checks router", "router_settings: {background_health_checks: true, health_check_interval: 60}",
			func(r *Router) { r.BackgroundHealthChecks, r.HealthCheckInterval = true, time.Minute }, 0},
		{"health checks general", "general_settings: {background_health_checks: true, health_check_interval: 30}",
			func(r *Router) { r.BackgroundHealthChecks, r.HealthCheckInterval = true, 30*time.Second }, 0},
		{"request_timeout", "litellm_settings: {request_timeout: 10}", func(*Router) {}, 10 * time.Second},
		{"timeout", "router_settings: {timeout: 20}", func(*Router) {}, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			snap, ps := buildRouter(t, tc.cfg)
			if len(ps) != 0 || snap == nil {
				t.Fatalf("problems: %s", strings.Join(ps, "\n"))
			}
			want := def
			tc.want(&want)
			if !reflect.DeepEqual(snap.Settings.Router, want) {
				t.Errorf("Router\n got %+v\nwant %+v", snap.Settings.Router, want)
			}
			wantTimeout := tc.timeout
			if wantTimeout == 0 {
				wantTimeout = DefaultTimeout * time.Second
			}
			if snap.Settings.Timeout != wantTimeout {
				t.Errorf("Timeout = %v, want %v", snap.Settings.Timeout, wantTimeout)
			}
		})
	}
}

// TestRouterSettingsProblems: each case's problems, exactly (line 5 is
// the case's first line).
func TestRouterSettingsProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cfg string
		want      []string
	}{
		{"strategy unknown", "router_settings: {routing_strategy: least-busyy}",
			[]string{`gateway.yaml:5:37: router_settings.routing_strategy "least-busyy" is unknown; did you mean "least-busy"? use one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing-v2 (default simple-shuffle)`}},
		{"strategy v1", "router_settings: {routing_strategy: usage-based-routing}",
			[]string{`gateway.yaml:5:37: warning: router_settings.routing_strategy usage-based-routing is LiteLLM's older name; the gateway uses usage-based-routing-v2 (write that to silence this)`}},
		{"strategy cost", "router_settings: {routing_strategy: cost-based-routing}",
			[]string{`gateway.yaml:5:37: router_settings.routing_strategy cost-based-routing is not supported by the gateway; use one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing-v2`}},
		{"num_retries negative", "router_settings: {num_retries: -1}",
			[]string{`gateway.yaml:5:32: router_settings.num_retries is negative; use a whole number from 0 to 10 (default 2)`}},
		{"num_retries high", "litellm_settings: {num_retries: 11}",
			[]string{`gateway.yaml:5:33: litellm_settings.num_retries is 11, above the highest accepted value 10; use a whole number from 0 to 10 (default 2)`}},
		{"num_retries float", "router_settings: {num_retries: 1.5}",
			[]string{`gateway.yaml:5:32: router_settings.num_retries: expected an integer, got "1.5"`}},
		{"retry_after high", "router_settings: {retry_after: 3601}",
			[]string{`gateway.yaml:5:32: router_settings.retry_after is 3601, above the highest accepted value 3600; use a number of seconds from 0 to 3600 (default 0)`}},
		{"retry_after nan", "router_settings: {retry_after: .nan}",
			[]string{`gateway.yaml:5:32: router_settings.retry_after is not a finite number; use a number of seconds from 0 to 3600 (default 0)`}},
		{"allowed_fails", "router_settings: {allowed_fails: 1001}",
			[]string{`gateway.yaml:5:34: router_settings.allowed_fails is 1001, above the highest accepted value 1000; use a whole number from 0 to 1000 (default 3)`}},
		{"cooldown_time negative", "litellm_settings: {cooldown_time: -5}",
			[]string{`gateway.yaml:5:35: litellm_settings.cooldown_time is negative; use a number of seconds from 0 to 3600 (default 5)`}},
		{"cooldown_time inf", "router_settings: {cooldown_time: .inf}",
			[]string{`gateway.yaml:5:34: router_settings.cooldown_time is not a finite number; use a number of seconds from 0 to 3600 (default 5)`}},
		{"retry_policy", "router_settings:\n  retry_policy: {TimeoutErrorRetries: -1, RateLimitErrorRetries: 20}",
			[]string{
				`gateway.yaml:6:39: router_settings.retry_policy.TimeoutErrorRetries is negative; use a whole number from 0 to 10`,
				`gateway.yaml:6:66: router_settings.retry_policy.RateLimitErrorRetries is 20, above the highest accepted value 10; use a whole number from 0 to 10`,
			}},
		{"retry_policy typo", "router_settings:\n  retry_policy: {TimeoutErrorRetry: 1}",
			[]string{`gateway.yaml:6:18: unknown key "TimeoutErrorRetry" in router_settings.retry_policy; did you mean "TimeoutErrorRetries"?`}},
		{"fallback target unknown", `router_settings: {fallbacks: [{"a": ["b", "gpt-5"]}]}`,
			[]string{`gateway.yaml:5:43: router_settings.fallbacks: fallback target "gpt-5" is not a model name; known: a, b, c`}},
		{"fallback source unknown", "litellm_settings:\n  fallbacks:\n    - gpt-5: [a]",
			[]string{`gateway.yaml:7:7: litellm_settings.fallbacks: fallback source "gpt-5" is not a model name; known: a, b, c`}},
		{"fallback to itself", `router_settings: {context_window_fallbacks: [{"a": ["a"]}]}`,
			[]string{`gateway.yaml:5:53: router_settings.context_window_fallbacks: "a" falls back to itself; name another model`}},
		{"fallback twice", `router_settings: {content_policy_fallbacks: [{"a": ["b"]}, {"a": ["c"]}]}`,
			[]string{`gateway.yaml:5:61: router_settings.content_policy_fallbacks: fallbacks for "a" are already set at gateway.yaml:5:47; keep one entry per model name`}},
		{"fallback empty", `router_settings: {fallbacks: [{}, {"a": []}]}`,
			[]string{
				`gateway.yaml:5:31: router_settings.fallbacks[0] is empty; write {<model name>: [<fallback model>, ...]}`,
				`gateway.yaml:5:36: router_settings.fallbacks: "a" lists no fallback model; name at least one, or remove the entry`,
			}},
		{"fallback shape", `router_settings: {fallbacks: {"a": ["b"]}}`,
			[]string{`gateway.yaml:5:30: router_settings.fallbacks: expected a list, got a mapping`}},
		{"default_fallbacks unknown", "router_settings: {default_fallbacks: [a, zz]}",
			[]string{`gateway.yaml:5:42: router_settings.default_fallbacks: fallback target "zz" is not a model name; known: a, b, c`}},
		{"alias unknown", `router_settings: {model_group_alias: {"gpt-4": "gpt-5"}}`,
			[]string{`gateway.yaml:5:48: router_settings.model_group_alias: "gpt-4" points at "gpt-5", which is not a model name; known: a, b, c`}},
		{"alias cycle", `router_settings: {model_group_alias: {"y": "x", "x": "z", "z": "y"}}`,
			[]string{`gateway.yaml:5:54: router_settings.model_group_alias: x -> z -> y -> x is a cycle; point each alias at a model_name`}},
		{"alias self", `router_settings: {model_group_alias: {"a": "a"}}`,
			[]string{`gateway.yaml:5:44: router_settings.model_group_alias: a -> a is a cycle; point each alias at a model_name`}},
		{"alias bad form", `router_settings: {model_group_alias: {"x": {"hidden": true}, "y": [a], "z": {"model": "a", "hidden": "yes"}}}`,
			[]string{
				`gateway.yaml:5:44: router_settings.model_group_alias.x needs model: <model name> (a string) when it is a mapping, e.g. {model: gpt-4o, hidden: true}`,
				`gateway.yaml:5:67: router_settings.model_group_alias.y must be a model name or {model: <model name>, hidden: true}`,
				`gateway.yaml:5:77: router_settings.model_group_alias.z.hidden must be true or false`,
			}},
		{"stream_first_byte_timeout", "router_settings: {stream_first_byte_timeout: -1}",
			[]string{`gateway.yaml:5:46: router_settings.stream_first_byte_timeout is negative; use a number of seconds from 0 to 86400 (default 0)`}},
		{"lowest_latency_buffer", "router_settings: {routing_strategy_args: {lowest_latency_buffer: -0.1, ttl: 60}}",
			[]string{
				`gateway.yaml:5:66: router_settings.routing_strategy_args.lowest_latency_buffer is negative; use a fraction from 0 to 10 (0.5: within 50 % of the fastest; default 0)`,
				`gateway.yaml:5:72: warning: router_settings.routing_strategy_args.ttl is a LiteLLM setting that the gateway ignores; it has no effect here`,
			}},
		{"enable_pre_call_checks", "router_settings: {enable_pre_call_checks: true}",
			[]string{`gateway.yaml:5:43: warning: router_settings.enable_pre_call_checks has no effect: the gateway does not measure a request against a model's context window before calling it; an upstream's context-length error goes to context_window_fallbacks instead (remove the key to silence this)`}},
		{"health_check_interval", "general_settings: {health_check_interval: 0}",
			[]string{`gateway.yaml:5:43: general_settings.health_check_interval is 0; use a number of seconds from 1 to 86400 (default 300)`}},
		{"health_check_interval both", "general_settings: {health_check_interval: 10, background_health_checks: false}\nrouter_settings: {health_check_interval: 20, background_health_checks: true}",
			[]string{
				`gateway.yaml:5:43: warning: general_settings.health_check_interval is ignored: router_settings.health_check_interval (at gateway.yaml:6:42) is set too and wins; remove one of them`,
				`gateway.yaml:5:73: warning: general_settings.background_health_checks is ignored: router_settings.background_health_checks (at gateway.yaml:6:72) is set too and wins; remove one of them`,
			}},
		{"both sections", "litellm_settings: {num_retries: 1, fallbacks: [{a: [b]}], request_timeout: 5}\nrouter_settings: {num_retries: 3, fallbacks: [{b: [a]}], timeout: 7}",
			[]string{
				`gateway.yaml:5:33: warning: litellm_settings.num_retries is ignored: router_settings.num_retries (at gateway.yaml:6:32) is set too and wins; remove one of them`,
				`gateway.yaml:5:47: warning: litellm_settings.fallbacks is ignored: router_settings.fallbacks (at gateway.yaml:6:46) is set too and wins; remove one of them`,
				`gateway.yaml:5:76: warning: litellm_settings.request_timeout is ignored: router_settings.timeout (at gateway.yaml:6:67) is set too and wins; remove one of them`,
			}},
		{"request_timeout", "litellm_settings: {request_timeout: -1}",
			[]string{`gateway.yaml:5:37: litellm_settings.request_timeout is negative; use a number of seconds up to 86400 (default 600)`}},
		{"litellm ignored keys", "litellm_settings: {drop_params: true, set_verbose: false, num_retrys: 2}",
			[]string{
				`gateway.yaml:5:20: warning: litellm_settings.drop_params is a LiteLLM setting that the gateway ignores; it has no effect here`,
				`gateway.yaml:5:39: warning: litellm_settings.set_verbose is a LiteLLM setting that the gateway ignores; it has no effect here`,
				`gateway.yaml:5:59: warning: unknown key "num_retrys" in litellm_settings is ignored by the gateway; did you mean "num_retries"? remove it if it is not a LiteLLM setting you keep on purpose`,
			}},
		{"litellm type error", "litellm_settings: {num_retries: three}",
			[]string{`gateway.yaml:5:33: litellm_settings.num_retries: expected an integer, got "three"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, ps := buildRouter(t, tc.cfg)
			compareLines(t, ps, tc.want)
		})
	}
}

func TestDeploymentRoutingNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, params string
		want         []string
	}{
		{"valid", "weight: 0.5, order: 1, rpm: 0, tpm: 10, max_retries: 10", nil},
		{"weight zero", "weight: 0", []string{`models.d/m.yaml:2:61: litellm_params.weight is 0; use a positive number up to 1e+06 (the deployment's share relative to its group's others), or remove it`}},
		{"weight negative", "weight: -1", []string{`models.d/m.yaml:2:61: litellm_params.weight is negative; use a positive number up to 1e+06 (the deployment's share relative to its group's others), or remove it`}},
		{"weight nan", "weight: .nan", []string{`models.d/m.yaml:2:61: litellm_params.weight is not a finite number; use a positive number up to 1e+06 (the deployment's share relative to its group's others), or remove it`}},
		{"order zero", "order: 0", []string{`models.d/m.yaml:2:60: litellm_params.order is 0; use a whole number from 1 (tried first), or remove it (tried after every ordered deployment)`}},
		{"order float", "order: 1.5", []string{`models.d/m.yaml:2:60: model_list[0].litellm_params.order: expected an integer, got "1.5"`}},
		{"rpm negative", "rpm: -1", []string{`models.d/m.yaml:2:58: litellm_params.rpm is negative; use 0 or a positive number`}},
		{"tpm negative", "tpm: -1", []string{`models.d/m.yaml:2:58: litellm_params.tpm is negative; use 0 or a positive number`}},
		{"max_retries high", "max_retries: 11", []string{`models.d/m.yaml:2:66: litellm_params.max_retries is 11, above the highest accepted value 10; use a whole number from 0 to 10`}},
		{"max_retries negative", "max_retries: -1", []string{`models.d/m.yaml:2:66: litellm_params.max_retries is negative; use 0 or a positive number`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := Input{Config: File{Path: "gateway.yaml", Data: []byte("model_list: []\n")}, Models: []File{{Path: "models.d/m.yaml", Data: []byte("model_list:\n  - {model_name: m, litellm_params: {model: mock/m, " + tc.params + "}}\n")}}}
			_, ps := Build(in, func(string) (string, bool) { return "", false })
			compareLines(t, problemLines(ps), tc.want)
		})
	}
}

func TestTeamFallbacks(t *testing.T) {
	t.Parallel()
	models := "model_list:\n" +
		"  - {model_name: t-eu, litellm_params: {model: mock/eu}, model_info: {team_id: t, team_public_model_name: mine}}\n" +
		"  - {model_name: t-mini, litellm_params: {model: mock/mini}, model_info: {team_id: t, team_public_model_name: mini}}\n"
	for _, tc := range []struct {
		name, team string
		want       []string
		fallbacks  map[string][]string
	}{
		{"valid", "team_id: t\nmodel_aliases: {fast: mini}\nfallbacks:\n  - mine: [mini, a]\n  - fast: [c]\n", nil,
			map[string][]string{"mine": {"mini", "a"}, "fast": {"c"}}},
		{"unknown target", "team_id: t\nfallbacks:\n  - mine: [mini, other]\n", []string{
			`teams.d/t0.yaml:3:18: fallbacks: fallback target "other" is not a model name of team "t"; known: a, b, c, mine, mini. Remove it from the team's fallbacks (/team/update) or add the model`}, nil},
		{"unknown source", "team_id: t\nfallbacks: [{nope: [a]}]\n", []string{
			`teams.d/t0.yaml:2:14: fallbacks: fallback source "nope" is not a model name of team "t"; known: a, b, c, mine, mini. Remove it from the team's fallbacks (/team/update) or add the model`}, nil},
		{"internal name is not public", "team_id: t\nfallbacks: [{mine: [t-mini]}]\n", []string{
			`teams.d/t0.yaml:2:21: fallbacks: fallback target "t-mini" is not a model name of team "t"; known: a, b, c, mine, mini. Remove it from the team's fallbacks (/team/update) or add the model`}, nil},
		{"itself", "team_id: t\nfallbacks: [{mine: [mine]}]\n", []string{
			`teams.d/t0.yaml:2:21: fallbacks: "mine" falls back to itself; name another model`}, nil},
		{"twice", "team_id: t\nfallbacks: [{mine: [a]}, {mine: [b]}]\n", []string{
			`teams.d/t0.yaml:2:27: fallbacks: fallbacks for "mine" are already set at teams.d/t0.yaml:2:14; keep one entry per model name`}, nil},
		{"shape", "team_id: t\nfallbacks: {mine: [a]}\n", []string{
			`teams.d/t0.yaml:2:12: fallbacks: expected a list, got a mapping`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := Input{
				Config: File{Path: "gateway.yaml", Data: []byte(routerHeader)},
				Teams:  []File{{Path: "teams.d/t0.yaml", Data: []byte(tc.team)}},
				Models: []File{{Path: "models.d/t.yaml", Data: []byte(models)}},
			}
			snap, ps := Build(in, func(string) (string, bool) { return "", false })
			checkPositions(t, in, ps)
			compareLines(t, problemLines(ps), tc.want)
			if tc.want == nil {
				if snap == nil {
					t.Fatal("no snapshot")
				}
				if got := snap.Teams["t"].FallbackMap(); !reflect.DeepEqual(got, tc.fallbacks) {
					t.Errorf("FallbackMap = %v, want %v", got, tc.fallbacks)
				}
			}
		})
	}
}

// TestReliabilityConfig: the LiteLLM config of testdata/good/reliability
// resolves as LiteLLM documents it.
func TestReliabilityConfig(t *testing.T) {
	t.Parallel()
	snap, ps := loadCase(t, "testdata/good/reliability")
	if snap == nil {
		t.Fatalf("no snapshot: %v", problemLines(ps))
	}
	r := snap.Settings.Router
	want := DefaultRouter()
	want.Strategy = StrategyLatency
	want.LatencyBuffer = 0.5
	want.NumRetries = 3
	want.AllowedFails = 3
	want.CooldownTime = 30 * time.Second
	want.RetryAfter = 2 * time.Second
	want.RetryPolicy = RetryPolicy{Timeout: ip(3), RateLimit: ip(3), InternalServer: ip(4), ContentPolicy: ip(4), Authentication: ip(0), BadRequest: ip(0)}
	want.Fallbacks = map[string][]string{"zephyr-beta": {"gpt-3.5-turbo"}}
	want.ContextWindowFallbacks = map[string][]string{"gpt-3.5-turbo": {"gpt-3.5-turbo-16k", "claude-opus"}}
	want.ContentPolicyFallbacks = map[string][]string{"gpt-3.5-turbo": {"claude-opus"}}
	want.DefaultFallbacks = []string{"claude-opus"}
	want.ModelGroupAlias = map[string]string{"gpt-4": "gpt-3.5-turbo", "zephyr": "zephyr-beta"}
	want.HiddenAliases = map[string]bool{"zephyr": true}
	want.StreamFirstByteTimeout = 5 * time.Second
	want.BackgroundHealthChecks = true
	want.HealthCheckInterval = time.Minute
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Router\n got %+v\nwant %+v", r, want)
	}
	if snap.Settings.Timeout != 10*time.Second {
		t.Errorf("Timeout = %v, want 10s (litellm_settings.request_timeout)", snap.Settings.Timeout)
	}
	if got := snap.Teams["search"].FallbackMap(); !reflect.DeepEqual(got, map[string][]string{"my-model": {"my-mini", "claude-opus"}, "fast": {"gpt-3.5-turbo"}}) {
		t.Errorf("team FallbackMap = %v", got)
	}
	var weights []float64
	for _, d := range snap.TeamDeployments["search"] {
		if w := d.LiteLLMParams.Weight; w != nil {
			weights = append(weights, *w)
		}
	}
	if !reflect.DeepEqual(weights, []float64{3, 1}) {
		t.Errorf("weights = %v", weights)
	}
}

// TestEncodeTeamFallbacks: a team's fallbacks written by the management
// API (EncodeTeam, UpdateTeamFile) load back the same.
func TestEncodeTeamFallbacks(t *testing.T) {
	t.Parallel()
	tm := sampleTeam()
	tm.Fallbacks = []map[string][]string{{"fast": {"g"}}}
	data, err := EncodeTeam(tm)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]string{"models.d/g.yaml": globalG + "  - model_name: h\n    litellm_params: {model: mock/h}\n"}
	snap := buildWith(t, map[string]string{"teams.d/t1.yaml": string(data)}, models)
	if got := snap.Teams["t1"].FallbackMap(); !reflect.DeepEqual(got, map[string][]string{"fast": {"g"}}) {
		t.Fatalf("FallbackMap = %v in:\n%s", got, data)
	}
	tm.Fallbacks = []map[string][]string{{"g": {"h"}}, {"fast": {"h", "g"}}}
	data, err = UpdateTeamFile(data, tm)
	if err != nil {
		t.Fatal(err)
	}
	snap = buildWith(t, map[string]string{"teams.d/t1.yaml": string(data)}, models)
	if got := snap.Teams["t1"].FallbackMap(); !reflect.DeepEqual(got, map[string][]string{"g": {"h"}, "fast": {"h", "g"}}) {
		t.Fatalf("FallbackMap = %v in:\n%s", got, data)
	}
}
