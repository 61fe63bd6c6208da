package actors

import (
	"context"
	"sync"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

// Probe checks one deployment (providers.Probe through the gateway's
// providers).
type Probe func(d *configs.Deployment, deadline time.Time) error

// WithHealthChecks runs router_settings.background_health_checks until ctx
// ends: every health_check_interval, each deployment of the live
// configuration (snapshot) is probed, and the results feed the router as
// calls do: a failing deployment is cooled down (after allowed_fails, or
// at once for a 429, 401 or 404), a healthy one's latency is recorded. It
// rereads the settings each round, so turning the checks on or off is a
// reload.
func WithHealthChecks(ctx context.Context, snapshot func() *configs.Snapshot, probe Probe) Option {
	return func(e *env) {
		e.health = func() { go e.healthLoop(ctx, snapshot, probe) }
	}
}

// healthIdle is how often a loop whose checks are off looks again.
const healthIdle = 10 * time.Second

func (e *env) healthLoop(ctx context.Context, snapshot func() *configs.Snapshot, probe Probe) {
	for {
		wait := healthIdle
		snap := snapshot()
		if snap == nil {
			wait = 50 * time.Millisecond // the configuration is not open yet
		} else if snap.Settings.Router.BackgroundHealthChecks {
			rc := snap.Settings.Router
			e.probeAll(snap, &rc, probe)
			wait = rc.HealthCheckInterval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (e *env) probeAll(snap *configs.Snapshot, rc *configs.Router, probe Probe) {
	deps := append([]*configs.Deployment(nil), snap.Global...)
	for _, ds := range snap.TeamDeployments {
		deps = append(deps, ds...)
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, d := range deps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			err := probe(d, start.Add(15*time.Second))
			o := outcome{latency: time.Since(start)}
			if err != nil {
				we, ok := err.(*wire.Error)
				if !ok {
					we = &wire.Error{Status: 502, Message: err.Error()}
				}
				o = outcome{err: we, counts: ownFailure(we, false)}
			}
			e.router.report(d, e.router.of(d), rc, o)
		}()
	}
	wg.Wait()
}
