package configs

import (
	"errors"
	"fmt"
	"io"
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
	// readFile reads the file at name if it has at most limit bytes;
	// else it returns its size as oversize and no data, having read at
	// most limit+1 bytes.
	readFile(name string, limit int64) (data []byte, oversize int64, err error)
	join(elem ...string) string
}

// osTree reads the disk. Its buf is scratch space for readFile (see
// read_unix.go), so a walk over thousands of small files costs one
// allocation and four system calls per file.
type osTree struct{ buf []byte }

func (*osTree) readDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (*osTree) stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (t *osTree) readFile(name string, limit int64) ([]byte, int64, error) {
	return readFileScratch(name, &t.buf, limit)
}
func (*osTree) join(elem ...string) string { return filepath.Join(elem...) }

type fsTree struct{ fsys fs.FS }

func (t fsTree) readDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.fsys, name) }
func (t fsTree) stat(name string) (fs.FileInfo, error)      { return fs.Stat(t.fsys, name) }
func (t fsTree) readFile(name string, limit int64) ([]byte, int64, error) {
	f, err := t.fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readLimited(f, limit)
}
func (t fsTree) join(elem ...string) string { return path.Join(elem...) }

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
		data, over, err := t.readFile(configPath, MaxSettingsFileBytes)
		if err != nil {
			return Input{}, fmt.Errorf("read config file: %w", err)
		}
		in.Config = fileOf(configPath, data, over)
	}
	// The --config file sets the limit of the others.
	limit := FileLimit(in.Config)
	var err error
	if in.Teams, err = readTree(t, teamsDir, limit); err != nil {
		return Input{}, fmt.Errorf("read teams: %w", err)
	}
	if in.Models, err = readTree(t, modelsDir, limit); err != nil {
		return Input{}, fmt.Errorf("read models: %w", err)
	}
	return in, nil
}

// fileOf is the File read from path: its data, or its size when it was
// over the limit and not read.
func fileOf(path string, data []byte, oversize int64) File {
	if oversize > 0 {
		return File{Path: path, Oversize: oversize, Sum: oversizeSum(oversize)}
	}
	return File{Path: path, Data: data}.WithSum()
}

// readTree reads every YAML file under dir, sorted by path.
func readTree(t tree, dir string, limit int64) ([]File, error) {
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
	if err := walk(t, dir, []fs.FileInfo{info}, limit, &files); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// walk appends the YAML files under dir to files. ancestors are the
// directories on the way down, to stop symlink loops.
func walk(t tree, dir string, ancestors []fs.FileInfo, limit int64, files *[]File) error {
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
				data, over, err := t.readFile(p, limit)
				if err != nil {
					return err
				}
				*files = append(*files, fileOf(p, data, over))
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
			if err := walk(t, p, append(ancestors, info), limit, files); err != nil {
				return err
			}
		case info.Mode().IsRegular() && isYAML(name):
			data, over, err := t.readFile(p, limit)
			if err != nil {
				return err
			}
			*files = append(*files, fileOf(p, data, over))
		}
	}
	return nil
}

// ReadFile reads the one file at path as ReadDirs reads each file of a
// folder (following symlinks), with the default size limit. found is
// false when nothing is there; a directory or other non-regular file is an
// error.
func ReadFile(path string) (f File, found bool, err error) {
	return ReadFileLimit(path, DefaultMaxConfigFileBytes)
}

// ReadFileLimit is ReadFile with the limit of general_settings.
// max_config_file_bytes (<= 0: the default): a bigger file is returned
// with Oversize set and no data, unread.
func ReadFileLimit(path string, limit int64) (f File, found bool, err error) {
	if limit <= 0 {
		limit = DefaultMaxConfigFileBytes
	}
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
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, false, nil // removed since the stat
	}
	if err != nil {
		return File{}, false, err
	}
	defer fh.Close()
	data, over, err := readLimited(fh, limit)
	if err != nil {
		return File{}, false, err
	}
	return fileOf(path, data, over), true, nil
}

// readLimited reads r to its end if it holds at most limit bytes. A
// bigger one is not read past limit+1 bytes: its size comes from Stat
// when r has one.
func readLimited(r io.Reader, limit int64) ([]byte, int64, error) {
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
			return nil, fi.Size(), nil
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(data)) > limit {
		size := int64(len(data))
		if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if fi, err := st.Stat(); err == nil && fi.Size() > size {
				size = fi.Size()
			}
		}
		return nil, size, nil
	}
	return data, 0, nil
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

// MissingDirs warns about a teams or models directory that does not exist
// (the gateway then runs without teams, or without their models): a
// mistyped --teams-dir or --models-dir otherwise shows only as the
// problems it causes (an alias naming a model that is not loaded).
func MissingDirs(teamsDir, modelsDir string) []Problem {
	var out []Problem
	for _, d := range []struct{ dir, flag, what string }{
		{teamsDir, "--teams-dir", "no teams are configured: only the master key and the global models can be used"},
		{modelsDir, "--models-dir", "no team or global model is loaded from it"},
	} {
		if d.dir == "" {
			continue
		}
		if fi, err := os.Stat(d.dir); err != nil || !fi.IsDir() {
			why := "does not exist"
			if err == nil {
				why = "is not a directory"
			}
			out = append(out, Problem{Pos: Pos{File: d.dir}, Warning: true,
				Message: fmt.Sprintf("the directory %s %s; %s (create it, or pass %s with the right path)", d.dir, why, d.what, d.flag)})
		}
	}
	return out
}
