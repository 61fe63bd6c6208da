package configs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Bounds of the routing settings.
const (
	MaxRetries          = 10   // num_retries, retry_policy values, litellm_params.max_retries
	MaxAllowedFails     = 1000 // allowed_fails
	MaxCooldownSeconds  = 3600 // cooldown_time and retry_after
	MaxLatencyBuffer    = 10   // routing_strategy_args.lowest_latency_buffer (10 = 1000 %)
	MaxDeploymentWeight = 1e6  // litellm_params.weight
	// maxKnownListed is how many known names a message lists.
	maxKnownListed = 20
)

// Strategies are the accepted routing_strategy values.
var Strategies = []string{StrategySimpleShuffle, StrategyLeastBusy, StrategyLatency, StrategyUsage}

// resolveRouter resolves router_settings, the routing keys of
// litellm_settings and general_settings' health checks into s.Router,
// and checks every name they use against the global model names. It runs
// after assemble (the names are known then) with the config file's
// positions in b.pos. It is the one place these settings are validated:
// a file and the management API go through it alike.
func (b *builder) resolveRouter(gw *GatewayFile, s *Settings, global []*Deployment) {
	r, l, g := &gw.RouterSettings, &gw.LiteLLMSettings, &gw.GeneralSettings
	rt := DefaultRouter()

	if r.RoutingStrategy != nil {
		rt.Strategy = b.strategy(b.posOf(r, "routing_strategy", Pos{}), *r.RoutingStrategy)
	}
	rs := func(key string) setting { return setting{r, "router_settings", key} }
	ls := func(key string) setting { return setting{l, "litellm_settings", key} }
	gs := func(key string) setting { return setting{g, "general_settings", key} }
	if v, at, name, ok := pick(b, rs("num_retries"), r.NumRetries, ls("num_retries"), l.NumRetries); ok {
		if b.checkInt(at, name, v, 0, MaxRetries, DefaultNumRetries) {
			rt.NumRetries = v
		}
	}
	if v, at, name, ok := pick(b, rs("allowed_fails"), r.AllowedFails, ls("allowed_fails"), l.AllowedFails); ok {
		if b.checkInt(at, name, v, 0, MaxAllowedFails, DefaultAllowedFails) {
			rt.AllowedFails = v
		}
	}
	if v, at, name, ok := pick(b, rs("cooldown_time"), r.CooldownTime, ls("cooldown_time"), l.CooldownTime); ok {
		if b.checkSeconds(at, name, v, MaxCooldownSeconds, DefaultCooldownTime) {
			rt.CooldownTime = seconds(v)
		}
	}
	if r.RetryAfter != nil {
		if b.checkSeconds(b.posOf(r, "retry_after", Pos{}), "router_settings.retry_after", *r.RetryAfter, MaxCooldownSeconds, 0) {
			rt.RetryAfter = seconds(*r.RetryAfter)
		}
	}
	if p := r.RetryPolicy; p != nil {
		for _, e := range []struct {
			name string
			v    *int
			dst  **int
		}{
			{"TimeoutErrorRetries", p.TimeoutErrorRetries, &rt.RetryPolicy.Timeout},
			{"RateLimitErrorRetries", p.RateLimitErrorRetries, &rt.RetryPolicy.RateLimit},
			{"InternalServerErrorRetries", p.InternalServerErrorRetries, &rt.RetryPolicy.InternalServer},
			{"ContentPolicyViolationErrorRetries", p.ContentPolicyViolationErrorRetries, &rt.RetryPolicy.ContentPolicy},
			{"AuthenticationErrorRetries", p.AuthenticationErrorRetries, &rt.RetryPolicy.Authentication},
			{"BadRequestErrorRetries", p.BadRequestErrorRetries, &rt.RetryPolicy.BadRequest},
		} {
			if e.v != nil && b.checkInt(b.posOf(p, e.name, Pos{}), "router_settings.retry_policy."+e.name, *e.v, 0, MaxRetries, -1) {
				v := *e.v
				*e.dst = &v
			}
		}
	}
	if r.StreamFirstByteTimeout != nil {
		if b.checkSeconds(b.posOf(r, "stream_first_byte_timeout", Pos{}), "router_settings.stream_first_byte_timeout", *r.StreamFirstByteTimeout, MaxTimeoutSeconds, 0) {
			rt.StreamFirstByteTimeout = seconds(*r.StreamFirstByteTimeout)
		}
	}
	if a := r.RoutingStrategyArgs; a != nil && a.LowestLatencyBuffer != nil {
		if why := CheckFinite(*a.LowestLatencyBuffer, MaxLatencyBuffer); why != "" {
			b.problems.errorf(b.posOf(a, "lowest_latency_buffer", Pos{}), "router_settings.routing_strategy_args.lowest_latency_buffer %s; use a fraction from 0 to %d (0.5: within 50 %% of the fastest; default 0)", why, MaxLatencyBuffer)
		} else {
			rt.LatencyBuffer = *a.LowestLatencyBuffer
		}
	}
	if r.EnablePreCallChecks != nil && *r.EnablePreCallChecks {
		b.problems.warnf(b.posOf(r, "enable_pre_call_checks", Pos{}), "router_settings.enable_pre_call_checks has no effect: the gateway does not measure a request against a model's context window before calling it; an upstream's context-length error goes to context_window_fallbacks instead (remove the key to silence this)")
	}
	if v, _, _, ok := pick(b, rs("background_health_checks"), r.BackgroundHealthChecks, gs("background_health_checks"), g.BackgroundHealthChecks); ok {
		rt.BackgroundHealthChecks = v
	}
	if v, at, name, ok := pick(b, rs("health_check_interval"), r.HealthCheckInterval, gs("health_check_interval"), g.HealthCheckInterval); ok {
		why := CheckFinite(v, MaxTimeoutSeconds)
		if why == "" && v < 1 {
			why = fmt.Sprintf("is %v", v)
		}
		if why != "" {
			b.problems.errorf(at, "%s %s; use a number of seconds from 1 to %d (default 300)", name, why, MaxTimeoutSeconds)
		} else {
			rt.HealthCheckInterval = seconds(v)
		}
	}

	// Names: model_group_alias first (fallbacks may name an alias).
	nm := newNameSet(global)
	rt.ModelGroupAlias, rt.HiddenAliases = b.modelGroupAlias(r, nm)
	resolve := func(name string) string {
		if t, ok := rt.ModelGroupAlias[name]; ok {
			return t
		}
		return name
	}
	known := func(name string) bool {
		if nm.match(name) {
			return true
		}
		_, ok := rt.ModelGroupAlias[name]
		return ok
	}
	fb := func(key string, rl, ll []map[string][]string) map[string][]string {
		list, section, owner := rl, "router_settings", any(r)
		if rl == nil && ll != nil {
			list, section, owner = ll, "litellm_settings", any(l)
		} else if rl != nil && ll != nil {
			b.overridden(rs(key), ls(key))
		}
		if list == nil {
			return nil
		}
		return b.fallbacks(section+"."+key, b.posOf(owner, key, Pos{}), list, known, resolve, nm)
	}
	rt.Fallbacks = fb("fallbacks", r.Fallbacks, l.Fallbacks)
	rt.ContextWindowFallbacks = fb("context_window_fallbacks", r.ContextWindowFallbacks, l.ContextWindowFallbacks)
	rt.ContentPolicyFallbacks = fb("content_policy_fallbacks", r.ContentPolicyFallbacks, l.ContentPolicyFallbacks)
	df, dsection := r.DefaultFallbacks, "router_settings"
	if df == nil && l.DefaultFallbacks != nil {
		df, dsection = l.DefaultFallbacks, "litellm_settings"
	} else if df != nil && l.DefaultFallbacks != nil {
		b.overridden(rs("default_fallbacks"), ls("default_fallbacks"))
	}
	seenDefault := make(map[string]bool, len(df))
	for i := range df {
		name := df[i]
		if !known(name) {
			b.problems.errorf(b.posOf(&df[i], "", Pos{}), "%s.default_fallbacks: fallback target %q is not a model name; known: %s", dsection, name, nm.listed())
			continue
		}
		if t := resolve(name); !seenDefault[t] {
			seenDefault[t] = true
			rt.DefaultFallbacks = append(rt.DefaultFallbacks, t)
		}
	}
	s.Router = rt
}

