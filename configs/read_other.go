//go:build !unix

package configs

import "os"

func readFileScratch(name string, _ *[]byte, limit int64) ([]byte, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readLimited(f, limit)
}
