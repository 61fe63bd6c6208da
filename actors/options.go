package actors

import (
	"log/slog"
	"sync"
	"time"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/spend"
)

// SpendStore keeps spend across restarts (package spend implements it).
type SpendStore interface {
	// Load returns a team's stored figures; it is called once when a
	// team actor starts.
	Load(teamID string) spend.Team
	// Add queues a change; it must not wait for the disk.
	Add(spend.Delta)
}

// Option configures the registry and the team actors it spawns.
type Option func(*env)

// WithClock replaces the wall clock (tests move time without sleeping).
// It must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(e *env) {
		if now != nil {
			e.now = now
		}
	}
}

// WithSpendStore makes team actors load their spend from s when they
// start and report every change to it.
func WithSpendStore(s SpendStore) Option {
	return func(e *env) { e.store = s }
}

// env is what every team actor shares: read-only after the registry is
// built.
type env struct {
	providers map[string]providers.Provider
	log       *slog.Logger
	now       func() time.Time
	store     SpendStore
	unpriced  sync.Map // models warned about as unpriced
	router    *router  // deployments' shared health and counters
	health    func()   // starts the background health checks (WithHealthChecks)
	alerter   Alerter  // soft budget alerts (default: a webhook sender)
}

// firstUnpriced reports whether model is reported unpriced for the first
// time by this gateway, so that the caller logs one warning per model.
func (e *env) firstUnpriced(model string) bool {
	if _, seen := e.unpriced.Load(model); seen {
		return false // without LoadOrStore's allocation of the stored key
	}
	_, seen := e.unpriced.LoadOrStore(model, struct{}{})
	return !seen
}

func newEnv(provs map[string]providers.Provider, log *slog.Logger, opts []Option) *env {
	if log == nil {
		log = slog.Default()
	}
	e := &env{providers: provs, log: log, now: time.Now}
	for _, o := range opts {
		o(e)
	}
	if e.alerter == nil {
		e.alerter = NewWebhookSender(log, 0)
	}
	e.router = newRouter(e.now)
	if e.health != nil {
		e.health()
	}
	return e
}
