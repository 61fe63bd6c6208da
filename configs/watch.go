package configs

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch defaults.
const (
	DefaultDebounce = 150 * time.Millisecond
	// DefaultMaxDelay bounds how long a steady stream of events can hold a
	// change back.
	DefaultMaxDelay = time.Second
)

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Dirs are watched recursively (teams.d, models.d): every event in
	// them counts, whatever file it names, except a bare chmod.
	Dirs []string
	// ConfigFile, when set, is the --config file. Its directory is
	// watched, but only events naming the file itself or a ConfigMap's
	// ..data symlink count there, since other files may live next to it.
	ConfigFile string
	// Debounce is how long the watcher waits after the last event before
	// it signals (default DefaultDebounce); MaxDelay caps the wait after
	// the first event (default DefaultMaxDelay).
	Debounce time.Duration
	MaxDelay time.Duration
	Log      *slog.Logger
}

// Watcher is one fsnotify watcher over the configuration folders. It
// watches directories, never single files (editors and git replace files,
// a ConfigMap swaps a symlink), adds subdirectories as they appear
// (symlinked ones too) and coalesces bursts of events into one signal on C.
// It does not read the configuration: the receiver of C rescans.
type Watcher struct {
	// C receives a Signal when the watched files may have changed. It has
	// room for one: a signal that is not taken yet absorbs later ones.
	C <-chan Signal

	opts WatchOptions
	fsw  *fsnotify.Watcher
	c    chan Signal
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	trees  map[string]os.FileInfo     // watched directories inside Dirs -> identity
	named  map[string]map[string]bool // watched parent directories -> the names that count
	last   time.Time                  // latest counted event
	armed  bool                       // a signal is scheduled
	closed bool
}

// Signal is one burst of events.
type Signal struct {
	// Reason is the first event of the burst, for logs.
	Reason string
	// Paths are the configuration files (IsConfigFileName) the burst's
	// events named, sorted, when Full is false: reading just those files
	// again brings the configuration up to date.
	Paths []string
	// Full: the burst needs every file read again (a directory appeared,
	// went or was replaced, the --config file or a ConfigMap's symlink
	// changed, the event queue overflowed, or many files changed).
	Full bool
}

// maxSignalPaths is the most files a Signal names; a larger burst (a git
// checkout) is a full rescan.
const maxSignalPaths = 256

// NewWatcher starts watching. Directories that do not exist yet are picked
// up when they appear (their parent is watched for their name).
func NewWatcher(opts WatchOptions) (*Watcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxDelay < opts.Debounce {
		opts.MaxDelay = max(DefaultMaxDelay, opts.Debounce)
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	c := make(chan Signal, 1)
	w := &Watcher{
		C: c, c: c, opts: opts, fsw: fsw, done: make(chan struct{}),
		trees: map[string]os.FileInfo{}, named: map[string]map[string]bool{},
	}
	for i, d := range opts.Dirs {
		opts.Dirs[i] = filepath.Clean(d)
		w.watchNamed(filepath.Dir(opts.Dirs[i]), filepath.Base(opts.Dirs[i]))
	}
	if opts.ConfigFile != "" {
		cf := filepath.Clean(opts.ConfigFile)
		w.watchNamed(filepath.Dir(cf), filepath.Base(cf), "..data")
	}
	w.Resync()
	w.wg.Add(1)
	go w.loop()
	return w, nil
}

// Close stops the watcher.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	err := w.fsw.Close()
	w.wg.Wait()
	return err
}

// Busy reports whether events were seen within the debounce window or a
// signal is pending: the files may be in the middle of a change (a git
// checkout), so a periodic rescan had better wait for the signal.
func (w *Watcher) Busy() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.armed || time.Since(w.last) < w.opts.Debounce
}

// Watched returns the directories watched, for logs and tests.
func (w *Watcher) Watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for d := range w.trees {
		out = append(out, d)
	}
	return out
}

// watchNamed watches dir for events that name one of names.
func (w *Watcher) watchNamed(dir string, names ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.named[dir] == nil {
		w.named[dir] = map[string]bool{}
	}
	for _, n := range names {
		w.named[dir][n] = true
	}
	if err := w.fsw.Add(dir); err != nil {
		w.opts.Log.Warn("cannot watch directory; the periodic rescan still picks changes up", "dir", dir, "err", err)
	}
}

// Resync walks the watched trees again: it adds directories that appeared
// (also those an event was missed for), re-adds the ones replaced by a new
// directory or retargeted symlink, and forgets the ones gone.
func (w *Watcher) Resync() {
	seen := map[string]os.FileInfo{}
	for _, d := range w.opts.Dirs {
		collectDirs(d, nil, seen)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for d, old := range w.trees {
		if info, ok := seen[d]; !ok || !os.SameFile(old, info) {
			_ = w.fsw.Remove(d) // may be gone already
			delete(w.trees, d)
		}
	}
	for d, info := range seen {
		if _, ok := w.trees[d]; ok {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.opts.Log.Warn("cannot watch directory; the periodic rescan still picks changes up", "dir", d, "err", err)
			}
			continue
		}
		w.trees[d] = info
	}
}

