package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// posKey names a decoded value for position look-ups: the struct it belongs
// to (a pointer) and the yaml key of the field, "" for the struct itself, or
// "field.mapkey" for an entry of a map field.
type posKey struct {
	owner any
	name  string
}

// decoder strictly decodes one YAML file into the schema types by walking
// yaml.Node trees, so it can report every problem (not just the first) with
// its line and column, and record where each value came from.
type decoder struct {
	file     string
	what     string          // "team file", "models file", "config file"
	lenient  map[string]bool // struct paths whose unknown keys are warnings
	problems *problems
	pos      map[posKey]Pos
}

func (d *decoder) at(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems.errorf(d.at(n), format, args...)
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeFile parses data as a single YAML document and decodes it into out,
// a pointer to a struct. It returns false if the file is empty.
func (d *decoder) decodeFile(data []byte, out any) bool {
	pf := parseYAML(data)
	if pf.err != nil {
		if !errors.Is(pf.err, io.EOF) {
			d.syntaxError(pf.err)
		}
		return false
	}
	switch err := pf.extraErr; {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err)
		return false
	default:
		d.errorf(pf.extra, "the file holds more than one YAML document; keep one document per file (remove the extra ---)")
	}
	root := pf.doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return false
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return false
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "the %s must be a mapping (key: value lines) at the top level, got %s", d.what, describe(root))
		return false
	}
	d.decodeValue(root, reflect.ValueOf(out).Elem(), "")
	return true
}

// parsedFile is the YAML parse of one file: its first document (or the
// error that stopped it) and what follows it (io.EOF when nothing does).
type parsedFile struct {
	doc      *yaml.Node
	err      error
	extra    *yaml.Node
	extraErr error
}

// parseYAML parses the first two YAML documents of data: decodeFile
// decodes the first and reports a second one. The nodes are only read
// afterwards, so a ParseCache may share them between builds.
func parseYAML(data []byte) *parsedFile {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	pf := &parsedFile{doc: &yaml.Node{}}
	if pf.err = dec.Decode(pf.doc); pf.err != nil {
		return pf
	}
	pf.extra = &yaml.Node{}
	pf.extraErr = dec.Decode(pf.extra)
	return pf
}

func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.problems.errorf(Pos{File: d.file, Line: line, Col: 1}, "invalid YAML: %s; fix the syntax (check indentation and quoting)", msg)
}

// deref follows YAML aliases (*anchor) to the node they point at.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var timeType = reflect.TypeFor[time.Time]()

// decodeValue decodes n into v (settable), reporting type mismatches under
// the dotted path.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	n = deref(n)
	t := v.Type()
	if isNull(n) {
		v.Set(reflect.Zero(t))
		return
	}
	typeErr := func(want string) {
		where := path
		if where == "" {
			where = "the " + d.what
		}
		d.errorf(n, "%s: expected %s, got %s", where, want, describe(n))
	}
	if t == timeType {
		tm, ok := decodeTime(n)
		if !ok {
			typeErr("an RFC 3339 time such as 2026-11-23T10:00:00Z")
			return
		}
		v.Set(reflect.ValueOf(tm))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct && t.Elem() != timeType && n.Kind != yaml.MappingNode {
			typeErr("a mapping (key: value lines)")
			return // leave it nil rather than half-decoded
		}
		nv := reflect.New(t.Elem())
		before := len(*d.problems)
		d.decodeValue(n, nv.Elem(), path)
		if t.Elem().Kind() != reflect.Struct && len(*d.problems) > before {
			return // a refused number stays unset, not zero
		}
		v.Set(nv)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			typeErr("a mapping (key: value lines)")
			return
		}
		d.decodeStruct(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			typeErr("a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			typeErr("true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			typeErr("an integer")
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			typeErr("a number")
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			typeErr("a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		// Where each string or mapping item was, by its address (a
		// fallback list's entries and names are checked across files).
		record := t.Elem().Kind() == reflect.String || t.Elem().Kind() == reflect.Map
		for i, item := range n.Content {
			if record {
				d.pos[posKey{s.Index(i).Addr().Interface(), ""}] = d.at(deref(item))
			}
			d.decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode || t.Key().Kind() != reflect.String {
			typeErr("a mapping (key: value lines)")
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		// A map of lists (a fallback entry): where each key was.
		record := t.Elem().Kind() == reflect.Slice && v.CanAddr()
		for _, kv := range d.pairs(n) {
			if record {
				d.pos[posKey{v.Addr().Interface(), kv.key}] = d.at(kv.keyNode)
			}
			ev := reflect.New(t.Elem()).Elem()
			d.decodeValue(kv.value, ev, field(path, kv.key))
			m.SetMapIndex(reflect.ValueOf(kv.key).Convert(t.Key()), ev)
		}
		v.Set(m)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(n, "%s: %v", path, err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.errorf(n, "%s: cannot decode into %s (gateway bug)", path, t)
	}
}

func decodeTime(n *yaml.Node) (time.Time, bool) {
	if n.Kind != yaml.ScalarNode {
		return time.Time{}, false
	}
	switch n.ShortTag() {
	case "!!timestamp":
		var tm time.Time
		if err := n.Decode(&tm); err == nil {
			return tm, true
		}
	case "!!str":
		if tm, err := time.Parse(time.RFC3339Nano, n.Value); err == nil {
			return tm, true
		}
	}
	return time.Time{}, false
}

// pair is one key: value entry of a mapping.
type pair struct {
	key        string
	keyNode    *yaml.Node
	value      *yaml.Node
	fromMerged bool
}

// pairs returns the entries of a mapping node, expanding YAML merge keys
// (<<: *anchor), and reports duplicate and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "a mapping key must be a plain string, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, "key %q is defined twice (first at line %d); remove one", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{key: k.Value, keyNode: k, value: val})
	}
	for _, p := range merged {
		if _, ok := seen[p.key]; ok {
			continue
		}
		seen[p.key] = p.keyNode
		p.fromMerged = true
		out = append(out, p)
	}
	return out
}

func (d *decoder) mergePairs(val *yaml.Node) []pair {
	val = deref(val)
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range val.Content {
			out = append(out, d.mergePairs(item)...)
		}
		return out
	}
	d.errorf(val, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(val))
	return nil
}

// decodeStruct decodes a mapping node into the struct v.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	info := structInfoFor(v.Type())
	owner := v.Addr().Interface()
	d.pos[posKey{owner, ""}] = d.at(n)
	for _, kv := range d.pairs(n) {
		f, known := info.fields[kv.key]
		if !known {
			if info.inline != nil {
				d.decodeExtra(kv, v.FieldByIndex(info.inline), path)
				continue
			}
			d.unknownKey(kv, info, path, v.Type())
			continue
		}
		val := deref(kv.value)
		if !isNull(val) {
			d.pos[posKey{owner, kv.key}] = d.at(val)
		}
		fv := v.FieldByIndex(f.index)
		d.decodeValue(val, fv, field(path, kv.key))
		if fv.Kind() == reflect.Map && val.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(val.Content); i += 2 {
				k := deref(val.Content[i])
				d.pos[posKey{owner, kv.key + "." + k.Value}] = d.at(deref(val.Content[i+1]))
			}
		}
	}
}