// requestTimeout returns the upstream timeout in seconds and its name:
// router_settings.timeout, else litellm_settings.request_timeout.
func (b *builder) requestTimeout(gw *GatewayFile) (float64, Pos, string) {
	r, l := &gw.RouterSettings, &gw.LiteLLMSettings
	if l.RequestTimeout != nil {
		if b.has(r, "timeout") {
			b.overridden(setting{r, "router_settings", "timeout"}, setting{l, "litellm_settings", "request_timeout"})
		} else {
			return *l.RequestTimeout, b.posOf(l, "request_timeout", Pos{}), "litellm_settings.request_timeout"
		}
	}
	return r.Timeout, b.posOf(r, "timeout", Pos{}), "router_settings.timeout"
}

// setting is one place a setting may be written: its section's struct
// (for positions), the section's name and the key.
type setting struct {
	owner   any
	section string
	key     string
}

func (st setting) name() string { return st.section + "." + st.key }

// pick returns the value of the setting that wins: a's when set, else
// b's; when both are set, it warns at b's that a's wins.
func pick[T any](bd *builder, a setting, av *T, b setting, bv *T) (T, Pos, string, bool) {
	switch {
	case av != nil:
		if bv != nil {
			bd.overridden(a, b)
		}
		return *av, bd.posOf(a.owner, a.key, Pos{}), a.name(), true
	case bv != nil:
		return *bv, bd.posOf(b.owner, b.key, Pos{}), b.name(), true
	}
	var zero T
	return zero, Pos{}, "", false
}

