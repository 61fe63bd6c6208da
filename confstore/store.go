// Package confstore owns the live configuration: the set of files on disk
// and the snapshot built from them. It is the one owner that serializes
// every change — a rescan of the directories (file watcher, periodic
// rescan, SIGHUP, /config/reload) and every management API write — so a
// rescan can never be applied over a write, and a write is durable on
// disk before it is applied and before the API answers.
//
// Every change ends in one place, goLive (live.go), which tells the named
// listeners registered at wiring time (actors and key directory, metrics,
// gitops, and last the store's own status): Snapshot returns what the
// last of them made live, and nothing else holds a live snapshot.
//
// An API write (write.go) is planned so that the files on disk load after
// every single step (a crash between two steps leaves a configuration that
// starts), and each step is a compare-and-swap against the file that was
// loaded (configs.ReplaceFile and friends): a hand edit or a git pull that
// lands at any instant is never overwritten; the write answers 409 and
// restores what it already changed.
package confstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Options configure a Store.
type Options struct {
	ConfigPath string // "" = embedded default
	TeamsDir   string
	ModelsDir  string
	// Env resolves os.environ/ references (default os.LookupEnv).
	Env func(string) (string, bool)
	// Listeners are told, in order, each time a configuration goes live
	// (see Listener); the store's own status is the last of them.
	Listeners []Listener
	// GitOpsStatus, when set, reports the committer's state in Status.
	GitOpsStatus func() *GitOpsStatus
	Log          *slog.Logger
}

// Change is one file an API write creates, replaces or (Data nil) removes.
type Change struct {
	Path string
	Data []byte
}

// Write describes one management API write, for the audit log and commits.
type Write struct {
	Endpoint string // e.g. "model/new"
	Actor    string // "master" or the key's alias and id
	TeamID   string
	ObjectID string
	Summary  string // e.g. "team e59e2671 adds my-team-model (id e81c9286)"
	Changes  []Change
	// Snapshot is the configuration the write made live (set by Mutate
	// before AfterWrite runs; its Settings.GitOps say whether to commit).
	Snapshot *configs.Snapshot
}

// InvalidError is returned by Mutate when the changed configuration would
// not validate; nothing was written.
type InvalidError struct{ Problems []configs.Problem }

func (e *InvalidError) Error() string {
	var lines []string
	for _, p := range e.Problems {
		if !p.Warning {
			lines = append(lines, p.String())
		}
	}
	return "the change would make the configuration invalid: " + strings.Join(lines, "; ")
}

// Status is the outcome of the latest reload, for GET /config/status.
// ConfigHash, Teams and Deployments describe the live configuration, which
// is the last good one when OK is false.
type Status struct {
	OK            bool      `json:"ok"`
	LastReloadAt  time.Time `json:"last_reload_at"`
	LastSuccessAt time.Time `json:"last_success_at"`
	ConfigHash    string    `json:"config_hash"`
	Errors        []string  `json:"errors"`
	Warnings      []string  `json:"warnings"`
	Teams         int       `json:"teams"`
	Deployments   int       `json:"deployments"`
	// LastReason is what started the latest reload ("startup", "watch:
	// ...", "periodic", "SIGHUP", "api", "write model/new").
	LastReason string `json:"last_reason"`
	// LastOutcome is "applied", "unchanged", "rejected" (invalid; the last
	// good configuration keeps serving) or "failed" (unreadable files or
	// an apply error).
	LastOutcome string        `json:"last_outcome"`
	GitOps      *GitOpsStatus `json:"gitops,omitempty"`
}

// Reload outcomes (Status.LastOutcome).
const (
	OutcomeApplied   = "applied"
	OutcomeUnchanged = "unchanged"
	OutcomeRejected  = "rejected"
	OutcomeFailed    = "failed"
)

