package providers

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

// A dial gets the call's remaining time: running out of it is the call's
// timeout (504, which does not cool the deployment down), while a dial
// that timed out with time left is an unreachable upstream (502).
func TestDialTimeoutIsTheCallsTimeoutOnceItsTimeIsUp(t *testing.T) {
	t.Parallel()
	d := &configs.Deployment{ModelName: "m"}
	for _, tc := range []struct {
		name     string
		deadline time.Time
		want     int
	}{
		{"deadline passed", time.Now().Add(-time.Millisecond), 504},
		{"time left", time.Now().Add(time.Hour), 502},
	} {
		tg := &target{deployment: d, host: "up.example:443", deadline: tc.deadline, budget: time.Millisecond}
		e, ok := tg.transportError(fasthttp.ErrDialTimeout).(*wire.Error)
		if !ok || e.Status != tc.want {
			t.Errorf("%s: got %v, want status %d", tc.name, e, tc.want)
		}
	}
}
