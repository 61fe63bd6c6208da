package fakeentra_test

import (
	"crypto/tls"

	"github.com/llmgateway/gateway/internal/fakeentra"
)

func tlsConfig(s *fakeentra.Server) *tls.Config {
	return &tls.Config{RootCAs: s.Roots, MinVersion: tls.VersionTLS12}
}
