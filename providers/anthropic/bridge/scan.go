package bridge

import (
	"strings"

	"github.com/tidwall/gjson"
)

// A lazy reader of JSON that is already known to be valid: it finds
// members and elements by skipping values (strings with IndexByte), and
// makes a gjson.Result only of the values the translation reads. gjson's
// Get parses its path and each value it passes; Array and ForEach build
// every element; and every string result is unescaped, which for the
// long texts of a Messages request is a copy nobody reads (the
// translation copies their raw literal). On invalid input nothing here
// panics or reads out of bounds.

// wsAt returns the index of the first non-space byte at or after i.
func wsAt(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string literal at s[i] == '"'.
func skipString(s string, i int) int {
	j := i + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return len(s)
		}
		j += k
		n := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// skipValue returns the index after the value at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = skipString(s, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i
	for j < len(s) {
		switch s[j] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return j
		}
		j++
	}
	return j
}

// members calls fn with each member of the object raw: the key as written
// (between its quotes, escapes not decoded) and the value's raw text.
func members(raw string, fn func(key, val string) bool) {
	i := wsAt(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return
	}
	i++
	for {
		i = wsAt(raw, i)
		if i >= len(raw) || raw[i] == '}' {
			return
		}
		if raw[i] == ',' {
			i++
			continue
		}
		if raw[i] != '"' {
			return
		}
		ke := skipString(raw, i)
		if ke-1 <= i {
			return
		}
		key := raw[i+1 : ke-1]
		i = wsAt(raw, ke)
		if i >= len(raw) || raw[i] != ':' {
			return
		}
		i = wsAt(raw, i+1)
		ve := skipValue(raw, i)
		if ve <= i {
			return
		}
		if !fn(key, raw[i:ve]) {
			return
		}
		i = ve
	}
}

// elems returns the elements of the array r (none when r is not one).
func elems(r gjson.Result) []gjson.Result {
	raw := r.Raw
	i := wsAt(raw, 0)
	if r.Type != gjson.JSON || i >= len(raw) || raw[i] != '[' {
		return nil
	}
	var out []gjson.Result
	i++
	for {
		i = wsAt(raw, i)
		if i >= len(raw) || raw[i] == ']' {
			return out
		}
		if raw[i] == ',' {
			i++
			continue
		}
		e := skipValue(raw, i)
		if e <= i {
			return out
		}
		out = append(out, result(raw[i:e]))
		i = e
	}
}

// get returns the member key of the object r (a zero Result when absent).
func get(r gjson.Result, key string) gjson.Result {
	var out gjson.Result
	if r.Type != gjson.JSON {
		return out
	}
	members(r.Raw, func(k, v string) bool {
		if k == key {
			out = result(v)
			return false
		}
		return true
	})
	return out
}

// result makes a gjson.Result of a raw value. A long string with escapes
// is not decoded: its Str is the escaped text (right for emptiness tests;
// the translation copies Raw).
func result(raw string) gjson.Result {
	if raw == "" {
		return gjson.Result{}
	}
	switch raw[0] {
	case '"':
		if len(raw) < 2 {
			return gjson.Result{}
		}
		inner := raw[1 : len(raw)-1]
		if len(inner) > 256 || strings.IndexByte(inner, '\\') < 0 {
			return gjson.Result{Type: gjson.String, Raw: raw, Str: inner}
		}
	case '{', '[':
		return gjson.Result{Type: gjson.JSON, Raw: raw}
	case 't':
		return gjson.Result{Type: gjson.True, Raw: raw}
	case 'f':
		return gjson.Result{Type: gjson.False, Raw: raw}
	case 'n':
		return gjson.Result{Type: gjson.Null, Raw: raw}
	}
	return gjson.Parse(raw)
}
