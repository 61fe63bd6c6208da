package actors

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
)

type recAlerter struct {
	mu     sync.Mutex
	urls   []string
	alerts []any
}

func (r *recAlerter) Send(url string, a any) {
	r.mu.Lock()
	r.urls, r.alerts = append(r.urls, url), append(r.alerts, a)
	r.mu.Unlock()
}

// startKeyFields is startGov with settings and extra options.
func startKeyFields(t *testing.T, team *configs.Team, s configs.Settings, opts ...Option) *govTeam {
	t.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(system.Shutdown)
	store := &memStore{}
	clock := &fakeClock{now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)} // a Wednesday
	s.Timeout = time.Minute
	d := dep("d1", "m", "fast")
	d.LiteLLMParams.InputCostPerToken, d.LiteLLMParams.OutputCostPerToken = f64(0.1), f64(0.1) // 0.3 USD a call
	d2 := dep("d2", "other", "fast")
	snap := &configs.Snapshot{Settings: s, Teams: map[string]*configs.Team{team.TeamID: team},
		TeamDeployments: map[string][]*configs.Deployment{team.TeamID: {d, d2}}, Files: map[string]string{}}
	dir := &Directory{}
	opts = append([]Option{WithClock(clock.Now), WithSpendStore(store)}, opts...)
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": &fakeProvider{}}, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...))
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: snap}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	pid, _ := dir.Team(team.TeamID)
	return &govTeam{system: system, pid: pid, clock: clock, store: store}
}

func TestModelLimitsInTheTeamActor(t *testing.T) {
	t.Parallel()
	key := &configs.Key{Token: strings.Repeat("a", 64), KeyAlias: "k",
		ModelRPMLimit:  map[string]int64{"m": 2},
		ModelMaxBudget: map[string]*configs.ModelBudget{"other": {BudgetLimit: 0.5, TimePeriod: "1h"}}}
	team := &configs.Team{TeamID: "t1", Keys: []*configs.Key{key}}
	g := startKeyFields(t, team, configs.Settings{})
	wantStatus(t, g.call(t, "m", key), 200, "")
	wantStatus(t, g.call(t, "m", key), 200, "")
	res := g.call(t, "m", key)
	wantStatus(t, res, 429, "model_rpm_limit[m] 2 requests per minute")
	if res.Err.RetryAfter < 1 || res.Err.Limit != "rpm" {
		t.Fatalf("retry-after %d limit %q", res.Err.RetryAfter, res.Err.Limit)
	}
	wantStatus(t, g.call(t, "other", key), 200, "") // its own limits only: 0 spend at admission
	wantStatus(t, g.call(t, "other", key), 200, "") // unpriced: still 0
	g.clock.Advance(61 * time.Second)
	wantStatus(t, g.call(t, "m", key), 200, "")
}

func TestModelBudgetAndSoftBudget(t *testing.T) {
	t.Parallel()
	key := &configs.Key{Token: strings.Repeat("b", 64), KeyAlias: "soft", KeyName: "sk-...bbbb", SoftBudget: f64(0.5),
		ModelMaxBudget: map[string]*configs.ModelBudget{"m": {BudgetLimit: 0.5, TimePeriod: "1d"}}}
	team := &configs.Team{TeamID: "t1", Keys: []*configs.Key{key}}
	al := &recAlerter{}
	g := startKeyFields(t, team, configs.Settings{AlertingWebhookURL: "http://hook.invalid/x", BudgetReset: time.UTC}, WithAlerter(al))
	r1 := g.call(t, "m", key)
	wantStatus(t, r1, 200, "")
	if r1.SoftBudgetExceeded {
		t.Fatal("soft budget flagged at 0 spend")
	}
	r2 := g.call(t, "m", key) // 0.3 < 0.5 at admission; 0.6 after
	wantStatus(t, r2, 200, "")
	g.spend(t, key.Token) // the finished messages are handled
	wantStatus(t, g.call(t, "m", key), 429, "model_max_budget[m]")
	r4 := g.call(t, "other", key)
	wantStatus(t, r4, 200, "")
	if !r4.SoftBudgetExceeded || r4.SoftBudget != 0.5 {
		t.Fatalf("after crossing: %+v", r4)
	}
	g.call(t, "other", key)
	g.spend(t, key.Token)
	al.mu.Lock()
	n := len(al.alerts)
	var a SoftBudgetAlert
	if n > 0 {
		a = al.alerts[0].(SoftBudgetAlert)
	}
	al.mu.Unlock()
	if n != 1 || a.KeyAlias != "soft" || a.Token != key.Token || a.SoftBudget != 0.5 || a.TeamID != "t1" || a.ResetAt != nil {
		t.Fatalf("alerts: %d %+v", n, a)
	}
	// Calendar resets (UTC): the model budget of 1d ends at midnight.
	res := g.call(t, "m", key)
	wantStatus(t, res, 429, "resets at 2026-03-05T00:00:00Z")
	g.clock.Advance(14 * time.Hour) // 2026-03-05 00:00
	wantStatus(t, g.call(t, "m", key), 200, "")
	var stored bool
	g.store.mu.Lock()
	for _, d := range g.store.deltas {
		if d.KeyToken == modelLimitID(key.Token, "m") && d.Spend > 0 {
			stored = true
		}
	}
	g.store.mu.Unlock()
	if !stored {
		t.Fatal("the model budget's spend is not stored")
	}
}
