package configs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestWatcherSignals: a burst that touches only configuration files names
// them; one that adds a directory or swaps a ConfigMap's ..data asks for a
// full rescan; an editor's temp file alone names nothing.
func TestWatcherSignals(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "teams.d")
	if err := os.MkdirAll(td, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(WatchOptions{Dirs: []string{td}, Debounce: 30 * time.Millisecond})
	if err != nil {
		t.Fatalf("starting the watcher: %v", err)
	}
	defer w.Close()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(td, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	next := func(what string) Signal {
		t.Helper()
		select {
		case sig := <-w.C:
			return sig
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no signal", what)
			return Signal{}
		}
	}

	write("a.yaml", "team_id: a\n")
	write("b.yml", "team_id: b\n")
	if sig := next("two files"); sig.Full || !slices.Equal(sig.Paths, []string{filepath.Join(td, "a.yaml"), filepath.Join(td, "b.yml")}) {
		t.Errorf("two files: %+v", sig)
	}

	// An editor's save: temp file, then rename over the file.
	write(".a.yaml.tmp", "team_id: a\nteam_alias: x\n")
	if err := os.Rename(filepath.Join(td, ".a.yaml.tmp"), filepath.Join(td, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	if sig := next("rename"); sig.Full || !slices.Equal(sig.Paths, []string{filepath.Join(td, "a.yaml")}) {
		t.Errorf("temp then rename: %+v", sig)
	}

	write("README.md", "notes")
	if sig := next("readme"); sig.Full || len(sig.Paths) != 0 {
		t.Errorf("a README: %+v", sig)
	}

	if err := os.Mkdir(filepath.Join(td, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if sig := next("mkdir"); !sig.Full {
		t.Errorf("a new folder: %+v", sig)
	}

	if err := os.Symlink("sub", filepath.Join(td, "..data")); err != nil {
		t.Fatal(err)
	}
	if sig := next("..data"); !sig.Full {
		t.Errorf("a ConfigMap's ..data: %+v", sig)
	}

	// Removing a watched folder.
	if err := os.Remove(filepath.Join(td, "..data")); err != nil {
		t.Fatal(err)
	}
	_ = next("..data removed")
	if err := os.Remove(filepath.Join(td, "sub")); err != nil {
		t.Fatal(err)
	}
	if sig := next("rmdir"); !sig.Full {
		t.Errorf("a removed folder: %+v", sig)
	}
}

// TestSignalMerge: a signal not taken yet absorbs the next one.
func TestSignalMerge(t *testing.T) {
	got := merge(Signal{Reason: "first", Paths: []string{"b", "c"}}, Signal{Reason: "second", Paths: []string{"a", "b"}})
	if got.Reason != "first" || got.Full || !slices.Equal(got.Paths, []string{"a", "b", "c"}) {
		t.Errorf("merge of two file lists: %+v", got)
	}
	if got := merge(Signal{Paths: []string{"a"}}, Signal{Full: true}); !got.Full || got.Paths != nil {
		t.Errorf("merge with a full rescan: %+v", got)
	}
	many := make([]string, maxSignalPaths+1)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if got := merge(Signal{Paths: many[:10]}, Signal{Paths: many[10:]}); !got.Full {
		t.Errorf("merge past maxSignalPaths: %d paths, full %v", len(got.Paths), got.Full)
	}
}
