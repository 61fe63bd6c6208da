package providers

import (
	"strconv"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

// Probe checks that deployment d answers: the smallest call of its kind
// (model_info.mode "embedding": one embedding of "ping"; otherwise a chat
// completion of one token), through p and the shared client, so team
// deployments pass the egress policy as their calls do. It returns the
// call's error (a *wire.Error, its message scrubbed), or nil.
func Probe(p Provider, d *configs.Deployment, deadline time.Time) error {
	model := strconv.Quote(d.UpstreamModel)
	call := &Call{Deployment: d, Deadline: deadline}
	if mode, _ := d.ModelInfo.Extra["mode"].(string); mode == "embedding" {
		fw, ok := p.(Forwarder)
		if spec, known := registry.Lookup(d.Provider); ok && known && spec.Serves(registry.EndpointEmbeddings) {
			call.Endpoint, call.Body = registry.EndpointEmbeddings, []byte(`{"model":`+model+`,"input":"ping"}`)
			_, err := fw.Forward(call)
			return err
		}
	}
	call.Body = []byte(`{"model":` + model + `,"messages":[{"role":"user","content":"ping"}],"max_tokens":1}`)
	_, err := p.Complete(call)
	return err
}
