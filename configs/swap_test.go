package configs

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// litter lists the dot files a swap leaves next to path.
func litter(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if IsLitter(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func swapModes(t *testing.T, f func(t *testing.T)) {
	t.Run("renameat2", f)
	if runtime.GOOS == "linux" {
		t.Run("fallback", func(t *testing.T) {
			noRenameat2 = true
			defer func() { noRenameat2 = false }()
			f(t)
		})
	}
}

// TestSwapCompareAndSwap: each swap changes the file only when it holds
// the expected content; on a mismatch the file on disk is left as it was
// and ErrChanged is returned; Undo restores, Commit drops the displaced
// file, and no temp file is left.
func TestSwapCompareAndSwap(t *testing.T) {
	swapModes(t, func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.yaml")
		if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := sha256.Sum256([]byte("old\n"))
		// Replace with the wrong expectation: refused, untouched.
		if _, err := ReplaceFile(p, []byte("new\n"), 0o644, sha256.Sum256([]byte("other"))); !errors.Is(err, ErrChanged) {
			t.Fatalf("replace over an unexpected file: %v", err)
		}
		if got := readString(t, p); got != "old\n" {
			t.Fatalf("file after a refused replace: %q", got)
		}
		// Replace, undo, replace, commit.
		sw, err := ReplaceFile(p, []byte("new\n"), 0o644, old)
		if err != nil || readString(t, p) != "new\n" {
			t.Fatalf("replace: %v %q", err, readString(t, p))
		}
		if err := sw.Undo(); err != nil || readString(t, p) != "old\n" {
			t.Fatalf("undo: %v %q", err, readString(t, p))
		}
		sw, err = ReplaceFile(p, []byte("new\n"), 0o644, old)
		if err != nil {
			t.Fatal(err)
		}
		sw.Commit()
		// Create over an existing file: refused.
		if _, err := CreateFile(p, []byte("x"), 0o644); !errors.Is(err, ErrExists) {
			t.Fatalf("create over a file: %v", err)
		}
		// Create in a new directory, undo, create.
		q := filepath.Join(dir, "sub", "b.yaml")
		sw, err = CreateFile(q, []byte("b\n"), 0o644)
		if err != nil || readString(t, q) != "b\n" {
			t.Fatalf("create: %v", err)
		}
		if err := sw.Undo(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(q); !os.IsNotExist(err) {
			t.Fatalf("undone create left %s: %v", q, err)
		}
		// Remove with the wrong expectation: the file stays.
		if _, err := RemoveFile(p, old); !errors.Is(err, ErrChanged) {
			t.Fatalf("remove of an unexpected file: %v", err)
		}
		if got := readString(t, p); got != "new\n" {
			t.Fatalf("file after a refused remove: %q", got)
		}
		sw, err = RemoveFile(p, sha256.Sum256([]byte("new\n")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("removed file still there: %v", err)
		}
		if err := sw.Undo(); err != nil || readString(t, p) != "new\n" {
			t.Fatalf("undo of a removal: %v", err)
		}
		// Removing a missing file is not an error.
		if _, err := RemoveFile(filepath.Join(dir, "none.yaml"), old); err != nil {
			t.Fatal(err)
		}
		// Replacing a file removed by hand: refused, not recreated.
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if _, err := ReplaceFile(p, []byte("x"), 0o644, sha256.Sum256([]byte("new\n"))); !errors.Is(err, ErrChanged) {
			t.Fatalf("replace of a removed file: %v", err)
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("a removed file was recreated")
		}
		if l := append(litter(t, dir), litter(t, filepath.Join(dir, "sub"))...); len(l) != 0 {
			t.Errorf("temp files left: %v", l)
		}
	})
}

// TestSwapUndoKeepsLaterEdit: undoing a replace or a create whose file was
// replaced again on disk in the meantime keeps that later edit.
func TestSwapUndoKeepsLaterEdit(t *testing.T) {
	swapModes(t, func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.yaml")
		os.WriteFile(p, []byte("old"), 0o644)
		sw, err := ReplaceFile(p, []byte("api"), 0o644, sha256.Sum256([]byte("old")))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, []byte("hand"), 0o644)
		_ = sw.Undo()
		if got := readString(t, p); got != "hand" {
			t.Errorf("undo of a replace over a later edit: %q", got)
		}
		q := filepath.Join(dir, "b.yaml")
		sw, err = CreateFile(q, []byte("api"), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(q, []byte("hand"), 0o644)
		_ = sw.Undo()
		if got := readString(t, q); got != "hand" {
			t.Errorf("undo of a create over a later edit: %q", got)
		}
		if l := litter(t, dir); len(l) != 0 {
			t.Errorf("temp files left: %v", l)
		}
	})
}

// TestSweepLitter removes only swap temp files.
func TestSweepLitter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keep := []string{"a.yaml", ".editor.swp", ".git/x.gw-old-1"}
	gone := []string{".a.yaml.gw-tmp-123", "sub/.b.yaml.gw-old-abc"}
	for _, n := range append(append([]string{}, keep...), gone...) {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	SweepLitter(dir)
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
	for _, n := range gone {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s kept", n)
		}
	}
	if !IsLitter(".x.yaml.gw-tmp-1") || IsLitter("x.yaml") || strings.Contains("", litterMark) {
		t.Error("IsLitter")
	}
}
