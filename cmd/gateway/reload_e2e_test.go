package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const keyC = "sk-team-a-second-key-0123456789abcd"

func TestReloadEditInPlace(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	if got := g.chatStatus(t, keyC, "a-model"); got != 401 {
		t.Fatalf("unknown key answered %d", got)
	}
	f, err := os.OpenFile(filepath.Join(dir, "teams.d", "a.yaml"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(teamYAML(teamA, "search", keyA, keyC)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g.waitChat(t, keyC, "a-model", 200)
	if got := g.chatStatus(t, keyB, "b-model"); got != 200 {
		t.Errorf("team B answered %d after team A's edit", got)
	}
}

func TestReloadWriteTempThenRename(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	replaceFile(t, filepath.Join(dir, "models.d", "a", "m.yaml"),
		modelYAML(teamA, "a-1", "a-model")+strings.TrimPrefix(modelYAML(teamA, "a-2", "a-renamed"), "model_list:\n"))
	g.waitChat(t, keyA, "a-renamed", 200)
	if got := g.chatStatus(t, keyA, "a-model"); got != 200 {
		t.Errorf("a-model answered %d", got)
	}
}

func TestReloadNewSubdirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	// Created after the start: the directories must be watched as they appear.
	sub := filepath.Join(dir, "models.d", "a", "fine-tunes", "2026")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "ft.yml"), []byte(modelYAML(teamA, "ft-1", "a-finetune")), 0o644); err != nil {
		t.Fatal(err)
	}
	g.waitChat(t, keyA, "a-finetune", 200)
	// A later edit inside the new directory is seen too.
	if err := os.WriteFile(filepath.Join(sub, "ft.yml"), []byte(modelYAML(teamA, "ft-1", "a-finetune-v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	g.waitChat(t, keyA, "a-finetune-v2", 200)
	if got := g.chatStatus(t, keyB, "a-finetune-v2"); got != 400 {
		t.Errorf("team B calling team A's model: %d, want 400", got)
	}
}

func TestReloadDeletedTeamKeyStopsWorking(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	if got := g.chatStatus(t, keyB, "b-model"); got != 200 {
		t.Fatalf("team B: %d", got)
	}
	if err := os.RemoveAll(filepath.Join(dir, "models.d", "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "teams.d", "b.yaml")); err != nil {
		t.Fatal(err)
	}
	g.waitChat(t, keyB, "b-model", 401)
	if got := g.chatStatus(t, keyA, "a-model"); got != 200 {
		t.Errorf("team A: %d after team B was removed", got)
	}
	st := g.configStatus(t)
	if st["teams"] != float64(1) || st["ok"] != true {
		t.Errorf("status: %v", st)
	}
}

func TestReloadInvalidEditKeepsServingAndFixClears(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	good := g.configStatus(t)
	path := filepath.Join(dir, "teams.d", "a.yaml")
	// A typo on line 3 plus a second key for team A that must not go live.
	bad := "team_id: " + teamA + "\nteam_alias: search\nrpm_limitt: 5\n" + strings.SplitN(teamYAML(teamA, "search", keyA, keyC), "\n", 3)[2]
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr := path + ":3:1: unknown key \"rpm_limitt\""
	eventually(t, "status shows the error", func() (bool, string) {
		st := g.configStatus(t)
		errs, _ := st["errors"].([]any)
		return st["ok"] == false && len(errs) > 0 && strings.HasPrefix(fmt.Sprint(errs[0]), wantErr), fmt.Sprint(st)
	})
	st := g.configStatus(t)
	if st["config_hash"] != good["config_hash"] || st["last_success_at"] != good["last_success_at"] && st["last_outcome"] != "rejected" {
		t.Errorf("the live configuration changed: %v", st)
	}
	if got := g.chatStatus(t, keyA, "a-model"); got != 200 {
		t.Errorf("team A after an invalid edit: %d", got)
	}
	if got := g.chatStatus(t, keyC, "a-model"); got != 401 {
		t.Errorf("a key from the invalid file works: %d", got)
	}
	if logged, logs := path+":3:1: unknown key", g.logsSoFar(t); !strings.Contains(logs, logged) {
		t.Errorf("the log lacks %q:\n%s", logged, logs)
	}
	// POST /config/reload reports the rejection too.
	code, m, raw := g.do(t, "POST", "/config/reload", masterKey, nil)
	if code != 422 || m["outcome"] != "rejected" {
		t.Errorf("POST /config/reload = %d %s", code, raw)
	}

	if err := os.WriteFile(path, []byte(teamYAML(teamA, "search", keyA, keyC)), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status clears", func() (bool, string) {
		st := g.configStatus(t)
		errs, _ := st["errors"].([]any)
		return st["ok"] == true && len(errs) == 0, fmt.Sprint(st)
	})
	g.waitChat(t, keyC, "a-model", 200)
}

func TestReloadConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	cfg := reloadConfig()
	delete(cfg, "teams.d/a.yaml")
	delete(cfg, "teams.d/b.yaml")
	writeFiles(t, dir, cfg)
	// teams.d is a mounted ConfigMap: the files live in a timestamped
	// directory, ..data points at it, and the visible names are symlinks
	// through ..data.
	td := filepath.Join(dir, "teams.d")
	writeFiles(t, td, map[string]string{
		"..2026_01/a.yaml": teamYAML(teamA, "search", keyA),
		"..2026_01/b.yaml": teamYAML(teamB, "other", keyB),
	})
	for _, err := range []error{
		os.Symlink("..2026_01", filepath.Join(td, "..data")),
		os.Symlink("..data/a.yaml", filepath.Join(td, "a.yaml")),
		os.Symlink("..data/b.yaml", filepath.Join(td, "b.yaml")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	g := startReloadGateway(t, dir)
	if got := g.chatStatus(t, keyC, "a-model"); got != 401 {
		t.Fatalf("keyC before the swap: %d", got)
	}
	// The kubelet's update: a new timestamped directory, a new symlink
	// renamed over ..data (the only events name ..data), the old one removed.
	writeFiles(t, td, map[string]string{
		"..2026_02/a.yaml": teamYAML(teamA, "search", keyA, keyC),
		"..2026_02/b.yaml": teamYAML(teamB, "other", keyB),
	})
	if err := os.Symlink("..2026_02", filepath.Join(td, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(td, "..data_tmp"), filepath.Join(td, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(td, "..2026_01")); err != nil {
		t.Fatal(err)
	}
	g.waitChat(t, keyC, "a-model", 200)
	if got := g.chatStatus(t, keyB, "b-model"); got != 200 {
		t.Errorf("team B after the swap: %d", got)
	}
}

func TestReloadConfigFileDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	// A global model added to the --config file goes live.
	replaceFile(t, filepath.Join(dir, "gateway.yaml"), "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n"+
		"model_list:\n  - model_name: global-new\n    litellm_params: {model: mock/g}\n")
	g.waitChat(t, keyA, "global-new", 200)
	// Other files next to it do not count (only the file and ..data do):
	// their churn causes no reload.
	before := g.configStatus(t)["last_reload_at"]
	writeFiles(t, dir, map[string]string{"notes.yaml": "not: the config\n"})
	time.Sleep(400 * time.Millisecond) // proving an absence: longer than the debounce
	if after := g.configStatus(t)["last_reload_at"]; after != before {
		t.Errorf("a file next to --config started a reload (%v -> %v)", before, after)
	}
}

func TestReloadGitCheckoutAndPull(t *testing.T) {
	base := t.TempDir()
	origin := filepath.Join(base, "origin.git")
	work := filepath.Join(base, "work")
	other := filepath.Join(base, "other")
	gitIn(t, base, "init", "-q", "--bare", "-b", "main", origin)
	gitIn(t, base, "clone", "-q", origin, work)
	writeFiles(t, work, reloadConfig())
	gitIn(t, work, "add", ".")
	gitIn(t, work, "commit", "-q", "-m", "initial")
	gitIn(t, work, "push", "-q", "origin", "main")
	// A branch where team A has a second key and team B is gone.
	gitIn(t, work, "checkout", "-q", "-b", "feature")
	writeFiles(t, work, map[string]string{"teams.d/a.yaml": teamYAML(teamA, "search", keyA, keyC)})
	gitIn(t, work, "rm", "-q", "-r", "teams.d/b.yaml", "models.d/b")
	gitIn(t, work, "commit", "-q", "-am", "feature")
	gitIn(t, work, "checkout", "-q", "main")

	g := startReloadGateway(t, work)
	gitIn(t, work, "checkout", "-q", "feature")
	g.waitChat(t, keyC, "a-model", 200)
	g.waitChat(t, keyB, "b-model", 401)
	gitIn(t, work, "checkout", "-q", "main")
	g.waitChat(t, keyB, "b-model", 200)
	g.waitChat(t, keyC, "a-model", 401)

	// Someone else pushes a new model; the host pulls it.
	gitIn(t, base, "clone", "-q", origin, other)
	writeFiles(t, other, map[string]string{"models.d/b/pulled.yaml": modelYAML(teamB, "b-2", "b-pulled")})
	gitIn(t, other, "add", ".")
	gitIn(t, other, "commit", "-q", "-m", "team B adds b-pulled")
	gitIn(t, other, "push", "-q", "origin", "main")
	gitIn(t, work, "pull", "-q", "--rebase", "origin", "main")
	g.waitChat(t, keyB, "b-pulled", 200)
	if st := g.configStatus(t); st["ok"] != true {
		t.Errorf("status after the pull: %v", st)
	}
}

// TestReloadUnderLoad: while team B's file is rewritten 20 times, team A's
// requests (4 goroutines for 2 s) never fail.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code := g.chatStatus(t, keyA, "a-model"); code == 200 {
					ok.Add(1)
				} else {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, code)
				}
			}
		}()
	}
	bPath := filepath.Join(dir, "teams.d", "b.yaml")
	for i := range 20 {
		// Alternate in-place writes and renames; team B's limit changes each time.
		data := teamYAML(teamB, "other", keyB) + fmt.Sprintf("rpm_limit: %d\n", 1000+i)
		if i%2 == 0 {
			replaceFile(t, bPath, data)
		} else if err := os.WriteFile(bPath, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the pace of the edits, not a wait for a result
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 || ok.Load() == 0 {
		t.Fatalf("team A: %d ok, %d failed (first status %v)", ok.Load(), failed.Load(), firstFailure.Load())
	}
	eventually(t, "the last edit is live", func() (bool, string) {
		st := g.configStatus(t)
		return st["ok"] == true && strings.Contains(g.logs.String(), "configuration reloaded"), fmt.Sprint(st)
	})
	t.Logf("team A: %d requests ok during 20 edits of team B", ok.Load())
}

func TestReloadEndpointsAndSIGHUP(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, reloadConfig())
	g := startReloadGateway(t, dir)
	for _, key := range []string{"", keyA} {
		for _, r := range [][2]string{{"GET", "/config/status"}, {"POST", "/config/reload"}} {
			code, m, raw := g.do(t, r[0], r[1], key, nil)
			want := 403
			if key == "" {
				want = 401
			}
			if code != want {
				t.Errorf("%s %s with key %q: %d, want %d", r[0], r[1], key, code, want)
			}
			errorOf(t, m, raw)
		}
	}
	st := g.configStatus(t)
	for _, k := range []string{"ok", "last_reload_at", "last_success_at", "config_hash", "errors", "teams", "deployments"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status lacks %q: %v", k, st)
		}
	}
	if st["teams"] != float64(2) || st["deployments"] != float64(2) {
		t.Errorf("status counts: %v", st)
	}
	code, m, raw := g.do(t, "POST", "/config/reload", masterKey, nil)
	if code != 200 || m["outcome"] != "unchanged" {
		t.Errorf("POST /config/reload: %d %s", code, raw)
	}

	// SIGHUP rescans at once (the watcher would too; the log names the reason).
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SIGHUP rescan", func() (bool, string) {
		st := g.configStatus(t)
		return st["last_reason"] == "SIGHUP", fmt.Sprint(st["last_reason"])
	})
}
