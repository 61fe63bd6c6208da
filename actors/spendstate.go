package actors

import (
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/spend"
)

type spendRecord = spend.Record

// keyRecord is a key's stored record (by spend id), kept until the key's first call or
// spend query turns it into a limiter.
type keyRecord struct {
	rec *spend.Record
}

// loadSpend restores the team's spend (and keeps its keys') from the
// store, before the actor's first call or spend query. A team seen for
// the first time starts its first budget period at its created_at, else
// then, and that start is stored so that it survives restarts.
func (t *teamActor) loadSpend() {
	team := t.cfg.team
	if team == nil {
		return
	}
	now := t.env.now()
	var stored spend.Team
	if t.env.store != nil {
		stored = t.env.store.Load(team.TeamID)
	}
	for tok, r := range stored.Keys {
		t.loadedKey[tok] = &keyRecord{rec: r}
	}
	t.team.calendar = t.cfg.settings.BudgetReset
	if t.team.restore(stored.Team, team.CreatedAt, now, &team.Limits) {
		t.report(t.team, "", 0, false)
	}
	if t.team.roll(now, &team.Limits) {
		t.report(t.team, "", 0, true)
	}
}

// spendInfo answers GetSpend with the current figures (after any reset
// due by now).
func (t *teamActor) spendInfo(msg *GetSpend) *SpendInfo {
	out := &SpendInfo{Keys: map[string]KeySpend{}}
	team := t.cfg.team
	if team == nil {
		return out
	}
	now := t.env.now()
	if t.team.roll(now, &team.Limits) {
		t.report(t.team, "", 0, true)
	}
	out.TeamSpend = t.team.spend
	out.BudgetResetAt = timePtr(t.team.resetAt)
	out.Team = t.team.live(now, &team.Limits)
	for _, tok := range msg.KeyTokens {
		k, ok := t.byToken[tok]
		if !ok {
			continue
		}
		l := t.keyLimiter(k, now)
		if l.roll(now, &k.Limits) {
			t.report(l, k.SpendID(), 0, true)
		}
		out.Keys[tok] = KeySpend{Spend: l.spend, BudgetResetAt: timePtr(l.resetAt), Live: l.live(now, &k.Limits)}
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// live is l's use of lim now.
func (l *limiter) live(now time.Time, lim *configs.Limits) Live {
	out := Live{InFlight: l.inFlight, RPM: -1, TPM: -1}
	ns := now.UnixNano()
	if lim.RPMLimit != nil {
		l.rpm.evict(ns)
		out.RPM = l.rpm.sum
	}
	if lim.TPMLimit != nil {
		l.tpm.evict(ns)
		out.TPM = l.tpm.sum
	}
	return out
}
