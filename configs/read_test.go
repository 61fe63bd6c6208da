package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
)

func paths(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func TestReadFS(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("team_id: x\n")}
	fsys := fstest.MapFS{
		"cfg/gateway.yaml":              {Data: []byte("model_list: []\n")},
		"teams.d/b.yaml":                file,
		"teams.d/a.yml":                 file,
		"teams.d/nested/deep/c.yaml":    file,
		"teams.d/README.md":             file,
		"teams.d/notes.txt":             file,
		"teams.d/.a.yaml.swp":           file,
		"teams.d/.hidden.yaml":          file,
		"teams.d/.git/config.yaml":      file,
		"teams.d/..data/x.yaml":         file,
		"teams.d/..2026_11_23/x.yaml":   file,
		"teams.d/nested/.tmp/d.yaml":    file,
		"teams.d/UPPER.YAML":            file,
		"models.d/team-1/m1.yaml":       file,
		"models.d/global/g.yaml":        file,
		"models.d/global/.g.yaml~":      file,
		"models.d/global/g.yaml.backup": file,
	}
	in, err := ReadFS(fsys, "cfg/gateway.yaml", "teams.d", "./models.d/")
	if err != nil {
		t.Fatal(err)
	}
	if in.Config.Path != "cfg/gateway.yaml" || string(in.Config.Data) != "model_list: []\n" {
		t.Errorf("config = %+v", in.Config)
	}
	wantTeams := []string{"teams.d/UPPER.YAML", "teams.d/a.yml", "teams.d/b.yaml", "teams.d/nested/deep/c.yaml"}
	if got := paths(in.Teams); !reflect.DeepEqual(got, wantTeams) {
		t.Errorf("teams = %v, want %v", got, wantTeams)
	}
	wantModels := []string{"models.d/global/g.yaml", "models.d/team-1/m1.yaml"}
	if got := paths(in.Models); !reflect.DeepEqual(got, wantModels) {
		t.Errorf("models = %v, want %v", got, wantModels)
	}

	// No --config means the embedded default; missing dirs are empty.
	in, err = ReadFS(fsys, "", "nope.d", "")
	if err != nil || in.Config.Path != EmbeddedConfigPath || len(in.Teams) != 0 || len(in.Models) != 0 {
		t.Errorf("ReadFS with defaults = %+v, %v", in, err)
	}
	// A missing --config file is an error.
	if _, err := ReadFS(fsys, "missing.yaml", "", ""); err == nil {
		t.Error("missing config file: no error")
	}
	// A teams "dir" that is a file is an error.
	if _, err := ReadFS(fsys, "", "teams.d/b.yaml", ""); err == nil {
		t.Error("teams dir is a file: no error")
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not supported: %v", err)
	}
}

// TestReadDirsSymlinks covers a Kubernetes ConfigMap mount (..data and
// ..<timestamp> folders, top-level symlinks into ..data), symlinked
// directories outside the tree, dangling links and symlink loops.
func TestReadDirsSymlinks(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)

	// ConfigMap layout for the config and teams.
	write(t, "cm/..2026_11_23_10_00_00.123/gateway.yaml", "router_settings: {timeout: 5}\n")
	write(t, "cm/..2026_11_23_10_00_00.123/demo.yaml", "team_id: demo\n")
	symlink(t, "..2026_11_23_10_00_00.123", "cm/..data")
	symlink(t, "..data/gateway.yaml", "cm/gateway.yaml")
	symlink(t, "..data/demo.yaml", "cm/demo.yaml")
	symlink(t, "..data/gone.yaml", "cm/gone.yaml") // dangling: skipped

	// models.d with a symlinked directory, a symlinked file and a loop.
	write(t, "elsewhere/team-x/m.yaml", "model_list: []\n")
	write(t, "models.d/global/g.yaml", "model_list: []\n")
	symlink(t, "../elsewhere/team-x", "models.d/team-x")
	symlink(t, "global/g.yaml", "models.d/alias.yaml")
	symlink(t, "..", "models.d/global/loop")

	in, err := ReadDirs("cm/gateway.yaml", "cm", "models.d")
	if err != nil {
		t.Fatal(err)
	}
	if string(in.Config.Data) != "router_settings: {timeout: 5}\n" {
		t.Errorf("config through symlink = %q", in.Config.Data)
	}
	if got, want := paths(in.Teams), []string{"cm/demo.yaml", "cm/gateway.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("teams = %v, want %v", got, want)
	}
	wantModels := []string{"models.d/alias.yaml", "models.d/global/g.yaml", "models.d/team-x/m.yaml"}
	if got := paths(in.Models); !reflect.DeepEqual(got, wantModels) {
		t.Errorf("models = %v, want %v", got, wantModels)
	}

	if in, err := ReadDirs("", filepath.Join(root, "absent"), ""); err != nil || len(in.Teams) != 0 {
		t.Errorf("missing dir: %v, %v", in.Teams, err)
	}
}

// TestReadDirsLargeAndEmptyFiles: the scratch-buffer reader returns files
// larger than its buffer whole, and empty files as empty (not nil) data.
func TestReadDirsLargeAndEmptyFiles(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	for name, data := range map[string][]byte{"teams.d/big.yaml": big, "teams.d/empty.yaml": {}, "teams.d/small.yaml": []byte("team_id: x\n")} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ReadDirs("", filepath.Join(dir, "teams.d"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Teams) != 3 {
		t.Fatalf("teams = %v", paths(in.Teams))
	}
	if got := in.Teams[0].Data; string(got) != string(big) {
		t.Errorf("big file: %d bytes, want %d", len(got), len(big))
	}
	if got := in.Teams[1].Data; got == nil || len(got) != 0 {
		t.Errorf("empty file: %q (nil %v)", got, got == nil)
	}
	if got := string(in.Teams[2].Data); got != "team_id: x\n" {
		t.Errorf("small file: %q", got)
	}
	if _, err := ReadDirs(filepath.Join(dir, "teams.d"), "", ""); err == nil {
		t.Errorf("reading a directory as the config file: no error")
	}
}
