package configs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Salt key rotation: every enc: value of the configuration is decrypted
// with the salt keys it loads with (current, and previous while a rotation
// is under way) and encrypted again with a new salt key, editing the files
// in place (comments and unrelated content kept). A deployment's api_key
// becomes enc:v2:, bound to its team and model_info.id (so rotation also
// migrates legacy enc:v1: upstream keys); a deployment without a written
// model_info.id gets its generated id written, so it keeps its id. Other
// enc:v1: values (general_settings.master_key, ...) stay enc:v1:. Values
// already under the new key are left as they are, so a rotation that
// stopped half-way can simply be run again.

// RotatedValue is one value a rotation re-encrypted.
type RotatedValue struct {
	Pos  Pos
	What string // e.g. "api_key of model m1 (team t1)"
}

// Rotation is the result of Rotate: the files to write (only those that
// changed, with their new content) and the values re-encrypted.
type Rotation struct {
	Files  []File
	Values []RotatedValue
	// Unchanged counts the values already encrypted with the new key.
	Unchanged int
}

// Rotate re-encrypts every enc: value of in for the salt key to. The
// configuration must load with env (its salt keys are the ones values are
// decrypted with); the result is checked to load with the new key alone
// (as the current salt key, with no previous one) and to resolve every
// secret to the same plaintext. Any problem leaves the rotation empty.
// Rotate never writes: the caller writes Files.
func Rotate(in Input, env func(string) (string, bool), to string) (*Rotation, []Problem) {
	if env == nil {
		env = os.LookupEnv
	}
	if to == "" {
		return nil, []Problem{{Message: "the new salt key is empty"}}
	}
	old, ps := Build(in, env)
	if old == nil {
		return nil, errorsOnly(ps)
	}
	keys := old.Settings.SaltKeys()
	if keys.Current == "" {
		return nil, []Problem{{Pos: Pos{File: in.config().Path}, Message: "no salt key is set (general_settings.salt_key, e.g. os.environ/GATEWAY_SALT_KEY); rotation decrypts with the current salt key"}}
	}
	cfg := decodeOne(kindConfig, in.config()).gw
	saltEnv, ok := strings.CutPrefix(cfg.GeneralSettings.SaltKey, EnvPrefix)
	if !ok {
		return nil, []Problem{{Pos: Pos{File: in.config().Path}, Message: "general_settings.salt_key is not os.environ/NAME; write it so (e.g. os.environ/GATEWAY_SALT_KEY) before rotating, so the new key never lands in a file"}}
	}
	prevEnv := DefaultSaltKeyPreviousEnv
	if name, ok := strings.CutPrefix(cfg.GeneralSettings.SaltKeyPrevious, EnvPrefix); ok {
		prevEnv = name
	}

	r := &Rotation{}
	var probs problems
	next := Input{Config: in.Config}
	rotate := func(kind fileKind, f File) File {
		if f.Path == EmbeddedConfigPath {
			return f
		}
		out, changed := rotateFile(kind, f, keys, to, r, &probs)
		if changed {
			nf := File{Path: f.Path, Data: out}.WithSum()
			r.Files = append(r.Files, nf)
			return nf
		}
		return f
	}
	next.Config = rotate(kindConfig, in.config())
	for _, f := range sortedFiles(in.Teams) {
		next.Teams = append(next.Teams, rotate(kindTeam, f))
	}
	for _, f := range sortedFiles(in.Models) {
		next.Models = append(next.Models, rotate(kindModels, f))
	}
	if len(probs) > 0 {
		ps := []Problem(probs)
		sortProblems(ps)
		return nil, ps
	}

	// The rotated files load with the new key alone, to the same secrets.
	newEnv := func(name string) (string, bool) {
		switch name {
		case saltEnv:
			return to, true
		case prevEnv:
			return "", false
		}
		return env(name)
	}
	snap, ps := Build(next, newEnv)
	if snap == nil {
		return nil, append([]Problem{{Message: "the rotated configuration does not load with the new salt key alone; nothing was written"}}, errorsOnly(ps)...)
	}
	if msg := sameSecrets(old, snap); msg != "" {
		return nil, []Problem{{Message: "the rotated configuration resolves differently (" + msg + "); nothing was written"}}
	}
	return r, nil
}

