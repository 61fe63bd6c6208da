package manage

import (
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

func fileData(in configs.Input, path string) ([]byte, bool) {
	for _, fs := range [][]configs.File{in.Teams, in.Models} {
		for _, f := range fs {
			if f.Path == path {
				return f.Data, true
			}
		}
	}
	return nil, false
}

// NewTeamFile is the change that creates team t's file.
func NewTeamFile(in configs.Input, teamsDir string, t *configs.Team) (confstore.Change, *Error) {
	path := filepath.Join(teamsDir, t.TeamID+".yaml")
	if _, exists := fileData(in, path); exists {
		return confstore.Change{}, BadRequest("team_id", "the file %s already exists; use a different team id", path)
	}
	data, err := configs.EncodeTeam(t)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: err.Error()}
	}
	return confstore.Change{Path: path, Data: data}, nil
}

// TeamFile is the change that makes cur's file hold t, edited in place.
func TeamFile(in configs.Input, cur, t *configs.Team) (confstore.Change, *Error) {
	data, ok := fileData(in, cur.Source.File)
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
func NewModelFile(in configs.Input, modelsDir string, d *configs.Deployment) (confstore.Change, *Error) {
	dir := d.ModelInfo.TeamID
	if dir == "" {
		dir = "global"
	}
	path := filepath.Join(modelsDir, dir, d.ModelInfo.ID+".yaml")
	if _, exists := fileData(in, path); exists {
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
func WrittenDeployment(in configs.Input, d *configs.Deployment) (*configs.Deployment, *Error) {
	data, ok := fileData(in, d.Source.File)
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
func ModelFile(in configs.Input, file, id string, d *configs.Deployment) (confstore.Change, *Error) {
	data, _ := fileData(in, file)
	out, err := configs.ReplaceDeployment(data, id, d)
	if err != nil {
		return confstore.Change{}, &Error{Status: 500, Message: fmt.Sprintf("editing %s: %v", file, err)}
	}
	return confstore.Change{Path: file, Data: out}, nil
}

// RemoveModels are the changes that remove the deployments ds: a file left
// with none of its deployments is removed, others are edited in place.
func RemoveModels(snap *configs.Snapshot, in configs.Input, ds []*configs.Deployment) ([]confstore.Change, *Error) {
	byFile := map[string][]string{}
	var files []string
	for _, d := range ds {
		if _, ok := fileData(in, d.Source.File); !ok {
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
		data, _ := fileData(in, f)
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
