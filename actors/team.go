package actors

import (
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/pricing"
	provreg "github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/spend"
	"github.com/llmgateway/gateway/wire"
)

// teamConfig is everything a team actor is built from. It is immutable:
// an update replaces it whole.
type teamConfig struct {
	team     *configs.Team // nil for the master key's actor
	own      []*configs.Deployment
	global   []*configs.Deployment
	settings configs.Settings
}

// teamActor owns one team's name resolution and governance: it admits or
// refuses each call (blocked, allowlists, budget, parallel, rpm, tpm, for
// the team and for the calling key) and keeps the counters and the spend.
// Nothing here is shared: every counter is touched only inside Receive,
// so there are no locks. Its mailbox never waits on the network: each
// admitted call runs in a worker it leases from its pool of supervised
// child actors, and the call's usage comes back in a finished message.
type teamActor struct {
	env *env

	cfg     *teamConfig
	aliases map[string]string
	own     map[string][]*configs.Deployment // public and internal names
	global  map[string][]*configs.Deployment
	names   []ModelEntry
	wild    map[string]wildGroup // names resolved through wildcard deployments
	prices  map[*configs.Deployment]pricing.Quote

	// allowed is the team's allowlist (nil: every name): its models plus
	// its own deployments' names and its explicit aliases.
	allowed     map[string]bool
	allowedText string // for the refusal message

	// Keys' counters and spend are by spend id (configs.Key.SpendID: the
	// token, or key_id once regenerated), so a regenerated key keeps them.
	team      *limiter
	keys      map[string]*limiter     // by spend id, created on first use
	keyCfg    map[string]*configs.Key // by spend id, from the team file
	byToken   map[string]*configs.Key // by token, from the team file
	loadedKey map[string]*keyRecord   // stored records (by spend id) not yet turned into limiters
	// models are the counters of keys' per-model limits (model_rpm_limit,
	// model_tpm_limit, model_max_budget), by modelLimitID.
	models map[string]*limiter

	spendLoaded bool // loadSpend ran (on the first call or spend query)
	// built: the maps above were built from cfg. They are built on the
	// first message that reads them, not at start or on every change:
	// most of 10,000 teams are idle, and an idle team then holds only cfg.
	built bool

	idle     []*actor.PID // pooled workers waiting for a call
	inFlight int          // admitted calls not yet finished
	retiring bool         // the team was removed: stop when inFlight is 0
}

// maxIdleWorkers bounds a team's pool of idle workers; busier moments
// spawn more, which stop when they come back to a full pool.
const maxIdleWorkers = 128

func newTeamActor(cfg *teamConfig, e *env) *teamActor {
	return &teamActor{env: e, cfg: cfg, keys: map[string]*limiter{}, loadedKey: map[string]*keyRecord{}, models: map[string]*limiter{}}
}

// workerSupervision stops a failed worker: a panic in one call never
// restarts the team actor or touches its state.
var workerSupervision = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive {
	return actor.StopDirective
})

// teamThroughput is how many messages a goroutine that runs a team's
// mailbox handles before it yields (runtime.Gosched) to others.
const teamThroughput = 300

// teamProps builds a team actor. Its mailbox uses protoactor's
// synchronized dispatcher: a message is processed on the goroutine that
// posts it when the mailbox is idle, or by the goroutine already running
// the mailbox, in order, one at a time. Receive is still the only place
// the team's state is touched, and never runs on two goroutines at once;
// admitting a call costs no goroutine hand-off and no wake-up. Receive
// must therefore never wait on the network.
func teamProps(cfg *teamConfig, e *env) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return newTeamActor(cfg, e) },
		actor.WithSupervisor(workerSupervision),
		actor.WithDispatcher(actor.NewSynchronizedDispatcher(teamThroughput)))
}