// decodeExtra keeps an unknown key in the struct's inline map (model_info).
func (d *decoder) decodeExtra(kv pair, m reflect.Value, path string) {
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	ev := reflect.New(m.Type().Elem()).Elem()
	d.decodeValue(kv.value, ev, field(path, kv.key))
	m.SetMapIndex(reflect.ValueOf(kv.key), ev)
}

var litellmParamsType = reflect.TypeFor[LiteLLMParams]()

func (d *decoder) unknownKey(kv pair, info *structInfo, path string, t reflect.Type) {
	at := d.at(kv.keyNode)
	hint := ""
	if s := closest(kv.key, info.names); s != "" {
		hint = fmt.Sprintf("did you mean %q? ", s)
	}
	if d.lenient[path] {
		if liteLLMIgnored[path][kv.key] {
			d.problems.warnf(at, "%s.%s is a LiteLLM setting that the gateway ignores; it has no effect here", path, kv.key)
			return
		}
		if path == "" {
			d.problems.warnf(at, "unknown top-level section %q is ignored by the gateway; %sremove it if it is not a LiteLLM setting you keep on purpose", kv.key, hint)
		} else {
			d.problems.warnf(at, "unknown key %q in %s is ignored by the gateway; %sremove it if it is not a LiteLLM setting you keep on purpose", kv.key, path, hint)
		}
		return
	}
	where := path
	if where == "" {
		where = "the " + d.what
	}
	if t == litellmParamsType {
		d.problems.errorf(at, "unknown key %q in %s; %saccepted keys: %s", kv.key, where, hint, strings.Join(info.names, ", "))
		return
	}
	if hint != "" {
		d.problems.errorf(at, "unknown key %q in %s; did you mean %q?", kv.key, where, closest(kv.key, info.names))
		return
	}
	d.problems.errorf(at, "unknown key %q in %s; accepted keys: %s", kv.key, where, strings.Join(info.names, ", "))
}

// structInfo describes how a schema struct maps to YAML keys.
type structInfo struct {
	fields map[string]structField
	names  []string // in declaration order
	inline []int    // index of an inline map that takes unknown keys, or nil
}

type structField struct {
	index []int
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoFor(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]structField{}}
	addFields(si, t, nil)
	structInfos.Store(t, si)
	return si
}

func addFields(si *structInfo, t reflect.Type, prefix []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		if strings.Contains(opts, "inline") {
			switch f.Type.Kind() {
			case reflect.Struct:
				addFields(si, f.Type, index)
			case reflect.Map:
				si.inline = index
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		si.fields[name] = structField{index: index}
		si.names = append(si.names, name)
	}
}

// closest returns the candidate nearest to s by edit distance, or "" if
// none is plausibly a typo of s.
func closest(s string, candidates []string) string {
	best, bestDist := "", len(s)/3+1
	if bestDist > 3 {
		bestDist = 3
	}
	for _, c := range candidates {
		if dist := editDistance(s, c); dist <= bestDist && (best == "" || dist < editDistance(s, best)) {
			best = c
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
