package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// maxDepth bounds directory recursion, a loop guard for file systems that
// cannot tell whether two directories are the same.
const maxDepth = 32

// tree is the little a directory walk needs from a file system.
type tree interface {
	readDir(name string) ([]fs.DirEntry, error)
	stat(name string) (fs.FileInfo, error) // follows symlinks
	readFile(name string) ([]byte, error)
	join(elem ...string) string
}

// osTree reads the disk. Its buf is scratch space for readFile (see
// read_unix.go), so a walk over thousands of small files costs one
// allocation and four system calls per file.
type osTree struct{ buf []byte }

func (*osTree) readDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (*osTree) stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (t *osTree) readFile(name string) ([]byte, error)     { return readFileScratch(name, &t.buf) }
func (*osTree) join(elem ...string) string                 { return filepath.Join(elem...) }

type fsTree struct{ fsys fs.FS }

func (t fsTree) readDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.fsys, name) }
func (t fsTree) stat(name string) (fs.FileInfo, error)      { return fs.Stat(t.fsys, name) }
func (t fsTree) readFile(name string) ([]byte, error)       { return fs.ReadFile(t.fsys, name) }
func (t fsTree) join(elem ...string) string                 { return path.Join(elem...) }

// ReadDirs reads the configuration from disk: the --config file
// (configPath; "" means the embedded default) and every *.yaml / *.yml file
// found recursively under teamsDir and modelsDir. Path components starting
// with "." are skipped, symlinks to files and directories are followed, and
// a missing directory (or "") reads as empty. Paths are kept as given, so
// problems name "teams.d/demo.yaml" rather than an absolute path.
func ReadDirs(configPath, teamsDir, modelsDir string) (Input, error) {
	return read(&osTree{}, configPath, teamsDir, modelsDir)
}

// ReadFS is ReadDirs over an fs.FS (paths are slash-separated, relative to
// the root of fsys).
func ReadFS(fsys fs.FS, configPath, teamsDir, modelsDir string) (Input, error) {
	clean := func(p string) string {
		if p == "" {
			return ""
		}
		return path.Clean(p)
	}
	return read(fsTree{fsys}, clean(configPath), clean(teamsDir), clean(modelsDir))
}

func read(t tree, configPath, teamsDir, modelsDir string) (Input, error) {
	var in Input
	if configPath == "" {
		in.Config = File{Path: EmbeddedConfigPath, Data: DefaultConfig()}.WithSum()
	} else {
		data, err := t.readFile(configPath)
		if err != nil {
			return Input{}, fmt.Errorf("read config file: %w", err)
		}
		in.Config = File{Path: configPath, Data: data}.WithSum()
	}
	var err error
	if in.Teams, err = readTree(t, teamsDir); err != nil {
		return Input{}, fmt.Errorf("read teams: %w", err)
	}
	if in.Models, err = readTree(t, modelsDir); err != nil {
		return Input{}, fmt.Errorf("read models: %w", err)
	}
	return in, nil
}

// readTree reads every YAML file under dir, sorted by path.
func readTree(t tree, dir string) ([]File, error) {
	if dir == "" {
		return nil, nil
	}
	info, err := t.stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	var files []File
	if err := walk(t, dir, []fs.FileInfo{info}, &files); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// walk appends the YAML files under dir to files. ancestors are the
// directories on the way down, to stop symlink loops.
func walk(t tree, dir string, ancestors []fs.FileInfo, files *[]File) error {
	if len(ancestors) > maxDepth {
		return nil
	}
	entries, err := t.readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // editor temp files, .git, a ConfigMap's ..data
		}
		p := t.join(dir, name)
		if e.Type().IsRegular() { // a plain file (not a symlink): no stat needed
			if isYAML(name) {
				data, err := t.readFile(p)
				if err != nil {
					return err
				}
				*files = append(*files, File{Path: p, Data: data}.WithSum())
			}
			continue
		}
		info, err := t.stat(p) // follows symlinks
		if err != nil {
			if e.Type()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist) {
				continue // dangling symlink, e.g. mid ConfigMap swap
			}
			return err
		}
		switch {
		case info.IsDir():
			if slices.ContainsFunc(ancestors, func(a fs.FileInfo) bool { return os.SameFile(a, info) }) {
				continue // symlink loop
			}
			if err := walk(t, p, append(ancestors, info), files); err != nil {
				return err
			}
		case info.Mode().IsRegular() && isYAML(name):
			data, err := t.readFile(p)
			if err != nil {
				return err
			}
			*files = append(*files, File{Path: p, Data: data}.WithSum())
		}
	}
	return nil
}

// ReadFile reads the one file at path as ReadDirs reads each file of a
// folder (following symlinks). found is false when nothing is there; a
// directory or other non-regular file is an error.
func ReadFile(path string) (f File, found bool, err error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, false, nil
	}
	if err != nil {
		return File{}, false, err
	}
	if !info.Mode().IsRegular() {
		return File{}, false, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, false, nil // removed since the stat
	}
	if err != nil {
		return File{}, false, err
	}
	return File{Path: path, Data: data}.WithSum(), true, nil
}

// IsConfigFileName reports whether a file of this name inside teams.d or
// models.d is read: a .yaml or .yml name not starting with ".".
func IsConfigFileName(name string) bool {
	return isYAML(name) && !strings.HasPrefix(name, ".")
}

func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}
