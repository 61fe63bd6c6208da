package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
)

// File is one configuration file: its path as given (used in problems and
// Snapshot.Files) and its content.
type File struct {
	Path string
	Data []byte
}

// Input is everything Build reads: the --config file and the teams.d and
// models.d files. An empty Config (no path, no data) means the embedded
// default (EmbeddedConfigPath).
type Input struct {
	Config File
	Teams  []File
	Models []File
}

// builder holds the state of one Build.
type builder struct {
	env      func(string) (string, bool)
	problems problems
	pos      map[posKey]Pos
	cache    *ParseCache // nil: parse every file (see parsecache.go)
}

// configLenient are the struct paths of the --config file whose unknown
// keys are warnings, so a LiteLLM config.yaml loads unchanged.
var configLenient = map[string]bool{"": true, "general_settings": true, "router_settings": true}

func (b *builder) decoder(path, what string, lenient map[string]bool) *decoder {
	return &decoder{file: path, what: what, lenient: lenient, problems: &b.problems, pos: b.pos, cache: b.cache}
}

// posOf returns where owner's field name was set, else where owner itself
// was defined, else fallback.
func (b *builder) posOf(owner any, name string, fallback Pos) Pos {
	if p, ok := b.pos[posKey{owner, name}]; ok {
		return p
	}
	if p, ok := b.pos[posKey{owner, ""}]; ok {
		return p
	}
	return fallback
}

// has reports whether owner's field name was present in its file.
func (b *builder) has(owner any, name string) bool {
	_, ok := b.pos[posKey{owner, name}]
	return ok
}

// Build strictly decodes, resolves and validates the whole configuration.
// It returns every problem found, sorted by file, line and column; the
// snapshot is nil when any of them is an error (warnings alone do not stop
// a load). env looks up environment variables for os.environ/NAME values;
// nil means os.LookupEnv. Build never reads the disk.
func Build(in Input, env func(name string) (string, bool)) (*Snapshot, []Problem) {
	return build(in, env, nil)
}

func build(in Input, env func(name string) (string, bool), cache *ParseCache) (*Snapshot, []Problem) {
	if env == nil {
		env = os.LookupEnv
	}
	b := &builder{env: env, pos: map[posKey]Pos{}, cache: cache}

	cfg := in.Config
	if cfg.Path == "" && cfg.Data == nil {
		cfg = File{Path: EmbeddedConfigPath, Data: DefaultConfig()}
	}
	var gw GatewayFile
	b.decoder(cfg.Path, "config file", configLenient).decodeFile(cfg.Data, &gw)
	for _, d := range gw.ModelList {
		if d != nil {
			d.Source = b.posOf(d, "", Pos{File: cfg.Path, Line: 1, Col: 1})
		}
	}

	teamFiles, modelFiles := sortedFiles(in.Teams), sortedFiles(in.Models)
	var teams []*Team
	for _, f := range teamFiles {
		if t := b.decodeTeam(f); t != nil {
			teams = append(teams, t)
		}
	}
	deployments := slices.DeleteFunc(slices.Clone(gw.ModelList), func(d *Deployment) bool { return d == nil })
	for _, f := range modelFiles {
		deployments = append(deployments, b.decodeModels(f)...)
	}

	settings := b.resolveSettings(&gw)
	for _, d := range deployments {
		b.resolveDeployment(d, settings.SaltKey)
	}
	for _, t := range teams {
		b.checkTeam(t)
	}
	snap := &Snapshot{
		Settings:        settings,
		Teams:           map[string]*Team{},
		TeamDeployments: map[string][]*Deployment{},
	}
	b.assemble(snap, teams, deployments)
	snap.Files, snap.Hash = hashFiles(append(append([]File{cfg}, teamFiles...), modelFiles...))

	ps := []Problem(b.problems)
	sortProblems(ps)
	if HasErrors(ps) {
		return nil, ps
	}
	return snap, ps
}

func sortedFiles(fs []File) []File {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func (b *builder) decodeTeam(f File) *Team {
	t := &Team{}
	start := Pos{File: f.Path, Line: 1, Col: 1}
	if !b.decoder(f.Path, "team file", nil).decodeFile(f.Data, t) {
		if !HasErrors(b.problemsIn(f.Path)) {
			b.problems.errorf(start, "the team file is empty; a teams.d file defines one team and needs at least team_id: <id>")
		}
		return nil
	}
	t.Source = b.posOf(t, "", start)
	for _, k := range t.Keys {
		if k != nil {
			k.Source = b.posOf(k, "", t.Source)
		}
	}
	t.Keys = slices.DeleteFunc(t.Keys, func(k *Key) bool { return k == nil })
	return t
}

func (b *builder) decodeModels(f File) []*Deployment {
	var mf ModelsFile
	b.decoder(f.Path, "models file", nil).decodeFile(f.Data, &mf)
	var out []*Deployment
	for _, d := range mf.ModelList {
		if d == nil {
			continue
		}
		d.Source = b.posOf(d, "", Pos{File: f.Path, Line: 1, Col: 1})
		out = append(out, d)
	}
	return out
}

func (b *builder) problemsIn(path string) []Problem {
	var out []Problem
	for _, p := range b.problems {
		if p.File == path {
			out = append(out, p)
		}
	}
	return out
}

// hashFiles returns path -> sha256 hex of every file and the sha256 over
// the sorted (path, content hash) pairs.
func hashFiles(files []File) (map[string]string, string) {
	m := make(map[string]string, len(files))
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		m[f.Path] = hex.EncodeToString(sum[:])
	}
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{0})
		h.Write([]byte(m[p]))
		h.Write([]byte{'\n'})
	}
	return m, hex.EncodeToString(h.Sum(nil))
}
