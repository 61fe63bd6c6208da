package gemini

import (
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// The translation is under way; these keep the exported API compiling.

func (p *Provider) Complete(call *providers.Call) (*providers.Response, error) {
	return nil, wire.Errorf(501, wire.TypeInternal, "gemini: not yet implemented")
}

func (p *Provider) OpenStream(call *providers.Call) (providers.Stream, error) {
	return nil, wire.Errorf(501, wire.TypeInternal, "gemini: not yet implemented")
}

func (p *Provider) Forward(call *providers.Call) (*providers.Response, error) {
	return nil, wire.Errorf(501, wire.TypeInternal, "gemini: not yet implemented")
}

func (p *Provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	return nil, wire.Errorf(501, wire.TypeInternal, "gemini: not yet implemented")
}
