package configs

import (
	"fmt"
	"os"
)

// syncDir fsyncs a directory, so that a rename or removal in it is
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// SyncDir is syncDir for the configuration's other writers (confstore
// removing a folder a write left empty).
func SyncDir(dir string) error { return syncDir(dir) }
