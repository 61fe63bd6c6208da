package configs

import (
	"crypto/sha256"
	"sync"

	"go.yaml.in/yaml/v3"
)

// parsedFile is the YAML parse of one file: its first document (or the
// error that stopped it) and what follows it (io.EOF when nothing does).
type parsedFile struct {
	doc      *yaml.Node
	err      error
	extra    *yaml.Node
	extraErr error
}

// ParseCache keeps the YAML parse of every file by path and content hash,
// so a rescan of thousands of files parses again only the files whose
// content changed. Decoding, secrets and cross-file validation still run
// on every Build, on the cached trees, so a cached build gives exactly the
// snapshot and problems of Build. Entries a build did not use are dropped
// at its end, so the cache holds about one parse per file on disk. It is
// safe for concurrent use.
type ParseCache struct {
	mu      sync.Mutex
	entries map[parseKey]*parsedFile
	used    map[parseKey]bool
	hits    int
	misses  int
}

type parseKey struct {
	path string
	sum  [sha256.Size]byte
}

// NewParseCache returns an empty cache.
func NewParseCache() *ParseCache {
	return &ParseCache{entries: map[parseKey]*parsedFile{}, used: map[parseKey]bool{}}
}

// Build is configs.Build with the parses of unchanged files taken from
// the cache.
func (c *ParseCache) Build(in Input, env func(name string) (string, bool)) (*Snapshot, []Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = make(map[parseKey]bool, len(c.entries))
	c.hits, c.misses = 0, 0
	snap, problems := build(in, env, c)
	for k := range c.entries {
		if !c.used[k] {
			delete(c.entries, k)
		}
	}
	return snap, problems
}

// Stats returns how many files the latest Build found in the cache and
// how many it had to parse.
func (c *ParseCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// parse returns the parse of data, from the cache when c holds it. A nil
// cache parses every time. The caller (build, under c.mu) never modifies
// the returned nodes.
func (c *ParseCache) parse(path string, data []byte) *parsedFile {
	if c == nil {
		return parseYAML(data)
	}
	k := parseKey{path: path, sum: sha256.Sum256(data)}
	c.used[k] = true
	if pf, ok := c.entries[k]; ok {
		c.hits++
		return pf
	}
	c.misses++
	pf := parseYAML(data)
	c.entries[k] = pf
	return pf
}

// InputHash returns the hash Build gives a snapshot of in (Snapshot.Hash)
// without building it, so a rescan that finds the files unchanged can stop
// before parsing anything.
func InputHash(in Input) string {
	cfg := in.Config
	if cfg.Path == "" && cfg.Data == nil {
		cfg = File{Path: EmbeddedConfigPath, Data: DefaultConfig()}
	}
	files := make([]File, 0, 1+len(in.Teams)+len(in.Models))
	files = append(append(append(files, cfg), in.Teams...), in.Models...)
	_, h := hashFiles(files)
	return h
}
