package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
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
	scratch     []depPrint // for teamPrint.same
}

type teamEntry struct {
	pid   *actor.PID
	print teamPrint
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
	case *actor.Started:
		answerDeadLetters(ctx.ActorSystem())
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
		e, ok := r.teams[id]
		switch {
		case !ok:
			cfg := &teamConfig{team: team, own: snap.TeamDeployments[id], global: snap.Global, settings: snap.Settings}
			pid, err := ctx.SpawnNamed(teamProps(cfg, r.env), "team-"+id)
			if err != nil { // the name of a just-stopped actor may linger
				pid = ctx.SpawnPrefix(teamProps(cfg, r.env), "team-"+id+"-")
			}
			e = &teamEntry{pid: pid, print: newTeamPrint(snap, id)}
			r.teams[id] = e
			res.Spawned++
		case globalChanged || !e.print.same(snap, id, &r.scratch):
			cfg := &teamConfig{team: team, own: snap.TeamDeployments[id], global: snap.Global, settings: snap.Settings}
			e.print = newTeamPrint(snap, id)
			ctx.Send(e.pid, &updateTeam{cfg: cfg})
			res.Updated++
		}
		live[id] = e.pid
	}
	for id, e := range r.teams {
		if _, ok := snap.Teams[id]; !ok {
			// The directory no longer routes here; calls in flight finish
			// on the configuration they started with, then it stops.
			ctx.Send(e.pid, &retire{})
			delete(r.teams, id)
			res.Stopped++
		}
	}
	r.dir.publish(snap, r.master, live)
	r.log.Debug("snapshot applied", "hash", snap.Hash, "spawned", res.Spawned, "updated", res.Updated, "stopped", res.Stopped)
	return &res
}

// teamPrint identifies a team's configuration: its file's content and
// the files of its deployments (by id, in any order). Settings changes
// count too (see globalFingerprint). Comparing prints needs no hashing
// and, when the team is unchanged, no allocation, so an apply of 10,000
// teams where one changed costs a few map look-ups per team.
type teamPrint struct {
	file, hash string
	deps       []depPrint // sorted
}

type depPrint struct{ id, file, hash string }

func compareDepPrint(a, b depPrint) int {
	if c := strings.Compare(a.id, b.id); c != 0 {
		return c
	}
	if c := strings.Compare(a.file, b.file); c != 0 {
		return c
	}
	return strings.Compare(a.hash, b.hash)
}

// appendDepPrints appends the sorted prints of team id's deployments.
func appendDepPrints(dst []depPrint, snap *configs.Snapshot, id string) []depPrint {
	for _, d := range snap.TeamDeployments[id] {
		dst = append(dst, depPrint{d.ModelInfo.ID, d.Source.File, snap.Files[d.Source.File]})
	}
	slices.SortFunc(dst, compareDepPrint)
	return dst
}

func newTeamPrint(snap *configs.Snapshot, id string) teamPrint {
	t := snap.Teams[id]
	return teamPrint{file: t.Source.File, hash: snap.Files[t.Source.File], deps: appendDepPrints(nil, snap, id)}
}

// same reports whether team id of snap has print p. scratch is reused
// between calls.
func (p *teamPrint) same(snap *configs.Snapshot, id string, scratch *[]depPrint) bool {
	t := snap.Teams[id]
	if t.Source.File != p.file || snap.Files[t.Source.File] != p.hash || len(snap.TeamDeployments[id]) != len(p.deps) {
		return false
	}
	*scratch = appendDepPrints((*scratch)[:0], snap, id)
	return slices.Equal(*scratch, p.deps)
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
