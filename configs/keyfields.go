package configs

import (
	"fmt"
	"slices"
	"strings"
)

// Bounds of tags and allowed_routes (a file or a caller).
const (
	MaxTags          = 64  // tags of one team, key or request
	MaxTagLen        = 128 // characters of one tag
	MaxAllowedRoutes = 64
	maxRouteLen      = 256
)

// RouteGroups are the LiteLLM route groups allowed_routes accepts, and
// the paths (without /v1, /openai/v1 or /openai/deployments/{d} prefixes)
// each stands for. A trailing "*" matches any path with that prefix.
var RouteGroups = map[string][]string{
	"llm_api_routes": {"/chat/completions", "/completions", "/embeddings", "/responses", "/responses/*",
		"/messages", "/messages/*", "/images/generations", "/audio/speech", "/audio/transcriptions",
		"/moderations", "/rerank", "/files", "/files/*", "/batches", "/batches/*", "/models", "/models/*", "/model/info"},
	"openai_routes": {"/chat/completions", "/completions", "/embeddings", "/responses", "/responses/*",
		"/images/generations", "/audio/speech", "/audio/transcriptions", "/moderations", "/files", "/files/*",
		"/batches", "/batches/*", "/models", "/models/*"},
	"info_routes":       {"/key/info", "/team/info", "/team/list", "/model/info", "/models", "/models/*", "/health", "/health/*", "/metrics"},
	"management_routes": {"/key/*", "/team/*", "/model/*"},
}

// CheckTags returns the problem with a tags list, or "".
func CheckTags(tags []string) string {
	if len(tags) > MaxTags {
		return fmt.Sprintf("has %d tags, more than %d", len(tags), MaxTags)
	}
	for i, t := range tags {
		switch {
		case strings.TrimSpace(t) == "":
			return fmt.Sprintf("[%d] is empty", i)
		case len(t) > MaxTagLen:
			return fmt.Sprintf("[%d] is longer than %d characters", i, MaxTagLen)
		case strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return fmt.Sprintf("[%d] holds a control character", i)
		}
	}
	return ""
}

// CheckAllowedRoute returns the problem with one allowed_routes entry,
// or "".
func CheckAllowedRoute(r string) string {
	r = strings.TrimPrefix(r, "LiteLLMRoutes.") // LiteLLM's enum spelling
	switch {
	case r == "":
		return "is empty"
	case len(r) > maxRouteLen:
		return fmt.Sprintf("is longer than %d characters", maxRouteLen)
	case RouteGroups[r] != nil:
		return ""
	case !strings.HasPrefix(r, "/"):
		return fmt.Sprintf("%q is neither a path (starting with /) nor a route group (%s)", r, strings.Join(routeGroupNames(), ", "))
	case strings.ContainsAny(r, " ?#\t\r\n"):
		return fmt.Sprintf("%q holds a space, ? or #; give the path only", r)
	case strings.Contains(strings.TrimSuffix(r, "*"), "*"):
		return fmt.Sprintf("%q has a * that is not at its end; only a trailing * (a prefix) is supported", r)
	}
	return ""
}

