package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
)

// File is one configuration file: its path as given (used in problems and
// Snapshot.Files), its content and the sha256 of its content.
type File struct {
	Path string
	Data []byte
	// Oversize, when positive, is the size of a file bigger than the
	// limit (general_settings.max_config_file_bytes): it was not read,
	// Data is nil and Build reports it as an error.
	Oversize int64
	// Sum is the sha256 of Data; zero means not computed yet (Build
	// computes it). ReadDirs and ReadFS set it. A File with Sum set and
	// Data nil stands for content a ParseCache has already decoded: a
	// long-lived owner of the configuration keeps only paths and sums,
	// not the bytes of thousands of files.
	Sum [sha256.Size]byte
}

// sum returns f.Sum, computing it when it is not set.
func (f File) sum() [sha256.Size]byte {
	if f.Sum != ([sha256.Size]byte{}) {
		return f.Sum
	}
	return sha256.Sum256(f.Data)
}

// WithSum returns f with Sum set.
func (f File) WithSum() File {
	f.Sum = f.sum()
	return f
}

// Input is everything Build reads: the --config file and the teams.d and
// models.d files. An empty Config (no path, no data) means the embedded
// default (EmbeddedConfigPath).
type Input struct {
	Config File
	Teams  []File
	Models []File
}

// builder holds the state of one Build, or of the decoding of one file
// (see decodeFileResult): pos then holds that file's positions.
type builder struct {
	env      func(string) (string, bool)
	problems problems
	pos      map[posKey]Pos
}

// configLenient are the struct paths of the --config file whose unknown
// keys are warnings, so a LiteLLM config.yaml loads unchanged.
var configLenient = map[string]bool{"": true, "general_settings": true, "router_settings": true,
	"router_settings.routing_strategy_args": true, "litellm_settings": true}

func (b *builder) decoder(path, what string, lenient map[string]bool) *decoder {
	return &decoder{file: path, what: what, lenient: lenient, problems: &b.problems, pos: b.pos}
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
	return build(in, env, newFileCache())
}

// build runs in two stages. The first, per file, depends on nothing but
// the file's path and content: parsing, strict decoding, the checks of a
// team or a deployment on its own, and the positions the second stage
// needs. Its result (a decodedFile) is what a ParseCache keeps between
// builds. The second stage runs on every build: settings and secrets
// (they depend on the environment), and the checks across files.
func build(in Input, env func(name string) (string, bool), c *fileCache) (*Snapshot, []Problem) {
	if env == nil {
		env = os.LookupEnv
	}
	b := &builder{env: env}

	cfg := in.config()
	teamFiles, modelFiles := sortedFiles(in.Teams), sortedFiles(in.Models)
	all := make([]File, 0, 1+len(teamFiles)+len(modelFiles))
	all = append(append(append(all, cfg), teamFiles...), modelFiles...)
	sums := make([][sha256.Size]byte, len(all))
	for i, f := range all {
		sums[i] = f.sum()
	}

	// Stage one, per file (from the cache when the file is unchanged).
	// errPaths are the files with a decoding error so far: an empty team
	// file is reported only when nothing else is wrong with it.
	var errPaths map[string]bool
	markErr := func(path string) {
		if errPaths == nil {
			errPaths = map[string]bool{}
		}
		errPaths[path] = true
	}
	get := func(kind fileKind, f File, sum [sha256.Size]byte) *decodedFile {
		if f.Oversize > 0 {
			return oversizeFile(kind, f, cfg)
		}
		return c.get(kind, f, sum)
	}
	cf := get(kindConfig, cfg, sums[0])
	b.problems = append(b.problems, cf.problems...)
	if cf.decodeErr {
		markErr(cfg.Path)
	}
	var teams []*teamRec
	for i, f := range teamFiles {
		df := get(kindTeam, f, sums[1+i])
		b.problems = append(b.problems, df.problems...)
		if df.decodeErr || errPaths[f.Path] {
			markErr(f.Path)
		} else if df.team == nil {
			b.problems.errorf(Pos{File: f.Path, Line: 1, Col: 1}, "the team file is empty; a teams.d file defines one team and needs at least team_id: <id>")
			markErr(f.Path)
		}
		if df.team != nil {
			teams = append(teams, df.team)
		}
	}
	deployments := make([]*depRec, 0, len(cf.deps)+len(modelFiles))
	deployments = append(deployments, cf.deps...)
	for i, f := range modelFiles {
		df := get(kindModels, f, sums[1+len(teamFiles)+i])
		b.problems = append(b.problems, df.problems...)
		deployments = append(deployments, df.deps...)
	}

	// Stage two: what depends on the environment, and across files.
	b.pos = cf.pos
	settings := b.resolveSettings(cf.gw)
	b.pos = nil
	for _, r := range deployments {
		b.resolveSecrets(r, settings.SaltKeys())
	}
	snap := &Snapshot{
		Settings:        settings,
		Teams:           make(map[string]*Team, len(teams)),
		TeamDeployments: make(map[string][]*Deployment, len(teams)),
	}
	b.assemble(snap, teams, deployments)
	b.checkTeamModels(snap)
	// Routing settings and team fallbacks name models: checked now that
	// the names are known.
	b.pos = cf.pos
	b.resolveRouter(cf.gw, &snap.Settings, snap.Global)
	b.pos = nil
	if len(teams) > 0 {
		var global *nameSet
		for _, r := range teams {
			if len(r.fallbackPos) == 0 || snap.Teams[r.t.TeamID] != r.t {
				continue
			}
			if global == nil {
				global = newNameSet(snap.Global)
			}
			b.checkTeamFallbacks(r, snap.TeamDeployments[r.t.TeamID], global)
		}
	}
	snap.Files, snap.Hash = hashFiles(all, sums)

	ps := []Problem(b.problems)
	sortProblems(ps)
	if HasErrors(ps) {
		return nil, ps
	}
	return snap, ps
}

// config is in's --config file, the embedded default when none is given.
func (in Input) config() File {
	if in.Config.Path == "" && in.Config.Data == nil {
		return File{Path: EmbeddedConfigPath, Data: DefaultConfig()}
	}
	return in.Config
}

func sortedFiles(fs []File) []File {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// hashFiles returns path -> sha256 hex of every file (sums[i] is the
// sha256 of files[i]; a later file wins over an earlier one with the same
// path) and the sha256 over the sorted (path, content hash) pairs.
func hashFiles(files []File, sums [][sha256.Size]byte) (map[string]string, string) {
	m := make(map[string]string, len(files))
	for i, f := range files {
		m[f.Path] = hex.EncodeToString(sums[i][:])
	}
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	h := sha256.New()
	buf := make([]byte, 0, 256)
	for _, p := range paths {
		buf = append(buf[:0], p...)
		buf = append(buf, 0)
		buf = append(buf, m[p]...)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return m, hex.EncodeToString(h.Sum(nil))
}
