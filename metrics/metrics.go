// Package metrics holds the gateway's Prometheus metrics and the small API
// the other packages call to record them. Every label value is bounded by
// the configuration (team ids, model names that resolved, providers) or by
// a fixed set (routes, statuses, kinds): never a raw key, a request id or a
// name a client made up.
//
// Recording is a no-op after Enable(false) (`gateway serve --metrics=false`),
// so the benchmark can show what the metrics cost.
//
// Two registries keep tenants apart: Public holds the series that name no
// team and no team's model (latency by route, upstream health, reloads,
// the runtime), which anyone may scrape; PerTeam holds every series with a
// team or model label (requests, tokens, spend, rejections), which only
// the operator's scraper sees (Handler(true)). A new metric that carries a
// team id, a model name, spend or tokens belongs in PerTeam;
// TestRegistriesSplit checks the labels.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "gateway"

// Unknown is the label value for a team or model that did not resolve.
const Unknown = "unknown"

var enabled atomic.Bool

func init() { enabled.Store(true) }

// Enable switches recording on or off (on by default).
func Enable(on bool) { enabled.Store(on) }

// Enabled reports whether recording is on.
func Enabled() bool { return enabled.Load() }

// Public holds the series anyone may scrape: none names a team or a
// team's model, or shows spend or tokens. It also holds the Go runtime and
// process collectors.
var Public = prometheus.NewRegistry()

// PerTeam holds the series labelled by team (and model): only the master
// key or general_settings.metrics_key may scrape them.
var PerTeam = prometheus.NewRegistry()

// latencyBuckets spans 100µs (a gateway hop) to 10 min (a long completion).
var latencyBuckets = []float64{
	.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
}

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "requests_total",
		Help: "HTTP requests by route pattern, status, team and resolved model.",
	}, []string{"route", "status", "team", "model"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Time from request to response headers (for streams: to the first byte), by route pattern.",
		Buckets: latencyBuckets,
	}, []string{"route"})
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "requests_in_flight",
		Help: "Requests being handled now.",
	})
	upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "upstream_duration_seconds",
		Help:    "Upstream call time to the answer (for streams: to the response headers), by provider.",
		Buckets: latencyBuckets,
	}, []string{"provider"})
	upstreamErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "upstream_errors_total",
		Help: "Failed upstream calls by provider and kind (timeout, unreachable, rate_limited, client_error, server_error, stream).",
	}, []string{"provider", "kind"})
	tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "tokens_total",
		Help: "Tokens reported by upstreams, by team, resolved model and direction (in = prompt, out = completion).",
	}, []string{"team", "model", "direction"})
	spend = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "spend_usd_total",
		Help: "Spend in USD by team.",
	}, []string{"team"})
	rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "rejections_total",
		Help: "Requests refused with 429, by team and reason (rpm, tpm, parallel, budget).",
	}, []string{"team", "reason"})
	softBudget = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "soft_budget_crossed_total",
		Help: "Keys whose spend crossed their soft_budget (once per key and budget period), by team.",
	}, []string{"team"})
	usageDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "usage_dropped_total",
		Help: "Usage log records not written, by reason (queue_full, write_failed, closed); the calls themselves were served.",
	}, []string{"reason"})
	reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "config_reloads_total",
		Help: "Configuration reloads by result (success, failure).",
	}, []string{"result"})
	reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "config_last_reload_successful",
		Help: "1 when the latest configuration reload was valid and applied, else 0.",
	})
	reloadSuccessTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the latest configuration applied.",
	})
	configInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "config_info",
		Help: "1 for the hash of the configuration being served.",
	}, []string{"hash"})
	teamActors = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "team_actors",
		Help: "Team actors alive (teams in the live configuration plus the master key's actor).",
	}, func() float64 {
		if f := teamActorsFunc.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	})
)

var teamActorsFunc atomic.Pointer[func() int]

func init() {
	Public.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		requestDuration, inFlight,
		upstreamDuration, upstreamErrors,
		reloads, reloadOK, reloadSuccessTime, configInfo, teamActors, usageDropped,
	)
	PerTeam.MustRegister(requests, tokens, spend, rejections, softBudget)
	publicHandler = promhttp.HandlerFor(Public, promhttp.HandlerOpts{})
	allHandler = promhttp.HandlerFor(prometheus.Gatherers{Public, PerTeam}, promhttp.HandlerOpts{})
}

var publicHandler, allHandler http.Handler