func (t *teamActor) Receive(ctx actor.Context) {
	if !t.built {
		switch ctx.Message().(type) {
		case *Chat, *finished, *GetSpend, *ListModels:
			t.built = true
			t.build()
		}
	}
	if !t.spendLoaded {
		switch ctx.Message().(type) {
		case *Chat, *finished, *GetSpend:
			// Loaded on first use, not at start: starting 10,000 teams
			// then reads no spend store, and most never need it at once.
			t.spendLoaded = true
			t.loadSpend()
		}
	}
	switch msg := ctx.Message().(type) {
	case *Chat:
		t.chat(ctx, msg)
	case *finished:
		t.finish(msg)
		t.inFlight--
		if msg.worker != nil {
			t.workerIdle(ctx, msg.worker)
		}
		t.stopIfRetired(ctx)
	case *retire:
		t.retire()
		t.stopIfRetired(ctx)
	case *workerIdle:
		t.workerIdle(ctx, msg.worker)
	case *GetSpend:
		ctx.Respond(t.spendInfo(msg))
	case *drain:
		ctx.Respond(msg)
	case *ListModels:
		ctx.Respond(&ModelList{Models: t.callable(msg.Key)})
	case *updateTeam:
		t.cfg, t.built = msg.cfg, false
	}
}

