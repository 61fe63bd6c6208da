package confstore

import (
	"context"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// WatchOptions tune Watch; zero values take the defaults.
type WatchOptions struct {
	Debounce time.Duration // default configs.DefaultDebounce
	MaxDelay time.Duration // default configs.DefaultMaxDelay
	// Interval overrides general_settings.rescan_interval (tests).
	Interval time.Duration
}

// Watch keeps the live configuration in step with the disk until ctx
// ends: one fsnotify watcher over the teams and models folders and the
// --config file's directory (debounced; a burst that names only files
// reads just those again, see RescanFiles), plus a periodic full rescan
// (general_settings.rescan_interval, read again after every reload) for
// what events miss: network file systems, overflowed event queues. A
// periodic rescan waits while events are still arriving, so it does not
// read a git checkout halfway. Every rescan goes through Rescan, under the
// store's lock. It returns when ctx ends; without a file watcher (none
// available) it logs why and keeps the periodic rescan.
func (s *Store) Watch(ctx context.Context, opts WatchOptions) {
	var dirs []string
	for _, d := range []string{s.opts.TeamsDir, s.opts.ModelsDir} {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	w, err := configs.NewWatcher(configs.WatchOptions{
		Dirs:       dirs,
		ConfigFile: s.opts.ConfigPath,
		Debounce:   opts.Debounce,
		MaxDelay:   opts.MaxDelay,
		Log:        s.opts.Log,
	})
	var events <-chan configs.Signal
	if err != nil {
		s.opts.Log.Error("file watcher not started; only the periodic rescan, SIGHUP and POST /config/reload reload", "err", err)
		w = nil
	} else {
		defer w.Close()
		events = w.C
	}
	// Changes made between Open and now were not watched yet.
	_, _ = s.Rescan("watch: start")

	interval := func() time.Duration {
		if opts.Interval > 0 {
			return opts.Interval
		}
		if d := s.Snapshot().Settings.RescanInterval; d > 0 {
			return d
		}
		return 30 * time.Second
	}
	tick := time.NewTimer(interval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-events:
			if !sig.Full {
				if len(sig.Paths) > 0 {
					_, _ = s.RescanFiles("watch: "+sig.Reason, sig.Paths)
				}
				continue // the periodic full rescan stays due
			}
			_, _ = s.Rescan("watch: " + sig.Reason)
		case <-tick.C:
			if w != nil && w.Busy() {
				// A burst of events is under way; its signal follows.
				tick.Reset(configs.DefaultDebounce)
				continue
			}
			if w != nil {
				w.Resync()
			}
			_, _ = s.Rescan("periodic")
		}
		tick.Reset(interval()) // a full rescan just ran (Go 1.23+ timers need no drain)
	}
}
