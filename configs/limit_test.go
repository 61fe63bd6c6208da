package configs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

// TestOversizeFileRefusedUnread (issue 11, observation 17): a teams.d
// file over general_settings.max_config_file_bytes is refused with
// "path: message" naming the limit and the setting, and is never read
// into memory: reading a 50 MB file allocates no more than the limit.
func TestOversizeFileRefusedUnread(t *testing.T) {
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	os.MkdirAll(td, 0o755)
	os.WriteFile(filepath.Join(td, "a.yaml"), []byte("team_id: a\n"), 0o644)
	big := filepath.Join(td, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// 50 MB (sparse: the test writes nothing, a plain read would take it whole).
	f.WriteString("team_id: big\n")
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	in, err := ReadDirs("", td, md)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*DefaultMaxConfigFileBytes {
		t.Errorf("reading a 50 MB file allocated %d bytes; the limit is %d", alloc, DefaultMaxConfigFileBytes)
	}
	var found bool
	for _, f := range in.Teams {
		if f.Path == big {
			found = true
			if f.Oversize != 50<<20 || f.Data != nil {
				t.Errorf("big file read as %d bytes of data, oversize %d", len(f.Data), f.Oversize)
			}
		}
	}
	if !found {
		t.Fatalf("the big file is not in the input: %v", paths(in.Teams))
	}
	snap, problems := Build(in, nil)
	if snap != nil {
		t.Fatal("a configuration with a 50 MB team file was accepted")
	}
	want := fmt.Sprintf("%s: the file is %d bytes, more than the limit of %d bytes per teams.d or models.d file (general_settings.max_config_file_bytes)", big, 50<<20, DefaultMaxConfigFileBytes)
	if !hasProblem(problems, want) {
		t.Errorf("problems %v\nwant one starting %q", problems, want)
	}

	// The setting raises the limit; a file of exactly the limit loads.
	cfg := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(cfg, []byte("general_settings:\n  max_config_file_bytes: 60000000\n"), 0o644)
	in, err = ReadDirs(cfg, td, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := Build(in, nil); hasProblem(problems, big+": the file is") || !hasProblem(problems, big+":1:1: invalid YAML") {
		t.Errorf("with the limit raised, the file is read (and its NUL bytes refused): %v", problems)
	}
	os.Remove(big)
	exact := filepath.Join(td, "exact.yaml")
	os.WriteFile(exact, []byte("team_id: exact\n"+strings.Repeat("#\n", (DefaultMaxConfigFileBytes-15)/2)), 0o644)
	fi, _ := os.Stat(exact)
	in, _ = ReadDirs("", td, md)
	if _, problems := Build(in, nil); HasErrors(problems) || fi.Size() > DefaultMaxConfigFileBytes {
		t.Errorf("a file of %d bytes (limit %d): %v", fi.Size(), DefaultMaxConfigFileBytes, problems)
	}
	// A bad setting is an error at its position.
	os.WriteFile(cfg, []byte("general_settings:\n  max_config_file_bytes: -1\n"), 0o644)
	in, _ = ReadDirs(cfg, td, md)
	if _, problems := Build(in, nil); !hasProblem(problems, cfg+":2:26: general_settings.max_config_file_bytes is -1") {
		t.Errorf("negative limit: %v", problems)
	}
}

func hasProblem(ps []Problem, prefix string) bool {
	for _, p := range ps {
		if strings.HasPrefix(p.String(), prefix) {
			return true
		}
	}
	return false
}

// TestReadFileLimit: the single-file reader (RescanFiles) and ReadFS
// apply the limit too.
func TestReadFileLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	os.WriteFile(p, []byte(strings.Repeat("#\n", 100)), 0o644)
	if f, found, err := ReadFileLimit(p, 100); err != nil || !found || f.Oversize != 200 || f.Data != nil {
		t.Errorf("ReadFileLimit over: %+v %v %v", f, found, err)
	}
	if f, found, err := ReadFileLimit(p, 200); err != nil || !found || f.Oversize != 0 || len(f.Data) != 200 {
		t.Errorf("ReadFileLimit at: %+v %v %v", f.Oversize, found, err)
	}
	fsys := fstest.MapFS{
		"cfg.yaml":       {Data: []byte("general_settings: {max_config_file_bytes: 20}\n")},
		"teams.d/a.yaml": {Data: []byte("team_id: a-team-with-a-long-id\n")},
		"teams.d/b.yaml": {Data: []byte("team_id: b\n")},
	}
	in, err := ReadFS(fsys, "cfg.yaml", "teams.d", "")
	if err != nil || len(in.Teams) != 2 || in.Teams[0].Oversize != 31 || in.Teams[1].Oversize != 0 {
		t.Errorf("ReadFS with a 20-byte limit: %+v %v", in.Teams, err)
	}
	// The --config file has its own fixed limit.
	fsys["big.yaml"] = &fstest.MapFile{Data: make([]byte, MaxSettingsFileBytes+1)}
	in, err = ReadFS(fsys, "big.yaml", "teams.d", "")
	if err != nil || in.Config.Oversize != MaxSettingsFileBytes+1 {
		t.Fatalf("ReadFS of a big --config file: %v %v", in.Config.Oversize, err)
	}
	if _, problems := Build(in, nil); !hasProblem(problems, "big.yaml: the file is 16777217 bytes, more than the 16777216 bytes a --config file may have") {
		t.Errorf("big --config file: %v", problems)
	}
}
