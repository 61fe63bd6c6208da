package gateway

import (
	"sync"

	"github.com/llmgateway/gateway/respid"
)

// codecCache keeps the response id codec of the live salt keys: deriving
// it costs two HKDF runs, so it is rebuilt only when the keys change.
type codecCache struct {
	mu         sync.Mutex
	salt, prev string
	codec      *respid.Codec
}

func (c *codecCache) get(salt, prev string) *respid.Codec {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codec == nil || c.salt != salt || c.prev != prev {
		codec, err := respid.New(salt, prev)
		if err != nil { // only for a broken crypto library
			panic("gateway: response id codec: " + err.Error())
		}
		c.codec, c.salt, c.prev = codec, salt, prev
	}
	return c.codec
}
