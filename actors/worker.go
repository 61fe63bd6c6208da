package actors

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/providers"
	provreg "github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// job is one admitted call.
type job struct {
	chat     *Chat
	dep      *configs.Deployment
	provider providers.Provider
	// The router: the settings, the deployments the call may be retried
	// on (its group, those serving its endpoint), their prices, the
	// deployment the call started on, the retries made, and the whole
	// call's deadline (attempts share it).
	rc       *configs.Router
	group    []*configs.Deployment
	fallback *fallbacks // nil: none configured
	tries    int        // fallback models tried
	prices   map[*configs.Deployment]pricing.Quote
	firstDep *configs.Deployment
	retries  int
	state    *depState // the router's record of dep
	deadline time.Time
	// callerTimeout: the caller asked for a shorter timeout than the
	// deployment's, so a timeout is not the deployment's failure.
	callerTimeout bool
	// countBody, when set, is the chat request whose prompt a stream's
	// tokens are counted by (a bridged call's translation), instead of
	// the client's body.
	countBody []byte
	// result is the call's outcome, set by the worker before done closes.
	result   *ChatResult
	done     chan struct{}
	timeout  time.Duration
	keyToken string
	quote    pricing.Quote
	env      *env // its clock (when a call ended), log and warnings
	// remReq / remTok are the remaining rpm / tpm allowance at admission
	// (-1: no limit).
	remReq, remTok int64
	// limitModel is the model name the key's per-model limits count this
	// call under ("" for none).
	limitModel string
	// softOver: the key's spend had reached its soft_budget (softBudget)
	// when the call was admitted (x-litellm-key-soft-budget).
	softOver   bool
	softBudget float64
	// report is what Lease.Run sends the team actor once the worker's
	// mailbox let go of the job (*finished or *workerIdle): only then is
	// the worker free for the next lease. Set before done closes; nil
	// when the worker panicked (it reported by itself).
	report any
}

// worker performs upstream calls, one at a time, for its team actor. It
// is a child of the team actor, which leases it to one admitted call at a
// time (so no call ever queues behind another), takes it back into its
// pool when the call is done, and stops it if it panics; the caller still
// gets an answer. Pooling saves a spawn, a registry entry and a
// termination message per request.
//
// Its mailbox uses protoactor's synchronized dispatcher: the job is
// processed on the goroutine that delivers it — the HTTP handler's, via
// Lease.Run — so an upstream call costs no goroutine hand-off and no fresh
// goroutine stack, while the worker stays a supervised child actor.
type worker struct{}

var workerProps = actor.PropsFromProducer(func() actor.Actor { return &worker{} },
	actor.WithDispatcher(actor.NewSynchronizedDispatcher(8)))

// Lease answers Chat when the team actor admitted the call: the caller
// runs it through the team's worker with Run. The team actor's mailbox
// never waits for the call.
type Lease struct {
	team   *actor.PID
	worker *actor.PID
	job    *job
}

// Run performs the leased call and returns its outcome. It delivers the
// job to the worker, whose synchronized mailbox runs it on this goroutine,
// then tells the team actor that the call ended (usage, cost, the freed
// slot and worker) before the caller sees the result, so the caller's
// next request is admitted against up-to-date counters.
func (l *Lease) Run(sender actor.SenderContext) *ChatResult {
	j := l.job
	sender.Send(l.worker, j)
	select {
	case <-j.done: // the usual case: the job ran during Send
	default:
		t := time.NewTimer(j.timeout + time.Minute)
		select {
		case <-j.done:
			t.Stop()
		case <-t.C:
			// Only if the worker never ran the job (it cannot hang: the
			// upstream call has its own deadline).
			return &ChatResult{Deployment: j.dep, Err: wire.Errorf(500, wire.TypeInternal,
				"the worker for deployment %s did not run the call; retry", j.dep.ModelInfo.ID)}
		}
	}
	if j.report != nil {
		sender.Send(l.team, j.report)
	}
	return j.result
}