// overridden warns at lost's position that wins is set too and is used.
func (b *builder) overridden(wins, lost setting) {
	b.problems.warnf(b.posOf(lost.owner, lost.key, Pos{}), "%s is ignored: %s (at %s) is set too and wins; remove one of them",
		lost.name(), wins.name(), b.posOf(wins.owner, wins.key, Pos{}))
}

func seconds(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// checkInt reports an integer setting outside [lo, hi]; def < 0 means
// no default to name.
func (b *builder) checkInt(at Pos, name string, v, lo, hi, def int) bool {
	if v >= lo && v <= hi {
		return true
	}
	d := ""
	if def >= 0 {
		d = fmt.Sprintf(" (default %d)", def)
	}
	why := fmt.Sprintf("is %d, above the highest accepted value %d", v, hi)
	if v < lo {
		why = "is negative"
		if v >= 0 {
			why = fmt.Sprintf("is %d", v)
		}
	}
	b.problems.errorf(at, "%s %s; use a whole number from %d to %d%s", name, why, lo, hi, d)
	return false
}

// checkSeconds reports a number of seconds that is not finite or outside
// [0, max].
func (b *builder) checkSeconds(at Pos, name string, v, max float64, def time.Duration) bool {
	why := CheckFinite(v, max)
	if why == "" {
		return true
	}
	b.problems.errorf(at, "%s %s; use a number of seconds from 0 to %g (default %g)", name, why, max, def.Seconds())
	return false
}

// strategy resolves routing_strategy, LiteLLM's names included.
func (b *builder) strategy(at Pos, v string) string {
	switch v {
	case StrategySimpleShuffle, StrategyLeastBusy, StrategyLatency, StrategyUsage:
		return v
	case "usage-based-routing":
		b.problems.warnf(at, "router_settings.routing_strategy usage-based-routing is LiteLLM's older name; the gateway uses %s (write that to silence this)", StrategyUsage)
		return StrategyUsage
	case "cost-based-routing":
		b.problems.errorf(at, "router_settings.routing_strategy cost-based-routing is not supported by the gateway; use one of %s", strings.Join(Strategies, ", "))
	default:
		hint := ""
		if c := closest(v, Strategies); c != "" {
			hint = fmt.Sprintf("did you mean %q? ", c)
		}
		b.problems.errorf(at, "router_settings.routing_strategy %q is unknown; %suse one of %s (default %s)", v, hint, strings.Join(Strategies, ", "), StrategySimpleShuffle)
	}
	return StrategySimpleShuffle
}

// nameSet is a set of model names with the list messages show.
type nameSet struct {
	has  map[string]bool
	list []string // in the order added
	memo string   // of listed()
	// prefixes of the wildcard names ("openai/*": "openai/").
	prefixes []string
}

// match reports whether name is in the set or matched by a wildcard
// name of it.
func (ns *nameSet) match(name string) bool {
	if ns.has[name] {
		return true
	}
	for _, p := range ns.prefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

func newNameSet(deps []*Deployment) *nameSet {
	ns := &nameSet{has: make(map[string]bool, len(deps))}
	for _, d := range deps {
		ns.add(d.PublicName())
	}
	return ns
}

func (ns *nameSet) add(name string) {
	if name != "" && !ns.has[name] {
		ns.has[name] = true
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			ns.prefixes = append(ns.prefixes, prefix)
		}
		ns.list = append(ns.list, name)
		ns.memo = ""
	}
}

// listed returns the names for a message: sorted, at most
// maxKnownListed of them.
func (ns *nameSet) listed() string {
	if ns.memo == "" {
		names := slices.Clone(ns.list)
		slices.Sort(names)
		ns.memo = listNames(names)
	}
	return ns.memo
}

func listNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	if len(names) > maxKnownListed {
		return strings.Join(names[:maxKnownListed], ", ") + fmt.Sprintf(", ... (%d more)", len(names)-maxKnownListed)
	}
	return strings.Join(names, ", ")
}

