//go:build !unix

package usage

import "time"

// processCPU is not measured here (0: no cpu-ns/op metric).
func processCPU() time.Duration { return 0 }