// collectDirs adds dir and the directories below it (following symlinks,
// skipping names that start with ".", as the reader does) to seen.
func collectDirs(dir string, ancestors []os.FileInfo, seen map[string]os.FileInfo) {
	if len(ancestors) > maxDepth {
		return
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return
	}
	for _, a := range ancestors {
		if os.SameFile(a, info) {
			return // symlink loop
		}
	}
	seen[dir] = info
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			collectDirs(filepath.Join(dir, e.Name()), append(ancestors, info), seen)
		}
	}
}

// classify tells whether ev may change the configuration (counts) and
// what to read again: every file (full), the file it names (file), or,
// for a name that is no configuration file, nothing.
func (w *Watcher) classify(ev fsnotify.Event) (counts, full bool, file string) {
	if ev.Op == fsnotify.Chmod || ev.Op == 0 {
		return false, false, "" // a bare chmod (touch, indexers) changes no content
	}
	name := filepath.Clean(ev.Name)
	dir := filepath.Dir(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.trees[name]; ok {
		return true, true, "" // a watched directory was removed, moved or replaced
	}
	if _, ok := w.trees[dir]; ok {
		base := filepath.Base(name)
		switch {
		case strings.HasPrefix(base, ".."):
			// A ConfigMap mounted as the folder swaps its ..data symlink:
			// the files' own names see no event.
			return true, true, ""
		case IsConfigFileName(base):
			return true, false, name
		default:
			// An editor's temp file, a README: nothing to read (a
			// directory that appears is found by the caller).
			return true, false, ""
		}
	}
	if w.named[dir][filepath.Base(name)] {
		return true, true, "" // the --config file, a ConfigMap's ..data, a watched folder's name
	}
	return false, false, ""
}

func (w *Watcher) loop() {
	defer w.wg.Done()
	var timer *time.Timer
	var timerC <-chan time.Time
	var first time.Time
	reason := ""
	var full bool
	paths := map[string]bool{}
	arm := func(why string) {
		now := time.Now()
		w.mu.Lock()
		w.last = now
		w.armed = true
		w.mu.Unlock()
		if timer == nil {
			first, reason = now, why
			timer = time.NewTimer(w.opts.Debounce)
			timerC = timer.C
			return
		}
		// Trailing debounce, but never past MaxDelay after the first event.
		wait := min(w.opts.Debounce, w.opts.MaxDelay-now.Sub(first))
		timer.Reset(max(wait, 0))
	}
	for {
		select {
		case <-w.done:
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			counts, needFull, file := w.classify(ev)
			if !counts {
				continue
			}
			if ev.Has(fsnotify.Create) && w.addNewDir(ev.Name) {
				needFull = true
			}
			if needFull || len(paths) >= maxSignalPaths {
				full = true
			} else if file != "" {
				paths[file] = true
			}
			arm(strings.ToLower(ev.Op.String()) + " " + ev.Name)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.opts.Log.Warn("file watcher: event queue overflowed; rescanning everything")
				full = true
				arm("event queue overflow")
				continue
			}
			w.opts.Log.Warn("file watcher error", "err", err)
		case <-timerC:
			timer, timerC = nil, nil
			w.Resync() // directories that appeared mid-burst
			w.mu.Lock()
			w.armed = false
			w.mu.Unlock()
			sig := Signal{Reason: reason, Full: full}
			if !full {
				for p := range paths {
					sig.Paths = append(sig.Paths, p)
				}
				slices.Sort(sig.Paths)
			}
			full, paths = false, map[string]bool{}
			w.send(sig)
		}
	}
}

// send hands sig to the receiver. A signal not taken yet absorbs it: the
// pending one then names both bursts' files, or is a full rescan.
func (w *Watcher) send(sig Signal) {
	for {
		select {
		case w.c <- sig:
			return
		default:
		}
		select {
		case old := <-w.c:
			sig = merge(old, sig)
		default:
		}
	}
}

func merge(a, b Signal) Signal {
	out := Signal{Reason: a.Reason, Full: a.Full || b.Full}
	if !out.Full {
		out.Paths = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a.Paths), b.Paths...))))
		if len(out.Paths) > maxSignalPaths {
			out.Paths, out.Full = nil, true
		}
	}
	return out
}

// addNewDir watches a directory created inside a watched tree (and what
// is under it) at once, so files written into it right away are seen. It
// reports whether name is such a directory.
func (w *Watcher) addNewDir(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	info, err := os.Stat(name) // follows symlinks
	if err != nil || !info.IsDir() {
		return false
	}
	w.Resync()
	return true
}
