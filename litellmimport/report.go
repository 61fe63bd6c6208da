package litellmimport

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// Report is what an import did and what it could not carry over. It never
// holds a secret: keys appear by alias and the first characters of their
// hash, values not at all.
type Report struct {
	DryRun bool
	// SaltKeyFrom names the variable LiteLLM's values were decrypted with
	// (LITELLM_SALT_KEY or LITELLM_MASTER_KEY), "" when neither is set.
	SaltKeyFrom         string
	Teams, Keys, Models Tally
	// Files are the files written (for a dry run: that would be).
	Files []string
	// Items are per-object lines: skipped objects and fields not carried
	// over.
	Items []string
	// Tables are LiteLLM's tables not carried over that hold rows.
	Tables []string
	// Notes are general remarks.
	Notes []string

	display map[string]string // dry run: temp folder -> real folder
}

// Tally counts one kind of object.
type Tally struct {
	Imported int // written
	Existing int // already present: left as it is
	Skipped  int // not imported (see Items)
}

func (r *Report) item(format string, args ...any) {
	r.Items = append(r.Items, fmt.Sprintf(format, args...))
}
func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Report) file(path string) {
	for tmp, real := range r.display {
		if rel, err := filepath.Rel(tmp, path); err == nil && !strings.HasPrefix(rel, "..") {
			path = filepath.Join(real, rel)
		}
	}
	if !slices.Contains(r.Files, path) {
		r.Files = append(r.Files, path)
	}
}

// Changed reports whether the import wrote (or would write) anything.
func (r *Report) Changed() bool { return len(r.Files) > 0 }

// WriteTo prints the report.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	if r.DryRun {
		b.WriteString("LiteLLM import: dry run, nothing was written\n")
	} else {
		b.WriteString("LiteLLM import\n")
	}
	fmt.Fprintf(&b, "  teams:  %d imported, %d already present, %d skipped\n", r.Teams.Imported, r.Teams.Existing, r.Teams.Skipped)
	fmt.Fprintf(&b, "  keys:   %d imported, %d already present, %d skipped\n", r.Keys.Imported, r.Keys.Existing, r.Keys.Skipped)
	fmt.Fprintf(&b, "  models: %d imported, %d already present, %d skipped\n", r.Models.Imported, r.Models.Existing, r.Models.Skipped)
	switch r.SaltKeyFrom {
	case "":
		b.WriteString("  LiteLLM's encrypted values: no LITELLM_SALT_KEY or LITELLM_MASTER_KEY set, none could be decrypted\n")
	default:
		fmt.Fprintf(&b, "  LiteLLM's encrypted values decrypted with %s\n", r.SaltKeyFrom)
	}
	verb := "written"
	if r.DryRun {
		verb = "that would be written"
	}
	if len(r.Files) == 0 {
		b.WriteString("\nno file " + verb + ": the folders already hold everything importable\n")
	} else {
		fmt.Fprintf(&b, "\nfiles %s:\n", verb)
		for _, f := range r.Files {
			b.WriteString("  " + f + "\n")
		}
	}
	if len(r.Items) > 0 {
		b.WriteString("\nnot carried over, or skipped:\n")
		for _, it := range r.Items {
			b.WriteString("  " + it + "\n")
		}
	}
	if len(r.Tables) > 0 {
		b.WriteString("\nLiteLLM tables not imported (no counterpart in teams.d / models.d; spend starts at zero):\n")
		for _, t := range r.Tables {
			b.WriteString("  " + t + "\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range r.Notes {
			b.WriteString("  " + n + "\n")
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
