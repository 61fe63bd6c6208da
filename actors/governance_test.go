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
	"github.com/llmgateway/gateway/spend"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type memStore struct {
	mu     sync.Mutex
	loaded map[string]spend.Team
	deltas []spend.Delta
}

func (m *memStore) Load(id string) spend.Team {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.loaded[id]; ok {
		return t
	}
	return spend.Team{Keys: map[string]*spend.Record{}}
}

func (m *memStore) Add(d spend.Delta) {
	m.mu.Lock()
	m.deltas = append(m.deltas, d)
	m.mu.Unlock()
}

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }

type govTeam struct {
	system *actor.ActorSystem
	pid    *actor.PID
	clock  *fakeClock
	store  *memStore
}

func startGov(t *testing.T, team *configs.Team, f *fakeProvider, store *memStore, deps ...*configs.Deployment) *govTeam {
	t.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(system.Shutdown)
	if store == nil {
		store = &memStore{}
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	snap := &configs.Snapshot{
		Settings:        configs.Settings{Timeout: time.Minute},
		Teams:           map[string]*configs.Team{team.TeamID: team},
		TeamDeployments: map[string][]*configs.Deployment{team.TeamID: deps},
		Files:           map[string]string{},
	}
	dir := &Directory{}
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": f}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithClock(clock.Now), WithSpendStore(store)))
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: snap}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	pid, _ := dir.Team(team.TeamID)
	return &govTeam{system: system, pid: pid, clock: clock, store: store}
}

func (g *govTeam) call(t *testing.T, model string, key *configs.Key) *ChatResult {
	t.Helper()
	res, err := Call(g.system.Root, g.pid, &Chat{Model: model, Key: key,
		Body: []byte(`{"model":"` + model + `","messages":[]}`)}, 10*time.Second)
	if err != nil {
		t.Fatalf("asking for %s: %v", model, err)
	}
	return res
}

func (g *govTeam) spend(t *testing.T, tokens ...string) *SpendInfo {
	t.Helper()
	v, err := g.system.Root.RequestFuture(g.pid, &GetSpend{KeyTokens: tokens}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return v.(*SpendInfo)
}

func wantStatus(t *testing.T, res *ChatResult, status int, says string) {
	t.Helper()
	if status == 200 {
		if res.Err != nil {
			t.Fatalf("want success, got %v", res.Err)
		}
		return
	}
	if res.Err == nil || res.Err.Status != status || !strings.Contains(res.Err.Message, says) {
		t.Fatalf("want %d saying %q, got %+v", status, says, res.Err)
	}
}

func TestWindowSlidesExactly(t *testing.T) {
	var w window
	base := int64(1e18)
	for i := int64(0); i < 100; i++ {
		w.add(base+i*int64(time.Second), 1, 0)
	}
	w.evict(base + 99*int64(time.Second))
	if w.sum != 60 {
		t.Fatalf("sum %d after 99 s, want the last 60 (entries at 40..99 s)", w.sum)
	}
	if at := w.freeAt(base+99*int64(time.Second), 60); at != base+100*int64(time.Second) {
		t.Fatalf("freeAt %d, want the 40 s entry + 60 s", at-base)
	}
	// granularity merges entries of one second
	var g window
	g.add(base, 5, int64(time.Second))
	g.add(base+int64(time.Millisecond), 5, int64(time.Second))
	g.add(base+int64(time.Second), 5, int64(time.Second))
	if g.size != 2 || g.sum != 15 {
		t.Fatalf("merged window size %d sum %d", g.size, g.sum)
	}
}

func TestNextReset(t *testing.T) {
	start := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		dur  string
		now  time.Time
		want time.Time
	}{
		{"30s", start, start.Add(30 * time.Second)},
		{"30s", start.Add(95 * time.Second), start.Add(120 * time.Second)},
		{"1d", start.Add(36 * time.Hour), start.Add(48 * time.Hour)},
		{"1mo", start.Add(24 * time.Hour), start.AddDate(0, 1, 0)},
		{"1mo", time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), start.AddDate(0, 4, 0)},
		{"", start, time.Time{}},
	}
	for _, c := range cases {
		if got := nextReset(start, c.dur, c.now, nil); !got.Equal(c.want) {
			t.Errorf("nextReset(%s, now %s) = %s, want %s", c.dur, c.now, got, c.want)
		}
	}
}

