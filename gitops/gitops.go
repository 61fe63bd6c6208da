// Package gitops commits the management API's write-backs to the git
// repository the configuration lives in, and pushes them in the
// background. It drives the git command line (no library): what it does is
// what an operator would type, and it honours the repository's own git
// configuration (remotes, credentials helpers, hooks are skipped).
//
// A commit holds only the files the write touched (git add -- paths, then
// git commit --only -- paths), so whatever else is staged or modified in
// the work tree stays out of it. A failed commit or push never fails the
// API call: it is logged and shown in /config/status.
package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
)

// gitTimeout bounds one git command.
const gitTimeout = 30 * time.Second

// Committer commits write-backs (confstore's AfterWrite hook) and pushes
// them (Start). Its zero value is not usable; use New.
type Committer struct {
	log *slog.Logger
	// PushBackoff is the first wait between push attempts; it doubles up
	// to MaxPushBackoff.
	PushBackoff    time.Duration
	MaxPushBackoff time.Duration

	mu       sync.Mutex
	settings configs.GitOpsSettings
	st       confstore.GitOpsStatus
	top      string // work tree of the latest commit, where pushes run

	kick chan struct{}
}

// New returns a committer with the given settings (see Configure).
func New(settings configs.GitOpsSettings, log *slog.Logger) *Committer {
	if log == nil {
		log = slog.Default()
	}
	c := &Committer{log: log, PushBackoff: time.Second, MaxPushBackoff: time.Minute, kick: make(chan struct{}, 1)}
	c.Configure(settings)
	return c
}

// Configure sets the gitops settings of the live configuration.
func (c *Committer) Configure(s configs.GitOpsSettings) {
	if s.AuthorName == "" {
		s.AuthorName = configs.DefaultAuthorName
	}
	if s.AuthorEmail == "" {
		s.AuthorEmail = configs.DefaultAuthorEmail
	}
	if s.Remote == "" {
		s.Remote = configs.DefaultRemote
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = s
	c.st.Commit, c.st.Push = s.Commit, s.Push
}

// Status returns the committer's state for /config/status.
func (c *Committer) Status() *confstore.GitOpsStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	return &st
}

// Listener is the committer's confstore listener ("gitops"): every
// configuration that goes live sets the gitops settings, and an API
// write's files are committed (AfterWrite).
func (c *Committer) Listener() confstore.Listener {
	return confstore.Listener{Name: "gitops", Live: func(e confstore.Event) error {
		c.Configure(e.Snapshot.Settings.GitOps)
		if e.Write != nil {
			c.AfterWrite(*e.Write)
		}
		return nil
	}}
}

