//go:build !unix

package configs

import "os"

func readFileScratch(name string, _ *[]byte) ([]byte, error) { return os.ReadFile(name) }