// GitOpsStatus is the state of the commits of API write-backs.
type GitOpsStatus struct {
	Commit       bool      `json:"commit"`
	Push         bool      `json:"push"`
	LastCommit   string    `json:"last_commit"`
	LastCommitAt time.Time `json:"last_commit_at,omitzero"`
	LastPushAt   time.Time `json:"last_push_at,omitzero"`
	LastError    string    `json:"last_error"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
	// PendingPush counts commits made but not pushed yet.
	PendingPush int `json:"pending_push"`
}

// Store is the single owner of the configuration.
type Store struct {
	opts Options

	// snap is the live snapshot, the one source every reader uses
	// (Snapshot). Only goLive stores it, under mu.
	snap atomic.Pointer[configs.Snapshot]

	mu sync.Mutex
	// in is what the live snapshot was built from, as paths and sums:
	// the bytes are dropped once built (the cache holds what they
	// decoded to) and read from disk again when an API write edits a file.
	in        configs.Input
	live      []configs.Problem // warnings of the live configuration
	status    Status
	cache     *configs.ParseCache
	listeners []Listener
	// afterStep, set by tests, runs after each file step of a write; false
	// stops the write there as a crash would (nothing undone).
	afterStep func(step int, c Change) bool
}

// Open loads the configuration and applies it. When it is invalid, it
// returns the problems and a nil Store.
func Open(opts Options) (*Store, []configs.Problem, error) {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	// Temp and displaced files a crash left mid-write (never loaded).
	configs.SweepLitter(opts.TeamsDir, opts.ModelsDir)
	in, err := configs.ReadDirs(opts.ConfigPath, opts.TeamsDir, opts.ModelsDir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the configuration: %w", err)
	}
	cache := configs.NewParseCache()
	snap, problems := cache.Build(in, opts.Env)
	if snap == nil {
		return nil, problems, nil
	}
	s := &Store{opts: opts, cache: cache}
	s.listeners = append(slices.Clone(opts.Listeners), Listener{Name: "status", Live: s.statusListener})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.goLive(Event{Kind: KindStartup, Reason: "startup", Snapshot: snap, Problems: problems, At: time.Now()}); err != nil {
		return nil, problems, fmt.Errorf("applying the configuration: %w", err)
	}
	s.commit(in)
	return s, problems, nil
}

// Snapshot returns the live snapshot. It takes no lock: readers never
// wait for a write or a rescan in progress.
func (s *Store) Snapshot() *configs.Snapshot { return s.snap.Load() }

// Status returns the outcome of the latest reload.
func (s *Store) Status() Status {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	st.Errors = slices.Clone(st.Errors)
	st.Warnings = slices.Clone(st.Warnings)
	if s.opts.GitOpsStatus != nil {
		st.GitOps = s.opts.GitOpsStatus()
	}
	return st
}

// TeamsDir and ModelsDir are where the API creates files.
func (s *Store) TeamsDir() string  { return s.opts.TeamsDir }
func (s *Store) ModelsDir() string { return s.opts.ModelsDir }

// Rescan reads every file again and applies the result if it is valid
// and differs from the live configuration. An invalid result keeps the
// live configuration and is reported in Status. The disk is read under
// the store's lock, so a rescan never overtakes an API write: it reads
// either before the write started (and is applied before it) or after it
// finished. Files whose content is unchanged are not parsed again, and
// when no file changed nothing is built at all — the gateway's own
// write-backs, already live, end here.
func (s *Store) Rescan(reason string) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.status.LastReloadAt, s.status.LastReason = now, reason
	in, err := configs.ReadDirs(s.opts.ConfigPath, s.opts.TeamsDir, s.opts.ModelsDir)
	if err != nil {
		return s.readFailed(reason, err)
	}
	return s.reload(reason, now, in)
}

// RescanFiles is Rescan for a change known to touch only paths (files in
// the teams or models folder): it reads those files again, not every file.
// A path that is no longer a file is dropped from the configuration. It
// falls back to Rescan for a path outside both folders or that is now a
// directory.
func (s *Store) RescanFiles(reason string, paths []string) (Status, error) {
	st, err, full := s.rescanFiles(reason, paths)
	if full {
		return s.Rescan(reason)
	}
	return st, err
}

func (s *Store) rescanFiles(reason string, paths []string) (st Status, err error, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.status.LastReloadAt, s.status.LastReason = now, reason
	var changes []Change
	for _, p := range paths {
		inTeams := s.opts.TeamsDir != "" && isUnder(p, s.opts.TeamsDir)
		if !inTeams && (s.opts.ModelsDir == "" || !isUnder(p, s.opts.ModelsDir)) {
			return Status{}, nil, true
		}
		f, found, err := configs.ReadFileLimit(p, s.Snapshot().Settings.MaxConfigFileBytes)
		if err != nil {
			return Status{}, nil, true // a directory now, or unreadable: let a full read say
		}
		c := Change{Path: p} // not found: removed
		if found {
			c.Data = f.Data
			if c.Data == nil {
				c.Data = []byte{} // an empty file is a file
			}
		}
		changes = append(changes, c)
	}
	st, err = s.reload(reason, now, withChanges(s.in, changes, s.opts.TeamsDir))
	return st, err, false
}

func (s *Store) readFailed(reason string, err error) (Status, error) {
	s.status.OK, s.status.LastOutcome = false, OutcomeFailed
	s.status.Errors = []string{err.Error()}
	s.opts.Log.Error("reload failed: "+err.Error(), "reason", reason)
	s.refused(reason, s.status)
	return s.status, fmt.Errorf("rescanning (%s): %w", reason, err)
}

// reload builds in and makes it live when it is valid and differs from
// the live configuration.
func (s *Store) reload(reason string, now time.Time, in configs.Input) (Status, error) {
	// s.in is what the live snapshot was built from (s.snap.Hash is its
	// InputHash): comparing the files' sums is the same test.
	if sameInput(in, s.in) {
		s.opts.Log.Debug("rescan found no change", "reason", reason)
		s.unchanged(now)
		return s.status, nil
	}
	start := time.Now()
	snap, problems := s.cache.Build(in, s.opts.Env)
	hits, misses := s.cache.Stats()
	if snap == nil {
		st := statusOf(s.Snapshot(), problems, now, false)
		st.LastSuccessAt = s.status.LastSuccessAt
		st.LastReason, st.LastOutcome = reason, OutcomeRejected
		s.status = st
		for _, p := range problems {
			if !p.Warning {
				s.opts.Log.Error("reload rejected: "+p.String(), "reason", reason)
			}
		}
		s.opts.Log.Error("reload rejected: the configuration on disk is invalid; the last good configuration keeps serving",
			"reason", reason, "errors", len(st.Errors), "hash", s.Snapshot().Hash)
		s.refused(reason, s.status)
		return s.status, errors.New("the configuration on disk is invalid; the last good configuration keeps serving")
	}
	if snap.Hash == s.Snapshot().Hash {
		s.unchanged(now)
		return s.status, nil
	}
	if err := s.goLive(Event{Kind: KindRescan, Reason: reason, Snapshot: snap, Problems: problems, At: now}); err != nil {
		s.status.OK, s.status.LastOutcome = false, OutcomeFailed
		s.status.Errors = []string{"applying the reloaded configuration: " + err.Error()}
		s.refused(reason, s.status)
		return s.status, fmt.Errorf("applying the reloaded configuration: %w", err)
	}
	s.commit(in)
	for _, p := range problems {
		s.opts.Log.Warn(p.String())
	}
	s.opts.Log.Info("configuration reloaded", "reason", reason, "hash", snap.Hash, "teams", s.status.Teams,
		"deployments", s.status.Deployments, "parsed", misses, "cached", hits, "took", time.Since(start).Round(time.Microsecond))
	return s.status, nil
}

// commit records in (sorted by path, as ReadDirs and withChanges give it)
// as what the live snapshot was built from: paths and sums only, and
// prunes the parse cache to its files.
func (s *Store) commit(in configs.Input) {
	drop := func(fs []configs.File) []configs.File {
		out := make([]configs.File, len(fs))
		for i, f := range fs {
			out[i] = configs.File{Path: f.Path, Sum: f.WithSum().Sum}
		}
		return out
	}
	s.in = configs.Input{Teams: drop(in.Teams), Models: drop(in.Models)}
	if in.Config.Path != "" || in.Config.Data != nil {
		s.in.Config = configs.File{Path: in.Config.Path, Sum: in.Config.WithSum().Sum}
	}
	s.cache.Prune(s.in)
}

// unchanged records a rescan that found the live configuration on disk.
func (s *Store) unchanged(now time.Time) {
	reason := s.status.LastReason
	s.status = statusOf(s.Snapshot(), s.live, now, true)
	s.status.LastSuccessAt = now
	s.status.LastReason, s.status.LastOutcome = reason, OutcomeUnchanged
}

func statusOf(snap *configs.Snapshot, problems []configs.Problem, at time.Time, ok bool) Status {
	st := Status{OK: ok, LastReloadAt: at, Errors: []string{}, Warnings: []string{}}
	if snap != nil {
		st.ConfigHash = snap.Hash
		st.Teams = len(snap.Teams)
		st.Deployments = len(snap.Global)
		for _, ds := range snap.TeamDeployments {
			st.Deployments += len(ds)
		}
	}
	for _, p := range problems {
		if p.Warning {
			st.Warnings = append(st.Warnings, p.String())
		} else {
			st.Errors = append(st.Errors, p.String())
		}
	}
	return st
}

// withChanges returns a copy of in with the changes applied (Data nil: the
// file is removed; a removed file that in does not have is ignored), its
// files sorted by path with their sums set, as ReadDirs gives them. New
// files go to Teams when under teamsDir, else to Models.
func withChanges(in configs.Input, changes []Change, teamsDir string) configs.Input {
	out := configs.Input{Config: in.Config}
	byPath := map[string]Change{}
	for _, c := range changes {
		byPath[c.Path] = c
	}
	apply := func(files []configs.File) []configs.File {
		var res []configs.File
		for _, f := range files {
			if c, ok := byPath[f.Path]; ok {
				delete(byPath, f.Path)
				if c.Data == nil {
					continue
				}
				f = configs.File{Path: f.Path, Data: c.Data}.WithSum()
			}
			res = append(res, f)
		}
		return res
	}
	out.Teams = apply(in.Teams)
	out.Models = apply(in.Models)
	for _, c := range changes {
		if _, left := byPath[c.Path]; !left || c.Data == nil {
			continue
		}
		f := configs.File{Path: c.Path, Data: c.Data}.WithSum()
		if isUnder(c.Path, teamsDir) {
			out.Teams = append(out.Teams, f)
		} else {
			out.Models = append(out.Models, f)
		}
	}
	slices.SortFunc(out.Teams, pathOrder)
	slices.SortFunc(out.Models, pathOrder)
	return out
}

func pathOrder(a, b configs.File) int { return strings.Compare(a.Path, b.Path) }

func isUnder(path, dir string) bool {
	rel, err := relPath(dir, path)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// sameInput reports whether a and b hold the same files (paths, kinds and
// contents, in the same order). Both have their sums set.
func sameInput(a, b configs.Input) bool {
	same := func(x, y []configs.File) bool {
		return slices.EqualFunc(x, y, func(f, g configs.File) bool { return f.Path == g.Path && f.Sum == g.Sum })
	}
	return same([]configs.File{a.Config}, []configs.File{b.Config}) && same(a.Teams, b.Teams) && same(a.Models, b.Models)
}
