package confstore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Mutate runs fn with the live snapshot and the files it was built from.
// fn returns the files to change. The store validates the whole
// configuration with the changes, writes them durably (in the order
// plan gives, each one a compare-and-swap against the file that
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
	steps, err := plan(changes, files, s.opts.TeamsDir)
	if err != nil {
		return nil, err
	}
	swaps, err := s.writeAll(steps, files)
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
	s.removeEmptyModelDirs(steps)
	s.commit(next)
	s.opts.Log.Info("audit", "endpoint", w.Endpoint, "actor", w.Actor, "team", w.TeamID, "object", w.ObjectID, "files", len(changes))
	return snap, nil
}

// errCrashed stops a write where a test's afterStep said to.
var errCrashed = errors.New("write stopped by the test hook (a simulated crash)")

// writeAll carries out the steps of a plan, each a compare-and-swap
// against what the file holds at that point: a live file is replaced or
// removed only if it still holds what was loaded (or what an earlier step
// of the plan wrote), a new file is created only if none appeared. On a
// failure it restores the files already changed, in reverse order.
func (s *Store) writeAll(steps []Change, files *Files) ([]*configs.Swap, error) {
	type state struct {
		sum    [sha256.Size]byte
		exists bool
	}
	cur := map[string]state{}
	swaps := make([]*configs.Swap, 0, len(steps))
	for i, c := range steps {
		st, seen := cur[c.Path]
		if !seen {
			st.sum, st.exists = files.sum(c.Path)
		}
		var sw *configs.Swap
		var err error
		switch {
		case c.Data == nil && !st.exists:
			continue // nothing loaded there, nothing to remove
		case c.Data == nil:
			sw, err = configs.RemoveFile(c.Path, st.sum)
		case st.exists:
			sw, err = configs.ReplaceFile(c.Path, c.Data, 0o644, st.sum)
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
		if c.Data == nil {
			cur[c.Path] = state{}
		} else {
			cur[c.Path] = state{sum: sha256.Sum256(c.Data), exists: true}
		}
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

// plan orders the files of one write so that the configuration on disk
// loads after every single step, should the process die between two of
// them. This is the one rule every multi-file write goes through. Models
// name their team (model_info.team_id) and teams name models
// (model_aliases), so the steps are:
//
//  1. new team files (the teams new models will name), without their
//     model_aliases when the write also creates models,
//  2. new model files,
//  3. edited team files: aliases to the new models added, aliases to
//     removed models dropped; a team file about to be removed first loses
//     its model_aliases here when the write removes models (they may
//     name them),
//  4. edited model files (deployments removed from a shared file),
//  5. removed model files (nothing names them any more),
//  6. removed team files (no model names them any more).
//
// The order within a class is the callback's. A path may have two steps
// (a team's aliases dropped, then the team removed). Reversing a prefix of
// the plan (Undo after a failure) passes through the same states.
func plan(changes []Change, files *Files, teamsDir string) ([]Change, error) {
	type step struct {
		Change
		rank int
	}
	var steps []step
	modelsCreated, modelsRemovedOrEdited := false, false
	for _, c := range changes {
		_, live := files.sum(c.Path)
		if !isUnder(c.Path, teamsDir) {
			modelsCreated = modelsCreated || (c.Data != nil && !live)
			modelsRemovedOrEdited = modelsRemovedOrEdited || live
		}
	}
	for _, c := range changes {
		_, live := files.sum(c.Path)
		team := isUnder(c.Path, teamsDir)
		switch {
		case c.Data != nil && !live && team:
			if modelsCreated {
				if bare, had, err := configs.WithoutModelAliases(c.Data); err == nil && had {
					steps = append(steps, step{Change{Path: c.Path, Data: bare}, 1}, step{c, 3})
					continue
				}
			}
			steps = append(steps, step{c, 1})
		case c.Data != nil && !live:
			steps = append(steps, step{c, 2})
		case c.Data != nil && team:
			steps = append(steps, step{c, 3})
		case c.Data != nil:
			steps = append(steps, step{c, 4})
		case !live:
			// nothing loaded there: nothing to remove
		case !team:
			steps = append(steps, step{c, 5})
		default:
			if modelsRemovedOrEdited {
				data, err := files.Read(c.Path)
				if err != nil {
					return nil, err
				}
				bare, had, err := configs.WithoutModelAliases(data)
				if err != nil {
					return nil, fmt.Errorf("editing %s: %w", c.Path, err)
				}
				if had {
					steps = append(steps, step{Change{Path: c.Path, Data: bare}, 3})
				}
			}
			steps = append(steps, step{c, 6})
		}
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.rank - b.rank })
	out := make([]Change, len(steps))
	for i, st := range steps {
		out[i] = st.Change
	}
	return out, nil
}

// removeEmptyModelDirs removes the folders under the models directory that
// a write's removals left empty (models.d/<team_id>/ after the team's last
// model was deleted); the models directory itself stays. A folder that
// still holds anything (a file, or a hand-made subfolder) is kept.
func (s *Store) removeEmptyModelDirs(steps []Change) {
	root := s.opts.ModelsDir
	if root == "" {
		return
	}
	for _, c := range steps {
		if c.Data != nil {
			continue
		}
		for dir := filepath.Dir(c.Path); isUnder(dir, root) && filepath.Clean(dir) != filepath.Clean(root); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil { // not empty (or gone): stop here
				break
			}
			_ = configs.SyncDir(filepath.Dir(dir))
		}
	}
}