// Handler serves the metrics in the Prometheus text format: with perTeam
// every series, else only the Public ones. Which caller may see the
// per-team series is the HTTP layer's decision.
func Handler(perTeam bool) http.Handler {
	if perTeam {
		return allHandler
	}
	return publicHandler
}

// statusText caches the label values of the statuses HTTP uses.
var statusText [600]string

func init() {
	for i := range statusText {
		statusText[i] = strconv.Itoa(i)
	}
}

func statusLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return "other"
}

func orUnknown(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

// RequestStarted counts a request in flight; RequestDone must follow.
func RequestStarted() {
	if enabled.Load() {
		inFlight.Inc()
	}
}

// RequestDone records a finished request. route is the matched route
// pattern ("other" for none), team the authenticated team id ("master",
// or "" when none), model the resolved name ("" when it did not resolve).
func RequestDone(route string, status int, team, model string, d time.Duration) {
	if !enabled.Load() {
		return
	}
	inFlight.Dec()
	requests.WithLabelValues(route, statusLabel(status), orUnknown(team), orUnknown(model)).Inc()
	requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveUpstream records one upstream call: its provider (openai, azure,
// ...), how long it took, and the HTTP status the gateway maps its outcome
// to (2xx = success; 504 timeout, 502 unreachable, 429 rate limited, other
// 4xx client error, 5xx server error).
func ObserveUpstream(provider string, d time.Duration, status int) {
	if !enabled.Load() {
		return
	}
	upstreamDuration.WithLabelValues(provider).Observe(d.Seconds())
	if status < 200 || status > 299 {
		upstreamErrors.WithLabelValues(provider, upstreamKind(status)).Inc()
	}
}

// UpstreamStreamFailed counts a stream that broke after it started.
func UpstreamStreamFailed(provider string) {
	if enabled.Load() {
		upstreamErrors.WithLabelValues(provider, "stream").Inc()
	}
}

func upstreamKind(status int) string {
	switch {
	case status == 504 || status == 408:
		return "timeout"
	case status == 502:
		return "unreachable"
	case status == 429:
		return "rate_limited"
	case status >= 400 && status < 500:
		return "client_error"
	default:
		return "server_error"
	}
}

// Tokens records the tokens of one call (in = prompt, out = completion).
func Tokens(team, model string, in, out int64) {
	if !enabled.Load() || (in <= 0 && out <= 0) {
		return
	}
	team, model = orUnknown(team), orUnknown(model)
	if in > 0 {
		tokens.WithLabelValues(team, model, "in").Add(float64(in))
	}
	if out > 0 {
		tokens.WithLabelValues(team, model, "out").Add(float64(out))
	}
}

// Spend records the cost of one call in USD.
func Spend(team string, usd float64) {
	if enabled.Load() && usd > 0 {
		spend.WithLabelValues(orUnknown(team)).Add(usd)
	}
}

// RateLimited counts a 429 for a rate limit; kind is rpm, tpm or parallel.
func RateLimited(team, kind string) {
	if enabled.Load() {
		rejections.WithLabelValues(orUnknown(team), kind).Inc()
	}
}

// UsageDropped counts n usage log records not written, for reason.
func UsageDropped(reason string, n int) {
	if enabled.Load() {
		usageDropped.WithLabelValues(reason).Add(float64(n))
	}
}

// SoftBudgetCrossed counts a key whose spend crossed its soft_budget.
func SoftBudgetCrossed(team string) {
	if enabled.Load() {
		softBudget.WithLabelValues(orUnknown(team)).Inc()
	}
}

// BudgetExceeded counts a 429 for an exhausted budget.
func BudgetExceeded(team string) {
	if enabled.Load() {
		rejections.WithLabelValues(orUnknown(team), "budget").Inc()
	}
}

var configMu sync.Mutex

// Reload records a configuration reload: ok when it was valid and applied,
// with the hash of the configuration now served.
func Reload(ok bool, hash string) {
	if ok {
		reloads.WithLabelValues("success").Inc()
		ConfigApplied(hash, time.Now())
		return
	}
	reloads.WithLabelValues("failure").Inc()
	reloadOK.Set(0)
}

// ConfigApplied records the configuration being served (at start-up, or
// after a reload) without counting a reload.
func ConfigApplied(hash string, at time.Time) {
	configMu.Lock()
	defer configMu.Unlock()
	reloadOK.Set(1)
	reloadSuccessTime.Set(float64(at.UnixNano()) / 1e9)
	configInfo.Reset()
	configInfo.WithLabelValues(hash).Set(1)
}

// SetTeamActors installs the function that counts the team actors alive.
func SetTeamActors(f func() int) { teamActorsFunc.Store(&f) }
