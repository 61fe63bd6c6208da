package bridge

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// tape is an index of every value of a validated JSON document, built in
// one pass, so that the request translation finds members and elements
// without scanning any value twice (a Messages request nests its long
// texts five levels deep: skipping them at each level was most of the
// translation's time). Nodes are in document order; a container's
// children follow it (an object's as key, value, key, value, ...), and
// each node knows the index after its subtree.
type tape struct {
	s string
	n []tnode
}

type tnode struct {
	start, end int32 // the value's raw text is s[start:end]
	after      int32 // the index of the node after this subtree
}

// build indexes s, which must be valid JSON (gjson.ValidBytes); on other
// input it stops early and never reads out of bounds.
func (t *tape) build(s string) {
	t.s = s
	t.n = t.n[:0]
	var stack []int32
	var buf [32]int32
	stack = buf[:0]
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ', '\n', '\r', '\t', ',', ':':
			i++
		case '{', '[':
			stack = append(stack, int32(len(t.n)))
			t.n = append(t.n, tnode{start: int32(i)})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return
			}
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			t.n[k].end = int32(i + 1)
			t.n[k].after = int32(len(t.n))
			i++
			if len(stack) == 0 {
				return
			}
		case '"':
			e := skipString(s, i)
			t.n = append(t.n, tnode{start: int32(i), end: int32(e), after: int32(len(t.n) + 1)})
			i = e
		default:
			e := skipValue(s, i)
			if e <= i {
				return
			}
			t.n = append(t.n, tnode{start: int32(i), end: int32(e), after: int32(len(t.n) + 1)})
			i = e
			if len(stack) == 0 {
				return
			}
		}
	}
}

// node returns the Result of node k; its Index field holds k (plus one,
// so that the zero Result is no node) for get and elems.
func (t *tape) node(k int32) gjson.Result {
	nd := t.n[k]
	r := result(t.s[nd.start:nd.end])
	r.Index = int(k) + 1
	return r
}

// container returns r's node when r is a container node of t.
func (t *tape) container(r gjson.Result) (int32, bool) {
	k := int32(r.Index - 1)
	if t == nil || r.Index <= 0 || int(k) >= len(t.n) || r.Type != gjson.JSON {
		return 0, false
	}
	nd := t.n[k]
	if nd.after <= k || int(nd.after) > len(t.n) || nd.end <= nd.start || int(nd.end-nd.start) != len(r.Raw) ||
		unsafe.StringData(t.s[nd.start:]) != unsafe.StringData(r.Raw) {
		return 0, false
	}
	return k, true
}

// get returns the first member key of the object r.
func (t *tape) get(r gjson.Result, key string) gjson.Result {
	k, ok := t.container(r)
	if !ok {
		return get(r, key)
	}
	end := t.n[k].after
	for c := k + 1; c < end; {
		kn := t.n[c]
		v := kn.after
		if v >= end {
			break
		}
		if kn.end-kn.start >= 2 && t.s[kn.start+1:kn.end-1] == key {
			return t.node(v)
		}
		c = t.n[v].after
	}
	return gjson.Result{}
}

// members calls fn with each member of the object r.
func (t *tape) members(r gjson.Result, fn func(key string, v gjson.Result) bool) {
	k, ok := t.container(r)
	if !ok {
		members(r.Raw, func(key, raw string) bool { return fn(key, result(raw)) })
		return
	}
	end := t.n[k].after
	for c := k + 1; c < end; {
		kn := t.n[c]
		v := kn.after
		if v >= end {
			break
		}
		if kn.end-kn.start < 2 {
			break
		}
		if !fn(t.s[kn.start+1:kn.end-1], t.node(v)) {
			return
		}
		c = t.n[v].after
	}
}

// elems returns the elements of the array r.
func (t *tape) elems(r gjson.Result) []gjson.Result {
	k, ok := t.container(r)
	if !ok {
		return elems(r)
	}
	end := t.n[k].after
	var out []gjson.Result
	for c := k + 1; c < end; c = t.n[c].after {
		out = append(out, t.node(c))
		if t.n[c].after <= c {
			break
		}
	}
	return out
}