func errorsOnly(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// sameSecrets compares the resolved secrets and ids of two snapshots.
func sameSecrets(a, b *Snapshot) string {
	if a.Settings.MasterKey != b.Settings.MasterKey {
		return "general_settings.master_key"
	}
	type secrets struct {
		key   string
		creds Credentials
	}
	keys := func(s *Snapshot) map[string]secrets {
		m := map[string]secrets{}
		for _, d := range s.Global {
			m[d.ModelInfo.ID] = secrets{d.APIKey, d.Credentials}
		}
		for _, ds := range s.TeamDeployments {
			for _, d := range ds {
				m[d.ModelInfo.TeamID+"/"+d.ModelInfo.ID] = secrets{d.APIKey, d.Credentials}
			}
		}
		return m
	}
	ka, kb := keys(a), keys(b)
	if len(ka) != len(kb) {
		return "the number of deployments changed"
	}
	for id, k := range ka {
		nk, ok := kb[id]
		if !ok {
			return "deployment " + id + " changed its id"
		}
		if nk.key != k.key {
			return "the api_key of deployment " + id
		}
		if nk.creds != k.creds {
			return "a credential of deployment " + id
		}
	}
	return ""
}

// rotateFile re-encrypts the enc: values of one file; changed reports
// whether its content changed.
func rotateFile(kind fileKind, f File, keys SaltKeys, to string, r *Rotation, ps *problems) (out []byte, changed bool) {
	doc, root, err := parseDoc(f.Data)
	if err != nil || root == nil {
		return nil, false // the loader accepted it: nothing to rotate
	}
	at := func(n *yaml.Node) Pos { return Pos{File: f.Path, Line: n.Line, Col: n.Column} }
	done := map[*yaml.Node]bool{}
	if kind != kindTeam {
		if i := mapIndex(root, "model_list"); i >= 0 {
			if seq := deref(root.Content[i+1]); seq.Kind == yaml.SequenceNode {
				for _, item := range seq.Content {
					if rotateDeployment(item, keys, to, at, done, r, ps) {
						changed = true
					}
				}
			}
		}
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n == nil || done[n] {
			return
		}
		done[n] = true
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinPath(path, n.Content[i].Value))
			}
		case yaml.ScalarNode:
			if !strings.HasPrefix(n.Value, EncAnyPrefix) {
				return
			}
			if !strings.HasPrefix(n.Value, EncPrefix) {
				ps.errorf(at(n), "%s is an enc: value that is not enc:v1:; only a deployment's api_key and other secret litellm_params may be enc:v2: (bound to it), so this one cannot be rotated; replace it", path)
				return
			}
			if _, err := Decrypt(to, n.Value); err == nil {
				r.Unchanged++
				return
			}
			plain, _, err := keys.Open(Binding{}, n.Value)
			if err != nil {
				ps.errorf(at(n), "%s cannot be decrypted with the current or previous salt key: %s; fix or remove it before rotating", path, strings.TrimPrefix(err.Error(), "decrypt: "))
				return
			}
			v, err := Encrypt(to, plain)
			if err != nil {
				ps.errorf(at(n), "%s: %v", path, err)
				return
			}
			r.Values = append(r.Values, RotatedValue{Pos: at(n), What: path})
			n.Value = v
			changed = true
		}
	}
	walk(doc, "")
	if !changed {
		return nil, false
	}
	out, err = encodeNode(doc)
	if err != nil {
		ps.errorf(Pos{File: f.Path}, "encoding the rotated file: %v", err)
		return nil, false
	}
	return out, true
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// rotateDeployment re-encrypts the api_key and the other secret params
// (SecretParams) of one model_list item, bound to the deployment, writing
// its generated model_info.id if it has none. It marks their nodes done.
func rotateDeployment(item *yaml.Node, keys SaltKeys, to string, at func(*yaml.Node) Pos, done map[*yaml.Node]bool, r *Rotation, ps *problems) bool {
	changed := false
	for _, name := range SecretParams {
		if rotateSecret(item, name, keys, to, at, done, r, ps) {
			changed = true
		}
	}
	return changed
}

