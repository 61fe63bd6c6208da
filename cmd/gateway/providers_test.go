package main

import (
	"testing"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
)

// TestProvidersMatchTheRegistry: every provider the registry declares has
// an implementation wired in, and nothing else is wired in.
func TestProvidersMatchTheRegistry(t *testing.T) {
	t.Parallel()
	provs := newProviders(providers.NewClient())
	for _, s := range registry.Table {
		if provs[s.Name] == nil {
			t.Errorf("provider %q is in the registry but has no implementation in newProviders", s.Name)
		}
	}
	if len(provs) != len(registry.Table) {
		t.Errorf("newProviders builds %d providers, the registry declares %d", len(provs), len(registry.Table))
	}
}
