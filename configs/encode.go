package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// This file is the write side of the YAML files: encoding the files the
// management API creates, and editing existing (possibly hand-written)
// files in place with yaml.Node so that their comments, key order and
// unrelated content survive. Every output passes Build's strict
// validation when its input does.

// EncodeTeam encodes one team as a teams.d file. Keys appear in the order
// of DESIGN section 4 (the Team struct's order), map keys sorted, so the
// same team always encodes to the same bytes.
func EncodeTeam(t *Team) ([]byte, error) {
	n, err := valueNode(t)
	if err != nil {
		return nil, fmt.Errorf("encoding team %q: %w", t.TeamID, err)
	}
	return encodeNode(n)
}

// EncodeModels encodes deployments as a models.d file (the API writes one
// deployment per file).
func EncodeModels(ds ...*Deployment) ([]byte, error) {
	n, err := valueNode(&ModelsFile{ModelList: ds})
	if err != nil {
		return nil, fmt.Errorf("encoding models: %w", err)
	}
	return encodeNode(n)
}

// UpdateTeamFile returns data (a teams.d file) edited in place so that it
// holds t: changed fields are replaced, new ones inserted, removed ones
// deleted; keys are matched by token. Comments and the formatting of
// unchanged entries are kept. An empty data encodes t from scratch.
func UpdateTeamFile(data []byte, t *Team) ([]byte, error) {
	doc, root, err := parseDoc(data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return EncodeTeam(t)
	}
	want, err := valueNode(t)
	if err != nil {
		return nil, fmt.Errorf("encoding team %q: %w", t.TeamID, err)
	}
	mergeMapping(root, want)
	return encodeNode(doc)
}

// ReadDeployment returns the deployment with model_info.id (or generated
// id, see DeploymentID) id as written in a models file: secrets and
// os.environ/ references unresolved. It returns nil if the file holds no
// such deployment.
func ReadDeployment(data []byte, id string) (*Deployment, error) {
	_, list, err := modelList(data)
	if err != nil {
		return nil, err
	}
	for _, item := range list {
		d, err := decodeDeployment(item)
		if err != nil {
			return nil, err
		}
		if d.ModelInfo.ID == id {
			return d, nil
		}
	}
	return nil, nil
}

// ReplaceDeployment returns data (a models file) with the deployment of id
// replaced by d, edited in place (comments and other deployments kept).
func ReplaceDeployment(data []byte, id string, d *Deployment) ([]byte, error) {
	doc, list, err := modelList(data)
	if err != nil {
		return nil, err
	}
	want, err := valueNode(d)
	if err != nil {
		return nil, fmt.Errorf("encoding deployment %q: %w", id, err)
	}
	for _, item := range list {
		cur, err := decodeDeployment(item)
		if err != nil {
			return nil, err
		}
		if cur.ModelInfo.ID == id {
			mergeMapping(deref(item), want)
			return encodeNode(doc)
		}
	}
	return nil, fmt.Errorf("no deployment with id %q in the file", id)
}

// RemoveDeployments returns data (a models file) without the deployments
// whose ids are listed, and how many deployments remain in it.
func RemoveDeployments(data []byte, ids ...string) ([]byte, int, error) {
	doc, _, err := modelList(data)
	if err != nil {
		return nil, 0, err
	}
	seq := listNode(doc)
	drop := map[string]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	kept := seq.Content[:0:0]
	for _, item := range seq.Content {
		d, err := decodeDeployment(item)
		if err != nil {
			return nil, 0, err
		}
		if !drop[d.ModelInfo.ID] {
			kept = append(kept, item)
		}
	}
	seq.Content = kept
	if len(kept) == 0 {
		seq.Style = yaml.FlowStyle // model_list: []
	}
	out, err := encodeNode(doc)
	return out, len(kept), err
}

// valueNode encodes v into a yaml.Node.
func valueNode(v any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return &n, nil
}

func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseDoc parses one YAML document. root is its top-level mapping, nil
// for an empty document.
func parseDoc(data []byte) (doc, root *yaml.Node, err error) {
	doc = &yaml.Node{}
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return doc, nil, nil
		}
		return nil, nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return doc, nil, nil
	}
	root = deref(doc.Content[0])
	if isNull(root) {
		return doc, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("the file's top level is %s, not a mapping", describe(root))
	}
	return doc, root, nil
}

