package spend

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CheckStateDir refuses a state directory that is, or is under, the teams
// or models directory (runtime state must never be mistaken for
// configuration, nor committed with it). When the state directory is
// inside a git work tree and git does not ignore it, it returns a warning
// to log.
func CheckStateDir(stateDir, teamsDir, modelsDir string) (warning string, err error) {
	state, err := canonical(stateDir)
	if err != nil {
		return "", fmt.Errorf("--state-dir %q: %w", stateDir, err)
	}
	for _, c := range []struct{ flag, dir string }{{"--teams-dir", teamsDir}, {"--models-dir", modelsDir}} {
		if c.dir == "" {
			continue
		}
		d, err := canonical(c.dir)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(d, state); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
			return "", fmt.Errorf("--state-dir %q is inside %s %q; runtime state must live outside the configuration folders (the default is .gateway); choose another --state-dir", stateDir, c.flag, c.dir)
		}
	}
	if ignored, inTree := gitIgnored(state); inTree && !ignored {
		return fmt.Sprintf("the state directory %s is inside a git work tree but not git-ignored; add it to .gitignore so spend is never committed", stateDir), nil
	}
	return "", nil
}

// canonical is the absolute path with symlinks resolved as far as the
// path exists.
func canonical(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// gitIgnored asks git (read only) whether dir is ignored. inTree is false
// when dir is not in a work tree or git is not installed.
func gitIgnored(dir string) (ignored, inTree bool) {
	top := dir
	for {
		if _, err := os.Stat(filepath.Join(top, ".git")); err == nil {
			break
		}
		parent := filepath.Dir(top)
		if parent == top {
			return false, false
		}
		top = parent
	}
	if _, err := exec.LookPath("git"); err != nil {
		return false, false
	}
	cmd := exec.Command("git", "-C", top, "check-ignore", "-q", "--no-index", dir+string(filepath.Separator))
	err := cmd.Run()
	if err == nil {
		return true, true
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.ExitCode() == 1 {
		return false, true
	}
	return false, false // git failed (e.g. not a work tree after all): say nothing
}