func routeGroupNames() []string {
	var out []string
	for g := range RouteGroups {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// NormalizeRoute strips the OpenAI and Azure prefixes from a request path
// (/v1/chat/completions, /openai/v1/..., /openai/deployments/x/chat/completions
// are /chat/completions) and a trailing slash.
func NormalizeRoute(path string) string {
	p := path
	for i := 0; i < 8; i++ { // /v1/v1/x too: the result is stable
		q := stripRoutePrefix(p)
		if len(q) > 1 {
			q = strings.TrimRight(q, "/")
			if q == "" {
				q = "/"
			}
		}
		if q == p {
			break
		}
		p = q
	}
	return p
}

func stripRoutePrefix(p string) string {
	switch {
	case strings.HasPrefix(p, "/openai/deployments/"):
		rest := p[len("/openai/deployments/"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		}
	case strings.HasPrefix(p, "/openai/v1/"):
		p = p[len("/openai/v1"):]
	case strings.HasPrefix(p, "/openai/"):
		p = p[len("/openai"):]
	}
	if strings.HasPrefix(p, "/v1/") {
		p = p[len("/v1"):]
	}
	return p
}

// RouteAllowed reports whether a request path passes allowed_routes
// (an empty list allows every path).
func RouteAllowed(allowed []string, path string) bool {
	if len(allowed) == 0 {
		return true
	}
	p := NormalizeRoute(path)
	for _, a := range allowed {
		if g, ok := RouteGroups[strings.TrimPrefix(a, "LiteLLMRoutes.")]; ok {
			for _, r := range g {
				if routeMatch(r, p) {
					return true
				}
			}
			continue
		}
		if routeMatch(NormalizeRoute(strings.TrimSuffix(a, "*"))+suffixStar(a), p) {
			return true
		}
	}
	return false
}

func suffixStar(a string) string {
	if strings.HasSuffix(a, "*") {
		return "*"
	}
	return ""
}

func routeMatch(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	return pattern == p
}

// checkKeyFields validates a key's tags, allowed_routes, soft_budget and
// per-model limits.
func (b *builder) checkKeyFields(k *Key, prefix string) {
	if why := CheckTags(k.Tags); why != "" {
		b.problems.fieldErrorf(b.posOf(k, "tags", k.Source), "tags", "%stags%s; use at most %d non-empty tags of at most %d characters", prefix, spaced(why), MaxTags, MaxTagLen)
	}
	if _, why := MetadataTags(k.Metadata); why != "" {
		b.problems.fieldErrorf(b.posOf(k, "metadata", k.Source), "metadata", "%smetadata.tags%s; use a list of at most %d non-empty strings of at most %d characters", prefix, spaced(why), MaxTags, MaxTagLen)
	}
	if len(k.AllowedRoutes) > MaxAllowedRoutes {
		b.problems.fieldErrorf(b.posOf(k, "allowed_routes", k.Source), "allowed_routes", "%sallowed_routes has %d entries, more than %d", prefix, len(k.AllowedRoutes), MaxAllowedRoutes)
	}
	for i, r := range k.AllowedRoutes {
		if why := CheckAllowedRoute(r); why != "" {
			b.problems.fieldErrorf(b.posOf(&k.AllowedRoutes[i], "", b.posOf(k, "allowed_routes", k.Source)), "allowed_routes",
				"%sallowed_routes[%d] %s; use paths such as /chat/completions or /key/* or the groups %s", prefix, i, why, strings.Join(routeGroupNames(), ", "))
		}
	}
	if k.SoftBudget != nil {
		if why := CheckFinite(*k.SoftBudget, MaxBudgetUSD); why != "" {
			b.problems.fieldErrorf(b.posOf(k, "soft_budget", k.Source), "soft_budget", "%ssoft_budget %s; use a number of USD from 0 to %g, or remove it", prefix, why, float64(MaxBudgetUSD))
		}
	}
	for _, m := range sortedKeys(k.ModelMaxBudget) {
		at := b.posOf(k, "model_max_budget", k.Source)
		mb := k.ModelMaxBudget[m]
		switch {
		case strings.TrimSpace(m) == "":
			b.problems.fieldErrorf(at, "model_max_budget", "%smodel_max_budget has an empty model name", prefix)
		case mb == nil:
			b.problems.fieldErrorf(at, "model_max_budget", "%smodel_max_budget.%s is empty; write {budget_limit: 5, time_period: 1d}", prefix, m)
		default:
			if why := CheckFinite(mb.BudgetLimit, MaxBudgetUSD); why != "" {
				b.problems.fieldErrorf(at, "model_max_budget", "%smodel_max_budget.%s.budget_limit %s; use a number of USD from 0 to %g", prefix, m, why, float64(MaxBudgetUSD))
			}
			if mb.TimePeriod != "" {
				if _, _, err := ParseBudgetDuration(mb.TimePeriod); err != nil {
					b.problems.fieldErrorf(at, "model_max_budget", "%smodel_max_budget.%s.time_period: %v", prefix, m, err)
				}
			}
		}
	}
	for _, f := range []struct {
		name string
		m    map[string]int64
	}{{"model_rpm_limit", k.ModelRPMLimit}, {"model_tpm_limit", k.ModelTPMLimit}} {
		for _, m := range sortedKeys(f.m) {
			at := b.posOf(k, f.name, k.Source)
			switch {
			case strings.TrimSpace(m) == "":
				b.problems.fieldErrorf(at, f.name, "%s%s has an empty model name", prefix, f.name)
			case f.m[m] < 0:
				b.problems.fieldErrorf(at, f.name, "%s%s.%s is negative; use a positive number, or remove the model for no limit", prefix, f.name, m)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MetadataTags returns metadata["tags"] as strings, and the problem with
// it ("" when it is absent or a valid tags list).
func MetadataTags(md map[string]any) ([]string, string) {
	raw, ok := md["tags"]
	if !ok || raw == nil {
		return nil, ""
	}
	list, ok := raw.([]any)
	if !ok {
		if ss, isStrings := raw.([]string); isStrings {
			return ss, CheckTags(ss)
		}
		return nil, "is not a list of strings"
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Sprintf("[%d] is not a string", i)
		}
		out = append(out, s)
	}
	return out, CheckTags(out)
}

// RequestTags returns the usable tags of a request's metadata.tags (a
// decoded JSON value): strings only, trimmed of none, at most MaxTags of
// at most MaxTagLen characters without control characters. Other entries
// are dropped: a request's tags label it, they never refuse it.
func RequestTags(raw any) []string {
	list, _ := raw.([]any)
	var out []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok || CheckTags([]string{s}) != "" {
			continue
		}
		out = append(out, s)
		if len(out) == MaxTags {
			break
		}
	}
	return out
}

// MergedTags returns the tags of a call, for its usage record: the
// team's tags and metadata.tags, then the key's, then the request's
// (RequestTags), each once, in that order, at most 3*MaxTags. team, key
// and request may be nil.
func MergedTags(team *Team, key *Key, request []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(tags []string) {
		for _, t := range tags {
			if !seen[t] && len(out) < 3*MaxTags {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	if team != nil {
		add(team.Tags)
		mt, _ := MetadataTags(team.Metadata)
		add(mt)
	}
	if key != nil {
		add(key.Tags)
		mt, _ := MetadataTags(key.Metadata)
		add(mt)
	}
	add(request)
	return out
}

// spaced puts a space before a problem that does not start with an index
// ("tags[1] is empty", "tags has 70 tags").
func spaced(why string) string {
	if strings.HasPrefix(why, "[") {
		return why
	}
	return " " + why
}
