package configs

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
)

// ParseCache keeps, for every file by path and content hash, what Build
// found in that file on its own: the decoded team or deployments, the
// file's problems and the few positions the checks across files need. The
// YAML tree of a file is dropped as soon as it is decoded. A rescan of
// thousands of files therefore parses and decodes again only the files
// whose content changed. What depends on more than one file or on the
// environment (settings, os.environ/ and enc:v1: values, cross-file
// validation) still runs on every Build, so a cached build gives exactly
// the snapshot and problems of Build. Prune drops the entries of files no
// longer live, so the cache holds about one entry per file on disk. It is
// safe for concurrent use.
//
// Snapshots built through the same cache share the teams and deployments
// of unchanged files: they are never modified once a Build has returned
// them (a deployment whose secrets resolve differently is a new object).
type ParseCache struct {
	mu sync.Mutex
	c  *fileCache
}

// NewParseCache returns an empty cache.
func NewParseCache() *ParseCache {
	return &ParseCache{c: newFileCache()}
}

// Build is configs.Build with the results of unchanged files taken from
// the cache. Files given with Sum set and Data nil must have been built
// through this cache before and not pruned since.
func (c *ParseCache) Build(in Input, env func(name string) (string, bool)) (*Snapshot, []Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.hits, c.c.misses = 0, 0
	return build(in, env, c.c)
}

// Prune drops every entry but those of keep's files: the owner of the
// configuration calls it with the input of the snapshot it made live, so
// the cache holds one entry per file of the live configuration (plus, until
// the next Prune, those of builds that were refused).
func (c *ParseCache) Prune(keep Input) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := make(map[fileKey]bool, 1+len(keep.Teams)+len(keep.Models))
	kept[fileKey{path: keep.config().Path, sum: keep.config().sum(), kind: kindConfig}] = true
	for _, f := range keep.Teams {
		kept[fileKey{path: f.Path, sum: f.sum(), kind: kindTeam}] = true
	}
	for _, f := range keep.Models {
		kept[fileKey{path: f.Path, sum: f.sum(), kind: kindModels}] = true
	}
	for k := range c.c.entries {
		if !kept[k] {
			delete(c.c.entries, k)
		}
	}
}

// Stats returns how many files the latest Build found in the cache and
// how many it had to parse.
func (c *ParseCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c.hits, c.c.misses
}

// InputHash returns the hash Build gives a snapshot of in (Snapshot.Hash)
// without building it, so a rescan that finds the files unchanged can stop
// before parsing anything.
func InputHash(in Input) string {
	files := make([]File, 0, 1+len(in.Teams)+len(in.Models))
	files = append(append(append(files, in.config()), in.Teams...), in.Models...)
	sums := make([][sha256.Size]byte, len(files))
	for i, f := range files {
		sums[i] = f.sum()
	}
	_, h := hashFiles(files, sums)
	return h
}

// fileKind is how a file is decoded.
type fileKind uint8

const (
	kindConfig fileKind = iota
	kindTeam
	kindModels
)

type fileKey struct {
	path string
	sum  [sha256.Size]byte
	kind fileKind
}

// fileCache maps files to their decodedFile. Build uses a fresh one; a
// ParseCache keeps one across builds.
type fileCache struct {
	entries      map[fileKey]*decodedFile
	hits, misses int
}

func newFileCache() *fileCache {
	return &fileCache{entries: map[fileKey]*decodedFile{}}
}

// get returns the decodedFile of f (sum is the sha256 of f.Data).
func (c *fileCache) get(kind fileKind, f File, sum [sha256.Size]byte) *decodedFile {
	k := fileKey{path: f.Path, sum: sum, kind: kind}
	if df, ok := c.entries[k]; ok {
		c.hits++
		return df
	}
	c.misses++
	if f.Data == nil && f.Sum != ([sha256.Size]byte{}) {
		// A caller's bug, not the user's: refuse the build rather than
		// decode an empty file in its place.
		var ps problems
		ps.errorf(Pos{File: f.Path, Line: 1, Col: 1}, "internal error: the content of this file is no longer in memory; reload the configuration (POST /config/reload)")
		return &decodedFile{problems: ps, decodeErr: true}
	}
	df := decodeOne(kind, f)
	c.entries[k] = df
	return df
}