func (w *worker) Receive(ctx actor.Context) {
	if j, ok := ctx.Message().(*job); ok {
		w.run(ctx, j)
	}
}

// cost prices a call's usage, warning once per unpriced model.
func (j *job) cost(u Usage) float64 {
	if !j.quote.Priced {
		if (u.PromptTokens > 0 || u.CompletionTokens > 0) && j.env.firstUnpriced(j.quote.Model) {
			j.env.log.Warn("no price for model: its calls cost 0; set litellm_params.input_cost_per_token / output_cost_per_token or model_info.base_model",
				"model", j.quote.Model, "deployment", j.dep.ModelInfo.ID)
		}
		return 0
	}
	return j.quote.CostOf(pricing.Tokens{Prompt: u.PromptTokens, Completion: u.CompletionTokens,
		CacheRead: u.CacheReadTokens, CacheWrite: u.CacheWriteTokens})
}

func (w *worker) run(ctx actor.Context, j *job) {
	replied := false
	failed := func() *finished {
		return &finished{worker: ctx.Self(), at: j.env.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, limitModel: j.limitModel, usage: Usage{Failed: true}}
	}
	defer func() {
		if r := recover(); r != nil {
			if !replied {
				f := failed()
				f.worker = nil // a worker that panicked is not reused
				j.report = nil
				ctx.Send(ctx.Parent(), f)
				j.result = &ChatResult{Deployment: j.dep, Err: wire.Errorf(500, wire.TypeInternal,
					"internal error while calling deployment %s; the gateway logged it", j.dep.ModelInfo.ID)}
				close(j.done)
			}
			panic(fmt.Sprintf("worker for deployment %s: %v", j.dep.ModelInfo.ID, r))
		}
	}()
	final := func(res *ChatResult) {
		replied = true
		res.Deployment, res.Retries, res.Fallbacks = j.dep, j.retries, j.tries
		j.result = res
		close(j.done)
	}
	res := j.attempts(ctx, failed)
	for _, fb := range j.fallback.chainFor(res.Err) {
		if j.chat.Abort != nil && j.chat.Abort.Aborted() || time.Now().After(j.deadline) {
			break
		}
		d, werr := j.env.router.pick(fb.group, j.rc, j.chat.Stream, nil, fb.name)
		if werr != nil || j.env.providers[d.Provider] == nil {
			continue
		}
		j.tries++
		metrics.RouterFallback(fb.name)
		j.group, j.dep, j.provider, j.quote, j.firstDep = fb.group, d, j.env.providers[d.Provider], j.prices[d], d
		j.chat.Model = fb.name // the answer names the model that gave it
		if res = j.attempts(ctx, failed); res.Err == nil {
			break
		}
	}
	final(res)
}

// attempts runs the call on its deployment and, when it fails in a way
// another attempt may not (connection errors, timeouts, 408, 429, 5xx),
// retries it on another deployment of the group (the same one when it is
// the only one, never sooner than retry_after or the upstream's
// retry-after), up to the retries the router settings allow. Only the
// last attempt's outcome reaches the team actor: the call holds one rpm
// and parallel slot however many attempts it takes; each attempt counts
// toward its deployment's own rpm and health.
func (j *job) attempts(ctx actor.Context, failed func() *finished) *ChatResult {
	var tried []*configs.Deployment
	for retry := 0; ; retry++ {
		// The clock is read only when the router needs it (latency
		// routing); report reads it for the windows that need it.
		timed := j.rc.Strategy == configs.StrategyLatency
		var start time.Time
		if timed {
			start = time.Now()
		}
		st := j.env.router.of(j.dep)
		j.state = st
		st.inFlight.Add(1)
		res := j.attempt(ctx, failed)
		j.retries = retry
		var o outcome
		if timed {
			o.latency = time.Since(start)
		}
		if res.Stream != nil {
			// The stream's in-flight count ends with it (streamResult).
			j.env.router.report(j.dep, st, j.rc, o)
			return res
		}
		st.inFlight.Add(-1)
		o.tokens, o.err = res.Usage.PromptTokens+res.Usage.CompletionTokens, res.Err
		if res.Err != nil {
			o.latency, o.counts = 0, ownFailure(res.Err, j.callerTimeout)
		}
		j.env.router.report(j.dep, st, j.rc, o)
		if res.Err == nil || retry >= j.maxRetries(res.Err) || res.Err.Status == 499 || (j.chat.Abort != nil && j.chat.Abort.Aborted()) {
			return res
		}
		tried = append(tried, j.dep)
		next, werr := j.env.router.pick(j.group, j.rc, j.chat.Stream, tried, j.chat.Model)
		if werr != nil {
			return res // nothing else to try: the attempt's own error
		}
		wait := backoff(retry)
		if next == j.dep {
			wait = max(wait, j.rc.RetryAfter, time.Duration(res.Err.RetryAfter)*time.Second)
		}
		if time.Until(j.deadline) < wait {
			return res // no time left to wait: the error (a 429 carries its retry-after)
		}
		time.Sleep(wait)
		metrics.RouterRetry(depKey(j.dep))
		j.dep, j.provider, j.quote = next, j.env.providers[next.Provider], j.prices[next]
		if j.provider == nil {
			return res
		}
	}
}

