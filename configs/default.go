package configs

import (
	_ "embed"
	"slices"
)

// EmbeddedConfigPath is the path reported for the embedded default
// settings file when no --config file is given.
const EmbeddedConfigPath = "<embedded>/gateway.yaml"

//go:embed gateway.yaml
var defaultConfig []byte

// DefaultConfig returns a copy of the embedded default settings file.
func DefaultConfig() []byte {
	return slices.Clone(defaultConfig)
}

// Defaults applied when a setting is absent (or zero).
const (
	DefaultTimeout        = 600 // seconds
	DefaultMaxRequestMB   = 8
	DefaultRescanInterval = "30s"
	DefaultMaxTeamModels  = 100
	DefaultAuthorName     = "gateway"
	DefaultAuthorEmail    = "gateway@localhost"
	DefaultRemote         = "origin"
)
