package actors

import "time"

// windowSpan is the length of the rpm and tpm sliding windows.
const windowSpan = int64(60 * time.Second)

// window is a sliding 60 s window of timestamped counts, kept as a ring
// buffer that grows only as far as the traffic needs. With granularity 0
// every entry is its own (exact: the rpm window holds one entry per
// admitted request, at most rpm_limit of them); with a granularity, an
// entry falling in the same granule as the last one is merged into it (the
// tpm window: one entry per second, at most 61).
type window struct {
	t    []int64 // unix nanoseconds, oldest at head
	n    []int64
	head int
	size int
	sum  int64
}

// evict drops the entries at or before now-60s.
func (w *window) evict(now int64) {
	cutoff := now - windowSpan
	for w.size > 0 && w.t[w.head] <= cutoff {
		w.sum -= w.n[w.head]
		w.head++
		if w.head == len(w.t) {
			w.head = 0
		}
		w.size--
	}
	if w.size == 0 {
		w.head = 0
	}
}

// add records n at time now. Entries stay in time order: a time older
// than the newest entry (calls ending concurrently) is recorded with it.
func (w *window) add(now, n, granularity int64) {
	if w.size > 0 {
		now = max(now, w.t[(w.head+w.size-1)%len(w.t)])
	}
	w.sum += n
	if granularity > 0 && w.size > 0 {
		last := (w.head + w.size - 1) % len(w.t)
		if w.t[last]/granularity == now/granularity {
			w.n[last] += n
			return
		}
	}
	if w.size == len(w.t) {
		w.grow()
	}
	i := (w.head + w.size) % len(w.t)
	w.t[i], w.n[i] = now, n
	w.size++
}

func (w *window) grow() {
	c := max(8, 2*len(w.t))
	t, n := make([]int64, c), make([]int64, c)
	for i := 0; i < w.size; i++ {
		j := (w.head + i) % len(w.t)
		t[i], n[i] = w.t[j], w.n[j]
	}
	w.t, w.n, w.head = t, n, 0
}

// freeAt returns when the window's sum falls below limit as its oldest
// entries expire (now if it already is).
func (w *window) freeAt(now, limit int64) int64 {
	s := w.sum
	for i := 0; i < w.size && s >= limit; i++ {
		j := (w.head + i) % len(w.t)
		s -= w.n[j]
		if s < limit {
			return w.t[j] + windowSpan
		}
	}
	return now
}
