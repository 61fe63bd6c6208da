package actors

import "testing"

// TestFirstUnpricedOncePerModelPerGateway: one warning per unpriced model,
// counted per gateway (its env), not per process.
func TestFirstUnpricedOncePerModelPerGateway(t *testing.T) {
	e := newEnv(nil, nil, nil)
	if !e.firstUnpriced("x-model") || e.firstUnpriced("x-model") || !e.firstUnpriced("y-model") {
		t.Fatal("firstUnpriced must be true exactly once per model")
	}
	if !newEnv(nil, nil, nil).firstUnpriced("x-model") {
		t.Fatal("a second gateway in the same process must warn too")
	}
}
