package actors

import (
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
)

// modelLimitSep joins a key's spend id and a model name into the id of
// the key's per-model counters (and of their stored spend record).
const modelLimitSep = "#model="

func modelLimitID(spendID, model string) string { return spendID + modelLimitSep + model }

// modelLimits returns key k's per-model limits of model as Limits
// (model_rpm_limit, model_tpm_limit, model_max_budget with its
// time_period), nil when k has none for it.
func modelLimits(k *configs.Key, model string) *configs.Limits {
	var l configs.Limits
	found := false
	if n, ok := k.ModelRPMLimit[model]; ok {
		l.RPMLimit, found = &n, true
	}
	if n, ok := k.ModelTPMLimit[model]; ok {
		l.TPMLimit, found = &n, true
	}
	if b := k.ModelMaxBudget[model]; b != nil {
		v := b.BudgetLimit
		l.MaxBudget, l.BudgetDuration, found = &v, b.TimePeriod, true
	}
	if !found {
		return nil
	}
	return &l
}

// limitModel is the name a call's per-model limits are kept under: the
// name the client called, else the name it resolved to (an alias's
// target); "" when the key has no per-model limit for either.
func (t *teamActor) limitModel(k *configs.Key, asked, resolved string) string {
	if k == nil || (len(k.ModelRPMLimit) == 0 && len(k.ModelTPMLimit) == 0 && len(k.ModelMaxBudget) == 0) {
		return ""
	}
	for _, m := range []string{asked, resolved} {
		if modelLimits(k, m) != nil {
			return m
		}
	}
	return ""
}

// modelLimiter returns the counters of key k's limits for model (created,
// with their stored spend, on first use) and the limits.
func (t *teamActor) modelLimiter(k *configs.Key, model string, now time.Time) (*limiter, *configs.Limits) {
	lim := modelLimits(k, model)
	id := modelLimitID(k.SpendID(), model)
	if l, ok := t.models[id]; ok {
		return l, lim
	}
	l := &limiter{who: "Key=" + keyName(k), field: "model_", model: model, calendar: t.cfg.settings.BudgetReset}
	var stored *spendRecord
	if rec := t.loadedKey[id]; rec != nil {
		stored = rec.rec
		delete(t.loadedKey, id)
	}
	if l.restore(stored, k.CreatedAt, now, lim) {
		t.report(l, id, 0, false)
	}
	t.models[id] = l
	return l, lim
}

// SoftBudgetAlert is what the gateway says when a key's spend crosses its
// soft_budget: never the key, only its alias and token prefix.
type SoftBudgetAlert struct {
	Event      string     `json:"event"` // "soft_budget_crossed"
	TeamID     string     `json:"team_id"`
	KeyAlias   string     `json:"key_alias,omitempty"`
	KeyName    string     `json:"key_name"` // the masked key (sk-...abcd)
	Token      string     `json:"token"`    // the key's spend id (sha256 hex), as /key/info names it
	Spend      float64    `json:"spend"`
	SoftBudget float64    `json:"soft_budget"`
	MaxBudget  *float64   `json:"max_budget,omitempty"`
	ResetAt    *time.Time `json:"budget_reset_at,omitempty"`
	At         time.Time  `json:"at"`
}

// Alerter sends alerts off the request path. Send must not block.
type Alerter interface {
	Send(url string, alert any)
}

// WithAlerter replaces the webhook sender of soft budget alerts (tests).
func WithAlerter(a Alerter) Option {
	return func(e *env) { e.alerter = a }
}

// softBudgetCrossed reports, once per budget period, that key k's spend
// reached its soft_budget: a log line, a metric, and a POST to
// general_settings.alerting_webhook_url when one is set.
func (t *teamActor) softBudgetCrossed(k *configs.Key, l *limiter, soft float64) {
	team := t.cfg.team
	a := SoftBudgetAlert{Event: "soft_budget_crossed", TeamID: team.TeamID, KeyAlias: k.KeyAlias, KeyName: k.KeyName,
		Token: k.SpendID(), Spend: l.spend, SoftBudget: soft, MaxBudget: k.MaxBudget, ResetAt: timePtr(l.resetAt), At: t.env.now().UTC()}
	t.env.log.Warn("key crossed its soft budget", "team", team.TeamID, "key", keyName(k),
		"spend_usd", l.spend, "soft_budget_usd", soft)
	metrics.SoftBudgetCrossed(team.TeamID)
	if url := t.cfg.settings.AlertingWebhookURL; url != "" && t.env.alerter != nil {
		t.env.alerter.Send(url, a)
	}
}
