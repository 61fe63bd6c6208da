package manage

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
)

// The files the API writes: teams.d/<team_id>.yaml for a new team,
// models.d/<team_id>/<model_id>.yaml (or models.d/global/<model_id>.yaml)
// for a new model; an existing (possibly hand-written) file is edited in
// place and no unrelated file is touched.

// Files are the files of the live configuration (confstore.Files).
type Files interface {
	Has(path string) bool
	Read(path string) ([]byte, error)
}

// fileData reads the live file at path: ok false when the live
// configuration has no such teams or models file, an *Error when it
// cannot be read or changed on disk since it was loaded.
func fileData(in Files, path string) (data []byte, ok bool, e *Error) {
	if !in.Has(path) {
		return nil, false, nil
	}
	data, err := in.Read(path)
	if err != nil {
		return nil, true, StoreError(err)
	}
	return data, true, nil
}

// StoreError is the answer to a failed read or write of the store's files:
// 409 for a file changed on disk and not live yet (retry once it is), 500
// otherwise.
func StoreError(err error) *Error {
	if changed, ok := errors.AsType[*confstore.ChangedError](err); ok {
		return &Error{Status: 409, Message: changed.Error()}
	}
	return &Error{Status: 500, Message: err.Error()}
}

// NewTeamFile is the change that creates team t's file.
func NewTeamFile(in Files, teamsDir string, t *configs.Team) (confstore.Change, *Error) {
	path := filepath.Join(teamsDir, t.TeamID+".yaml")
	if in.Has(path) {
		return confstore.Change{}, BadRequest("team_id", "the file %s already exists; use a different team id", path)
	}
	data, err := configs.EncodeTeam(t)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: err.Error()}
	}
	return confstore.Change{Path: path, Data: data}, nil
}

// TeamFile is the change that makes cur's file hold t, edited in place.
func TeamFile(in Files, cur, t *configs.Team) (confstore.Change, *Error) {
	data, ok, e := fileData(in, cur.Source.File)
	if e != nil {
		return confstore.Change{}, e
	}
	if !ok {
		return confstore.Change{}, &Error{Status: 500, Message: fmt.Sprintf("team %q is defined in %s, which the API cannot edit", cur.TeamID, cur.Source.File)}
	}
	out, err := configs.UpdateTeamFile(data, t)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: fmt.Sprintf("editing %s: %v", cur.Source.File, err)}
	}
	return confstore.Change{Path: cur.Source.File, Data: out}, nil
}

// NewModelFile is the change that creates d's own file.
func NewModelFile(in Files, modelsDir string, d *configs.Deployment) (confstore.Change, *Error) {
	dir := d.ModelInfo.TeamID
	if dir == "" {
		dir = "global"
	}
	path := filepath.Join(modelsDir, dir, d.ModelInfo.ID+".yaml")
	if in.Has(path) {
		return confstore.Change{}, BadRequest("model_info.id", "the file %s already exists; use a different model id", path)
	}
	data, err := configs.EncodeModels(d)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: err.Error()}
	}
	return confstore.Change{Path: path, Data: data}, nil
}

// WrittenDeployment returns the deployment live as d, as written in its
// file (secrets unresolved), for an update.
func WrittenDeployment(in Files, d *configs.Deployment) (*configs.Deployment, *Error) {
	data, ok, e := fileData(in, d.Source.File)
	if e != nil {
		return nil, e
	}
	if !ok {
		return nil, BadRequest("model_info.id", "model %q is defined in the --config file %s; edit it there by hand", d.ModelInfo.ID, d.Source.File)
	}
	w, err := configs.ReadDeployment(data, d.ModelInfo.ID)
	if err != nil || w == nil {
		return nil, &Error{Status: 500, Message: fmt.Sprintf("reading model %q from %s: %v", d.ModelInfo.ID, d.Source.File, err)}
	}
	w.ModelInfo.ID = d.ModelInfo.ID // an id generated from the content must not change with it
	return w, nil
}

// ModelFile is the change that replaces deployment id in file with d.
func ModelFile(in Files, file, id string, d *configs.Deployment) (confstore.Change, *Error) {
	data, _, e := fileData(in, file)
	if e != nil {
		return confstore.Change{}, e
	}
	out, err := configs.ReplaceDeployment(data, id, d)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: fmt.Sprintf("editing %s: %v", file, err)}
	}
	return confstore.Change{Path: file, Data: out}, nil
}

// RemoveModels are the changes that remove the deployments ds: a file left
// with none of its deployments is removed, others are edited in place.
func RemoveModels(snap *configs.Snapshot, in Files, ds []*configs.Deployment) ([]confstore.Change, *Error) {
	byFile := map[string][]string{}
	var files []string
	for _, d := range ds {
		if !in.Has(d.Source.File) {
			return nil, BadRequest("", "model %q is defined in the --config file %s; remove it there by hand", d.ModelInfo.ID, d.Source.File)
		}
		if byFile[d.Source.File] == nil {
			files = append(files, d.Source.File)
		}
		byFile[d.Source.File] = append(byFile[d.Source.File], d.ModelInfo.ID)
	}
	slices.Sort(files)
	var out []confstore.Change
	for _, f := range files {
		if inFile(snap, f) == len(byFile[f]) {
			out = append(out, confstore.Change{Path: f})
			continue
		}
		data, _, e := fileData(in, f)
		if e != nil {
			return nil, e
		}
		edited, _, err := configs.RemoveDeployments(data, byFile[f]...)
		if err != nil {
			return nil, &Error{Status: 500, Message: fmt.Sprintf("editing %s: %v", f, err)}
		}
		out = append(out, confstore.Change{Path: f, Data: edited})
	}
	return out, nil
}

func inFile(snap *configs.Snapshot, file string) int {
	n := 0
	count := func(ds []*configs.Deployment) {
		for _, d := range ds {
			if d.Source.File == file {
				n++
			}
		}
	}
	count(snap.Global)
	for _, ds := range snap.TeamDeployments {
		count(ds)
	}
	return n
}

// FindModel finds a live deployment by id.
func FindModel(snap *configs.Snapshot, id string) *configs.Deployment {
	for _, d := range snap.Global {
		if d.ModelInfo.ID == id {
			return d
		}
	}
	for _, ds := range snap.TeamDeployments {
		for _, d := range ds {
			if d.ModelInfo.ID == id {
				return d
			}
		}
	}
	return nil
}
