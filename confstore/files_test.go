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
		Listeners: []Listener{{Name: "test", Live: func(Event) error { return nil }}}})
	if err != nil || st == nil {
		t.Fatal(err, problems)
	}
	return st
}

// TestRescanFilesMatchesRescan: reading only the files a change named
// gives the configuration a full rescan gives, through edits, new files,
// removed files, an invalid state and its fix.
func TestRescanFilesMatchesRescan(t *testing.T) {
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	a, b := filepath.Join(td, "a.yaml"), filepath.Join(td, "sub", "b.yaml")
	m := filepath.Join(md, "a", "m.yaml")
	mustWrite(t, a, "team_id: a\n")
	st := openStore(t, td, md)
	model := func(name string) string {
		return "model_list:\n  - model_name: " + name + "\n    litellm_params: {model: mock/x}\n    model_info: {team_id: a}\n"
	}
	steps := []struct {
		name    string
		do      func()
		paths   []string
		outcome string
	}{
		{"edit", func() { mustWrite(t, a, "team_id: a\nteam_alias: A\n") }, []string{a}, OutcomeApplied},
		{"new team in a new folder", func() { mustWrite(t, b, "team_id: b\n") }, []string{b}, OutcomeApplied},
		{"new model", func() { mustWrite(t, m, model("m1")) }, []string{m}, OutcomeApplied},
		{"same content", func() { mustWrite(t, m, model("m1")) }, []string{m}, OutcomeUnchanged},
		{"invalid", func() { mustWrite(t, a, "team_id: a\nbogus: 1\n") }, []string{a}, OutcomeRejected},
		{"fixed", func() { mustWrite(t, a, "team_id: a\nteam_alias: fixed\n") }, []string{a}, OutcomeApplied},
		{"two files", func() { mustWrite(t, m, model("m2")); _ = os.Remove(b) }, []string{b, m}, OutcomeApplied},
		{"named but gone already", func() {}, []string{filepath.Join(td, "never.yaml")}, OutcomeUnchanged},
	}
	for _, step := range steps {
		step.do()
		st1, err := st.RescanFiles("test", step.paths)
		if st1.LastOutcome != step.outcome {
			t.Fatalf("%s: outcome %s (%v), want %s", step.name, st1.LastOutcome, err, step.outcome)
		}
		if step.outcome == OutcomeRejected {
			continue
		}
		in, err := configs.ReadDirs("", td, md)
		if err != nil {
			t.Fatal(err)
		}
		if want := configs.InputHash(in); st.Snapshot().Hash != want {
			t.Fatalf("%s: live hash %s, a full read gives %s", step.name, st.Snapshot().Hash, want)
		}
		if full, err := st.Rescan("test"); err != nil || full.LastOutcome != OutcomeUnchanged {
			t.Fatalf("%s: a full rescan after RescanFiles: %s %v", step.name, full.LastOutcome, err)
		}
	}
	if got := st.Snapshot().Teams["a"]; got == nil || got.TeamAlias != "fixed" || st.Snapshot().Teams["b"] != nil {
		t.Errorf("final teams: %v", st.Snapshot().Teams)
	}
	// A path outside both folders falls back to a full rescan.
	if s, err := st.RescanFiles("test", []string{filepath.Join(dir, "elsewhere.yaml")}); err != nil || s.LastOutcome != OutcomeUnchanged {
		t.Errorf("outside path: %s %v", s.LastOutcome, err)
	}
}