// modelGroupAlias resolves router_settings.model_group_alias: each value
// is a model name or another alias (resolved to the model name at the end
// of the chain), as a string or {model: name, hidden: true}.
func (b *builder) modelGroupAlias(r *RouterSettings, nm *nameSet) (map[string]string, map[string]bool) {
	if len(r.ModelGroupAlias) == 0 {
		return nil, nil
	}
	direct := make(map[string]string, len(r.ModelGroupAlias))
	var hidden map[string]bool
	at := func(a string) Pos { return b.posOf(r, "model_group_alias."+a, Pos{}) }
	aliases := slices.Sorted(maps.Keys(r.ModelGroupAlias))
	for _, a := range aliases {
		switch v := r.ModelGroupAlias[a].(type) {
		case string:
			direct[a] = v
		case map[string]any:
			target, ok := v["model"].(string)
			if !ok {
				b.problems.errorf(at(a), "router_settings.model_group_alias.%s needs model: <model name> (a string) when it is a mapping, e.g. {model: gpt-4o, hidden: true}", a)
				continue
			}
			direct[a] = target
			for k, x := range v {
				switch k {
				case "model":
				case "hidden":
					h, ok := x.(bool)
					if !ok {
						b.problems.errorf(at(a), "router_settings.model_group_alias.%s.hidden must be true or false", a)
					} else if h {
						if hidden == nil {
							hidden = map[string]bool{}
						}
						hidden[a] = true
					}
				default:
					b.problems.warnf(at(a), "router_settings.model_group_alias.%s: key %q is ignored by the gateway (accepted: model, hidden)", a, k)
				}
			}
		default:
			b.problems.errorf(at(a), "router_settings.model_group_alias.%s must be a model name or {model: <model name>, hidden: true}", a)
		}
	}
	// Resolve every chain once (linear in the number of aliases): state
	// 1 is on the chain being walked, 2 resolved (final: its model name,
	// "" when broken).
	state := make(map[string]uint8, len(direct))
	final := make(map[string]string, len(direct))
	index := map[string]int{}
	for _, a := range aliases {
		if _, ok := direct[a]; !ok || state[a] != 0 {
			continue
		}
		path := []string{a}
		clear(index)
		index[a] = 0
		state[a] = 1
		t, result := direct[a], ""
		for {
			if state[t] == 1 {
				cycle := path[index[t]:]
				m := slices.Min(cycle)
				j := slices.Index(cycle, m)
				cycle = append(slices.Clone(cycle[j:]), cycle[:j]...)
				b.problems.errorf(at(m), "router_settings.model_group_alias: %s -> %s is a cycle; point each alias at a model_name", strings.Join(cycle, " -> "), m)
				break
			}
			if nm.match(t) {
				result = t
				break
			}
			if state[t] == 2 {
				result = final[t]
				break
			}
			next, isAlias := direct[t]
			if !isAlias {
				if _, written := r.ModelGroupAlias[t]; !written { // a malformed alias is reported on its own
					last := path[len(path)-1]
					b.problems.errorf(at(last), "router_settings.model_group_alias: %q points at %q, which is not a model name; known: %s", last, t, nm.listed())
				}
				break
			}
			index[t] = len(path)
			path = append(path, t)
			state[t] = 1
			t = next
		}
		for _, p := range path {
			state[p], final[p] = 2, result
		}
	}
	out := make(map[string]string, len(final))
	for a, t := range final {
		if t != "" {
			out[a] = t
		}
	}
	return out, hidden
}

