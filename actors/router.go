package actors

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/wire"
)

// router is the state every team shares about deployments: calls in
// flight, recent latency, this minute's requests and tokens, recent
// failures and cooldowns. A global deployment is used by many teams, and
// its health is the same for all of them.
//
// It is lock-free: one *depState per deployment id, found in a sync.Map
// (a read of a key already stored takes no lock), whose fields are
// atomics. Admission to a deployment's rpm is one compare-and-swap, so a
// limit holds exactly however many teams call at once. An actor owning
// this state would cost every attempt a message round trip on the request
// path; the counters need no ordering beyond what the atomics give.
type router struct {
	now   func() time.Time
	state sync.Map // deployment id -> *depState
}

// depState is one deployment's shared state. Windows are per minute, keyed
// by the unix minute they count.
type depState struct {
	inFlight atomic.Int64
	// latency is an exponentially weighted average in nanoseconds (for
	// streams: the time to the upstream's answer headers).
	latency atomic.Int64
	// rpm / tpm window: minute and counts (the counts reset when the
	// minute changes; see window).
	reqMinute, reqs   atomic.Int64
	tokMinute, tokens atomic.Int64
	// failures within the current minute, and the cooldown's end (unix
	// nanoseconds; 0: none).
	failMinute, fails atomic.Int64
	coolUntil         atomic.Int64
	// counters are the deployment's metrics, looked up once.
	counters atomic.Pointer[metrics.DeploymentCounters]
}

func newRouter(now func() time.Time) *router {
	r := &router{now: now}
	metrics.SetDeploymentStates(r.states)
	return r
}

// states reports each known deployment's state for the deployment_state
// gauge: 1 cooling down, 0 available.
func (r *router) states() map[string]int {
	now := r.now().UnixNano()
	out := map[string]int{}
	r.state.Range(func(k, v any) bool {
		st := 0
		if v.(*depState).coolUntil.Load() > now {
			st = 1
		}
		out[k.(string)] = st
		return true
	})
	return out
}

func depKey(d *configs.Deployment) string {
	if d.ModelInfo.ID != "" {
		return d.ModelInfo.ID
	}
	return "name:" + d.ModelName + "/" + d.LiteLLMParams.Model
}

func (r *router) of(d *configs.Deployment) *depState {
	k := depKey(d)
	if s, ok := r.state.Load(k); ok {
		return s.(*depState)
	}
	s, _ := r.state.LoadOrStore(k, &depState{})
	return s.(*depState)
}

// minuteCount returns the count of a per-minute window for minute m, resetting
// it when the minute changed.
func minuteCount(minute, count *atomic.Int64, m int64) *atomic.Int64 {
	for {
		cur := minute.Load()
		if cur == m {
			return count
		}
		if minute.CompareAndSwap(cur, m) {
			count.Store(0)
			return count
		}
	}
}

// coolingUntil reports d's cooldown end, or the zero time.
func (r *router) coolingUntil(s *depState, now time.Time) time.Time {
	if u := s.coolUntil.Load(); u > now.UnixNano() {
		return time.Unix(0, u)
	}
	return time.Time{}
}

