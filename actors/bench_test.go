package actors

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
)

// The microbenchmarks of the per-request path inside actors/: key lookup,
// name resolution and the actor round trip. Run with
//
//	go test ./actors -run '^$' -bench . -benchmem

// instantProvider answers every call at once with a fixed small body.
type instantProvider struct{}

var instantBody = []byte(`{"id":"x","object":"chat.completion","model":"gpt-fake","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}`)

func (instantProvider) Complete(*providers.Call) (*providers.Response, error) {
	return &providers.Response{Status: 200, Body: instantBody}, nil
}

func (instantProvider) OpenStream(*providers.Call) (providers.Stream, error) {
	panic("not used")
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func benchKey(i int) string { return fmt.Sprintf("sk-bench-%06d", i) }

// benchSnapshot builds teams teams with one key and deps deployments each.
func benchSnapshot(teams, deps int) *configs.Snapshot {
	snap := &configs.Snapshot{
		Settings:        configs.Settings{Timeout: time.Minute, MasterKey: "sk-master"},
		Teams:           map[string]*configs.Team{},
		TeamDeployments: map[string][]*configs.Deployment{},
		Files:           map[string]string{},
	}
	for i := range teams {
		id := fmt.Sprintf("team-%06d", i)
		snap.Teams[id] = &configs.Team{TeamID: id, Keys: []*configs.Key{{Token: configs.HashKey(benchKey(i))}}}
		for j := range deps {
			snap.TeamDeployments[id] = append(snap.TeamDeployments[id], &configs.Deployment{
				ModelName:     fmt.Sprintf("model_name_%s_%d", id, j),
				LiteLLMParams: configs.LiteLLMParams{Model: fmt.Sprintf("fake/up-%d", j)},
				ModelInfo:     configs.ModelInfo{ID: fmt.Sprintf("%s-%d", id, j), TeamID: id, TeamPublicModelName: fmt.Sprintf("model-%d", j)},
				Provider:      "fake",
				UpstreamModel: fmt.Sprintf("up-%d", j),
			})
		}
	}
	return snap
}

// startRegistry applies snap through the real registry.
func startRegistry(b *testing.B, snap *configs.Snapshot) (*actor.ActorSystem, *Directory) {
	b.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quietLog() }))
	b.Cleanup(system.Shutdown)
	dir := &Directory{}
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": instantProvider{}}, quietLog()))
	if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: snap}, time.Minute).Result(); err != nil {
		b.Fatal(err)
	}
	return system, dir
}

// BenchmarkAuthenticate is the per-request key lookup: sha256 of the key
// and one map lookup, at 1 and 10,000 teams.
func BenchmarkAuthenticate(b *testing.B) {
	for _, teams := range []int{1, 10000} {
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) {
			_, dir := startRegistry(b, benchSnapshot(teams, 1))
			key := benchKey(teams / 2)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := dir.Authenticate(key); !ok {
					b.Fatal("key not found")
				}
			}
		})
	}
	b.Run("master", func(b *testing.B) {
		_, dir := startRegistry(b, benchSnapshot(1, 1))
		b.ReportAllocs()
		for b.Loop() {
			if r, ok := dir.Authenticate("sk-master"); !ok || !r.Master {
				b.Fatal("master key not found")
			}
		}
	})
}

// BenchmarkResolve is the team actor's name resolution (aliases, own
// deployments, global deployments), without the actor.
func BenchmarkResolve(b *testing.B) {
	snap := benchSnapshot(1, 5)
	id := "team-000000"
	snap.Teams[id].ModelAliases = map[string]string{"fast": "model-3"}
	snap.Global = []*configs.Deployment{{ModelName: "gpt-global", Provider: "fake", ModelInfo: configs.ModelInfo{ID: "g"}}}
	t := newTeamActor(&teamConfig{team: snap.Teams[id], own: snap.TeamDeployments[id], global: snap.Global, settings: snap.Settings},
		newEnv(map[string]providers.Provider{"fake": instantProvider{}}, quietLog(), nil))
	for _, name := range []string{"model-4", "fast", "gpt-global", "missing"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = t.resolve(name)
			}
		})
	}
}

