package actors

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// fakeProvider answers after its gate opens for models named "slow", at
// once otherwise, and panics for models named "boom".
type fakeProvider struct {
	gate     chan struct{}
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (f *fakeProvider) Complete(call *providers.Call) (*providers.Response, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	switch call.Deployment.UpstreamModel {
	case "slow":
		<-f.gate
	case "boom":
		panic("provider bug")
	case "nousage":
		return &providers.Response{Status: 200, Body: []byte(`{"model":"x","choices":[{"message":{"role":"assistant","content":"several words of an answer"}}]}`)}, nil
	case "html":
		return &providers.Response{Status: 200, ContentType: "text/html", Body: []byte(`<html>proxy login</html>`)}, nil
	}
	return &providers.Response{Status: 200, Body: []byte(`{"model":"x","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}`)}, nil
}

func (f *fakeProvider) OpenStream(*providers.Call) (providers.Stream, error) {
	return nil, wire.Errorf(502, wire.TypeUpstream, "no streams here")
}

func dep(id, public, upstream string) *configs.Deployment {
	return &configs.Deployment{
		ModelName:     "model_name_t1_" + id,
		LiteLLMParams: configs.LiteLLMParams{Model: "fake/" + upstream},
		ModelInfo:     configs.ModelInfo{ID: id, TeamID: "t1", TeamPublicModelName: public},
		Provider:      "fake",
		UpstreamModel: upstream,
	}
}

func startTeam(t *testing.T, f *fakeProvider, deps ...*configs.Deployment) (*actor.ActorSystem, *Directory) {
	system, dir, _ := startTeamWithRegistry(t, f, deps...)
	return system, dir
}

func startTeamWithRegistry(t *testing.T, f *fakeProvider, deps ...*configs.Deployment) (*actor.ActorSystem, *Directory, *actor.PID) {
	t.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(system.Shutdown)
	snap := &configs.Snapshot{
		Settings:        configs.Settings{Timeout: time.Minute},
		Teams:           map[string]*configs.Team{"t1": {TeamID: "t1"}},
		TeamDeployments: map[string][]*configs.Deployment{"t1": deps},
		Files:           map[string]string{},
	}
	dir := &Directory{}
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": f}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: snap}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	return system, dir, reg
}

func ask(t *testing.T, system *actor.ActorSystem, pid *actor.PID, model string) *ChatResult {
	t.Helper()
	res, err := Call(system.Root, pid, &Chat{Model: model, Body: []byte(`{"model":"` + model + `","messages":[]}`)}, 10*time.Second)
	if err != nil {
		t.Errorf("asking for %s: %v", model, err)
		return nil
	}
	return res
}

func TestTeamActorAnswersWhileACallHangs(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	system, dir := startTeam(t, f, dep("d1", "slow-model", "slow"), dep("d2", "fast-model", "fast"))
	pid, _ := dir.Team("t1")

	hung := make(chan *ChatResult, 1)
	go func() { hung <- ask(t, system, pid, "slow-model") }()
	for f.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The slow call is in flight; the team keeps answering other calls.
	for i := 0; i < 20; i++ {
		res := ask(t, system, pid, "fast-model")
		if res == nil || res.Err != nil || string(res.Body) == "" {
			t.Fatalf("fast call %d while another hangs: %+v", i, res)
		}
	}
	select {
	case <-hung:
		t.Fatal("the hanging call returned before its upstream answered")
	default:
	}
	close(f.gate)
	if res := <-hung; res == nil || res.Err != nil {
		t.Fatalf("slow call: %+v", res)
	}
}

func TestHundredCallsRunConcurrently(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	system, dir := startTeam(t, f, dep("d1", "slow-model", "slow"))
	pid, _ := dir.Team("t1")

	var wg sync.WaitGroup
	results := make(chan *ChatResult, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results <- ask(t, system, pid, "slow-model") }()
	}
	// All 100 reach the upstream at once: none waits for another.
	deadline := time.Now().Add(5 * time.Second)
	for f.inFlight.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := f.inFlight.Load(); got != 100 {
		t.Fatalf("%d calls in flight at once, want 100", got)
	}
	close(f.gate)
	wg.Wait()
	close(results)
	for r := range results {
		if r == nil || r.Err != nil {
			t.Fatalf("call failed: %+v", r)
		}
	}
}

func TestWorkerPanicKeepsTeamAlive(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	system, dir := startTeam(t, f, dep("d1", "boom-model", "boom"), dep("d2", "fast-model", "fast"))
	pid, _ := dir.Team("t1")
	res := ask(t, system, pid, "boom-model")
	if res == nil || res.Err == nil || res.Err.Status != 500 {
		t.Fatalf("panicking call: want a 500 answer, got %+v", res)
	}
	if res := ask(t, system, pid, "fast-model"); res == nil || res.Err != nil {
		t.Fatalf("team after a worker panic: %+v", res)
	}
}

