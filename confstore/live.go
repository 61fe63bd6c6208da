package confstore

import (
	"fmt"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// The one place a configuration goes live.
//
// Start-up, every rescan that finds a valid change (file watcher,
// periodic rescan, SIGHUP, POST /config/reload) and every management API
// write end in goLive, which tells the listeners registered at wiring time
// (Options.Listeners, in order: the actors and key directory, metrics,
// gitops, ...) and last the store's own "status" listener, which makes the
// snapshot the one Snapshot returns. Nothing else publishes a
// configuration, so every consumer sees every configuration the same way,
// whatever made it.

// Event kinds.
const (
	KindStartup = "startup" // Open
	KindRescan  = "rescan"  // a reload from disk
	KindWrite   = "write"   // a management API write
)

// Event is a configuration going live.
type Event struct {
	Kind     string // KindStartup, KindRescan or KindWrite
	Reason   string // what started it: "startup", "watch: ...", "SIGHUP", "write model/new", ...
	Snapshot *configs.Snapshot
	// Previous is the configuration it replaces (nil at start-up).
	Previous *configs.Snapshot
	// Write is the API write that made it (KindWrite only): its files
	// are durable on disk and exactly as the write left them.
	Write *Write
	// Problems are the new configuration's warnings.
	Problems []configs.Problem
	At       time.Time
}

// Listener consumes configurations going live. Live runs under the
// store's lock, in registration order, and must not call back into the
// Store. An error from Live refuses the configuration: the listeners
// after it are not told, the previous configuration stays live (an API
// write's files are restored) and the error is reported. Listeners that
// can refuse (the actors) are registered first; the others return nil.
type Listener struct {
	Name string
	Live func(Event) error
	// Refused, when set, is told about a rescan that did not go live
	// (invalid files, unreadable folders, a listener's error), with the
	// store's status after it. API writes that are refused (400, 409) are
	// answered to their caller and not reported here.
	Refused func(reason string, st Status)
}

// goLive makes ev's configuration live. The caller holds s.mu.
func (s *Store) goLive(ev Event) error {
	ev.Previous = s.snap.Load()
	for _, l := range s.listeners {
		if err := l.Live(ev); err != nil {
			return fmt.Errorf("%s: %w", l.Name, err)
		}
	}
	return nil
}

// statusListener is the store's own listener, always the last: the
// snapshot becomes the one readers get, and the status says so.
func (s *Store) statusListener(ev Event) error {
	s.snap.Store(ev.Snapshot)
	s.live = ev.Problems
	s.status = statusOf(ev.Snapshot, ev.Problems, ev.At, true)
	s.status.LastSuccessAt = ev.At
	s.status.LastReason, s.status.LastOutcome = ev.Reason, OutcomeApplied
	return nil
}

// refused tells the listeners about a rescan that did not go live.
func (s *Store) refused(reason string, st Status) {
	for _, l := range s.listeners {
		if l.Refused != nil {
			l.Refused(reason, st)
		}
	}
}