// fallbacks resolves a list in LiteLLM's shape ([{"gpt-4": ["gpt-3.5"]}])
// into name -> names, reporting unknown names, a name falling back to
// itself and a name with two entries. name is the setting's dotted name
// for messages; list's positions are in b.pos.
func (b *builder) fallbacks(name string, fallback Pos, list []map[string][]string, known func(string) bool, resolve func(string) string, nm *nameSet) map[string][]string {
	out := make(map[string][]string, len(list))
	first := map[string]Pos{}
	for i := range list {
		m := &list[i]
		entryAt := b.posOf(m, "", fallback)
		if len(*m) == 0 {
			b.problems.errorf(entryAt, "%s[%d] is empty; write {<model name>: [<fallback model>, ...]}", name, i)
			continue
		}
		for _, src := range slices.Sorted(maps.Keys(*m)) {
			targets := (*m)[src]
			srcAt := b.posOf(m, src, entryAt)
			if !known(src) {
				b.problems.errorf(srcAt, "%s: fallback source %q is not a model name; known: %s", name, src, nm.listed())
				continue
			}
			group := resolve(src)
			if p, dup := first[group]; dup {
				b.problems.errorf(srcAt, "%s: fallbacks for %q are already set at %s; keep one entry per model name", name, src, p)
				continue
			}
			first[group] = srcAt
			if len(targets) == 0 {
				b.problems.errorf(srcAt, "%s: %q lists no fallback model; name at least one, or remove the entry", name, src)
				continue
			}
			var resolved []string
			seen := make(map[string]bool, len(targets))
			for j := range targets {
				t := targets[j]
				tAt := b.posOf(&targets[j], "", srcAt)
				switch {
				case !known(t):
					b.problems.errorf(tAt, "%s: fallback target %q is not a model name; known: %s", name, t, nm.listed())
				case resolve(t) == group:
					b.problems.errorf(tAt, "%s: %q falls back to itself; name another model", name, src)
				case seen[resolve(t)]:
					b.problems.warnf(tAt, "%s: %q is listed twice for %q; the second is ignored", name, t, src)
				default:
					seen[resolve(t)] = true
					resolved = append(resolved, resolve(t))
				}
			}
			if len(resolved) > 0 {
				out[group] = resolved
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// FallbackMap returns the team's own fallbacks as one map (public name ->
// names tried in order), merged from its LiteLLM-shaped list; nil when it
// has none. Build has checked every name.
func (t *Team) FallbackMap() map[string][]string {
	if len(t.Fallbacks) == 0 {
		return nil
	}
	out := make(map[string][]string, len(t.Fallbacks))
	for _, m := range t.Fallbacks {
		for src, targets := range m {
			if _, dup := out[src]; !dup && len(targets) > 0 {
				out[src] = slices.Clone(targets)
			}
		}
	}
	return out
}

// teamFallbackPos are the positions of a team's fallbacks, kept for the
// checks across files.
type teamFallbackPos struct {
	entry   int
	src     string
	at      Pos
	targets []Pos
}

func (b *builder) teamFallbackPositions(t *Team) []teamFallbackPos {
	var out []teamFallbackPos
	for i := range t.Fallbacks {
		m := &t.Fallbacks[i]
		entryAt := b.posOf(m, "", b.posOf(t, "fallbacks", t.Source))
		for _, src := range slices.Sorted(maps.Keys(*m)) {
			targets := (*m)[src]
			fp := teamFallbackPos{entry: i, src: src, at: b.posOf(m, src, entryAt)}
			for j := range targets {
				fp.targets = append(fp.targets, b.posOf(&targets[j], "", fp.at))
			}
			out = append(out, fp)
		}
	}
	return out
}

// checkTeamFallbacks checks a team's fallbacks against its names: its
// deployments' public names, its model_aliases and the global names.
func (b *builder) checkTeamFallbacks(r *teamRec, own []*Deployment, global *nameSet) {
	t := r.t
	names := &nameSet{has: map[string]bool{}}
	for _, d := range own {
		names.add(d.PublicName())
	}
	for a := range t.ModelAliases {
		names.add(a)
	}
	known := func(n string) bool { return names.match(n) || global.match(n) }
	var knownList string
	list := func() string {
		if knownList == "" {
			all := slices.Clone(names.list)
			for _, n := range global.list {
				if !names.has[n] {
					all = append(all, n)
				}
			}
			slices.Sort(all)
			knownList = listNames(all)
		}
		return knownList
	}
	first := map[string]Pos{}
	for _, fp := range r.fallbackPos {
		targets := t.Fallbacks[fp.entry][fp.src]
		if !known(fp.src) {
			b.problems.fieldErrorf(fp.at, "fallbacks", "fallbacks: fallback source %q is not a model name of team %q; known: %s. Remove it from the team's fallbacks (/team/update) or add the model", fp.src, t.TeamID, list())
			continue
		}
		if p, dup := first[fp.src]; dup {
			b.problems.fieldErrorf(fp.at, "fallbacks", "fallbacks: fallbacks for %q are already set at %s; keep one entry per model name", fp.src, p)
			continue
		}
		first[fp.src] = fp.at
		if len(targets) == 0 {
			b.problems.fieldErrorf(fp.at, "fallbacks", "fallbacks: %q lists no fallback model; name at least one, or remove the entry", fp.src)
		}
		for j, tg := range targets {
			switch {
			case !known(tg):
				b.problems.fieldErrorf(fp.targets[j], "fallbacks", "fallbacks: fallback target %q is not a model name of team %q; known: %s. Remove it from the team's fallbacks (/team/update) or add the model", tg, t.TeamID, list())
			case tg == fp.src:
				b.problems.fieldErrorf(fp.targets[j], "fallbacks", "fallbacks: %q falls back to itself; name another model", fp.src)
			}
		}
	}
}

// liteLLMIgnored are LiteLLM settings, by section, that the gateway
// accepts and ignores: a warning says so (other unknown keys get the
// warning of an unknown key, with a did-you-mean hint).
var liteLLMIgnored = map[string]map[string]bool{
	"litellm_settings": setOf("drop_params", "set_verbose", "success_callback", "failure_callback", "callbacks",
		"service_callbacks", "turn_off_message_logging", "redact_user_api_key_info", "langfuse_default_tags",
		"json_logs", "cache", "cache_params", "force_ipv4", "modify_params", "enable_preview_features",
		"mcp_aliases", "max_budget", "budget_duration", "telemetry", "default_team_settings",
		"default_key_generate_params", "upperbound_key_generate_params", "key_generation_settings",
		"disable_end_user_cost_tracking", "disable_end_user_cost_tracking_prometheus_only",
		"enable_json_schema_validation", "max_internal_user_budget", "internal_user_budget_duration",
		"default_internal_user_params", "guardrails", "ssl_verify", "return_response_headers",
		"model_group_settings", "disable_hf_tokenizer_download", "disable_add_transform_inline_image_block",
		"enable_key_alias_format_validation", "use_chat_completions_url_for_anthropic_messages",
		"max_end_user_budget", "public_model_groups", "extra_spend_tag_headers", "model_alias_map"),
	"router_settings": setOf("redis_host", "redis_password", "redis_port", "redis_url", "allowed_fails_policy",
		"disable_cooldowns", "enable_tag_filtering", "tag_filtering_match_any", "stream_timeout", "max_fallbacks",
		"default_litellm_params", "cache_responses", "caching_groups", "provider_budget_config",
		"optional_pre_call_checks", "default_max_parallel_requests", "default_priority", "polling_interval",
		"client_ttl", "cache_kwargs", "debug_level", "set_verbose", "model_group_retry_policy",
		"router_general_settings", "ignore_invalid_deployments", "deployment_affinity_ttl_seconds",
		"alerting_config", "assistants_config", "search_tools", "guardrail_list"),
	"router_settings.routing_strategy_args": setOf("ttl", "max_latency_list_size"),
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
