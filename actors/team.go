package actors

import (
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway/providers"
	"github.com/llmgateway/gateway/gateway/wire"
)

// teamConfig is everything a team actor is built from. It is immutable:
// an update replaces it whole.
type teamConfig struct {
	team     *configs.Team // nil for the master key's actor
	own      []*configs.Deployment
	global   []*configs.Deployment
	settings configs.Settings
}

// teamActor owns one team's name resolution and admits its calls. Its
// mailbox never waits on the network: each admitted call runs in a
// per-request worker it spawns and supervises.
type teamActor struct {
	providers map[string]providers.Provider

	cfg     *teamConfig
	aliases map[string]string
	own     map[string][]*configs.Deployment // public and internal names
	global  map[string][]*configs.Deployment
	names   []ModelEntry
	next    map[string]uint64 // round-robin position per resolved name
}

func newTeamActor(cfg *teamConfig, provs map[string]providers.Provider) *teamActor {
	t := &teamActor{providers: provs}
	t.configure(cfg)
	return t
}

// workerSupervision stops a failed worker: a panic in one call never
// restarts the team actor or touches its state.
var workerSupervision = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive {
	return actor.StopDirective
})

func teamProps(cfg *teamConfig, provs map[string]providers.Provider) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return newTeamActor(cfg, provs) },
		actor.WithSupervisor(workerSupervision))
}

func (t *teamActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *Chat:
		t.chat(ctx, msg)
	case *finished:
		// Usage accounting lands here (limits and spend build on it).
	case *GetSpend:
		ctx.Respond(&SpendInfo{Keys: map[string]KeySpend{}})
	case *ListModels:
		ctx.Respond(&ModelList{Models: t.names})
	case *updateTeam:
		t.configure(msg.cfg)
	}
}

func (t *teamActor) configure(cfg *teamConfig) {
	t.cfg = cfg
	t.aliases = map[string]string{}
	t.own = map[string][]*configs.Deployment{}
	t.global = map[string][]*configs.Deployment{}
	if t.next == nil {
		t.next = map[string]uint64{}
	}
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
	}
	for _, d := range cfg.global {
		t.global[d.ModelName] = append(t.global[d.ModelName], d)
		add(d.ModelName, "gateway", nil)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	t.names = names
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
	return name, t.global[name]
}

func (t *teamActor) chat(ctx actor.Context, msg *Chat) {
	resolved, group := t.resolve(msg.Model)
	if len(group) == 0 {
		ctx.Respond(&ChatResult{Err: wire.BadRequest(
			"model %q does not exist for this key; call GET /v1/models to list the models you can use", msg.Model)})
		return
	}
	d := group[0]
	if len(group) > 1 {
		n := t.next[resolved]
		t.next[resolved] = n + 1
		d = group[n%uint64(len(group))]
	}
	p := t.providers[d.Provider]
	if p == nil {
		ctx.Respond(&ChatResult{Err: wire.Errorf(500, wire.TypeInternal,
			"deployment %s uses provider %q, which this gateway build does not include", d.ModelInfo.ID, d.Provider)})
		return
	}
	j := &job{
		chat:     msg,
		dep:      d,
		provider: p,
		replyTo:  ctx.Sender(),
		timeout:  t.timeout(d, msg.Stream),
	}
	ctx.Spawn(actor.PropsFromProducer(func() actor.Actor { return &worker{job: j} }))
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
