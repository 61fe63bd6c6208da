package confstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// TestLiveInputKeepsNoBytes: after Open, a write and a reload, the store
// holds the paths and sums of the live files, not their content, and an
// API edit reads the file from disk.
func TestLiveInputKeepsNoBytes(t *testing.T) {
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	team := filepath.Join(td, "a.yaml")
	mustWrite(t, team, "team_id: "+tid+"\n# a comment the API keeps\n")
	mustWrite(t, filepath.Join(md, "m.yaml"), "model_list:\n  - model_name: g\n    litellm_params: {model: mock/g}\n")
	st := openStore(t, td, md)
	noBytes := func(when string) {
		t.Helper()
		for _, f := range append(append([]configs.File{st.in.Config}, st.in.Teams...), st.in.Models...) {
			if f.Data != nil {
				t.Errorf("%s: the store keeps the bytes of %s", when, f.Path)
			}
		}
		if len(st.in.Teams) != 1 || len(st.in.Models) != 1 {
			t.Errorf("%s: live files %+v", when, st.in)
		}
	}
	noBytes("after Open")
	var read []byte
	if _, err := st.Mutate(Write{Endpoint: "team/update"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
		var err error
		if read, err = files.Read(team); err != nil {
			return nil, err
		}
		return []Change{{Path: team, Data: append(read, "team_alias: x\n"...)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(read), "# a comment the API keeps") {
		t.Errorf("Files.Read gave %q", read)
	}
	noBytes("after a write")
	mustWrite(t, team, "team_id: "+tid+"\nteam_alias: y\n")
	if s, err := st.Rescan("test"); err != nil || s.LastOutcome != OutcomeApplied {
		t.Fatalf("rescan: %v %s", err, s.LastOutcome)
	}
	noBytes("after a reload")
	// A write after the reload builds from the cache (no bytes needed for
	// the unchanged models file).
	if _, err := st.Mutate(Write{Endpoint: "team/update"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
		data, err := files.Read(team)
		return []Change{{Path: team, Data: append(data, "max_budget: 5\n"...)}}, err
	}); err != nil {
		t.Fatal(err)
	}
	if got := st.Snapshot().Teams[tid]; got == nil || got.MaxBudget == nil || *got.MaxBudget != 5 || got.TeamAlias != "y" {
		t.Errorf("team after the second write: %+v", got)
	}
}

// TestWriteRefusedOverUnloadedEdit: an API write to a file edited on disk
// since the last reload is refused (the edit would be lost) and leaves the
// file as edited; once the edit is live, the write goes through.
func TestWriteRefusedOverUnloadedEdit(t *testing.T) {
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	team := filepath.Join(td, "a.yaml")
	mustWrite(t, team, "team_id: "+tid+"\n")
	st := openStore(t, td, md)
	edited := "team_id: " + tid + "\nteam_alias: by hand\n"
	mustWrite(t, team, edited)
	update := func(*configs.Snapshot, *Files) ([]Change, error) {
		return []Change{{Path: team, Data: []byte("team_id: " + tid + "\nmax_budget: 5\n")}}, nil
	}
	_, err := st.Mutate(Write{Endpoint: "team/update"}, update)
	var changed *ChangedError
	if !errors.As(err, &changed) || changed.Path != team || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("write over an unloaded edit: %v", err)
	}
	if data, _ := os.ReadFile(team); string(data) != edited {
		t.Fatalf("the edit on disk was replaced: %q", data)
	}
	// Reading the file through Files refuses too.
	_, err = st.Mutate(Write{Endpoint: "team/update"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
		_, err := files.Read(team)
		return nil, err
	})
	if !errors.As(err, &changed) {
		t.Fatalf("Files.Read of an unloaded edit: %v", err)
	}
	// A file created by hand where the write would create one.
	other := filepath.Join(td, "b.yaml")
	mustWrite(t, other, "team_id: b\n")
	_, err = st.Mutate(Write{Endpoint: "team/new"}, func(*configs.Snapshot, *Files) ([]Change, error) {
		return []Change{{Path: other, Data: []byte("team_id: b\nteam_alias: api\n")}}, nil
	})
	if !errors.As(err, &changed) || !changed.NotLive {
		t.Fatalf("write over a file not loaded yet: %v", err)
	}
	if _, err := st.Rescan("test"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Mutate(Write{Endpoint: "team/update"}, update); err != nil {
		t.Fatalf("write after the reload: %v", err)
	}
}

func openStore(t *testing.T, td, md string) *Store {
	t.Helper()
	st, problems, err := Open(Options{TeamsDir: td, ModelsDir: md, Log: quietLog(),
		Apply: func(*configs.Snapshot) error { return nil }})
	if err != nil || st == nil {
		t.Fatal(err, problems)
	}
	return st
}