// rotateSecret is rotateDeployment for the secret param name.
func rotateSecret(item *yaml.Node, name string, keys SaltKeys, to string, at func(*yaml.Node) Pos, done map[*yaml.Node]bool, r *Rotation, ps *problems) bool {
	m := deref(item)
	if m.Kind != yaml.MappingNode {
		return false
	}
	lp := child(m, "litellm_params")
	if lp == nil {
		return false
	}
	ki := mapIndex(lp, name)
	if ki < 0 {
		return false
	}
	keyNode := lp.Content[ki+1]
	if keyNode.Kind == yaml.AliasNode {
		if strings.HasPrefix(deref(keyNode).Value, EncAnyPrefix) {
			ps.errorf(at(keyNode), "%s is a YAML alias of an enc: value; write the value itself (each deployment's key is bound to it) before rotating", name)
		}
		return false
	}
	done[keyNode] = true
	value := keyNode.Value
	if keyNode.Kind != yaml.ScalarNode || !strings.HasPrefix(value, EncAnyPrefix) {
		return false
	}
	if !strings.HasPrefix(value, EncPrefix) && !strings.HasPrefix(value, EncBoundPrefix) {
		ps.errorf(at(keyNode), "%s is neither enc:v1: nor enc:v2:", name)
		return false
	}
	info := child(m, "model_info")
	team, id := scalarOf(info, "team_id"), scalarOf(info, "id")
	if strings.HasPrefix(value, EncPrefix) && scalarOf(info, KeySetByField) == KeySetByTeam {
		// A legacy value counts as the operator's (OperatorCredentials);
		// binding it would hand it to the team. It stays enc:v1:, under
		// the new key: leave it to the generic walk.
		done[keyNode] = false
		return false
	}
	pin := false
	if id == "" {
		if strings.HasPrefix(value, EncBoundPrefix) {
			ps.errorf(at(keyNode), "%s is enc:v2: but the deployment has no model_info.id; add the id it was encrypted for before rotating", name)
			return false
		}
		d, err := decodeDeployment(item)
		if err != nil {
			ps.errorf(at(item), "%v", err)
			return false
		}
		id, pin = d.ModelInfo.ID, true
	}
	bind := Binding{TeamID: team, ModelID: id}
	if strings.HasPrefix(value, EncBoundPrefix) {
		if _, err := DecryptBound(to, bind, value); err == nil {
			r.Unchanged++
			return false
		}
	}
	plain, _, err := keys.Open(bind, value)
	if err != nil {
		// A legacy value already under the new key still gets bound.
		if p, err2 := DecryptBound(to, bind, value); err2 == nil && strings.HasPrefix(value, EncPrefix) {
			plain, err = p, nil
		}
	}
	if err != nil {
		ps.errorf(at(keyNode), "%s (%s) cannot be decrypted with the current or previous salt key: %s", name, bind, strings.TrimPrefix(err.Error(), "decrypt: "))
		return false
	}
	v, err := EncryptBound(to, bind, plain)
	if err != nil {
		ps.errorf(at(keyNode), "%v", err)
		return false
	}
	what := name + " of model " + id
	if team != "" {
		what += " (team " + team + ")"
	}
	if pin {
		if err := setModelID(m, id); err != nil {
			ps.errorf(at(item), "%v", err)
			return false
		}
		what += "; its generated model_info.id is now written"
	}
	r.Values = append(r.Values, RotatedValue{Pos: at(keyNode), What: what})
	keyNode.Value = v
	return true
}

// child returns the mapping under key of mapping m, nil if absent or not a
// mapping.
func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	i := mapIndex(m, key)
	if i < 0 {
		return nil
	}
	c := deref(m.Content[i+1])
	if c.Kind != yaml.MappingNode {
		return nil
	}
	return c
}

func scalarOf(m *yaml.Node, key string) string {
	if m == nil {
		return ""
	}
	i := mapIndex(m, key)
	if i < 0 {
		return ""
	}
	if v := deref(m.Content[i+1]); v.Kind == yaml.ScalarNode && !isNull(v) {
		return v.Value
	}
	return ""
}

// setModelID writes model_info.id: id into the model_list item m.
func setModelID(m *yaml.Node, id string) error {
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "id"}
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: id}
	i := mapIndex(m, "model_info")
	if i < 0 {
		info := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val}}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "model_info"}, info)
		return nil
	}
	info := m.Content[i+1]
	if info.Kind == yaml.AliasNode {
		return errors.New("model_info is a YAML alias; write the deployment's model_info.id by hand before rotating")
	}
	if isNull(info) {
		m.Content[i+1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val}}
		return nil
	}
	if info.Kind != yaml.MappingNode {
		return fmt.Errorf("model_info is %s, not a mapping", describe(info))
	}
	info.Content = append([]*yaml.Node{key, val}, info.Content...)
	return nil
}