// maxRetries is how many retries an error gets: retry_policy's entry
// for its class when set (LiteLLM's names: a policy may retry even a 401
// or a 400), else, for the errors retried by default (connection errors,
// timeouts, 408, 429, 5xx), the deployment's max_retries or num_retries;
// other errors are not retried.
func (j *job) maxRetries(e *wire.Error) int {
	p := j.rc.RetryPolicy
	var n *int
	switch {
	case e.Final:
		return 0
	case e.Status == 504 || e.Status == 408:
		n = p.Timeout
	case e.Status == 429:
		n = p.RateLimit
	case contentPolicyError(e):
		n = p.ContentPolicy
	case e.Status == 401 || e.Status == 403:
		n = p.Authentication
	case e.Status == 400 || e.Status == 404 || e.Status == 422:
		n = p.BadRequest
	case e.Status >= 500:
		n = p.InternalServer
	}
	if n != nil {
		return *n
	}
	if !retryable(e) {
		return 0
	}
	if m := j.firstDep.LiteLLMParams.MaxRetries; m != nil {
		return *m
	}
	return j.rc.NumRetries
}

// backoff is the wait before retry number n+1: exponential from 50 ms,
// with full jitter, capped at 2 s.
func backoff(n int) time.Duration {
	d := min(50*time.Millisecond<<min(n, 6), 2*time.Second)
	return time.Duration(rand.Int64N(int64(d)) + int64(d)/2)
}

