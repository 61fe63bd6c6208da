package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/pricing"
)

// checkProblem is one problem in `gateway check --format json`.
type checkProblem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"` // "error" or "warning"
	Message  string `json:"message"`
	Text     string `json:"text"` // path:line:col: message
}

// checkReport is the output of `gateway check --format json`.
type checkReport struct {
	Valid       bool           `json:"valid"`
	Errors      int            `json:"errors"`
	Warnings    int            `json:"warnings"`
	Files       int            `json:"files"`
	Teams       int            `json:"teams"`
	Deployments int            `json:"deployments"`
	Problems    []checkProblem `json:"problems"`
	Summary     string         `json:"summary"`
}

// check validates the configuration offline with the server's own code
// (configs.ReadDirs and configs.Build): exit 0 valid, 1 invalid, 2 usage.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default)")
	teamsDir := fs.String("teams-dir", "teams.d", "directory of team files")
	modelsDir := fs.String("models-dir", "models.d", "directory of model files")
	format := fs.String("format", "text", "output: text (path:line:col: message), json, or github (workflow annotations)")
	skipEnv := fs.Bool("skip-env", false, "report os.environ/ references to unset variables (and enc: keys that need an unset salt key) as warnings, for CI without the secrets; the server treats them as errors")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: gateway check [--config F] [--teams-dir D] [--models-dir D] [--format text|json|github] [--skip-env]\n\n"+
			"Validates the configuration with the server's code and prints every problem.\nExit status: 0 valid, 1 invalid, 2 usage error.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway check: unexpected arguments %q\n", fs.Args())
		return 2
	}
	switch *format {
	case "text", "json", "github":
	default:
		fmt.Fprintf(stderr, "gateway check: --format %q: use text, json or github\n", *format)
		return 2
	}
	if *config == "" {
		*config = defaultConfigPath()
	} else if _, err := os.Stat(*config); err != nil {
		fmt.Fprintf(stderr, "gateway check: --config %s: %v\n", *config, err)
		return 2
	}

	in, err := configs.ReadDirs(*config, *teamsDir, *modelsDir)
	if err != nil {
		fmt.Fprintf(stderr, "gateway check: %v\n", err)
		return 1
	}
	unset := map[string]bool{}
	env := func(name string) (string, bool) {
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			unset[name] = true
		}
		return v, ok
	}
	snap, problems := configs.Build(in, env)
	problems = append(configs.MissingDirs(*teamsDir, *modelsDir), problems...)
	if snap != nil {
		problems = append(problems, pricing.UnpricedWarnings(snap)...)
		slices.SortStableFunc(problems, func(a, b configs.Problem) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
	}
	skipped := 0
	if *skipEnv {
		skipped = downgradeEnvProblems(problems, unset)
	}

	rep := checkReport{Problems: []checkProblem{}, Files: 1 + len(in.Teams) + len(in.Models)}
	for _, p := range problems {
		sev := "error"
		if p.Warning {
			sev = "warning"
			rep.Warnings++
		} else {
			rep.Errors++
		}
		rep.Problems = append(rep.Problems, checkProblem{File: p.File, Line: p.Line, Col: p.Col, Severity: sev, Message: p.Message, Text: p.String()})
	}
	rep.Valid = rep.Errors == 0
	if snap != nil {
		rep.Teams = len(snap.Teams)
		rep.Deployments = len(snap.Global)
		for _, ds := range snap.TeamDeployments {
			rep.Deployments += len(ds)
		}
	}
	rep.Summary = checkSummary(rep, snap != nil, skipped)

	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	case "github":
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "::%s file=%s,line=%d,col=%d::%s\n", p.Severity, ghEscapeProp(p.File), max(p.Line, 1), max(p.Col, 1), ghEscape(p.Message))
		}
		fmt.Fprintln(stdout, rep.Summary)
	default:
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p.Text)
		}
		fmt.Fprintln(stdout, rep.Summary)
	}
	if !rep.Valid {
		return 1
	}
	return 0
}

func checkSummary(r checkReport, built bool, skipped int) string {
	plural := func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	var b strings.Builder
	if r.Valid {
		b.WriteString("ok: ")
		if built {
			fmt.Fprintf(&b, "%s, %s, ", plural(r.Teams, "team"), plural(r.Deployments, "deployment"))
		}
		fmt.Fprintf(&b, "%s checked, %s", plural(r.Files, "file"), plural(r.Warnings, "warning"))
	} else {
		fmt.Fprintf(&b, "invalid: %s and %s in %s checked", plural(r.Errors, "error"), plural(r.Warnings, "warning"), plural(r.Files, "file"))
	}
	if skipped > 0 {
		fmt.Fprintf(&b, "; %s not checked (--skip-env)", plural(skipped, "secret reference"))
	}
	return b.String()
}

// downgradeEnvProblems turns the errors that only say an environment
// variable is unset — or that an enc: value cannot be decrypted because
// the salt key's variable is unset — into warnings (--skip-env). It
// returns how many it changed.
func downgradeEnvProblems(ps []configs.Problem, unset map[string]bool) int {
	saltUnset := false
	for _, p := range ps {
		if p.Warning && strings.Contains(p.Message, "(salt_key: "+configs.EnvPrefix) {
			saltUnset = true
		}
	}
	n := 0
	for i, p := range ps {
		if p.Warning {
			continue
		}
		if name, ok := unsetVarOf(p.Message); (ok && unset[name]) ||
			(saltUnset && strings.HasPrefix(p.Message, "api_key is encrypted (enc:") && strings.Contains(p.Message, "but no salt key is set")) {
			ps[i].Warning = true
			ps[i].Message += " (not checked: --skip-env)"
			n++
		}
	}
	return n
}

// unsetVarOf returns NAME from "environment variable NAME is not set ...".
func unsetVarOf(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "environment variable ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " is not set")
	return name, ok && !strings.Contains(name, " ")
}

// ghEscape escapes a GitHub Actions workflow command's message.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghEscapeProp escapes a workflow command's property value.
func ghEscapeProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
