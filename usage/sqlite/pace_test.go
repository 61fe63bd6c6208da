package sqlite

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPacerLetsNetworkIn: on one processor, a goroutine waiting for a
// packet runs soon after it arrives, while another works and steps its
// pacer. Without the pacer it would wait for the work to end or for the
// runtime's preemption (10 ms); runtime.Gosched would not help either.
// Not parallel: it sets GOMAXPROCS.
func TestPacerLetsNetworkIn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no UDP on loopback: %v", err)
	}
	defer conn.Close()
	var got atomic.Int64 // unix ns of the packet's receipt
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 16)
		if _, _, err := conn.ReadFromUDP(buf); err == nil {
			got.Store(time.Now().UnixNano())
		}
	}()
	time.Sleep(10 * time.Millisecond) // the reader is parked in the network poller
	send, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()

	const work = 30 * time.Millisecond
	sent := time.Now()
	if _, err := send.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	pace := newPacer(nil)
	if !pace.on {
		t.Fatal("pacer off with GOMAXPROCS=1")
	}
	for time.Since(sent) < work && got.Load() == 0 {
		spin(2 * time.Microsecond)
		pace.step()
	}
	<-done
	if wait := time.Duration(got.Load() - sent.UnixNano()); wait > 5*time.Millisecond {
		t.Errorf("the reader ran %v after its packet arrived, during paced work; want under 5ms (a slice is %v)", wait, paceSlice)
	}
}

func TestPacerOffWithMoreProcessors(t *testing.T) {
	if runtime.GOMAXPROCS(0) == 1 {
		t.Skip("GOMAXPROCS=1")
	}
	t.Parallel()
	p := newPacer(func() bool { return true })
	if p.on {
		t.Fatal("pacer on with more than one processor")
	}
	start := time.Now()
	for range 1000 {
		p.step()
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("1,000 steps of an idle pacer took %v", d)
	}
}

// TestPacerWaitsForCalls: on one processor, a pacer whose slice is done
// does not go on while calls are in flight, and then gives the next slice
// its usual length. Not parallel: it sets GOMAXPROCS.
func TestPacerWaitsForCalls(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var busy atomic.Bool
	busy.Store(true)
	p := newPacer(busy.Load)
	p.next = time.Now() // the slice is done
	go func() {
		time.Sleep(busyPoll) // the call ends
		busy.Store(false)
	}()
	start := time.Now()
	p.step()
	if busy.Load() {
		t.Fatalf("step returned after %v with a call in flight (it waits up to %v)", time.Since(start), busyWait)
	}
	if left := time.Until(p.next); left > paceSlice {
		t.Errorf("next slice %v, want at most %v once the calls ended", left, paceSlice)
	}
}

// TestPacerSaturated: when calls never stop, a pacer waits busyWait, then
// works for a longer slice, so a Write still ends.
func TestPacerSaturated(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := newPacer(func() bool { return true })
	p.next = time.Now()
	start := time.Now()
	p.step()
	if d := time.Since(start); d < busyWait {
		t.Errorf("step returned after %v while busy, want about %v", d, busyWait)
	}
	if left := time.Until(p.next); left <= paceSlice {
		t.Errorf("next slice %v, want the longer %v after waiting in vain", left, busySlice)
	}
	// A pacer on a store without SetBusy only pauses.
	s := &Store{}
	if q := s.newPacer(); q.busy != nil {
		t.Error("a store without SetBusy has a busy function")
	}
	s.SetBusy(func() bool { return true })
	if q := s.newPacer(); q.busy == nil || !q.busy() {
		t.Error("SetBusy's function not used")
	}
}

// spin works on the processor for d without yielding it.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}