// attempt runs the call once on j.dep.
func (j *job) attempt(ctx actor.Context, failed func() *finished) *ChatResult {
	if ep := j.chat.Endpoint; ep != "" && ep != provreg.EndpointChat {
		var res *ChatResult
		j.runEndpoint(ctx, failed, func(r *ChatResult) { res = r })
		return res
	}
	body, err := wire.SetModelAt(j.chat.Body, j.chat.ModelAt, j.dep.UpstreamModel)
	if err != nil {
		j.report = failed()
		return &ChatResult{Err: wire.BadRequest("cannot rewrite the request body: %v", err)}
	}
	strip := false
	if j.chat.Stream && StreamUsageSupported(j.dep) && !wire.Lookup(body, "stream_options.include_usage").Bool() {
		if b, err := sjson.SetBytes(body, "stream_options.include_usage", true); err == nil {
			body, strip = b, true
		}
	}
	call := &providers.Call{Deployment: j.dep, Body: body, Deadline: j.deadline}

	if j.chat.Stream {
		s, err := j.provider.OpenStream(call)
		if err == nil {
			s, err = firstEvent(s, j.rc.StreamFirstByteTimeout, j.chat.Model)
		}
		if err != nil {
			j.report = failed()
			return &ChatResult{Err: asWireError(err)}
		}
		res := j.streamResult(ctx, s)
		res.StripUsage = strip
		return res
	}

	call.Abort = j.chat.Abort
	resp, err := j.provider.Complete(call)
	if err != nil {
		j.report = failed()
		return &ChatResult{Err: asWireError(err)}
	}
	comp, why := wire.ParseCompletion(resp.Body)
	if why != "" {
		j.report = failed()
		return &ChatResult{Err: malformedAnswer(j.dep, resp, why)}
	}
	u := usageFrom(comp.Usage)
	if !u.Reported {
		// No call is free: without the upstream's figures the gateway
		// counts the tokens itself, as it does for streams.
		u.PromptTokens = pricing.CountPrompt(j.dep.UpstreamModel, j.chat.Body)
		u.CompletionTokens = pricing.CountCompletion(j.dep.UpstreamModel, resp.Body)
	}
	cost := j.cost(u)
	j.report = &finished{worker: ctx.Self(), at: j.env.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, limitModel: j.limitModel, usage: u, cost: cost}
	out := resp.Body
	if rewritten, err := wire.SetModelAt(out, comp.ModelAt, j.chat.Model); err == nil {
		out = rewritten
	}
	remTok := j.remTok
	if remTok > 0 {
		remTok = max(0, remTok-u.PromptTokens-u.CompletionTokens)
	}
	return &ChatResult{Body: out, Cost: cost, Usage: u, RemainingRequests: j.remReq, RemainingTokens: remTok, SoftBudgetExceeded: j.softOver, SoftBudget: j.softBudget}
}

// streamResult is the answer for an open stream: the receiver relays s and
// reports its usage through Done, which prices it (counting the tokens
// when the upstream reported none) and tells the team actor.
func (j *job) streamResult(ctx actor.Context, s providers.Stream) *ChatResult {
	root, team := ctx.ActorSystem().Root, ctx.Parent()
	var once sync.Once
	var accounted Usage
	j.report = &workerIdle{worker: ctx.Self()} // the stream's usage comes by Done
	return &ChatResult{Stream: s, RemainingRequests: j.remReq, RemainingTokens: j.remTok, SoftBudgetExceeded: j.softOver, SoftBudget: j.softBudget,
		Done: func(u Usage) Usage {
			once.Do(func() {
				if !u.Reported && len(u.Text) > 0 {
					// The upstream reported no usage: count it.
					body := j.chat.Body
					if j.countBody != nil {
						body = j.countBody
					}
					u.PromptTokens = pricing.CountPrompt(j.dep.UpstreamModel, body)
					u.CompletionTokens = pricing.CountText(j.dep.UpstreamModel, string(u.Text))
				}
				u.Text = nil
				u.Cost = j.cost(u)
				accounted = u
				st := j.state
				if st == nil {
					st = j.env.router.of(j.dep)
				}
				st.inFlight.Add(-1)
				j.env.router.report(j.dep, st, j.rc, outcome{tokens: u.PromptTokens + u.CompletionTokens})
				root.Send(team, &finished{at: j.env.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, limitModel: j.limitModel, usage: u, cost: u.Cost})
			})
			return accounted
		}}
}

// malformedAnswer is the 502 for a 2xx unary answer that is no chat
// completion. The message names the model, not the upstream's address;
// the log gets the address, the content type and the body's start (with
// the deployment's key scrubbed).
func malformedAnswer(d *configs.Deployment, resp *providers.Response, why string) *wire.Error {
	host := d.LiteLLMParams.APIBase
	if u, err := url.Parse(host); err == nil {
		host = u.Host
	}
	head := resp.Body[:min(len(resp.Body), 128+4*len(d.APIKey))]
	return &wire.Error{Status: 502, Type: wire.TypeUpstream, Final: true,
		Message: "the upstream of model " + strconv.Quote(d.PublicName()) + " answered " + strconv.Itoa(resp.Status) +
			" with " + why + "; the answer was not passed on. Check the deployment's api_base",
		Internal: "upstream " + host + " (deployment " + d.ModelInfo.ID + ") answered content-type " +
			strconv.Quote(resp.ContentType) + ", body starting " + strconv.Quote(providers.Scrub(d.APIKey, string(head)))}
}

