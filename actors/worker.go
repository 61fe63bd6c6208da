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
	replyTo  *actor.PID
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
// is a child of the team actor, which gives it a call only while it is
// idle (so no call ever queues behind another), takes it back into its
// pool when the call is done, and stops it if it panics; the caller still
// gets an answer. Pooling saves a spawn, a registry entry and a
// termination message per request.
type worker struct{}

var workerProps = actor.PropsFromProducer(func() actor.Actor { return &worker{} })

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
				ctx.Send(j.replyTo, &ChatResult{Deployment: j.dep, Err: wire.Errorf(500, wire.TypeInternal,
					"internal error while calling deployment %s; the gateway logged it", j.dep.ModelInfo.ID)})
			}
			panic(fmt.Sprintf("worker for deployment %s: %v", j.dep.ModelInfo.ID, r))
		}
	}()
	reply := func(res *ChatResult) {
		replied = true
		res.Deployment = j.dep
		ctx.Send(j.replyTo, res)
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
