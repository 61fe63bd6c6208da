package sqlite

import (
	"runtime"
	"time"
)

// A pacer lets a gateway with one processor (GOMAXPROCS=1, e.g. pinned
// to one core) serve calls while a Write works: every paceSlice of work
// it sleeps for pacePause and, while calls are in flight (the Store's
// Busy function), waits for them to finish before the next slice.
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
// The pause alone still lets a slice run between two steps of a call
// (its request read, the upstream's answer, its response written), so a
// call could wait for several slices; waiting for the calls in flight
// to end leaves at most one slice in a call's way (the one running when
// it arrives). When calls never stop (saturation), the pacer waits at
// most busyWait, then works for a longer slice (busySlice), so the
// Write still gets its share of the processor.
//
// With more than one processor the others serve calls, and a pacer does
// nothing (it does not even read the clock).
type pacer struct {
	on   bool
	busy func() bool // calls in flight; nil: never
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
	// busyPoll is how often a pacer looks whether the calls in flight
	// have ended, busyWait how long it waits for that at most, and
	// busySlice how long it then works (at saturation the writer gets
	// about busySlice / busyWait of the processor, several times what
	// it needs, and calls already wait for each other longer than that).
	busyPoll  = 250 * time.Microsecond
	busyWait  = 2 * time.Millisecond
	busySlice = 500 * time.Microsecond
)

func newPacer(busy func() bool) pacer {
	if runtime.GOMAXPROCS(0) != 1 {
		return pacer{}
	}
	return pacer{on: true, busy: busy, next: time.Now().Add(paceSlice)}
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
	slice := paceSlice
	if p.busy != nil && p.busy() {
		for waited := time.Duration(0); ; waited += busyPoll {
			if waited >= busyWait {
				slice = busySlice
				break
			}
			time.Sleep(busyPoll)
			if !p.busy() {
				break
			}
		}
	}
	p.next = time.Now().Add(slice)
}
