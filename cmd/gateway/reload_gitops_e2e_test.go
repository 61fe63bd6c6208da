package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIWriteIsCommitted: with gitops.commit, POST /team/new commits the
// new team file, and only it, with the configured author and a message
// naming the endpoint and the team.
func TestAPIWriteIsCommitted(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	work := t.TempDir()
	cfg := reloadConfig()
	cfg["gateway.yaml"] += "gitops: {commit: true, author_name: Config Bot, author_email: bot@example.com}\n"
	cfg[".gitignore"] = ".gateway/\n"
	writeFiles(t, work, cfg)
	gitIn(t, work, "init", "-q", "-b", "main")
	gitIn(t, work, "add", ".")
	gitIn(t, work, "commit", "-q", "-m", "initial")
	// Unrelated work in progress: staged, and modified but unstaged.
	writeFiles(t, work, map[string]string{"staged.txt": "x\n"})
	gitIn(t, work, "add", "staged.txt")
	writeFiles(t, work, map[string]string{"models.d/README.txt": "edited\n"})

	g := startReloadGateway(t, work)
	code, m, raw := g.do(t, "POST", "/team/new", masterKey, map[string]any{"team_alias": "committed"})
	if code != 200 {
		t.Fatalf("POST /team/new: %d %s", code, raw)
	}
	id, _ := m["team_id"].(string)
	if id == "" {
		t.Fatalf("no team_id in %s", raw)
	}
	subject := gitIn(t, work, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s")
	if want := "Config Bot <bot@example.com>|Config Bot <bot@example.com>|team/new: "; !strings.HasPrefix(subject, want) || !strings.Contains(subject, id) {
		t.Errorf("commit = %q, want %q... naming %s", subject, want, id)
	}
	files := gitIn(t, work, "show", "--name-status", "--format=", "HEAD")
	if want := "A\t" + filepath.ToSlash(filepath.Join("teams.d", id+".yaml")) + "\n"; files != want {
		t.Errorf("the commit holds %q, want only %q", files, want)
	}
	status := gitIn(t, work, "status", "--porcelain")
	if !strings.Contains(status, "A  staged.txt") || !strings.Contains(status, " M models.d/README.txt") {
		t.Errorf("unrelated work changed:\n%s", status)
	}
	head := strings.TrimSpace(gitIn(t, work, "rev-parse", "HEAD"))
	st := g.configStatus(t)
	gs, _ := st["gitops"].(map[string]any)
	if gs == nil || gs["last_commit"] != head || gs["last_error"] != "" || gs["commit"] != true {
		t.Errorf("gitops status = %v, HEAD %s", gs, head)
	}
	// The write went live once; the watcher's event about it changed nothing.
	eventually(t, "the watcher saw the write", func() (bool, string) {
		st := g.configStatus(t)
		return st["last_outcome"] == "unchanged" || st["last_reason"] == "write team/new", fmt.Sprint(st["last_reason"], st["last_outcome"])
	})
	if logs := g.logsSoFar(t); strings.Count(logs, "configuration reloaded") != 0 {
		t.Errorf("the gateway's own write was applied again:\n%s", logs)
	}
	if got := g.configStatus(t)["teams"]; got != float64(3) {
		t.Errorf("teams = %v", got)
	}
}
