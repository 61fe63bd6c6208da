package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/llmgateway/gateway/usage"
	"github.com/llmgateway/gateway/usage/usagetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "dir with space", FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	usagetest.Run(t, func(t *testing.T) usage.Store { return openTemp(t) })
}
