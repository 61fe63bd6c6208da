package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gitops"
)

// rotateSalt runs `gateway rotate-salt`: it re-encrypts every enc: value
// of the configuration (teams.d, models.d and the --config file) from the
// salt keys the configuration loads with (general_settings.salt_key and,
// while a rotation is under way, salt_key_previous) to the new salt key,
// read from the environment variable --new-key-env names (never from the
// command line). Files are rewritten atomically, in place (comments kept),
// and listed; --commit commits them as one git commit.
func rotateSalt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate-salt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default)")
	teamsDir := fs.String("teams-dir", "teams.d", "directory of team files")
	modelsDir := fs.String("models-dir", "models.d", "directory of model files")
	newKeyEnv := fs.String("new-key-env", "GATEWAY_SALT_KEY_NEW", "name of the environment variable that holds the new salt key")
	dryRun := fs.Bool("dry-run", false, "print what would be re-encrypted, write nothing")
	commit := fs.Bool("commit", false, "commit the rewritten files as one git commit (gitops author settings)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: GATEWAY_SALT_KEY=<old> GATEWAY_SALT_KEY_NEW=<new> gateway rotate-salt [--config F] [--teams-dir D] [--models-dir D] [--new-key-env NAME] [--dry-run] [--commit]

Re-encrypts every enc: value for the new salt key, in place, as one change:
a deployment's api_key becomes enc:v2: (bound to its team and model_info.id;
legacy enc:v1: keys are bound on the way), other enc:v1: values stay enc:v1:.
Values already under the new key are left alone, so the command can be run
again after an interruption. The rotated files are checked to load with the
new key alone before anything is written.

Values are decrypted with the salt keys the configuration loads with
(GATEWAY_SALT_KEY and, if set, GATEWAY_SALT_KEY_PREVIOUS), so a rotation
works in either order. Without a restart in between:
  1. run the gateway with GATEWAY_SALT_KEY=<new> GATEWAY_SALT_KEY_PREVIOUS=<old>
     (old values still decrypt; new ones are encrypted with <new>);
  2. run this command with the same two variables and GATEWAY_SALT_KEY_NEW=<new>;
     commit (or --commit) and deploy the rotated files everywhere;
  3. restart the gateway without GATEWAY_SALT_KEY_PREVIOUS.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway rotate-salt: unexpected arguments %q; the new key is read from $%s, never from the command line\n", fs.Args(), *newKeyEnv)
		return 2
	}
	newKey := os.Getenv(*newKeyEnv)
	if newKey == "" {
		fmt.Fprintf(stderr, "gateway rotate-salt: %s is not set; export the new salt key in %s (or name another variable with --new-key-env)\n", *newKeyEnv, *newKeyEnv)
		return 2
	}
	if *config == "" {
		*config = defaultConfigPath()
	}
	in, err := configs.ReadDirs(*config, *teamsDir, *modelsDir)
	if err != nil {
		fmt.Fprintf(stderr, "gateway rotate-salt: %v\n", err)
		return 1
	}
	snap, problems := configs.Build(in, nil)
	if snap == nil {
		printErrors(stderr, problems)
		fmt.Fprintln(stderr, "gateway rotate-salt: the configuration does not load; fix it first (gateway check), nothing was written")
		return 1
	}
	r, problems := configs.Rotate(in, nil, newKey)
	if r == nil {
		printErrors(stderr, problems)
		fmt.Fprintln(stderr, "gateway rotate-salt: nothing was written")
		return 1
	}
	for _, v := range r.Values {
		fmt.Fprintf(stdout, "%s: re-encrypted %s\n", posString(v.Pos), v.What)
	}
	if len(r.Files) == 0 {
		fmt.Fprintf(stdout, "nothing to rotate: %d values are already encrypted with the new salt key\n", r.Unchanged)
		return 0
	}
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: %d values in %d files would be re-encrypted (%d already are); nothing was written\n", len(r.Values), len(r.Files), r.Unchanged)
		return 0
	}
	sums := map[string][32]byte{} // what was read, for the compare-and-swap
	for _, f := range append(append([]configs.File{in.Config}, in.Teams...), in.Models...) {
		sums[f.Path] = f.WithSum().Sum
	}
	var paths []string
	for _, f := range r.Files {
		// A file changed since it was read (an API write, a pull) is not
		// overwritten (compare-and-swap against the sum read): what was
		// written so far is rotated, and a second run picks up the rest.
		perm := os.FileMode(0o644)
		if st, err := os.Stat(f.Path); err == nil {
			perm = st.Mode().Perm()
		}
		sw, err := configs.ReplaceFile(f.Path, f.Data, perm, sums[f.Path])
		if errors.Is(err, configs.ErrChanged) {
			fmt.Fprintf(stderr, "gateway rotate-salt: %s changed on disk while rotating; run the command again (%d of %d files written)\n", f.Path, len(paths), len(r.Files))
			return 1
		}
		if err != nil {
			fmt.Fprintf(stderr, "gateway rotate-salt: %v (%d of %d files written; run the command again)\n", err, len(paths), len(r.Files))
			return 1
		}
		sw.Commit()
		paths = append(paths, f.Path)
	}
	fmt.Fprintf(stdout, "rotated %d values in %d files (%d were already encrypted with the new salt key):\n", len(r.Values), len(paths), r.Unchanged)
	for _, p := range paths {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	if *commit {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := gitops.Commit(ctx, gitops.CommitOptions{Paths: paths,
			Message:    fmt.Sprintf("Rotate the salt key: re-encrypt %d values in %d files\n\ngateway rotate-salt", len(r.Values), len(paths)),
			AuthorName: snap.Settings.GitOps.AuthorName, AuthorEmail: snap.Settings.GitOps.AuthorEmail})
		if err != nil {
			fmt.Fprintf(stderr, "gateway rotate-salt: the files are rotated but the commit failed: %v; commit them yourself\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "committed %s\n", res.Hash)
	} else {
		fmt.Fprintln(stdout, "review and commit these files as one change (git add ... && git commit), or run with --commit")
	}
	fmt.Fprintf(stdout, "next: run the gateway with GATEWAY_SALT_KEY set to the new key and GATEWAY_SALT_KEY_PREVIOUS to the old one until every replica has these files, then unset GATEWAY_SALT_KEY_PREVIOUS\n")
	return 0
}

func printErrors(w io.Writer, ps []configs.Problem) {
	for _, p := range ps {
		if !p.Warning {
			fmt.Fprintln(w, p.String())
		}
	}
}

// posString is path:line:col (path alone without a line).
func posString(p configs.Pos) string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}
