package configs

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*/expected.txt from the current output")

// testEnv is the environment every testdata case starts with; a case's
// env.txt adds NAME=value lines and removes variables with "-NAME" lines.
func testEnv(t *testing.T, dir string) func(string) (string, bool) {
	t.Helper()
	env := map[string]string{
		"GATEWAY_MASTER_KEY": "sk-master-test",
		"GATEWAY_SALT_KEY":   "test-salt-key",
	}
	data, err := os.ReadFile(filepath.Join(dir, "env.txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(line, "-"); ok {
			delete(env, name)
		} else if name, value, ok := strings.Cut(line, "="); ok {
			env[name] = value
		}
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// loadCase reads a testdata case directory: gateway.yaml (optional, else
// the embedded default), teams.d/ and models.d/.
func loadCase(t *testing.T, dir string) (*Snapshot, []Problem) {
	t.Helper()
	fsys := os.DirFS(dir)
	cfg := ""
	if _, err := os.Stat(filepath.Join(dir, "gateway.yaml")); err == nil {
		cfg = "gateway.yaml"
	}
	in, err := ReadFS(fsys, cfg, "teams.d", "models.d")
	if err != nil {
		t.Fatalf("ReadFS: %v", err)
	}
	return Build(in, testEnv(t, dir))
}

func readExpected(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "expected.txt"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.SplitSeq(strings.TrimRight(string(data), "\n"), "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

func problemLines(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func compareLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func caseDirs(t *testing.T, kind string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", kind, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no testdata/%s cases (%v)", kind, err)
	}
	return dirs
}

// TestGood loads every testdata/good case: it must give a snapshot, and
// exactly the warnings in its expected.txt (none if absent).
func TestGood(t *testing.T) {
	for _, dir := range caseDirs(t, "good") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			snap, ps := loadCase(t, dir)
			if snap == nil {
				t.Errorf("Build returned no snapshot")
			}
			compareLines(t, problemLines(ps), readExpected(t, dir))
		})
	}
}

// TestBad loads every testdata/bad case: no snapshot, and exactly the
// problems in its expected.txt, in order.
func TestBad(t *testing.T) {
	for _, dir := range caseDirs(t, "bad") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			snap, ps := loadCase(t, dir)
			if snap != nil {
				t.Errorf("Build returned a snapshot for a bad config")
			}
			got := problemLines(ps)
			if *update {
				out := strings.Join(got, "\n") + "\n"
				if err := os.WriteFile(filepath.Join(dir, "expected.txt"), []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			compareLines(t, got, readExpected(t, dir))
		})
	}
}
