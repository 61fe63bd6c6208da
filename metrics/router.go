package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The router's series are by deployment id, which may be a team's: they
// are PerTeam (the master key or metrics_key only).
var (
	routerAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "router_attempts_total",
		Help: "Upstream attempts by deployment id and result (success, failure).",
	}, []string{"deployment", "result"})
	routerRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "router_retries_total",
		Help: "Retries by the deployment whose attempt failed.",
	}, []string{"deployment"})
	routerFallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "router_fallbacks_total",
		Help: "Fallbacks by the model fallen back to.",
	}, []string{"model"})
	routerCooldowns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "router_cooldowns_total",
		Help: "Cooldowns started, by deployment id.",
	}, []string{"deployment"})
	deploymentStateDesc = prometheus.NewDesc(namespace+"_deployment_state",
		"Each deployment's state: 0 available, 1 cooling down.", []string{"deployment"}, nil)
	deploymentStates atomic.Pointer[func() map[string]int]
)

type deploymentStateCollector struct{}

func (deploymentStateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deploymentStateDesc }

func (deploymentStateCollector) Collect(ch chan<- prometheus.Metric) {
	f := deploymentStates.Load()
	if f == nil {
		return
	}
	for id, st := range (*f)() {
		ch <- prometheus.MustNewConstMetric(deploymentStateDesc, prometheus.GaugeValue, float64(st), id)
	}
}

func init() {
	PerTeam.MustRegister(routerAttempts, routerRetries, routerFallbacks, routerCooldowns, deploymentStateCollector{})
}

// DeploymentCounters are one deployment's attempt counters, looked up
// once (a label lookup per attempt would cost more than the count).
type DeploymentCounters struct {
	ok, failed prometheus.Counter
}

// Deployment returns deployment's counters.
func Deployment(deployment string) *DeploymentCounters {
	return &DeploymentCounters{ok: routerAttempts.WithLabelValues(deployment, "success"),
		failed: routerAttempts.WithLabelValues(deployment, "failure")}
}

// Attempt counts one upstream attempt.
func (c *DeploymentCounters) Attempt(ok bool) {
	if !enabled.Load() {
		return
	}
	if ok {
		c.ok.Inc()
	} else {
		c.failed.Inc()
	}
}

// RouterRetry counts a retry after a failed attempt on deployment.
func RouterRetry(deployment string) {
	if enabled.Load() {
		routerRetries.WithLabelValues(deployment).Inc()
	}
}

// RouterFallback counts a fallback to model.
func RouterFallback(model string) {
	if enabled.Load() {
		routerFallbacks.WithLabelValues(model).Inc()
	}
}

// Cooldown counts a deployment's cooldown.
func Cooldown(deployment string) {
	if enabled.Load() {
		routerCooldowns.WithLabelValues(deployment).Inc()
	}
}

// SetDeploymentStates sets where the deployment_state gauge reads from at
// each scrape.
func SetDeploymentStates(f func() map[string]int) { deploymentStates.Store(&f) }
