package configs

import (
	"fmt"
	"sort"
)

// Problem is one error or warning found while loading the configuration,
// with the file position it refers to.
type Problem struct {
	Pos
	Message string
	Warning bool
	// Field names the value refused as the management API's requests name
	// it ("max_budget", "litellm_params.input_cost_per_token"), when one
	// value is at fault; the API answers it as the error's param.
	Field string
}

// String formats the problem as "path:line:col: message" (errors) or
// "path:line:col: warning: message" (warnings). A problem about a whole
// file (line 0) is "path: message".
func (p Problem) String() string {
	msg := p.Message
	if p.Warning {
		msg = "warning: " + msg
	}
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.File, msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, msg)
}

// String formats the position as "path:line:col".
func (p Pos) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// HasErrors reports whether ps holds at least one problem that is not a
// warning.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// sortProblems orders problems by file, line and column, errors before
// warnings at the same position, then by message.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		if a.Warning != b.Warning {
			return !a.Warning
		}
		return a.Message < b.Message
	})
}

// problems collects problems for one Build.
type problems []Problem

func (ps *problems) errorf(at Pos, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: at, Message: fmt.Sprintf(format, args...)})
}

// fieldErrorf is errorf for a problem with one value, named field in
// the management API's requests.
func (ps *problems) fieldErrorf(at Pos, field, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: at, Message: fmt.Sprintf(format, args...), Field: field})
}

func (ps *problems) warnf(at Pos, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: at, Message: fmt.Sprintf(format, args...), Warning: true})
}
