package gitops_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/gitops"
)

const teamID = "e59e2671-a064-436a-a0fa-16ae96e5a0a1"

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
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

// repo makes a work tree with a config, one team and a bare remote.
func repo(t *testing.T, gitopsYAML string) (dir, remote string) {
	t.Helper()
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	base := t.TempDir()
	dir, remote = filepath.Join(base, "work"), filepath.Join(base, "remote.git")
	run(t, base, "init", "-q", "--bare", "-b", "main", remote)
	run(t, base, "init", "-q", "-b", "main", dir)
	write(t, filepath.Join(dir, "gateway.yaml"), "gitops: "+gitopsYAML+"\n")
	write(t, filepath.Join(dir, "teams.d", "a.yaml"), "team_id: "+teamID+"\nteam_alias: search\n")
	write(t, filepath.Join(dir, ".gitignore"), ".gateway/\n")
	run(t, dir, "add", ".")
	run(t, dir, "commit", "-q", "-m", "initial")
	run(t, dir, "remote", "add", "origin", remote)
	run(t, dir, "push", "-q", "origin", "main")
	return dir, remote
}

func open(t *testing.T, dir string, c *gitops.Committer) *confstore.Store {
	t.Helper()
	st, problems, err := confstore.Open(confstore.Options{
		ConfigPath:   filepath.Join(dir, "gateway.yaml"),
		TeamsDir:     filepath.Join(dir, "teams.d"),
		ModelsDir:    filepath.Join(dir, "models.d"),
		Listeners:    []confstore.Listener{c.Listener()},
		GitOpsStatus: c.Status,
	})
	if err != nil || st == nil {
		t.Fatalf("open: %v %v", err, problems)
	}
	c.Configure(st.Snapshot().Settings.GitOps)
	return st
}

const modelFile = `model_list:
  - model_name: model_name_` + teamID + `_e81c9286-2195-4bd9-81e1-cf393788a1a0
    litellm_params: {model: mock/x}
    model_info:
      id: e81c9286-2195-4bd9-81e1-cf393788a1a0
      team_id: ` + teamID + `
      team_public_model_name: my-team-model
`

func TestCommitOfAWriteHoldsOnlyItsFiles(t *testing.T) {
	dir, _ := repo(t, "{commit: true, author_name: Gateway Bot, author_email: bot@example.com}")
	// Someone's unrelated work in progress: staged and unstaged.
	write(t, filepath.Join(dir, "notes.txt"), "staged, not mine\n")
	run(t, dir, "add", "notes.txt")
	write(t, filepath.Join(dir, "teams.d", "a.yaml"), "team_id: "+teamID+"\nteam_alias: edited-by-hand\n")

	c := gitops.New(configs.GitOpsSettings{}, nil)
	st := open(t, dir, c)
	// The hand edit above is live after a rescan; the write below adds a file.
	if _, err := st.Rescan("test"); err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(dir, "models.d", teamID, "e81c9286-2195-4bd9-81e1-cf393788a1a0.yaml")
	_, err := st.Mutate(confstore.Write{
		Endpoint: "model/new", Actor: "master", TeamID: teamID, ObjectID: "e81c9286-2195-4bd9-81e1-cf393788a1a0",
		Summary: "team e59e2671 adds my-team-model (id e81c9286)",
	}, func(*configs.Snapshot, *confstore.Files) ([]confstore.Change, error) {
		return []confstore.Change{{Path: modelPath, Data: []byte(modelFile)}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	log := run(t, dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s")
	if want := "Gateway Bot <bot@example.com>|Gateway Bot <bot@example.com>|model/new: team e59e2671 adds my-team-model (id e81c9286)\n"; log != want {
		t.Errorf("git log = %q, want %q", log, want)
	}
	files := run(t, dir, "show", "--name-status", "--format=", "HEAD")
	if want := "A\tmodels.d/" + teamID + "/e81c9286-2195-4bd9-81e1-cf393788a1a0.yaml\n"; files != want {
		t.Errorf("commit holds %q, want only %q", files, want)
	}
	// The unrelated changes are untouched: still staged / still modified.
	status := run(t, dir, "status", "--porcelain")
	if !strings.Contains(status, "A  notes.txt") || !strings.Contains(status, " M teams.d/a.yaml") {
		t.Errorf("unrelated work changed:\n%s", status)
	}
	gs := st.Status().GitOps
	if gs == nil || !gs.Commit || gs.LastCommit == "" || gs.LastError != "" {
		t.Errorf("gitops status = %+v", gs)
	}
	if got := strings.TrimSpace(run(t, dir, "rev-parse", "HEAD")); gs != nil && gs.LastCommit != got {
		t.Errorf("last_commit %s, HEAD %s", gs.LastCommit, got)
	}

	// A removal is committed as a removal.
	_, err = st.Mutate(confstore.Write{Endpoint: "model/delete", Actor: "master", TeamID: teamID, ObjectID: "e81c9286"},
		func(*configs.Snapshot, *confstore.Files) ([]confstore.Change, error) {
			return []confstore.Change{{Path: modelPath}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	files = run(t, dir, "show", "--name-status", "--format=%s", "HEAD")
	if want := "model/delete: team e59e2671 changes e81c9286\n\nD\tmodels.d/" + teamID + "/e81c9286-2195-4bd9-81e1-cf393788a1a0.yaml\n"; files != want {
		t.Errorf("removal commit = %q, want %q", files, want)
	}
}

func TestPushInBackground(t *testing.T) {
	dir, remote := repo(t, "{commit: true, push: true}")
	c := gitops.New(configs.GitOpsSettings{}, nil)
	c.PushBackoff = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Start(ctx)
	st := open(t, dir, c)
	_, err := st.Mutate(confstore.Write{Endpoint: "team/update", Actor: "master", TeamID: teamID, ObjectID: teamID, Summary: "team e59e2671 renames itself"},
		func(*configs.Snapshot, *confstore.Files) ([]confstore.Change, error) {
			return []confstore.Change{{Path: filepath.Join(dir, "teams.d", "a.yaml"), Data: []byte("team_id: " + teamID + "\nteam_alias: renamed\n")}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(run(t, dir, "rev-parse", "HEAD"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		remoteHead := strings.TrimSpace(run(t, remote, "rev-parse", "main"))
		gs := st.Status().GitOps
		if remoteHead == head && gs.PendingPush == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not pushed: remote %s, local %s, status %+v", remoteHead, head, gs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if gs := st.Status().GitOps; gs.LastPushAt.IsZero() || gs.LastError != "" {
		t.Errorf("status after push = %+v", gs)
	}
}

func TestFailedCommitShowsInStatusNotInTheWrite(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	dir := t.TempDir() // not a git work tree
	write(t, filepath.Join(dir, "gateway.yaml"), "gitops: {commit: true}\n")
	write(t, filepath.Join(dir, "teams.d", "a.yaml"), "team_id: "+teamID+"\n")
	c := gitops.New(configs.GitOpsSettings{}, nil)
	st := open(t, dir, c)
	_, err := st.Mutate(confstore.Write{Endpoint: "team/update", TeamID: teamID},
		func(*configs.Snapshot, *confstore.Files) ([]confstore.Change, error) {
			return []confstore.Change{{Path: filepath.Join(dir, "teams.d", "a.yaml"), Data: []byte("team_id: " + teamID + "\nteam_alias: x\n")}}, nil
		})
	if err != nil {
		t.Fatalf("the write failed because of git: %v", err)
	}
	gs := st.Status().GitOps
	if gs == nil || !strings.Contains(gs.LastError, "not inside a git work tree") {
		t.Errorf("gitops status = %+v", gs)
	}
}