// AfterWrite commits the files of w when gitops.commit is on. It runs
// under the store's lock (from Listener), so the files are exactly as the
// write left them.
func (c *Committer) AfterWrite(w confstore.Write) {
	if w.Snapshot != nil {
		c.Configure(w.Snapshot.Settings.GitOps)
	}
	c.mu.Lock()
	s := c.settings
	c.mu.Unlock()
	if !s.Commit || len(w.Changes) == 0 {
		return
	}
	paths := make([]string, len(w.Changes))
	for i, ch := range w.Changes {
		paths[i] = ch.Path
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*gitTimeout)
	defer cancel()
	res, err := Commit(ctx, CommitOptions{
		Paths:       paths,
		Message:     Message(w),
		AuthorName:  s.AuthorName,
		AuthorEmail: s.AuthorEmail,
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failLocked(fmt.Sprintf("commit of %s failed: %v", w.Endpoint, err))
		return
	}
	if res.Hash == "" {
		c.log.Debug("gitops: the write changed nothing git tracks; no commit", "endpoint", w.Endpoint)
		return
	}
	c.st.LastCommit, c.st.LastCommitAt, c.top = res.Hash, time.Now(), res.TopLevel
	c.st.LastError = ""
	c.log.Info("gitops: committed", "commit", res.Hash, "endpoint", w.Endpoint, "files", len(res.Files))
	if s.Push {
		c.st.PendingPush++
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

func (c *Committer) failLocked(msg string) {
	c.st.LastError, c.st.LastErrorAt = msg, time.Now()
	c.log.Error("gitops: " + msg)
}

// Start pushes commits in the background until ctx ends, retrying with
// backoff while some are not pushed.
func (c *Committer) Start(ctx context.Context) {
	go c.pushLoop(ctx)
}

func (c *Committer) pushLoop(ctx context.Context) {
	backoff := c.PushBackoff
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-retry:
		}
		retry = nil
		c.mu.Lock()
		pending, top, s := c.st.PendingPush, c.top, c.settings
		c.mu.Unlock()
		if pending == 0 || !s.Push || top == "" {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, gitTimeout)
		err := Push(pctx, top, s.Remote, s.Branch)
		cancel()
		c.mu.Lock()
		if err != nil {
			c.failLocked(fmt.Sprintf("push to %s failed (retrying in %s): %v", s.Remote, backoff, err))
			c.mu.Unlock()
			retry = time.After(backoff)
			backoff = min(2*backoff, c.MaxPushBackoff)
			continue
		}
		// Commits made while the push ran are pushed by the next kick.
		c.st.PendingPush -= pending
		c.st.LastPushAt = time.Now()
		if strings.HasPrefix(c.st.LastError, "push") {
			c.st.LastError = ""
		}
		c.mu.Unlock()
		backoff = c.PushBackoff
		c.log.Info("gitops: pushed", "remote", s.Remote, "commits", pending)
	}
}

// Message is the commit message of a write: the endpoint and the summary
// ("model/new: team e59e2671 adds my-team-model (id e81c9286)"), then the
// actor and the ids as trailers.
func Message(w confstore.Write) string {
	summary := w.Summary
	if summary == "" {
		summary = fmt.Sprintf("team %s changes %s", short(w.TeamID), short(w.ObjectID))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", w.Endpoint, summary)
	if w.Actor != "" {
		fmt.Fprintf(&b, "Gateway-Actor: %s\n", w.Actor)
	}
	if w.TeamID != "" {
		fmt.Fprintf(&b, "Gateway-Team: %s\n", w.TeamID)
	}
	if w.ObjectID != "" {
		fmt.Fprintf(&b, "Gateway-Object: %s\n", w.ObjectID)
	}
	return b.String()
}

func short(id string) string {
	if id == "" {
		return "-"
	}
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

// CommitOptions say what to commit.
type CommitOptions struct {
	Paths       []string // files written or removed, as the store names them
	Message     string
	AuthorName  string // also the committer
	AuthorEmail string
}

// CommitResult is a commit made; Hash is "" when there was nothing to
// commit.
type CommitResult struct {
	Hash     string
	TopLevel string
	Files    []string // relative to TopLevel
}

// ErrNotWorkTree means the files are not inside a git work tree.
var ErrNotWorkTree = errors.New("the configuration folders are not inside a git work tree")

// Commit commits the current content of paths (including their removal)
// and nothing else: other staged or modified files stay as they are. It
// retries while another git process (a pull loop) holds the index lock.
func Commit(ctx context.Context, o CommitOptions) (CommitResult, error) {
	if len(o.Paths) == 0 {
		return CommitResult{}, nil
	}
	top, err := TopLevel(ctx, existingDir(o.Paths[0]))
	if err != nil {
		return CommitResult{}, err
	}
	var rels []string
	for _, p := range o.Paths {
		rel, err := relTo(top, p)
		if err != nil {
			return CommitResult{}, err
		}
		rels = append(rels, rel)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + o.AuthorName, "GIT_AUTHOR_EMAIL=" + o.AuthorEmail,
		"GIT_COMMITTER_NAME=" + o.AuthorName, "GIT_COMMITTER_EMAIL=" + o.AuthorEmail,
	}
	var res CommitResult
	var lastErr error
	for attempt := range 6 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		res, lastErr = commitOnce(ctx, top, rels, o.Message, env)
		if lastErr == nil || !strings.Contains(lastErr.Error(), "index.lock") {
			return res, lastErr
		}
	}
	return res, lastErr
}

func commitOnce(ctx context.Context, top string, rels []string, msg string, env []string) (CommitResult, error) {
	res := CommitResult{TopLevel: top}
	// Removed files can only be committed if git knows them.
	out, err := git(ctx, top, nil, append([]string{"ls-files", "-z", "--"}, rels...)...)
	if err != nil {
		return res, err
	}
	tracked := map[string]bool{}
	for _, f := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		tracked[f] = true
	}
	var present, paths []string
	for _, r := range rels {
		_, err := os.Lstat(filepath.Join(top, r))
		switch {
		case err == nil:
			present = append(present, r)
			paths = append(paths, r)
		case tracked[r]:
			paths = append(paths, r)
		}
	}
	if len(paths) == 0 {
		return res, nil
	}
	if len(present) > 0 {
		if _, err := git(ctx, top, nil, append([]string{"add", "--"}, present...)...); err != nil {
			return res, err
		}
	}
	out, err = git(ctx, top, nil, append([]string{"status", "--porcelain", "-z", "--"}, paths...)...)
	if err != nil {
		return res, err
	}
	if out == "" {
		return res, nil // the files are as committed already
	}
	args := append([]string{"-c", "commit.gpgsign=false", "commit", "--only", "--no-verify", "--quiet", "--allow-empty-message", "-m", msg, "--"}, paths...)
	if _, err := git(ctx, top, env, args...); err != nil {
		return res, err
	}
	hash, err := git(ctx, top, nil, "rev-parse", "HEAD")
	if err != nil {
		return res, err
	}
	res.Hash, res.Files = strings.TrimSpace(hash), paths
	return res, nil
}

// Push pushes HEAD to remote: to branch when set, else to the branch of
// the same name.
func Push(ctx context.Context, dir, remote, branch string) error {
	ref := "HEAD"
	if branch != "" {
		ref = "HEAD:refs/heads/" + branch
	}
	_, err := git(ctx, dir, nil, "push", "--quiet", remote, ref)
	return err
}

// TopLevel returns the root of the git work tree holding dir.
func TopLevel(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return "", ErrNotWorkTree
		}
		return "", err
	}
	top := strings.TrimSpace(out)
	if top == "" {
		return "", ErrNotWorkTree // e.g. inside .git
	}
	return top, nil
}

