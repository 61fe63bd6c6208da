package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway/providers"
	"github.com/llmgateway/gateway/gateway/wire"
)

// job is one admitted call.
type job struct {
	chat     *Chat
	dep      *configs.Deployment
	provider providers.Provider
	replyTo  *actor.PID
	timeout  time.Duration
}

// worker performs one upstream call and stops. It is a child of the team
// actor, which stops it if it panics; the caller still gets an answer.
type worker struct {
	job *job
}

func (w *worker) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		w.run(ctx)
		ctx.Stop(ctx.Self())
	}
}

func (w *worker) run(ctx actor.Context) {
	j := w.job
	team := ctx.Parent()
	replied := false
	defer func() {
		if r := recover(); r != nil {
			if !replied {
				ctx.Send(team, &finished{deploymentID: j.dep.ModelInfo.ID, usage: Usage{Failed: true}})
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

	body, err := sjson.SetBytes(j.chat.Body, "model", j.dep.UpstreamModel)
	if err != nil {
		ctx.Send(team, &finished{deploymentID: j.dep.ModelInfo.ID, usage: Usage{Failed: true}})
		reply(&ChatResult{Err: wire.BadRequest("cannot rewrite the request body: %v", err)})
		return
	}
	call := &providers.Call{Deployment: j.dep, Body: body, Deadline: time.Now().Add(j.timeout)}

	if j.chat.Stream {
		s, err := j.provider.OpenStream(call)
		if err != nil {
			ctx.Send(team, &finished{deploymentID: j.dep.ModelInfo.ID, usage: Usage{Failed: true}})
			reply(&ChatResult{Err: asWireError(err)})
			return
		}
		root := ctx.ActorSystem().Root
		id := j.dep.ModelInfo.ID
		reply(&ChatResult{Stream: s, Done: func(u Usage) {
			root.Send(team, &finished{deploymentID: id, usage: u})
		}})
		return
	}

	resp, err := j.provider.Complete(call)
	if err != nil {
		ctx.Send(team, &finished{deploymentID: j.dep.ModelInfo.ID, usage: Usage{Failed: true}})
		reply(&ChatResult{Err: asWireError(err)})
		return
	}
	ctx.Send(team, &finished{deploymentID: j.dep.ModelInfo.ID, usage: UsageOf(resp.Body)})
	out := resp.Body
	if gjson.GetBytes(out, "model").String() != j.chat.Model {
		if rewritten, err := sjson.SetBytes(out, "model", j.chat.Model); err == nil {
			out = rewritten
		}
	}
	reply(&ChatResult{Body: out})
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
	}
}

func asWireError(err error) *wire.Error {
	if we, ok := err.(*wire.Error); ok {
		return we
	}
	return wire.Errorf(502, wire.TypeUpstream, "upstream call failed: %v", err)
}
