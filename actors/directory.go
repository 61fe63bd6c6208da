package actors

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
)

// Route is what an authenticated key maps to.
type Route struct {
	// Master is true for the master key: it may call every global
	// deployment and no team limits apply.
	Master bool
	// TeamID is the key's team ("" for the master key).
	TeamID string
	// Key is the virtual key's configuration (nil for the master key).
	Key *configs.Key
	// PID is the actor that serves the route's calls.
	PID *actor.PID
}

// Directory is the read side of the registry: the key index and the team
// actors' addresses, swapped atomically with each applied snapshot so that
// authentication needs no actor hop.
type Directory struct {
	state atomic.Pointer[directoryState]
}

type directoryState struct {
	masterKey []byte
	master    *Route
	keys      map[[sha256.Size]byte]*Route // sha256 of the key -> route
	teams     map[string]*actor.PID
}

// Ready reports whether a snapshot has been applied.
func (d *Directory) Ready() bool { return d.state.Load() != nil }

// Teams returns the number of team actors (-1 before the first
// snapshot). The live configuration itself has one source, the
// configuration store (confstore.Store.Snapshot); the directory keeps
// only what authentication needs.
func (d *Directory) Teams() int {
	if s := d.state.Load(); s != nil {
		return len(s.teams)
	}
	return -1
}

// Authenticate maps a presented key to its route. The master key is
// compared in constant time; virtual keys are looked up by their sha256.
func (d *Directory) Authenticate(key string) (*Route, bool) {
	s := d.state.Load()
	if s == nil || key == "" {
		return nil, false
	}
	if len(s.masterKey) > 0 && subtle.ConstantTimeCompare([]byte(key), s.masterKey) == 1 {
		return s.master, true
	}
	r, ok := s.keys[sha256.Sum256([]byte(key))] // configs.HashKey, without the hex
	return r, ok
}

// tokenSum decodes a stored token (HashKey's hex sha256). A token that is
// not one can match no key and is left out of the index.
func tokenSum(token string) (sum [sha256.Size]byte, ok bool) {
	if hex.DecodedLen(len(token)) != sha256.Size {
		return sum, false
	}
	_, err := hex.Decode(sum[:], []byte(token))
	return sum, err == nil
}

// Team returns the actor of a team.
func (d *Directory) Team(id string) (*actor.PID, bool) {
	s := d.state.Load()
	if s == nil {
		return nil, false
	}
	pid, ok := s.teams[id]
	return pid, ok
}

// publish swaps in the state of snap. Routes that did not change (same
// team, key object and actor) are taken over from the previous state
// rather than allocated again.
func (d *Directory) publish(snap *configs.Snapshot, master *actor.PID, teams map[string]*actor.PID) {
	s := &directoryState{
		masterKey: []byte(snap.Settings.MasterKey),
		master:    &Route{Master: true, PID: master},
		keys:      make(map[[sha256.Size]byte]*Route, len(teams)),
		teams:     make(map[string]*actor.PID, len(teams)),
	}
	var prev map[[sha256.Size]byte]*Route
	if old := d.state.Load(); old != nil {
		prev = old.keys
	}
	for id, pid := range teams {
		s.teams[id] = pid
		for _, k := range snap.Teams[id].Keys {
			sum, ok := tokenSum(k.Token)
			if !ok {
				continue
			}
			if r, ok := prev[sum]; ok && r.Key == k && r.PID == pid && r.TeamID == id {
				s.keys[sum] = r
				continue
			}
			s.keys[sum] = &Route{TeamID: id, Key: k, PID: pid}
		}
	}
	d.state.Store(s)
}

// Drain waits until every team actor (and the master's) has handled the
// messages already in its mailbox, such as the usage reports of calls that
// just finished: each answers a drain message only after those. Shutdown calls
// it after the HTTP server stopped and before the spend store closes.
func (d *Directory) Drain(root *actor.RootContext, timeout time.Duration) {
	s := d.state.Load()
	if s == nil {
		return
	}
	futures := make([]*actor.Future, 0, len(s.teams)+1)
	for _, pid := range s.teams {
		futures = append(futures, root.RequestFuture(pid, &drain{}, timeout))
	}
	if s.master != nil && s.master.PID != nil {
		futures = append(futures, root.RequestFuture(s.master.PID, &drain{}, timeout))
	}
	for _, f := range futures {
		_, _ = f.Result()
	}
}
