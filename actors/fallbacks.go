package actors

import (
	"strings"

	"github.com/llmgateway/gateway/configs"
	provreg "github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// fallbackGroup is a model a failed call may fall back to: resolved inside
// the caller's team, allowed for the caller, with the deployments that
// serve the call's endpoint.
type fallbackGroup struct {
	name  string
	group []*configs.Deployment
}

// fallbacks are a call's fallback chains, by the kind of failure.
type fallbacks struct {
	general, contextWindow, contentPolicy []fallbackGroup
}

// fallbacksFor resolves the fallback chains of the model asked (name,
// resolving to resolved): the request's own `fallbacks` first, then the
// team's (by its public names: LiteLLM resolves fallbacks only among
// global names), then router_settings' fallbacks and default_fallbacks.
// A target the caller may not call, or that does not exist for the team,
// is left out: a fallback never reaches a model the call itself could not.
func (t *teamActor) fallbacksFor(msg *Chat, name, resolved string) *fallbacks {
	rc := &t.cfg.settings.Router
	if len(msg.Fallbacks) == 0 && (t.cfg.team == nil || len(t.cfg.team.Fallbacks) == 0) && len(rc.Fallbacks) == 0 &&
		len(rc.DefaultFallbacks) == 0 && len(rc.ContextWindowFallbacks) == 0 && len(rc.ContentPolicyFallbacks) == 0 {
		return nil // the common case: nothing to resolve, nothing to carry
	}
	var general []string
	general = append(general, msg.Fallbacks...)
	if t.cfg.team != nil {
		for _, m := range t.cfg.team.Fallbacks {
			general = append(general, lookup(m, name, resolved)...)
		}
	}
	general = append(general, lookup(rc.Fallbacks, name, resolved)...)
	if len(general) == 0 {
		general = rc.DefaultFallbacks
	}
	return &fallbacks{
		general:       t.resolveFallbacks(msg, name, general),
		contextWindow: t.resolveFallbacks(msg, name, lookup(rc.ContextWindowFallbacks, name, resolved)),
		contentPolicy: t.resolveFallbacks(msg, name, lookup(rc.ContentPolicyFallbacks, name, resolved)),
	}
}

func lookup(m map[string][]string, name, resolved string) []string {
	if l, ok := m[name]; ok {
		return l
	}
	return m[resolved]
}

func (t *teamActor) resolveFallbacks(msg *Chat, from string, names []string) []fallbackGroup {
	var out []fallbackGroup
	for _, n := range names {
		if n == from {
			continue
		}
		resolved, group := t.resolve(n)
		if len(group) == 0 {
			continue
		}
		if t.cfg.team != nil && t.allow(n, resolved, msg.Key) != nil {
			continue
		}
		if msg.Endpoint != "" && msg.Endpoint != provreg.EndpointChat {
			if group = serving(group, msg.Endpoint); len(group) == 0 {
				continue
			}
		}
		out = append(out, fallbackGroup{name: n, group: group})
	}
	return out
}

// chainFor picks the fallback chain for a call's last error: a context
// length error goes to the context-window fallbacks, a content-policy
// refusal to the content-policy ones, any other error that another model
// might not give (what retries are for) to the general ones.
func (f *fallbacks) chainFor(e *wire.Error) []fallbackGroup {
	switch {
	case f == nil || e == nil:
		return nil
	case contextWindowError(e):
		if len(f.contextWindow) > 0 {
			return f.contextWindow
		}
		return nil
	case contentPolicyError(e):
		if len(f.contentPolicy) > 0 {
			return f.contentPolicy
		}
		return nil
	case retryable(e) || e.Status == 401 || e.Status == 403 || e.Status == 404:
		return f.general
	}
	return nil
}

func contextWindowError(e *wire.Error) bool {
	m := strings.ToLower(e.Message)
	return e.Status == 400 && (strings.Contains(m, "context_length_exceeded") || strings.Contains(m, "context length") ||
		strings.Contains(m, "context window") || strings.Contains(m, "prompt is too long") || strings.Contains(m, "too many tokens"))
}

func contentPolicyError(e *wire.Error) bool {
	m := strings.ToLower(e.Message)
	return e.Status == 400 && (strings.Contains(m, "content_policy") || strings.Contains(m, "content policy") ||
		strings.Contains(m, "content_filter") || strings.Contains(m, "content management policy"))
}