// relTo returns path relative to the work tree top, resolving symlinks in
// its directory the way git sees it.
func relTo(top, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Dir(abs), filepath.Base(abs)
	if real, err := evalExisting(dir); err == nil {
		dir = real
	}
	if realTop, err := filepath.EvalSymlinks(top); err == nil {
		top = realTop
	}
	rel, err := filepath.Rel(top, filepath.Join(dir, base))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the git work tree %s", path, top)
	}
	return filepath.ToSlash(rel), nil
}

// evalExisting resolves symlinks in the longest existing prefix of dir.
func evalExisting(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		return real, nil
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return "", err
	}
	rp, err := evalExisting(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(dir)), nil
}

// existingDir returns the nearest existing directory of path (itself if
// it is one).
func existingDir(path string) string {
	p := path
	for {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "."
		}
		p = parent
	}
}

// git runs one git command in dir and returns its standard output; the
// error carries its standard error.
func git(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "GIT_OPTIONAL_LOCKS=0"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), &gitError{args: args, msg: msg, err: err}
	}
	return stdout.String(), nil
}

type gitError struct {
	args []string
	msg  string
	err  error
}

func (e *gitError) Error() string {
	name := "git"
	if len(e.args) > 0 {
		name = "git " + e.args[0]
		if e.args[0] == "-c" && len(e.args) > 2 {
			name = "git " + e.args[2]
		}
	}
	if e.msg == "" {
		return fmt.Sprintf("%s: %v", name, e.err)
	}
	return fmt.Sprintf("%s: %s", name, e.msg)
}

func (e *gitError) Unwrap() error { return e.err }