func TestRPMSlidingWindowWithClock(t *testing.T) {
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{RPMLimit: i64(3)}}
	g := startGov(t, team, &fakeProvider{}, nil, dep("d1", "m", "fast"))
	for i := 0; i < 3; i++ {
		res := g.call(t, "m", nil)
		wantStatus(t, res, 200, "")
		if res.RemainingRequests != int64(2-i) {
			t.Errorf("call %d: remaining requests %d, want %d", i, res.RemainingRequests, 2-i)
		}
		g.clock.Advance(10 * time.Second)
	}
	res := g.call(t, "m", nil) // at 30 s: 3 in the window
	wantStatus(t, res, 429, "Team=t1")
	if !strings.Contains(res.Err.Message, "rpm_limit 3") || res.Err.RetryAfter != 30 {
		t.Fatalf("refusal: %+v, want rpm_limit 3 and retry-after 30", res.Err)
	}
	g.clock.Advance(30*time.Second - time.Nanosecond) // 59.999... s: still full
	wantStatus(t, g.call(t, "m", nil), 429, "rpm_limit")
	g.clock.Advance(time.Nanosecond) // 60 s: the first admission slid out
	wantStatus(t, g.call(t, "m", nil), 200, "")
	wantStatus(t, g.call(t, "m", nil), 429, "rpm_limit")
}

func TestKeyLimitsInsideTeam(t *testing.T) {
	key := &configs.Key{Token: "tok1", KeyAlias: "ci", Limits: configs.Limits{RPMLimit: i64(1)}}
	other := &configs.Key{Token: "tok2", KeyAlias: "other"}
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{RPMLimit: i64(3)}, Keys: []*configs.Key{key, other}}
	g := startGov(t, team, &fakeProvider{}, nil, dep("d1", "m", "fast"))
	wantStatus(t, g.call(t, "m", key), 200, "")
	wantStatus(t, g.call(t, "m", key), 429, "Key=ci")
	// the key's refusal did not use the team's allowance
	wantStatus(t, g.call(t, "m", other), 200, "")
	wantStatus(t, g.call(t, "m", other), 200, "")
	wantStatus(t, g.call(t, "m", other), 429, "Team=t1")
}

func TestParallelLimitFreesSlots(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{MaxParallelRequests: i64(2)}}
	g := startGov(t, team, f, nil, dep("d1", "slow", "slow"), dep("d2", "fast", "fast"))
	done := make(chan *ChatResult, 2)
	for i := 0; i < 2; i++ {
		go func() { done <- g.call(t, "slow", nil) }()
	}
	for f.inFlight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	res := g.call(t, "fast", nil)
	wantStatus(t, res, 429, "max_parallel_requests 2")
	if res.Err.RetryAfter < 1 {
		t.Errorf("no retry-after on a parallel refusal")
	}
	close(f.gate)
	<-done
	<-done
	wantStatus(t, g.call(t, "fast", nil), 200, "")
}

func TestTPMFromUsage(t *testing.T) {
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{TPMLimit: i64(5)}}
	g := startGov(t, team, &fakeProvider{}, nil, dep("d1", "m", "fast"))
	wantStatus(t, g.call(t, "m", nil), 200, "") // 3 tokens
	res := g.call(t, "m", nil)                  // 6 tokens
	wantStatus(t, res, 200, "")
	if res.RemainingTokens != 0 {
		t.Errorf("remaining tokens %d, want 0", res.RemainingTokens)
	}
	wantStatus(t, g.call(t, "m", nil), 429, "tpm_limit 5")
	g.clock.Advance(61 * time.Second)
	wantStatus(t, g.call(t, "m", nil), 200, "")
}

func TestBudgetExceededAndReset(t *testing.T) {
	d := dep("d1", "m", "fast")
	d.LiteLLMParams.InputCostPerToken = f64(0.5) // 1 prompt token
	d.LiteLLMParams.OutputCostPerToken = f64(1)  // 2 completion tokens: 2.5 per call
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{MaxBudget: f64(4), BudgetDuration: "1d"}}
	g := startGov(t, team, &fakeProvider{}, nil, d)
	res := g.call(t, "m", nil)
	wantStatus(t, res, 200, "")
	if res.Cost != 2.5 {
		t.Errorf("cost %v, want 2.5", res.Cost)
	}
	wantStatus(t, g.call(t, "m", nil), 200, "") // spend 5 >= 4 now
	res = g.call(t, "m", nil)
	wantStatus(t, res, 429, "spend 5 USD >= max_budget 4 USD")
	if res.Err.Type != "budget_exceeded" || !strings.Contains(res.Err.Message, "2026-01-02T00:00:00Z") || res.Err.RetryAfter != 86400 {
		t.Fatalf("budget refusal %+v", res.Err)
	}
	info := g.spend(t)
	if info.TeamSpend != 5 || info.BudgetResetAt == nil || !info.BudgetResetAt.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("spend info %+v", info)
	}
	g.clock.Advance(24 * time.Hour)
	wantStatus(t, g.call(t, "m", nil), 200, "")
	info = g.spend(t)
	if info.TeamSpend != 2.5 || !info.BudgetResetAt.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the reset: %+v", info)
	}
	// the store saw the reset and the deltas
	g.store.mu.Lock()
	defer g.store.mu.Unlock()
	var sum float64
	reset := false
	for _, dl := range g.store.deltas {
		if dl.NewPeriod {
			reset, sum = true, 0
		}
		sum += dl.Spend
	}
	if !reset || sum != 2.5 {
		t.Fatalf("store deltas %+v", g.store.deltas)
	}
}