func TestResolutionOrderAndShuffle(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	a, b := dep("a", "grp", "fast"), dep("b", "grp", "fast")
	system, dir := startTeam(t, f, a, b)
	pid, _ := dir.Team("t1")
	got := map[string]int{}
	for i := 0; i < 200; i++ {
		got[ask(t, system, pid, "grp").Deployment.ModelInfo.ID]++
	}
	// simple-shuffle: an even random share (binomial, 200 draws: 100 +- 7).
	if got["a"] < 60 || got["b"] < 60 {
		t.Fatalf("shuffle over a group of two: got %v", got)
	}
	if res := ask(t, system, pid, "nope"); res.Err == nil || res.Err.Status != 400 {
		t.Fatalf("unknown model: want 400, got %+v", res)
	}
	// the internal name also resolves for the owning team
	if res := ask(t, system, pid, a.ModelName); res.Err != nil {
		t.Fatalf("internal name: %+v", res.Err)
	}
}

func TestRemovedTeamFinishesCallsInFlight(t *testing.T) {
	f := &fakeProvider{gate: make(chan struct{})}
	system, dir, reg := startTeamWithRegistry(t, f, dep("d1", "slow-model", "slow"))
	pid, _ := dir.Team("t1")
	hung := make(chan *ChatResult, 1)
	go func() { hung <- ask(t, system, pid, "slow-model") }()
	for f.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The team disappears from the configuration mid-call.
	empty := &configs.Snapshot{Settings: configs.Settings{Timeout: time.Minute}, Teams: map[string]*configs.Team{},
		TeamDeployments: map[string][]*configs.Deployment{}, Files: map[string]string{}}
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: empty}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	if _, ok := dir.Team("t1"); ok {
		t.Fatal("the removed team is still routed")
	}
	// A call that still reaches the old actor is refused, not lost.
	if res := ask(t, system, pid, "slow-model"); res == nil || res.Err == nil || res.Err.Status != 401 {
		t.Fatalf("call to a removed team: %+v", res)
	}
	close(f.gate)
	select {
	case res := <-hung:
		if res == nil || res.Err != nil {
			t.Fatalf("the call in flight did not finish on its configuration: %+v", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight was lost when its team was removed")
	}
	// With no call left the retired actor stops. A call that still holds
	// its PID gets a 401 from the dead letters at once, not after its
	// 30 s timeout.
	for i := 0; ; i++ {
		if _, alive := system.ProcessRegistry.GetLocal(pid.Id); !alive {
			break
		}
		if i == 500 {
			t.Fatal("the retired team actor did not stop once its last call finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	answered := make(chan *ChatResult, 1)
	go func() {
		res, err := Call(system.Root, pid, &Chat{Model: "slow-model", Body: []byte(`{"model":"slow-model","messages":[]}`)}, 30*time.Second)
		if err != nil {
			t.Errorf("call to a stopped team actor: %v", err)
		}
		answered <- res
	}()
	select {
	case res := <-answered:
		if res == nil || res.Err == nil || res.Err.Status != 401 {
			t.Fatalf("call to a stopped team actor: want a 401, got %+v", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call to a stopped team actor waited for its timeout instead of a 401")
	}
}

func TestUsageOfReadsCacheTokens(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]Usage{
		`{"prompt_tokens":75,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":30},"cache_creation_input_tokens":5,"cache_read_input_tokens":30}`: {PromptTokens: 75, CompletionTokens: 9, CacheReadTokens: 30, CacheWriteTokens: 5, Reported: true},
		`{"cache_read_input_tokens":7,"prompt_tokens":10,"completion_tokens":1}`:                                                                               {PromptTokens: 10, CompletionTokens: 1, CacheReadTokens: 7, Reported: true},
		`{"cache_read_input_tokens":7,"prompt_tokens_details":{"cached_tokens":3},"prompt_tokens":10}`:                                                         {PromptTokens: 10, CacheReadTokens: 3, Reported: true},
		`{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}`:                                                                                           {PromptTokens: 4, CompletionTokens: 2, Reported: true},
	} {
		if got := UsageOf([]byte(raw)); got.PromptTokens != want.PromptTokens || got.CompletionTokens != want.CompletionTokens ||
			got.CacheReadTokens != want.CacheReadTokens || got.CacheWriteTokens != want.CacheWriteTokens || !got.Reported {
			t.Errorf("%s: %+v, want %+v", raw, got, want)
		}
	}
}
