package configs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Size limits of configuration files. A file over its limit is refused
// without being read: its size comes from the file system (or from a
// read that stops one byte past the limit), so a 50 MB file costs no
// more memory than a file of the limit.
const (
	// DefaultMaxConfigFileBytes is the default of
	// general_settings.max_config_file_bytes, the limit of each teams.d
	// and models.d file.
	DefaultMaxConfigFileBytes = 1 << 20
	// maxConfigFileBytesCap bounds the setting itself.
	maxConfigFileBytesCap = 1 << 30
	// MaxSettingsFileBytes is the fixed limit of the --config file, which
	// holds the setting.
	MaxSettingsFileBytes = 16 << 20
)

// oversizeSum stands for the content of a file that was not read: it
// depends on the size only (such a file never goes live).
func oversizeSum(size int64) [sha256.Size]byte {
	return sha256.Sum256(fmt.Appendf(nil, "\x00oversize %d", size))
}

// maxConfigFileBytes resolves general_settings.max_config_file_bytes.
func (b *builder) maxConfigFileBytes(g *GeneralSettings) int64 {
	n := g.MaxConfigFileBytes
	if n < 0 || n > maxConfigFileBytesCap {
		b.problems.errorf(b.posOf(g, "max_config_file_bytes", Pos{}),
			"general_settings.max_config_file_bytes is %d; use a number of bytes between 1 and %d (default %d, 1 MiB)", n, maxConfigFileBytesCap, DefaultMaxConfigFileBytes)
		return DefaultMaxConfigFileBytes
	}
	if n == 0 {
		return DefaultMaxConfigFileBytes
	}
	return n
}

// oversizeProblem is the error of a file over its limit ("path:
// message"); limit is the one it was read with.
func oversizeProblem(kind fileKind, f File, limit int64) Problem {
	if kind == kindConfig {
		return Problem{Pos: Pos{File: f.Path}, Message: fmt.Sprintf(
			"the file is %d bytes, more than the %d bytes a --config file may have; it was not read. Move model_list entries to models.d files",
			f.Oversize, MaxSettingsFileBytes)}
	}
	return Problem{Pos: Pos{File: f.Path}, Message: fmt.Sprintf(
		"the file is %d bytes, more than the limit of %d bytes per teams.d or models.d file (general_settings.max_config_file_bytes); it was not read. Split it into smaller files or raise the setting",
		f.Oversize, limit)}
}

// oversizeFile is the decodedFile of a file over its limit.
func oversizeFile(kind fileKind, f File, cfg File) *decodedFile {
	df := &decodedFile{problems: []Problem{oversizeProblem(kind, f, FileLimit(cfg))}, decodeErr: true}
	if kind == kindConfig {
		df.gw, df.pos = &GatewayFile{}, map[posKey]Pos{}
	}
	return df
}

// limitMemo remembers the limit found in the latest --config content.
var limitMemo struct {
	sync.Mutex
	sum   [sha256.Size]byte
	limit int64
	set   bool
}

// FileLimit returns the limit of teams.d and models.d files that the
// --config file cfg sets (general_settings.max_config_file_bytes), the
// default when it sets none or cannot be parsed (the build reports why).
// The reader needs it before the configuration is built.
func FileLimit(cfg File) int64 {
	if cfg.Data == nil && cfg.Path == "" {
		cfg = File{Path: EmbeddedConfigPath, Data: DefaultConfig()}
	}
	sum := cfg.sum()
	limitMemo.Lock()
	defer limitMemo.Unlock()
	if limitMemo.set && limitMemo.sum == sum {
		return limitMemo.limit
	}
	limit := int64(DefaultMaxConfigFileBytes)
	if bytes.Contains(cfg.Data, []byte("max_config_file_bytes")) {
		var v struct {
			GeneralSettings struct {
				MaxConfigFileBytes int64 `yaml:"max_config_file_bytes"`
			} `yaml:"general_settings"`
		}
		if err := yaml.Unmarshal(cfg.Data, &v); err == nil {
			if n := v.GeneralSettings.MaxConfigFileBytes; n > 0 && n <= maxConfigFileBytesCap {
				limit = n
			}
		}
	}
	limitMemo.sum, limitMemo.limit, limitMemo.set = sum, limit, true
	return limit
}
