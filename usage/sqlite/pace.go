package sqlite

import (
	"runtime"
	"time"
)

// A pacer lets a gateway with one processor (GOMAXPROCS=1, e.g. pinned
// to one core) serve calls while a Write works: every paceSlice of work
// it sleeps for pacePause.
//
// runtime.Gosched would not do: the scheduler runs a goroutine that
// yielded (from the global run queue) before it polls the network, so
// calls that arrived during a Write would still wait for all of it. A
// sleep leaves nothing runnable, so the scheduler polls the network and
// runs the ready calls first; the writer goes on when they are done or
// blocked. A trace of a fixed 1,000 calls/s showed the difference: a
// Write of 250 records held the processor for about 540 µs in one
// piece, and each Write delayed a call by about that much.
//
// With more than one processor the others serve calls, and a pacer does
// nothing (it does not even read the clock).
type pacer struct {
	on   bool
	next time.Time
}

const (
	// paceSlice is how long a Write works between pauses: a call
	// waits at most about this long (and the few statements that cannot
	// be cut, such as the commit).
	paceSlice = 25 * time.Microsecond
	// pacePause is long enough that the timer has not fired when the
	// scheduler looks for work, so it polls the network first.
	pacePause = 20 * time.Microsecond
)

func newPacer() pacer {
	if runtime.GOMAXPROCS(0) != 1 {
		return pacer{}
	}
	return pacer{on: true, next: time.Now().Add(paceSlice)}
}

// step pauses once a slice of work is done.
func (p *pacer) step() {
	if !p.on {
		return
	}
	if now := time.Now(); now.Before(p.next) {
		return
	}
	time.Sleep(pacePause)
	p.next = time.Now().Add(paceSlice)
}