func TestSpendLoadedOnStart(t *testing.T) {
	store := &memStore{loaded: map[string]spend.Team{"t1": {
		Team: &spend.Record{Spend: 3, PeriodStart: time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC),
			ResetAt: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)},
		Keys: map[string]*spend.Record{"tok1": {Spend: 1.25, PeriodStart: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}},
	}}}
	key := &configs.Key{Token: "tok1", Limits: configs.Limits{MaxBudget: f64(1)}}
	team := &configs.Team{TeamID: "t1", Limits: configs.Limits{MaxBudget: f64(10), BudgetDuration: "1d"}, Keys: []*configs.Key{key}}
	g := startGov(t, team, &fakeProvider{}, store, dep("d1", "m", "fast"))
	info := g.spend(t, "tok1", "not-a-key")
	if info.TeamSpend != 3 || info.Keys["tok1"].Spend != 1.25 || info.Keys["tok1"].BudgetResetAt != nil || len(info.Keys) != 1 {
		t.Fatalf("loaded spend %+v", info)
	}
	wantStatus(t, g.call(t, "m", key), 429, "Key=token:tok1")
}

func TestAllowlistsAndBlocked(t *testing.T) {
	blockedKey := &configs.Key{Token: "b", KeyAlias: "bk", Blocked: true}
	narrow := &configs.Key{Token: "n", KeyAlias: "nk", Models: []string{"own"}}
	team := &configs.Team{TeamID: "t1", Models: []string{"g1"}, ModelAliases: map[string]string{"fast": "g2"},
		Keys: []*configs.Key{blockedKey, narrow}}
	f := &fakeProvider{}
	g2 := startGovWithGlobal(t, team, f)
	wantStatus(t, g2.call(t, "own", nil), 200, "")  // own models always allowed
	wantStatus(t, g2.call(t, "g1", nil), 200, "")   // listed
	wantStatus(t, g2.call(t, "fast", nil), 200, "") // explicit alias
	res := g2.call(t, "g2", nil)                    // the alias's target by its own name is not listed
	wantStatus(t, res, 403, `Team=t1 is not allowed to call model "g2"; allowed models: fast, g1, own`)
	wantStatus(t, g2.call(t, "nope", nil), 400, "does not exist")
	wantStatus(t, g2.call(t, "g1", narrow), 403, `Key=nk is not allowed to call model "g1"; allowed models: own`)
	wantStatus(t, g2.call(t, "own", narrow), 200, "")
	wantStatus(t, g2.call(t, "own", blockedKey), 403, "Key=bk is blocked. Ask an admin to unblock it via /key/unblock")

	blockedTeam := &configs.Team{TeamID: "t1", Blocked: true}
	g3 := startGov(t, blockedTeam, f, nil, dep("d1", "own", "fast"))
	wantStatus(t, g3.call(t, "own", nil), 403, "Team=t1 is blocked. Ask an admin to unblock it via /team/unblock")
}

func startGovWithGlobal(t *testing.T, team *configs.Team, f *fakeProvider) *govTeam {
	t.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(system.Shutdown)
	glob := func(name string) *configs.Deployment {
		return &configs.Deployment{ModelName: name, LiteLLMParams: configs.LiteLLMParams{Model: "fake/fast"},
			ModelInfo: configs.ModelInfo{ID: name}, Provider: "fake", UpstreamModel: "fast"}
	}
	snap := &configs.Snapshot{
		Settings:        configs.Settings{Timeout: time.Minute},
		Teams:           map[string]*configs.Team{team.TeamID: team},
		TeamDeployments: map[string][]*configs.Deployment{team.TeamID: {dep("d1", "own", "fast")}},
		Global:          []*configs.Deployment{glob("g1"), glob("g2")},
		Files:           map[string]string{},
	}
	dir := &Directory{}
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": f}, nil))
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: snap}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	pid, _ := dir.Team(team.TeamID)
	return &govTeam{system: system, pid: pid}
}

func TestStreamUsageSupported(t *testing.T) {
	no := false
	cases := []struct {
		provider, version string
		optOut            bool
		want              bool
	}{
		{"openai", "", false, true},
		{"openai", "", true, false},
		{"azure", "", false, true},
		{"azure", "2024-10-21", false, true},
		{"azure", "2025-01-01-preview", false, true},
		{"azure", "2024-06-01", false, false},
		{"azure", "2023-12-01-preview", false, false},
	}
	for _, c := range cases {
		d := &configs.Deployment{Provider: c.provider, LiteLLMParams: configs.LiteLLMParams{APIVersion: c.version}}
		if c.optOut {
			d.LiteLLMParams.StreamIncludeUsage = &no
		}
		if got := StreamUsageSupported(d); got != c.want {
			t.Errorf("%s %s opt-out=%v: %v, want %v", c.provider, c.version, c.optOut, got, c.want)
		}
	}
}