// echo answers every message with itself: the bare RequestFuture cost.
type echo struct{}

func (echo) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*Chat); ok {
		ctx.Respond(ctx.Message())
	}
}

// BenchmarkRequestFuture is the bare protoactor request/response: a
// RequestFuture to an actor that answers at once.
func BenchmarkRequestFuture(b *testing.B) {
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quietLog() }))
	b.Cleanup(system.Shutdown)
	pid := system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }))
	msg := &Chat{Model: "x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := system.Root.RequestFuture(pid, msg, time.Second).Result(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatRoundTrip is the whole actor path of one unary call, as the
// gateway's handler runs it: RequestFuture to the team actor, admission,
// a worker spawned per request, the body's model rewritten, the (instant)
// provider called, the answer's model rewritten, the reply, the usage
// reported back to the team actor.
func BenchmarkChatRoundTrip(b *testing.B) {
	snap := benchSnapshot(1, 5)
	system, dir := startRegistry(b, snap)
	route, ok := dir.Authenticate(benchKey(0))
	if !ok {
		b.Fatal("key not found")
	}
	body := []byte(`{"model":"model-2","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}`)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Call(system.Root, route.PID, &Chat{Model: "model-2", Body: body, Key: route.Key}, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkChatRoundTripParallel is BenchmarkChatRoundTrip from many
// goroutines at once: contention on the one team actor's mailbox.
func BenchmarkChatRoundTripParallel(b *testing.B) {
	snap := benchSnapshot(1, 5)
	system, dir := startRegistry(b, snap)
	route, _ := dir.Authenticate(benchKey(0))
	body := []byte(`{"model":"model-2","messages":[{"role":"user","content":"hi"}]}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := Call(system.Root, route.PID, &Chat{Model: "model-2", Body: body, Key: route.Key}, 5*time.Second)
			if err != nil {
				b.Error(err)
				return
			}
			if res.Err != nil {
				b.Error(res.Err)
				return
			}
		}
	})
}

// BenchmarkApplyOneTeamChanged is the registry's apply of a snapshot of
// 10,000 teams x 5 deployments where one team's file changed: the diff by
// fingerprint, one actor update and the directory's rebuild.
//
//	go test ./actors -run '^$' -bench ApplyOneTeamChanged -benchmem
func BenchmarkApplyOneTeamChanged(b *testing.B) {
	snap := benchSnapshot(10000, 5)
	for id, t := range snap.Teams {
		t.Source.File = "teams.d/" + id + ".yaml"
		snap.Files[t.Source.File] = "h0"
		for _, d := range snap.TeamDeployments[id] {
			d.Source.File = "models.d/" + id + ".yaml"
			snap.Files[d.Source.File] = "h0"
		}
	}
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quietLog() }))
	b.Cleanup(system.Shutdown)
	dir := &Directory{}
	reg := system.Root.Spawn(RegistryProps(dir, map[string]providers.Provider{"fake": instantProvider{}}, quietLog()))
	apply := func(s *configs.Snapshot) {
		if _, err := system.Root.RequestFuture(reg, &ApplySnapshot{Snapshot: s}, time.Minute).Result(); err != nil {
			b.Fatal(err)
		}
	}
	apply(snap)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		i++
		next := *snap
		next.Teams = maps.Clone(snap.Teams)
		next.Files = maps.Clone(snap.Files)
		id := fmt.Sprintf("team-%06d", i%10000)
		t := *snap.Teams[id]
		next.Teams[id] = &t
		next.Files[t.Source.File] = fmt.Sprintf("h%d", i)
		next.Hash = fmt.Sprintf("%d", i)
		snap = &next
		b.StartTimer()
		apply(snap)
	}
}
