package confstore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Mutate runs fn with the live snapshot and the files it was built from.
// fn returns the files to change. The store validates the whole
// configuration with the changes, writes them durably (in the order
// orderChanges gives, each one a compare-and-swap against the file that
// was loaded), makes the new configuration live and only then returns it.
// If fn fails, the result is invalid, a file changed on disk or a write or
// a listener fails, nothing changes in memory and the files already
// written are restored.
func (s *Store) Mutate(w Write, fn func(cur *configs.Snapshot, files *Files) ([]Change, error)) (*configs.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := &Files{in: s.in, limit: s.Snapshot().Settings.MaxConfigFileBytes}
	changes, err := fn(s.Snapshot(), files)
	if err != nil {
		return nil, err
	}
	// A file changed on disk since it was loaded (and not reloaded yet)
	// is not overwritten: the change in it would be lost. This is the
	// early answer; the swap of each file checks again, atomically.
	for _, c := range changes {
		if err := files.unchangedOnDisk(c.Path); err != nil {
			return nil, err
		}
	}
	next := withChanges(s.in, changes, s.opts.TeamsDir)
	snap, problems := s.cache.Build(next, s.opts.Env)
	if snap == nil {
		return nil, &InvalidError{Problems: problems}
	}
	changes = orderChanges(changes, files, s.opts.TeamsDir)
	swaps, err := s.writeAll(changes, files)
	if err != nil {
		return nil, err
	}
	w.Changes, w.Snapshot = changes, snap
	if err := s.goLive(Event{Kind: KindWrite, Reason: "write " + w.Endpoint, Snapshot: snap, Write: &w, Problems: problems, At: time.Now()}); err != nil {
		undoAll(swaps)
		return nil, fmt.Errorf("applying the written configuration (the files were restored): %w", err)
	}
	for _, sw := range swaps {
		sw.Commit()
	}
	s.commit(next)
	s.opts.Log.Info("audit", "endpoint", w.Endpoint, "actor", w.Actor, "team", w.TeamID, "object", w.ObjectID, "files", len(changes))
	return snap, nil
}

// errCrashed stops a write where a test's afterStep said to.
var errCrashed = errors.New("write stopped by the test hook (a simulated crash)")

// writeAll makes each change a compare-and-swap against the file that was
// loaded: a live file is replaced or removed only if it still holds what
// was loaded, a new file is created only if none appeared. On a failure
// it restores the files already changed, in reverse order.
func (s *Store) writeAll(changes []Change, files *Files) ([]*configs.Swap, error) {
	swaps := make([]*configs.Swap, 0, len(changes))
	for i, c := range changes {
		want, live := files.sum(c.Path)
		var sw *configs.Swap
		var err error
		switch {
		case c.Data == nil && !live:
			continue // nothing loaded there, nothing to remove
		case c.Data == nil:
			sw, err = configs.RemoveFile(c.Path, want)
		case live:
			sw, err = configs.ReplaceFile(c.Path, c.Data, 0o644, want)
		default:
			sw, err = configs.CreateFile(c.Path, c.Data, 0o644)
		}
		if err != nil {
			undoAll(swaps)
			if errors.Is(err, configs.ErrChanged) {
				return nil, &ChangedError{Path: c.Path, NotLive: errors.Is(err, configs.ErrExists)}
			}
			return nil, err
		}
		swaps = append(swaps, sw)
		if s.afterStep != nil && !s.afterStep(i, c) {
			return nil, errCrashed
		}
	}
	return swaps, nil
}

func undoAll(swaps []*configs.Swap) {
	for i := len(swaps) - 1; i >= 0; i-- {
		_ = swaps[i].Undo()
	}
}

// orderChanges orders the files of one write so that the configuration
// on disk loads after every single step, should the process die between
// two of them. Models name their team (model_info.team_id) and teams name
// models (model_aliases), so:
//
//  1. new team files (the teams new models will name),
//  2. new model files,
//  3. edited team files (aliases to the new models, none to removed ones),
//  4. edited model files (deployments removed from a shared file),
//  5. removed model files (nothing names them any more),
//  6. removed team files (no model names them any more).
//
// The order within a class is the callback's. Reversing a prefix of this
// order (Undo after a failure) passes through the same states.
func orderChanges(changes []Change, files *Files, teamsDir string) []Change {
	rank := func(c Change) int {
		_, live := files.sum(c.Path)
		team := isUnder(c.Path, teamsDir)
		switch {
		case c.Data != nil && !live && team:
			return 1
		case c.Data != nil && !live:
			return 2
		case c.Data != nil && team:
			return 3
		case c.Data != nil:
			return 4
		case !team:
			return 5
		}
		return 6
	}
	out := slices.Clone(changes)
	slices.SortStableFunc(out, func(a, b Change) int { return rank(a) - rank(b) })
	return out
}