// decodedFile is what one file holds, found without looking at any other
// file or at the environment. Nothing in it is modified after decodeOne
// returns, except the resolution memo of its deployments (under the
// cache's lock).
type decodedFile struct {
	// problems are the file's decoding problems and those of the checks
	// of its team or deployments on their own.
	problems []Problem
	// decodeErr: decoding (before those checks) reported an error.
	decodeErr bool
	// team is a team file's team; nil when the file holds none.
	team *teamRec
	// deps are a models file's or the config file's model_list entries.
	deps []*depRec
	// The config file's decoded content and positions (for its settings).
	gw  *GatewayFile
	pos map[posKey]Pos
}

// teamRec is a decoded team and the positions the cross-file checks
// report at.
type teamRec struct {
	t        *Team
	idPos    Pos            // team_id
	tokenPos []Pos          // keys[i].token
	aliasPos map[string]Pos // model_aliases entries
	// fallbackPos: the fallbacks' names (routersettings.go).
	fallbackPos []teamFallbackPos
}

// depRec is a decoded deployment, the positions the later checks report
// at, and the memo of its latest resolution. There are tens of thousands
// of them in a large configuration, so positions are kept as line and
// column only (all are in the deployment's file, d.Source.File).
type depRec struct {
	// d is the deployment as the latest build resolved it (before the
	// first build: as decoded, with its id, provider and upstream model
	// set). A build that resolves it differently replaces d with a copy,
	// so a deployment a snapshot holds is never modified.
	d *Deployment
	// raw are the litellm_params values that resolution may replace, as
	// written in the file.
	raw struct{ apiBase, apiVersion, organization string }
	// rawCloud are the cloud params (cloudEnvParams) set, as written;
	// cloudPos the positions of the cloud and secret params set.
	rawCloud map[string]string
	cloudPos map[string]lineCol

	idPos, teamIDPos, modelNamePos                     lineCol
	apiBasePos, apiVersionPos, organizationPos, keyPos lineCol
	idExplicit                                         bool // model_info.id was written

	memo *resolveMemo
}

// lineCol is a position in a file known from elsewhere.
type lineCol struct{ line, col int32 }

func toLineCol(p Pos) lineCol { return lineCol{int32(p.Line), int32(p.Col)} }

// at is the position l in r's file.
func (r *depRec) at(l lineCol) Pos {
	return Pos{File: r.d.Source.File, Line: int(l.line), Col: int(l.col)}
}

// resolveMemo records what a resolution of a deployment's secrets read,
// so the next build can reuse it when nothing it read has changed.
type resolveMemo struct {
	env      []envRead
	usesSalt bool
	salt     SaltKeys
	problems []Problem
}

type envRead struct {
	name, value string
	ok          bool
}

func (m *resolveMemo) valid(env func(string) (string, bool), salt SaltKeys) bool {
	if m == nil || (m.usesSalt && m.salt != salt) {
		return false
	}
	for _, r := range m.env {
		if v, ok := env(r.name); v != r.value || ok != r.ok {
			return false
		}
	}
	return true
}

// decodeOne decodes one file and runs the checks that need only it.
func decodeOne(kind fileKind, f File) *decodedFile {
	b := &builder{pos: map[posKey]Pos{}}
	df := &decodedFile{}
	start := Pos{File: f.Path, Line: 1, Col: 1}
	switch kind {
	case kindConfig:
		gw := &GatewayFile{}
		b.decoder(f.Path, "config file", configLenient).decodeFile(f.Data, gw)
		df.decodeErr = HasErrors(b.problems)
		for _, d := range gw.ModelList {
			if d != nil {
				d.Source = b.posOf(d, "", start)
				df.deps = append(df.deps, b.newDepRec(d))
			}
		}
		df.gw, df.pos = gw, b.pos
	case kindTeam:
		t := &Team{}
		ok := b.decoder(f.Path, "team file", nil).decodeFile(f.Data, t)
		df.decodeErr = HasErrors(b.problems)
		if ok {
			t.Source = b.posOf(t, "", start)
			for _, k := range t.Keys {
				if k != nil {
					k.Source = b.posOf(k, "", t.Source)
				}
			}
			t.Keys = slices.DeleteFunc(t.Keys, func(k *Key) bool { return k == nil })
			b.checkTeam(t)
			df.team = b.newTeamRec(t)
		}
	case kindModels:
		var mf ModelsFile
		b.decoder(f.Path, "models file", nil).decodeFile(f.Data, &mf)
		df.decodeErr = HasErrors(b.problems)
		for _, d := range mf.ModelList {
			if d != nil {
				d.Source = b.posOf(d, "", start)
				df.deps = append(df.deps, b.newDepRec(d))
			}
		}
	}
	df.problems = b.problems
	return df
}

