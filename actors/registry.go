package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway/providers"
)

// masterName is the actor that serves the master key's calls (global
// deployments, no team).
const masterName = "master"

// registry turns snapshots into team actors: it spawns actors for new
// teams, updates only the ones whose configuration changed, stops the ones
// removed, and then publishes the directory.
type registry struct {
	env *env
	dir *Directory
	log *slog.Logger

	master      *actor.PID
	globalPrint string
	teams       map[string]*teamEntry
}

type teamEntry struct {
	pid   *actor.PID
	print string
}

// teamSupervision resumes a team actor that panicked on a message: its
// state (counters, spend) is kept.
var teamSupervision = actor.NewOneForOneStrategy(10, 0, func(any) actor.Directive {
	return actor.ResumeDirective
})

// RegistryProps builds the registry actor. Options set the clock and the
// spend store the team actors use.
func RegistryProps(dir *Directory, provs map[string]providers.Provider, log *slog.Logger, opts ...Option) *actor.Props {
	e := newEnv(provs, log, opts)
	return actor.PropsFromProducer(func() actor.Actor {
		return &registry{env: e, dir: dir, log: e.log, teams: map[string]*teamEntry{}}
	}, actor.WithSupervisor(teamSupervision))
}

func (r *registry) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *ApplySnapshot:
		ctx.Respond(r.apply(ctx, msg.Snapshot))
	}
}

func (r *registry) apply(ctx actor.Context, snap *configs.Snapshot) *Applied {
	var res Applied
	gprint := globalFingerprint(snap)
	globalChanged := gprint != r.globalPrint
	r.globalPrint = gprint

	masterCfg := &teamConfig{global: snap.Global, settings: snap.Settings}
	if r.master == nil {
		pid, err := ctx.SpawnNamed(teamProps(masterCfg, r.env), masterName)
		if err != nil {
			pid = ctx.SpawnPrefix(teamProps(masterCfg, r.env), masterName)
		}
		r.master = pid
	} else if globalChanged {
		ctx.Send(r.master, &updateTeam{cfg: masterCfg})
	}

	live := make(map[string]*actor.PID, len(snap.Teams))
	for id, team := range snap.Teams {
		cfg := &teamConfig{team: team, own: snap.TeamDeployments[id], global: snap.Global, settings: snap.Settings}
		print := teamFingerprint(snap, id)
		e, ok := r.teams[id]
		switch {
		case !ok:
			pid, err := ctx.SpawnNamed(teamProps(cfg, r.env), "team-"+id)
			if err != nil { // the name of a just-stopped actor may linger
				pid = ctx.SpawnPrefix(teamProps(cfg, r.env), "team-"+id+"-")
			}
			e = &teamEntry{pid: pid, print: print}
			r.teams[id] = e
			res.Spawned++
		case e.print != print || globalChanged:
			e.print = print
			ctx.Send(e.pid, &updateTeam{cfg: cfg})
			res.Updated++
		}
		live[id] = e.pid
	}
	for id, e := range r.teams {
		if _, ok := snap.Teams[id]; !ok {
			ctx.Poison(e.pid) // in-flight workers finish; new calls cannot route here
			delete(r.teams, id)
			res.Stopped++
		}
	}
	r.dir.publish(snap, r.master, live)
	r.log.Debug("snapshot applied", "hash", snap.Hash, "spawned", res.Spawned, "updated", res.Updated, "stopped", res.Stopped)
	return &res
}

// teamFingerprint identifies a team's configuration: its file's content
// and the files of its deployments. Settings changes count too.
func teamFingerprint(snap *configs.Snapshot, id string) string {
	h := sha256.New()
	t := snap.Teams[id]
	h.Write([]byte(t.Source.File + "\x00" + snap.Files[t.Source.File] + "\x00"))
	var parts []string
	for _, d := range snap.TeamDeployments[id] {
		parts = append(parts, d.ModelInfo.ID+"\x00"+d.Source.File+"\x00"+snap.Files[d.Source.File])
	}
	sort.Strings(parts)
	for _, p := range parts {
		h.Write([]byte(p + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// globalFingerprint identifies everything every team depends on: the
// global deployments and the settings.
func globalFingerprint(snap *configs.Snapshot) string {
	h := sha256.New()
	for _, d := range snap.Global {
		h.Write([]byte(d.ModelInfo.ID + "\x00" + d.Source.File + "\x00" + snap.Files[d.Source.File] + "\x00"))
	}
	s := snap.Settings
	h.Write([]byte(s.Timeout.String() + s.MasterKey + "\x00" + s.SaltKey))
	return hex.EncodeToString(h.Sum(nil))
}