// takeRPM admits one request to d under its litellm_params.rpm, exactly:
// it fails when this minute's count reached the limit.
func (r *router) takeRPM(d *configs.Deployment, s *depState, now time.Time) bool {
	limit := d.LiteLLMParams.RPM
	if limit == nil || *limit <= 0 {
		return true
	}
	c := minuteCount(&s.reqMinute, &s.reqs, now.Unix()/60)
	for {
		n := c.Load()
		if n >= *limit {
			return false
		}
		if c.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// underTPM reports whether d has tokens left this minute.
func (r *router) underTPM(d *configs.Deployment, s *depState, now time.Time) bool {
	limit := d.LiteLLMParams.TPM
	if limit == nil || *limit <= 0 {
		return true
	}
	return minuteCount(&s.tokMinute, &s.tokens, now.Unix()/60).Load() < *limit
}

// outcome is how one attempt on a deployment ended, for its health.
type outcome struct {
	latency time.Duration // 0: unknown (failed)
	tokens  int64
	// err is the attempt's error (nil: success). counts is false for an
	// error that is not the deployment's fault (the caller's bad body,
	// the caller's own short timeout, a client that went away).
	err    *wire.Error
	counts bool
}

// report records an attempt's outcome: latency and tokens of a success;
// for the deployment's own failures, the count toward allowed_fails and,
// at once for a 429, 401 or 404, a cooldown (at least the upstream's
// retry-after).
func (r *router) report(d *configs.Deployment, s *depState, rc *configs.Router, o outcome) {
	if s.counters.Load() == nil {
		s.counters.Store(metrics.Deployment(depKey(d)))
	}
	s.counters.Load().Attempt(o.err == nil)
	// This minute's tokens matter for a tpm limit and usage routing only:
	// the clock is read for them (and for failures) alone.
	if o.tokens > 0 && (rc.Strategy == configs.StrategyUsage || (d.LiteLLMParams.TPM != nil && *d.LiteLLMParams.TPM > 0)) {
		minuteCount(&s.tokMinute, &s.tokens, r.now().Unix()/60).Add(o.tokens)
	}
	if o.err == nil {
		if o.latency > 0 {
			old := s.latency.Load()
			if old == 0 {
				s.latency.Store(int64(o.latency))
			} else {
				s.latency.Store(old + (int64(o.latency)-old)/5) // EWMA, alpha 0.2
			}
		}
		return
	}
	if !o.counts {
		return
	}
	now := r.now()
	cool := rc.CooldownTime
	if ra := time.Duration(o.err.RetryAfter) * time.Second; ra > cool {
		cool = ra
	}
	switch o.err.Status {
	case 429, 401, 404:
		r.coolDown(d, s, now, cool)
		return
	}
	if n := minuteCount(&s.failMinute, &s.fails, now.Unix()/60).Add(1); rc.AllowedFails >= 0 && n >= int64(max(rc.AllowedFails, 1)) {
		r.coolDown(d, s, now, cool)
	}
}

func (r *router) coolDown(dep *configs.Deployment, s *depState, now time.Time, d time.Duration) {
	if d <= 0 {
		return
	}
	until := now.Add(d).UnixNano()
	for {
		cur := s.coolUntil.Load()
		if cur >= until {
			return
		}
		if s.coolUntil.CompareAndSwap(cur, until) {
			if cur <= now.UnixNano() {
				metrics.Cooldown(depKey(dep)) // a new cooldown, not an extension
			}
			return
		}
	}
}

// ownFailure reports whether an attempt's error is the deployment's own
// doing (it counts toward cooldowns): not a refusal of the caller's body
// (400, 413, 422), not the caller going away (499), and not a timeout when
// the caller asked for a shorter timeout than the deployment's.
func ownFailure(e *wire.Error, callerTimeout bool) bool {
	switch {
	case e == nil:
		return false
	case e.Status == 499, e.Status == 400, e.Status == 413, e.Status == 422:
		return false
	case e.Status == 504 && callerTimeout:
		return false
	}
	return true
}

// retryable reports whether an attempt's error may succeed elsewhere or
// later: connection errors (502), timeouts (504, 408), 429, 5xx, 529.
func retryable(e *wire.Error) bool {
	return e != nil && !e.Final && (e.Status == 408 || e.Status == 429 || e.Status >= 500) && e.Status != 501
}

// pick chooses a deployment of group for an attempt: it skips those in
// tried when others remain, those cooling down and those at their rpm or
// tpm limit, keeps the lowest order tier that has any left, and chooses
// within it by the routing strategy. It takes the chosen deployment's rpm
// slot. With none available it returns a 429 saying why (and until when).
func (r *router) pick(group []*configs.Deployment, rc *configs.Router, stream bool, tried []*configs.Deployment, model string) (*configs.Deployment, *wire.Error) {
	if len(group) == 1 {
		// A group of one (the common case): never cooled down, so only
		// its own limits apply; no candidate lists, and no clock unless
		// it has limits.
		d := group[0]
		p := d.LiteLLMParams
		if (p.RPM == nil || *p.RPM <= 0) && (p.TPM == nil || *p.TPM <= 0) {
			return d, nil
		}
		now := r.now()
		s := r.of(d)
		if r.underTPM(d, s, now) && r.takeRPM(d, s, now) {
			return d, nil
		}
		return nil, r.unavailable(model, nil, time.Time{}, 1, now)
	}
	now := r.now()
	var candBuf [8]*configs.Deployment
	var stateBuf [8]*depState
	cands, states := candBuf[:0], stateBuf[:0]
	var cooling []string
	var soonest time.Time
	limited := 0
	// A group of one is never cooled down (as in LiteLLM): its calls get
	// the upstream's own answer rather than a 429 of the gateway's.
	cool := len(group) > 1
	for pass := 0; pass < 2 && len(cands) == 0 && (pass == 0 || len(tried) > 0); pass++ {
		for _, d := range group {
			if pass == 0 && len(tried) > 0 && len(group) > 1 && slices.Contains(tried, d) {
				continue // another deployment first, when there is one
			}
			s := r.of(d)
			if u := r.coolingUntil(s, now); cool && !u.IsZero() {
				if pass == 0 {
					cooling = append(cooling, d.ModelInfo.ID+" until "+u.UTC().Format(time.RFC3339))
					if soonest.IsZero() || u.Before(soonest) {
						soonest = u
					}
				}
				continue
			}
			if !r.underTPM(d, s, now) || (d.LiteLLMParams.RPM != nil && *d.LiteLLMParams.RPM > 0 &&
				minuteCount(&s.reqMinute, &s.reqs, now.Unix()/60).Load() >= *d.LiteLLMParams.RPM) {
				limited++
				continue
			}
			cands, states = append(cands, d), append(states, s)
		}
	}
	if len(cands) == 0 {
		return nil, r.unavailable(model, cooling, soonest, limited, now)
	}
	// The lowest order tier with a candidate.
	best := math.MaxInt
	for _, d := range cands {
		best = min(best, orderOf(d))
	}
	var tier []*configs.Deployment
	var tierStates []*depState
	for i, d := range cands {
		if orderOf(d) == best {
			tier, tierStates = append(tier, d), append(tierStates, states[i])
		}
	}
	for len(tier) > 0 {
		i := r.choose(tier, tierStates, rc, stream)
		if r.takeRPM(tier[i], tierStates[i], now) {
			return tier[i], nil
		}
		// Filled up meanwhile by another team.
		tier, tierStates = slices.Delete(tier, i, i+1), slices.Delete(tierStates, i, i+1)
		limited++
	}
	return nil, r.unavailable(model, cooling, soonest, limited, now)
}

// orderOf is a deployment's priority (unset: after every ordered one).
func orderOf(d *configs.Deployment) int {
	if o := d.LiteLLMParams.Order; o != nil && *o > 0 {
		return *o
	}
	return math.MaxInt32
}

// choose picks an index of ds by the routing strategy.
func (r *router) choose(ds []*configs.Deployment, ss []*depState, rc *configs.Router, stream bool) int {
	if len(ds) == 1 {
		return 0
	}
	switch rc.Strategy {
	case configs.StrategyLeastBusy:
		best := 0
		for i := range ss {
			if ss[i].inFlight.Load() < ss[best].inFlight.Load() {
				best = i
			}
		}
		return best
	case configs.StrategyLatency:
		// Unmeasured deployments first (they must be tried to be known),
		// then any within the buffer of the fastest.
		fastest := int64(math.MaxInt64)
		var unknown []int
		for i := range ss {
			l := ss[i].latency.Load()
			if l == 0 {
				unknown = append(unknown, i)
				continue
			}
			fastest = min(fastest, l)
		}
		if len(unknown) > 0 {
			return unknown[rand.IntN(len(unknown))]
		}
		limit := int64(float64(fastest) * (1 + max(rc.LatencyBuffer, 0)))
		var near []int
		for i := range ss {
			if ss[i].latency.Load() <= limit {
				near = append(near, i)
			}
		}
		return near[rand.IntN(len(near))]
	case configs.StrategyUsage:
		now := r.now().Unix() / 60
		best, bestTok := 0, int64(math.MaxInt64)
		for i := range ss {
			t := int64(0)
			if ss[i].tokMinute.Load() == now {
				t = ss[i].tokens.Load()
			}
			if t < bestTok {
				best, bestTok = i, t
			}
		}
		return best
	}
	// simple-shuffle: by weight, else by rpm (or tpm) capacity, else even.
	w := make([]float64, len(ds))
	total := 0.0
	for i, d := range ds {
		p := d.LiteLLMParams
		switch {
		case p.Weight != nil && *p.Weight > 0:
			w[i] = *p.Weight
		case p.RPM != nil && *p.RPM > 0:
			w[i] = float64(*p.RPM)
		case p.TPM != nil && *p.TPM > 0:
			w[i] = float64(*p.TPM)
		default:
			w[i] = 1
		}
		total += w[i]
	}
	x := rand.Float64() * total
	for i := range w {
		if x < w[i] {
			return i
		}
		x -= w[i]
	}
	return len(w) - 1
}

// unavailable is the 429 for a group none of whose deployments can take a
// call now.
func (r *router) unavailable(model string, cooling []string, soonest time.Time, limited int, now time.Time) *wire.Error {
	retry := 1
	var why []string
	if len(cooling) > 0 {
		why = append(why, "cooling down after failures: "+strings.Join(cooling, ", "))
		retry = max(1, int(math.Ceil(soonest.Sub(now).Seconds())))
	}
	if limited > 0 {
		why = append(why, strconv.Itoa(limited)+" at their rpm/tpm limit this minute")
		if len(cooling) == 0 {
			retry = max(1, 60-int(now.Unix()%60))
		}
	}
	return &wire.Error{Status: 429, Type: wire.TypeRateLimit, RetryAfter: retry,
		Message: "no deployment of model " + strconv.Quote(model) + " can take a call now (" + strings.Join(why, "; ") +
			"); retry after " + strconv.Itoa(retry) + " s"}
}