// build makes the name, price and key maps of t.cfg.
func (t *teamActor) build() {
	cfg := t.cfg
	t.aliases = map[string]string{}
	t.own = map[string][]*configs.Deployment{}
	t.global = map[string][]*configs.Deployment{}
	t.prices = map[*configs.Deployment]pricing.Quote{}
	t.wild = nil
	seen := map[string]bool{}
	var names []ModelEntry
	add := func(n, owner string, created *time.Time) {
		if !seen[n] {
			seen[n] = true
			e := ModelEntry{Name: n, Owner: owner}
			if created != nil {
				e.Created = created.Unix()
			}
			names = append(names, e)
		}
	}
	var teamID string
	var teamCreated *time.Time
	if cfg.team != nil {
		teamID, teamCreated = cfg.team.TeamID, cfg.team.CreatedAt
		for alias, target := range cfg.team.ModelAliases {
			t.aliases[alias] = target
			add(alias, teamID, teamCreated)
		}
	}
	for _, d := range cfg.own {
		pub := d.PublicName()
		t.own[pub] = append(t.own[pub], d)
		if d.ModelName != pub {
			t.own[d.ModelName] = append(t.own[d.ModelName], d)
		}
		add(pub, teamID, teamCreated)
		t.prices[d] = pricing.ForDeployment(d)
	}
	for _, d := range cfg.global {
		t.global[d.ModelName] = append(t.global[d.ModelName], d)
		add(d.ModelName, "gateway", nil)
		t.prices[d] = pricing.ForDeployment(d)
	}
	// router_settings.model_group_alias names are callable; the ones not
	// marked hidden are listed too.
	for alias, target := range cfg.settings.Router.ModelGroupAlias {
		if len(t.global[target]) > 0 && !cfg.settings.Router.HiddenAliases[alias] && len(t.own[alias]) == 0 {
			add(alias, "gateway", nil)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	t.names = names
	t.buildGovernance()
}

// buildGovernance builds the allowlist and the key index, and drops the
// counters of keys the team no longer has.
func (t *teamActor) buildGovernance() {
	t.allowed, t.allowedText = nil, ""
	team := t.cfg.team
	if team == nil {
		return
	}
	if t.team == nil {
		t.team = &limiter{who: "Team=" + team.TeamID, calendar: t.cfg.settings.BudgetReset}
	}
	now := t.env.now()
	t.team.setCalendar(t.cfg.settings.BudgetReset, now)
	t.keyCfg = make(map[string]*configs.Key, len(team.Keys))
	t.byToken = make(map[string]*configs.Key, len(team.Keys))
	for _, k := range team.Keys {
		t.keyCfg[k.SpendID()] = k
		t.byToken[k.Token] = k
	}
	for sid, l := range t.keys {
		k, ok := t.keyCfg[sid]
		if !ok {
			delete(t.keys, sid)
			continue
		}
		l.who = "Key=" + keyName(k) // a regenerated key has a new name
		l.setCalendar(t.cfg.settings.BudgetReset, now)
	}
	for id, l := range t.models {
		sid, model, _ := strings.Cut(id, modelLimitSep)
		k, ok := t.keyCfg[sid]
		if !ok || modelLimits(k, model) == nil {
			delete(t.models, id)
			continue
		}
		l.who = "Key=" + keyName(k)
		l.setCalendar(t.cfg.settings.BudgetReset, now)
	}
	if len(team.Models) == 0 || contains(team.Models, "all-proxy-models") {
		return
	}
	t.allowed = map[string]bool{}
	for _, m := range team.Models {
		t.allowed[m] = true
	}
	for alias := range t.aliases {
		t.allowed[alias] = true
	}
	for name := range t.own {
		t.allowed[name] = true
	}
	var list []string
	for _, e := range t.names {
		if t.allowed[e.Name] {
			list = append(list, e.Name)
		}
	}
	for _, m := range team.Models {
		if !contains(list, m) {
			list = append(list, m)
		}
	}
	t.allowedText = strings.Join(list, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// resolve finds the deployments a name stands for: the team's explicit
// aliases, then its own deployments, then the global ones.
func (t *teamActor) resolve(name string) (string, []*configs.Deployment) {
	if target, ok := t.aliases[name]; ok {
		name = target
	}
	if g := t.own[name]; len(g) > 0 {
		return name, g
	}
	// router_settings.model_group_alias, after the team's own names.
	if target, ok := t.cfg.settings.Router.ModelGroupAlias[name]; ok {
		if g := t.global[target]; len(g) > 0 {
			return target, g
		}
	}
	if g := t.global[name]; len(g) > 0 {
		return name, g
	}
	return t.wildcard(name)
}

// maxWildNames bounds the names a team's wildcard cache keeps.
const maxWildNames = 1024

// wildcard resolves name through a global wildcard deployment
// ("model_name: openai/*" with "model: openai/*"): the group is its
// deployments with the part of name after the prefix as upstream model,
// priced as that model, sharing the wildcard deployment's id (and health).
func (t *teamActor) wildcard(name string) (string, []*configs.Deployment) {
	if g, ok := t.wild[name]; ok {
		return g.pattern, g.group
	}
	for pattern, deps := range t.global {
		prefix, ok := strings.CutSuffix(pattern, "*")
		if !ok || !strings.HasPrefix(name, prefix) || len(name) == len(prefix) {
			continue
		}
		group := make([]*configs.Deployment, 0, len(deps))
		// Workers read the price map of the call they run: a new map,
		// never a write into one they may hold.
		prices := maps.Clone(t.prices)
		for _, d := range deps {
			c := *d
			up, isWild := strings.CutSuffix(d.UpstreamModel, "*")
			if !isWild {
				continue
			}
			c.UpstreamModel = up + name[len(prefix):]
			c.LiteLLMParams.Model = c.Provider + "/" + c.UpstreamModel
			prices[&c] = pricing.ForDeployment(&c)
			group = append(group, &c)
		}
		if len(group) == 0 {
			continue
		}
		t.prices = prices
		if t.wild == nil || len(t.wild) >= maxWildNames {
			t.wild = map[string]wildGroup{}
		}
		t.wild[name] = wildGroup{pattern: pattern, group: group}
		return pattern, group
	}
	return name, nil
}

// wildGroup is a name resolved through a wildcard deployment.
type wildGroup struct {
	pattern string
	group   []*configs.Deployment
}

func (t *teamActor) chat(ctx actor.Context, msg *Chat) {
	if t.retiring {
		msg.answer(ctx, teamGone())
		return
	}
	team := t.cfg.team
	if team != nil {
		if team.Blocked {
			msg.answer(ctx, &ChatResult{Err: wire.Errorf(403, wire.TypePermission,
				"Team=%s is blocked. Ask an admin to unblock it via /team/unblock", team.TeamID)})
			return
		}
		if k := msg.Key; k != nil && k.Blocked {
			msg.answer(ctx, &ChatResult{Err: wire.Errorf(403, wire.TypePermission,
				"Key=%s is blocked. Ask an admin to unblock it via /key/unblock", keyName(k))})
			return
		}
	}
	var resolved string
	var group []*configs.Deployment
	if msg.DeploymentID != "" {
		d := t.byID(msg.DeploymentID)
		if d == nil {
			msg.answer(ctx, &ChatResult{Err: wire.Errorf(404, wire.TypeNotFound,
				"the deployment that created this object is no longer configured; the object cannot be reached")})
			return
		}
		msg.Model, resolved, group = d.PublicName(), d.PublicName(), []*configs.Deployment{d}
	} else if resolved, group = t.resolve(msg.Model); len(group) == 0 {
		msg.answer(ctx, &ChatResult{Err: wire.BadRequest(
			"model %q does not exist for this key; call GET /v1/models to list the models you can use", msg.Model)})
		return
	}
	if msg.Endpoint != "" && msg.Endpoint != provreg.EndpointChat {
		able := serving(group, msg.Endpoint)
		if len(able) == 0 {
			msg.answer(ctx, &ChatResult{Err: unsupported(msg.Model, msg.Endpoint, group)})
			return
		}
		group = able
	}
	remReq, remTok := int64(-1), int64(-1)
	var key *limiter
	limitModel := t.limitModel(msg.Key, msg.Model, resolved)
	if team != nil {
		if werr := t.allow(msg.Model, resolved, msg.Key); werr != nil {
			msg.answer(ctx, &ChatResult{Err: werr})
			return
		}
		var werr *wire.Error
		key, remReq, remTok, werr = t.admit(msg.Key, limitModel)
		if werr != nil {
			msg.answer(ctx, &ChatResult{Err: werr})
			return
		}
	}
	rc := &t.cfg.settings.Router
	d, werr := t.env.router.pick(group, rc, msg.Stream, nil, msg.Model)
	if werr != nil {
		t.release(key)
		msg.answer(ctx, &ChatResult{Err: werr})
		return
	}
	p := t.env.providers[d.Provider]
	if p == nil {
		t.release(key)
		msg.answer(ctx, &ChatResult{Err: wire.Errorf(500, wire.TypeInternal,
			"deployment %s uses provider %q, which this gateway build does not include", d.ModelInfo.ID, d.Provider)})
		return
	}
	j := &job{
		chat:     msg,
		dep:      d,
		provider: p,
		done:     make(chan struct{}),
		timeout:  t.timeout(d, msg.Stream),
		rc:       rc,
		group:    group,
		prices:   t.prices,
		firstDep: d,
		fallback: t.fallbacksFor(msg, msg.Model, resolved),
		quote:    t.prices[d],
		env:      t.env,
		remReq:   remReq,
		remTok:   remTok,
	}
	if msg.Timeout > 0 {
		if own := time.Duration(msg.Timeout * float64(time.Second)); own < j.timeout {
			// The caller's shorter timeout: its expiry is not the
			// deployment's failure (it must not cool it down for others).
			j.timeout, j.callerTimeout = own, true
		}
	}
	j.deadline = time.Now().Add(j.timeout)
	if msg.Key != nil {
		j.keyToken = msg.Key.SpendID()
		j.limitModel = limitModel
		if sb := msg.Key.SoftBudget; sb != nil && key != nil && key.spend >= *sb {
			j.softBudget = *sb
			j.softOver = true
		}
	}
	t.inFlight++
	var w *actor.PID
	if n := len(t.idle); n > 0 {
		w, t.idle = t.idle[n-1], t.idle[:n-1]
	} else {
		w = ctx.Spawn(workerProps)
	}
	msg.answer(ctx, &Lease{team: ctx.Self(), worker: w, job: j})
}

// stopIfRetired stops a retired team actor once no call is in flight; its
// idle workers stop with it.
func (t *teamActor) stopIfRetired(ctx actor.Context) {
	if t.retiring && t.inFlight <= 0 {
		ctx.Stop(ctx.Self())
	}
}

// workerIdle takes a worker back into the pool, or stops it when the pool
// is full.
func (t *teamActor) workerIdle(ctx actor.Context, w *actor.PID) {
	if len(t.idle) < maxIdleWorkers {
		t.idle = append(t.idle, w)
		return
	}
	ctx.Stop(w)
}

// callable is the names the key may call: those its team resolves that
// pass the team's and the key's allowlists.
func (t *teamActor) callable(k *configs.Key) []ModelEntry {
	out := make([]ModelEntry, 0, len(t.names))
	for _, e := range t.names {
		resolved, _ := t.resolve(e.Name)
		if t.allow(e.Name, resolved, k) == nil {
			out = append(out, e)
		}
	}
	return out
}

// allow applies the team's and the key's models allowlists. The name asked
// for and the name it resolves to (an alias's target) both count.
func (t *teamActor) allow(name, resolved string, k *configs.Key) *wire.Error {
	if t.allowed != nil && !t.allowed[name] && !t.allowed[resolved] {
		return wire.Errorf(403, wire.TypePermission,
			"Team=%s is not allowed to call model %q; allowed models: %s. Ask an admin to add it to the team's models",
			t.cfg.team.TeamID, name, t.allowedText)
	}
	if k != nil && len(k.Models) > 0 && !contains(k.Models, name) && !contains(k.Models, resolved) &&
		!contains(k.Models, "all-team-models") && !contains(k.Models, "all-proxy-models") {
		return wire.Errorf(403, wire.TypePermission,
			"Key=%s is not allowed to call model %q; allowed models: %s. Ask an admin to add it to the key's models",
			keyName(k), name, strings.Join(k.Models, ", "))
	}
	return nil
}

// admit checks the team's limits and then the key's (a key's limits apply
// inside its team's), and counts the call only if both let it through.
//
// model is the name a key's per-model limits are kept under ("" when
// they do not apply to this call): they are checked after the key's own.
func (t *teamActor) admit(k *configs.Key, model string) (key *limiter, remReq, remTok int64, werr *wire.Error) {
	now := t.env.now()
	teamLim := &t.cfg.team.Limits
	if t.team.roll(now, teamLim) {
		t.report(t.team, "", 0, true)
	}
	if werr := t.team.check(now, teamLim); werr != nil {
		return nil, 0, 0, werr
	}
	if k != nil {
		key = t.keyLimiter(k, now)
		if key.roll(now, &k.Limits) {
			t.report(key, k.SpendID(), 0, true)
		}
		if werr := key.check(now, &k.Limits); werr != nil {
			return nil, 0, 0, werr
		}
		var ml *limiter
		var mlim *configs.Limits
		if model != "" {
			ml, mlim = t.modelLimiter(k, model, now)
			if ml.roll(now, mlim) {
				t.report(ml, modelLimitID(k.SpendID(), model), 0, true)
			}
			if werr := ml.check(now, mlim); werr != nil {
				return nil, 0, 0, werr
			}
		}
		key.admit(now, &k.Limits)
		if ml != nil {
			ml.admit(now, mlim)
			r, tk := ml.remaining(mlim)
			defer func() { remReq, remTok = minKnown(remReq, r), minKnown(remTok, tk) }()
		}
	}
	t.team.admit(now, teamLim)
	remReq, remTok = t.team.remaining(teamLim)
	if key != nil {
		r, tk := key.remaining(&k.Limits)
		remReq, remTok = minKnown(remReq, r), minKnown(remTok, tk)
	}
	return key, remReq, remTok, nil
}

// release undoes an admission whose call never started.
func (t *teamActor) release(key *limiter) {
	if t.team != nil && t.team.inFlight > 0 {
		t.team.inFlight--
	}
	if key != nil && key.inFlight > 0 {
		key.inFlight--
	}
}

func minKnown(a, b int64) int64 {
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	}
	return min(a, b)
}

// finish accounts for a call that ended: it frees the parallel slots,
// counts the tokens and adds the cost to the team's and the key's spend.
func (t *teamActor) finish(msg *finished) {
	team := t.cfg.team
	if team == nil {
		return
	}
	now := msg.at // when the call ended, not when this message is read
	if now.IsZero() {
		now = t.env.now()
	}
	tokens := msg.usage.PromptTokens + msg.usage.CompletionTokens
	if t.team.roll(now, &team.Limits) {
		t.report(t.team, "", 0, true)
	}
	t.team.done(now, &team.Limits, tokens, msg.cost)
	if msg.cost > 0 {
		t.report(t.team, "", msg.cost, false)
		metrics.Spend(team.TeamID, msg.cost)
	}
	if msg.keyToken == "" {
		return
	}
	key, ok := t.keys[msg.keyToken]
	if !ok {
		return // the key was removed meanwhile
	}
	var lim *configs.Limits
	if kc := t.keyCfg[msg.keyToken]; kc != nil {
		lim = &kc.Limits
		if key.roll(now, lim) {
			t.report(key, msg.keyToken, 0, true)
		}
	}
	key.done(now, lim, tokens, msg.cost)
	if msg.cost > 0 {
		t.report(key, msg.keyToken, msg.cost, false)
	}
	kc := t.keyCfg[msg.keyToken]
	if kc == nil {
		return
	}
	if msg.limitModel != "" {
		if ml, ok := t.models[modelLimitID(msg.keyToken, msg.limitModel)]; ok {
			if mlim := modelLimits(kc, msg.limitModel); mlim != nil {
				if ml.roll(now, mlim) {
					t.report(ml, modelLimitID(msg.keyToken, msg.limitModel), 0, true)
				}
				ml.done(now, mlim, tokens, msg.cost)
				if msg.cost > 0 {
					t.report(ml, modelLimitID(msg.keyToken, msg.limitModel), msg.cost, false)
				}
			}
		}
	}
	if sb := kc.SoftBudget; sb != nil && !key.softAlerted && key.spend >= *sb {
		key.softAlerted = true
		t.softBudgetCrossed(kc, key, *sb)
	}
}

// report sends a spend change to the store (keySpendID "" for the
// team's own). A retired team reports nothing more: its records are gone.
func (t *teamActor) report(l *limiter, keySpendID string, cost float64, newPeriod bool) {
	if t.env.store == nil || t.cfg.team == nil || t.retiring {
		return
	}
	t.env.store.Add(l.delta(t.cfg.team.TeamID, keySpendID, cost, newPeriod))
}

// retire marks the team removed from the configuration: calls in flight
// finish, no new one starts, and its stored spend is dropped (after the
// deltas it reported so far), so that a team created again with the
// same id starts at zero spend.
func (t *teamActor) retire() {
	if t.retiring {
		return
	}
	t.retiring = true
	if t.env.store != nil && t.cfg.team != nil {
		t.env.store.Add(spend.Delta{TeamID: t.cfg.team.TeamID, Forget: true})
	}
}

// keyLimiter returns the counters of key k, creating them (with the
// stored spend, if any) on first use.
func (t *teamActor) keyLimiter(k *configs.Key, now time.Time) *limiter {
	sid := k.SpendID()
	if l, ok := t.keys[sid]; ok {
		return l
	}
	l := &limiter{who: "Key=" + keyName(k), calendar: t.cfg.settings.BudgetReset}
	rec := t.loadedKey[sid]
	delete(t.loadedKey, sid)
	var stored *spendRecord
	if rec != nil {
		stored = rec.rec
	}
	if l.restore(stored, k.CreatedAt, now, &k.Limits) {
		t.report(l, sid, 0, false)
	}
	t.keys[sid] = l
	return l
}

// keyName is how messages name a key: its alias and masked name, never
// the key itself.
func keyName(k *configs.Key) string {
	switch {
	case k.KeyAlias != "" && k.KeyName != "":
		return k.KeyAlias + " (" + k.KeyName + ")"
	case k.KeyAlias != "":
		return k.KeyAlias
	case k.KeyName != "":
		return k.KeyName
	}
	if len(k.Token) > 8 {
		return "token:" + k.Token[:8]
	}
	return "token:" + k.Token
}

func (t *teamActor) timeout(d *configs.Deployment, stream bool) time.Duration {
	secs := d.LiteLLMParams.Timeout
	if stream && d.LiteLLMParams.StreamTimeout != nil {
		secs = d.LiteLLMParams.StreamTimeout
	}
	if secs != nil && *secs > 0 {
		return time.Duration(*secs * float64(time.Second))
	}
	return t.cfg.settings.Timeout
}
