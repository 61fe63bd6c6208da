package spend

import "sync"

// Deferred is a Backend whose real backend is chosen after the actors are
// built: the gateway spawns the registry (which needs a spend store)
// before it reads general_settings, where database_url says which backend
// to use. The first configuration's listener calls Set, before any team
// actor starts; until then Load waits and Add and Forget are kept in
// order.
type Deferred struct {
	mu     sync.Mutex
	b      Backend
	queued []Delta
	ready  chan struct{}
}

var _ Backend = (*Deferred)(nil)

// NewDeferred returns a Deferred with no backend yet.
func NewDeferred() *Deferred { return &Deferred{ready: make(chan struct{})} }

// Set chooses the backend and hands it what was added before. Only the
// first call counts; it reports whether this one did.
func (d *Deferred) Set(b Backend) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.b != nil {
		return false
	}
	d.b = b
	for _, x := range d.queued {
		b.Add(x)
	}
	d.queued = nil
	close(d.ready)
	return true
}

// Backend is the chosen backend, nil before Set.
func (d *Deferred) Backend() Backend {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.b
}

// Load waits for Set, then loads from the chosen backend.
func (d *Deferred) Load(teamID string) Team {
	<-d.ready
	return d.Backend().Load(teamID)
}

// Add passes the delta on, or keeps it until Set.
func (d *Deferred) Add(x Delta) {
	d.mu.Lock()
	if d.b == nil {
		d.queued = append(d.queued, x)
		d.mu.Unlock()
		return
	}
	b := d.b
	d.mu.Unlock()
	b.Add(x)
}

// Forget passes the removal on, or keeps it until Set.
func (d *Deferred) Forget(teamID string) { d.Add(Delta{TeamID: teamID, Forget: true}) }

// Close closes the chosen backend (nothing to do before Set).
func (d *Deferred) Close() error {
	if b := d.Backend(); b != nil {
		return b.Close()
	}
	return nil
}
