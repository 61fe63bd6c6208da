package usage

import (
	"bytes"
	"encoding/json"
	"errors"
)

// ErrBadQuery is wrapped by the error a Store returns for a query it
// cannot answer because of its input (a forged or stale cursor, an
// unknown status or group_by): the handler answers 400 with the error's
// text, which never echoes the raw input.
var ErrBadQuery = errors.New("usage: bad query")

// ModelOf is the model a record is reported under (the "model"
// dimension, Activity's "models" breakdown and LogQuery.Model): the
// model group that served it, else the model asked for.
func ModelOf(r *Record) string {
	if r.ModelGroup != "" {
		return r.ModelGroup
	}
	return r.Model
}

// UserOf is the user a record is reported under (the "user" dimension,
// ActivityQuery.UserID and LogQuery.UserID): the key's user_id (LiteLLM's
// user, authenticated), else the body's user.
func UserOf(r *Record) string {
	if r.KeyUserID != "" {
		return r.KeyUserID
	}
	return r.User
}

// truncatedMetadata replaces metadata over MaxMetadata or not a JSON object.
var truncatedMetadata = json.RawMessage(`{"truncated":true}`)

// Bound applies the Record limits every Store enforces before writing:
// tags deduplicated (first occurrence kept, empty ones dropped) and at
// most MaxTags; metadata that is over MaxMetadata bytes or not a JSON
// object becomes {"truncated":true}; empty metadata stays empty. It
// changes r in place (Tags is reallocated only when it changes).
func Bound(r *Record) {
	if len(r.Tags) > 0 {
		clean := true
		for i, t := range r.Tags {
			if t == "" || i >= MaxTags {
				clean = false
				break
			}
			for _, u := range r.Tags[:i] {
				if u == t {
					clean = false
					break
				}
			}
			if !clean {
				break
			}
		}
		if !clean {
			out := make([]string, 0, min(len(r.Tags), MaxTags))
			for _, t := range r.Tags {
				if t == "" || len(out) == MaxTags {
					continue
				}
				dup := false
				for _, u := range out {
					if u == t {
						dup = true
						break
					}
				}
				if !dup {
					out = append(out, t)
				}
			}
			r.Tags = out
		}
	}
	if len(r.Metadata) > 0 {
		m := bytes.TrimSpace(r.Metadata)
		switch {
		case len(m) == 0 || bytes.Equal(m, []byte("null")):
			r.Metadata = nil
		case len(m) > MaxMetadata || m[0] != '{' || !json.Valid(m):
			r.Metadata = truncatedMetadata
		}
	}
}