func (b *builder) newTeamRec(t *Team) *teamRec {
	r := &teamRec{t: t, idPos: b.posOf(t, "team_id", t.Source)}
	if len(t.Keys) > 0 {
		r.tokenPos = make([]Pos, len(t.Keys))
		for i, k := range t.Keys {
			r.tokenPos[i] = b.posOf(k, "token", k.Source)
		}
	}
	r.fallbackPos = b.teamFallbackPositions(t)
	if len(t.ModelAliases) > 0 {
		r.aliasPos = make(map[string]Pos, len(t.ModelAliases))
		for a := range t.ModelAliases {
			r.aliasPos[a] = b.posOf(t, "model_aliases."+a, t.Source)
		}
	}
	return r
}

// newDepRec runs the checks of d that depend on nothing else (setting its
// id, provider and upstream model) and records the positions the later
// ones need.
func (b *builder) newDepRec(d *Deployment) *depRec {
	b.resolveOwn(d)
	d.envRefs = readsOperatorValues(&d.LiteLLMParams)
	p, mi := &d.LiteLLMParams, &d.ModelInfo
	r := &depRec{
		d:               d,
		idPos:           toLineCol(b.posOf(mi, "id", d.Source)),
		idExplicit:      b.has(mi, "id"),
		teamIDPos:       toLineCol(b.posOf(mi, "team_id", d.Source)),
		modelNamePos:    toLineCol(b.posOf(d, "model_name", d.Source)),
		apiBasePos:      toLineCol(b.posOf(p, "api_base", d.Source)),
		apiVersionPos:   toLineCol(b.posOf(p, "api_version", d.Source)),
		organizationPos: toLineCol(b.posOf(p, "organization", d.Source)),
		keyPos:          toLineCol(b.posOf(p, "api_key", d.Source)),
	}
	r.raw.apiBase, r.raw.apiVersion, r.raw.organization = p.APIBase, p.APIVersion, p.Organization
	for _, name := range cloudEnvParams {
		if v := *p.StringParam(name); v != "" {
			if r.rawCloud == nil {
				r.rawCloud = map[string]string{}
			}
			r.rawCloud[name] = v
		}
	}
	for _, name := range append(cloudEnvParams, SecretParams[1:]...) {
		if *p.StringParam(name) != "" {
			if r.cloudPos == nil {
				r.cloudPos = map[string]lineCol{}
			}
			r.cloudPos[name] = toLineCol(b.posOf(p, name, d.Source))
		}
	}
	return r
}

// resolveSecrets resolves r's environment and secret values for this
// build, reusing the previous resolution when what it read is unchanged.
func (b *builder) resolveSecrets(r *depRec, salt SaltKeys) {
	if r.memo.valid(b.env, salt) {
		b.problems = append(b.problems, r.memo.problems...)
		return
	}
	var reads []envRead
	rb := &builder{env: func(name string) (string, bool) {
		v, ok := b.env(name)
		reads = append(reads, envRead{name: name, value: v, ok: ok})
		return v, ok
	}}
	d := *r.d
	p := &d.LiteLLMParams
	p.APIBase, p.APIVersion, p.Organization = r.raw.apiBase, r.raw.apiVersion, r.raw.organization
	for name, v := range r.rawCloud {
		*p.StringParam(name) = v
	}
	d.APIKey, d.Credentials = "", Credentials{}
	rb.resolveEnv(&d, r, salt)
	usesSalt := false
	for _, name := range SecretParams {
		usesSalt = usesSalt || strings.HasPrefix(*p.StringParam(name), EncAnyPrefix)
	}
	if reads == nil && !usesSalt && rb.problems == nil {
		r.memo = noInputs // the common case: nothing to remember
	} else {
		r.memo = &resolveMemo{env: reads, usesSalt: usesSalt, problems: rb.problems}
		if usesSalt {
			r.memo.salt = salt
		}
	}
	o := r.d
	if *p != o.LiteLLMParams || d.APIKey != o.APIKey || d.Credentials != o.Credentials {
		nd := new(Deployment)
		*nd = d
		r.d = nd
	}
	b.problems = append(b.problems, rb.problems...)
}

// noInputs is the memo of a resolution that read nothing and found no
// problem: it stays valid.
var noInputs = &resolveMemo{}