// modelList parses a models file and returns its model_list items.
func modelList(data []byte) (*yaml.Node, []*yaml.Node, error) {
	doc, root, err := parseDoc(data)
	if err != nil {
		return nil, nil, err
	}
	if root == nil {
		return nil, nil, errors.New("the models file is empty")
	}
	seq := listNode(doc)
	if seq == nil {
		return nil, nil, errors.New("the models file has no model_list list")
	}
	return doc, seq.Content, nil
}

func listNode(doc *yaml.Node) *yaml.Node {
	root := deref(doc.Content[0])
	i := mapIndex(root, "model_list")
	if i < 0 {
		return nil
	}
	seq := deref(root.Content[i+1])
	if seq.Kind != yaml.SequenceNode {
		return nil
	}
	return seq
}

// decodeDeployment decodes one model_list item as written and fills in its
// generated id when it has none.
func decodeDeployment(item *yaml.Node) (*Deployment, error) {
	d := &Deployment{}
	if err := deref(item).Decode(d); err != nil {
		return nil, fmt.Errorf("decoding a model_list entry at line %d: %w", item.Line, err)
	}
	if d.ModelInfo.ID == "" {
		d.ModelInfo.ID = DeploymentID(d)
	}
	return d, nil
}

func mapIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return i
		}
	}
	return -1
}

// mergeMapping edits the mapping old in place to hold the content of want:
// unchanged values keep their node (comments, style), changed ones are
// replaced (nested mappings merged), missing ones inserted after their
// predecessor in want's order, and keys absent from want removed.
func mergeMapping(old, want *yaml.Node) {
	present := map[string]bool{}
	last := -2 // index in old of the previous key of want
	for i := 0; i+1 < len(want.Content); i += 2 {
		key, val := want.Content[i].Value, want.Content[i+1]
		present[key] = true
		j := mapIndex(old, key)
		if j < 0 {
			at := last + 2
			if last < 0 {
				at = 0
			}
			old.Content = append(old.Content[:at], append([]*yaml.Node{want.Content[i], val}, old.Content[at:]...)...)
			last = at
			continue
		}
		last = j
		cur := deref(old.Content[j+1])
		if sameValue(cur, val) {
			continue
		}
		switch {
		case cur.Kind == yaml.MappingNode && val.Kind == yaml.MappingNode && cur == old.Content[j+1]:
			mergeMapping(cur, val)
		case key == "keys" && cur.Kind == yaml.SequenceNode && val.Kind == yaml.SequenceNode && cur == old.Content[j+1]:
			mergeSequenceBy(cur, val, "token")
		default:
			val.LineComment = old.Content[j+1].LineComment
			if old.Content[j+1].Style&yaml.FlowStyle != 0 && (val.Kind == yaml.MappingNode || val.Kind == yaml.SequenceNode) {
				val.Style |= yaml.FlowStyle
			}
			old.Content[j+1] = val
		}
	}
	kept := old.Content[:0]
	for i := 0; i+1 < len(old.Content); i += 2 {
		k := deref(old.Content[i])
		if k.ShortTag() == "!!merge" || present[k.Value] {
			kept = append(kept, old.Content[i], old.Content[i+1])
		}
	}
	old.Content = kept
}

// mergeSequenceBy edits the sequence of mappings old in place to hold
// want's items, matching items by the scalar value of field.
func mergeSequenceBy(old, want *yaml.Node, field string) {
	byID := map[string]*yaml.Node{}
	for _, item := range old.Content {
		it := deref(item)
		if it.Kind != yaml.MappingNode {
			continue
		}
		if i := mapIndex(it, field); i >= 0 {
			byID[deref(it.Content[i+1]).Value] = item
		}
	}
	out := make([]*yaml.Node, 0, len(want.Content))
	for _, w := range want.Content {
		id := ""
		if i := mapIndex(w, field); i >= 0 {
			id = w.Content[i+1].Value
		}
		if o, ok := byID[id]; ok && id != "" && deref(o) == o {
			if !sameValue(o, w) {
				mergeMapping(o, w)
			}
			out = append(out, o)
			delete(byID, id)
			continue
		}
		out = append(out, w)
	}
	old.Content = out
}

// sameValue reports whether two nodes hold the same data.
func sameValue(a, b *yaml.Node) bool {
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
