package actors

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway/providers"
	"github.com/llmgateway/gateway/gateway/wire"
	"github.com/llmgateway/gateway/pricing"
)

// job is one admitted call.
type job struct {
	chat     *Chat
	dep      *configs.Deployment
	provider providers.Provider
	// result is the call's outcome, set by the worker before done closes.
	result   *ChatResult
	done     chan struct{}
	timeout  time.Duration
	keyToken string
	quote    pricing.Quote
	log      *slog.Logger
	now      func() time.Time // the team's clock: when a call ended
	// remReq / remTok are the remaining rpm / tpm allowance at admission
	// (-1: no limit).
	remReq, remTok int64
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
	worker *actor.PID
	job    *job
}

// Run performs the leased call and returns its outcome. It delivers the
// job to the worker, whose synchronized mailbox runs it on this goroutine.
func (l *Lease) Run(sender actor.SenderContext) *ChatResult {
	sender.Send(l.worker, l.job)
	select {
	case <-l.job.done: // the usual case: the job ran during Send
		return l.job.result
	default:
	}
	t := time.NewTimer(l.job.timeout + time.Minute)
	defer t.Stop()
	select {
	case <-l.job.done:
	case <-t.C:
		// Only if the worker never ran the job (it cannot hang: the
		// upstream call has its own deadline).
		return &ChatResult{Deployment: l.job.dep, Err: wire.Errorf(500, wire.TypeInternal,
			"the worker for deployment %s did not run the call; retry", l.job.dep.ModelInfo.ID)}
	}
	return l.job.result
}

func (w *worker) Receive(ctx actor.Context) {
	if j, ok := ctx.Message().(*job); ok {
		w.run(ctx, j)
	}
}

// cost prices a call's usage, warning once per unpriced model.
func (j *job) cost(u Usage) float64 {
	if !j.quote.Priced {
		if (u.PromptTokens > 0 || u.CompletionTokens > 0) && pricing.FirstMiss(j.quote.Model) {
			j.log.Warn("no price for model: its calls cost 0; set litellm_params.input_cost_per_token / output_cost_per_token or model_info.base_model",
				"model", j.quote.Model, "deployment", j.dep.ModelInfo.ID)
		}
		return 0
	}
	return j.quote.Cost(u.PromptTokens, u.CompletionTokens)
}

func (w *worker) run(ctx actor.Context, j *job) {
	team := ctx.Parent()
	replied := false
	failed := func() *finished {
		return &finished{worker: ctx.Self(), at: j.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, usage: Usage{Failed: true}}
	}
	defer func() {
		if r := recover(); r != nil {
			if !replied {
				f := failed()
				f.worker = nil // a worker that panicked is not reused
				ctx.Send(team, f)
				j.result = &ChatResult{Deployment: j.dep, Err: wire.Errorf(500, wire.TypeInternal,
					"internal error while calling deployment %s; the gateway logged it", j.dep.ModelInfo.ID)}
				close(j.done)
			}
			panic(fmt.Sprintf("worker for deployment %s: %v", j.dep.ModelInfo.ID, r))
		}
	}()
	reply := func(res *ChatResult) {
		replied = true
		res.Deployment = j.dep
		j.result = res
		close(j.done)
	}

	body, err := wire.SetModel(j.chat.Body, j.dep.UpstreamModel)
	if err != nil {
		ctx.Send(team, failed())
		reply(&ChatResult{Err: wire.BadRequest("cannot rewrite the request body: %v", err)})
		return
	}
	strip := false
	if j.chat.Stream && StreamUsageSupported(j.dep) && !gjson.GetBytes(body, "stream_options.include_usage").Bool() {
		if b, err := sjson.SetBytes(body, "stream_options.include_usage", true); err == nil {
			body, strip = b, true
		}
	}
	call := &providers.Call{Deployment: j.dep, Body: body, Deadline: time.Now().Add(j.timeout)}

	if j.chat.Stream {
		s, err := j.provider.OpenStream(call)
		if err != nil {
			ctx.Send(team, failed())
			reply(&ChatResult{Err: asWireError(err)})
			return
		}
		root := ctx.ActorSystem().Root
		var once sync.Once
		reply(&ChatResult{Stream: s, StripUsage: strip, RemainingRequests: j.remReq, RemainingTokens: j.remTok,
			Done: func(u Usage) {
				once.Do(func() {
					if !u.Reported && len(u.Text) > 0 {
						// The upstream reported no usage: count it.
						u.PromptTokens = pricing.CountPrompt(j.dep.UpstreamModel, j.chat.Body)
						u.CompletionTokens = pricing.CountText(j.dep.UpstreamModel, string(u.Text))
					}
					u.Text = nil
					root.Send(team, &finished{at: j.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, usage: u, cost: j.cost(u)})
				})
			}})
		ctx.Send(team, &workerIdle{worker: ctx.Self()})
		return
	}

	resp, err := j.provider.Complete(call)
	if err != nil {
		ctx.Send(team, failed())
		reply(&ChatResult{Err: asWireError(err)})
		return
	}
	u := UsageOf(resp.Body)
	cost := j.cost(u)
	ctx.Send(team, &finished{worker: ctx.Self(), at: j.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, usage: u, cost: cost})
	out := resp.Body
	if rewritten, err := wire.SetModel(out, j.chat.Model); err == nil {
		out = rewritten
	}
	remTok := j.remTok
	if remTok > 0 {
		remTok = max(0, remTok-u.PromptTokens-u.CompletionTokens)
	}
	reply(&ChatResult{Body: out, Cost: cost, Usage: u, RemainingRequests: j.remReq, RemainingTokens: remTok})
}

// StreamUsageSupported reports whether the gateway asks d's upstream for a
// final usage chunk (stream_options.include_usage): OpenAI and
// OpenAI-compatible upstreams and the mock do, Azure from api_version
// 2024-10-21 on; litellm_params.stream_include_usage: false turns it off
// (for an OpenAI-compatible server that rejects stream_options). Without
// it the gateway counts the stream's tokens with a tokenizer.
func StreamUsageSupported(d *configs.Deployment) bool {
	if v := d.LiteLLMParams.StreamIncludeUsage; v != nil && !*v {
		return false
	}
	switch d.Provider {
	case "openai", "mock":
		return true
	case "azure":
		v := d.LiteLLMParams.APIVersion
		if v == "" {
			return true // the provider's default, 2024-10-21
		}
		return len(v) >= 10 && v[:10] >= "2024-10-21"
	}
	return false
}

// UsageOf reads the usage object of a chat completion or a final stream chunk.
func UsageOf(body []byte) Usage {
	u := gjson.GetBytes(body, "usage")
	if !u.IsObject() {
		return Usage{}
	}
	return Usage{
		PromptTokens:     u.Get("prompt_tokens").Int(),
		CompletionTokens: u.Get("completion_tokens").Int(),
		Reported:         true,
	}
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
func Call(root *actor.RootContext, pid *actor.PID, msg *Chat, timeout time.Duration) (*ChatResult, error) {
	v, err := root.RequestFuture(pid, msg, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the team actor: %w", err)
	}
	switch v := v.(type) {
	case *Lease:
		return v.Run(root), nil
	case *ChatResult:
		return v, nil
	case *actor.DeadLetterResponse:
		return &ChatResult{Err: wire.Errorf(401, wire.TypeAuth,
			"this key's team was just removed from the configuration; ask an admin for a key of an existing team")}, nil
	}
	return nil, fmt.Errorf("unexpected answer %T from the team actor", v)
}