// StreamUsageSupported reports whether the gateway asks d's upstream for a
// final usage chunk (stream_options.include_usage): OpenAI and
// OpenAI-compatible upstreams and the mock do, Azure from api_version
// 2024-10-21 on; litellm_params.stream_include_usage: false turns it off
// (for an OpenAI-compatible server that rejects stream_options). Without
// it the gateway counts the stream's tokens with a tokenizer.
func StreamUsageSupported(d *configs.Deployment) bool {
	return provreg.StreamUsage(d.Provider, d.LiteLLMParams.APIVersion, d.LiteLLMParams.StreamIncludeUsage)
}

// UsageOf reads a chat usage object (the raw JSON of a final stream
// chunk's "usage").
func UsageOf(raw []byte) Usage {
	return usageFrom(gjson.Parse(wire.View(raw)))
}

// usageFrom reads a usage object.
func usageFrom(u gjson.Result) Usage {
	if !u.IsObject() {
		return Usage{}
	}
	// One pass over the object, not a lookup per field.
	out := Usage{Reported: true}
	cached := false
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt_tokens":
			out.PromptTokens = v.Int()
		case "completion_tokens":
			out.CompletionTokens = v.Int()
		case "prompt_tokens_details":
			if c := v.Get("cached_tokens"); c.Exists() {
				out.CacheReadTokens, cached = c.Int(), true
			}
		case "cache_read_input_tokens":
			if !cached {
				out.CacheReadTokens = v.Int()
			}
		case "cache_creation_input_tokens":
			out.CacheWriteTokens = v.Int()
		}
		return true
	})
	return out
}

func asWireError(err error) *wire.Error {
	if we, ok := err.(*wire.Error); ok {
		return we
	}
	return wire.Errorf(502, wire.TypeUpstream, "upstream call failed: %v", err)
}

// Call asks a team actor for a chat and, when it is admitted, runs it on
// the calling goroutine. timeout bounds the wait for the team actor's
// answer (the call itself is bounded by its deployment's timeout). A call
// routed to a team actor that no longer exists gets a 401.
//
// The answer comes on the Chat's own channel rather than through a
// RequestFuture: the team actor's synchronized mailbox usually answers
// during Send, so the common path costs neither a future's registration
// and timer nor a goroutine wake-up.
func Call(root *actor.RootContext, pid *actor.PID, msg *Chat, timeout time.Duration) (*ChatResult, error) {
	msg.reply = make(chan any, 1)
	root.Send(pid, msg)
	var v any
	select {
	case v = <-msg.reply:
	default: // another goroutine is running the team's mailbox
		t := time.NewTimer(timeout)
		select {
		case v = <-msg.reply:
			t.Stop()
		case <-t.C:
			return nil, fmt.Errorf("asking the team actor: no answer within %v", timeout)
		}
	}
	switch v := v.(type) {
	case *Lease:
		return v.Run(root), nil
	case *ChatResult:
		return v, nil
	}
	return nil, fmt.Errorf("unexpected answer %T from the team actor", v)
}

// teamGone answers a call whose team actor has stopped (its team was
// removed).
func teamGone() *ChatResult {
	return &ChatResult{Err: wire.Errorf(401, wire.TypeAuth,
		"this key's team was just removed from the configuration; ask an admin for a key of an existing team")}
}

// answerDeadLetters subscribes to the actor system's dead letters and
// answers every Chat among them: one sent to a stopped team actor gets
// teamGone instead of waiting for its timeout.
func answerDeadLetters(system *actor.ActorSystem) {
	system.EventStream.Subscribe(func(ev any) {
		if dl, ok := ev.(*actor.DeadLetterEvent); ok {
			if c, ok := dl.Message.(*Chat); ok && c.reply != nil {
				select {
				case c.reply <- teamGone():
				default: // already answered (a second subscription)
				}
			}
		}
	})
}
