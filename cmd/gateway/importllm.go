package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/llmgateway/gateway/litellmimport"
)

// importLiteLLM runs `gateway import-litellm --database-url URL [--config
// F] [--teams-dir D] [--models-dir D] [--dry-run]`: it reads a LiteLLM
// proxy's teams, keys and models from its PostgreSQL database and writes
// them as the management API would (package litellmimport), then prints
// what it did and what it could not carry over.
func importLiteLLM(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import-litellm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "LiteLLM's database, as its DATABASE_URL (postgres://...; default: $DATABASE_URL)")
	config := fs.String("config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default); its salt key encrypts the imported upstream keys")
	teamsDir := fs.String("teams-dir", "teams.d", "directory of team files to write")
	modelsDir := fs.String("models-dir", "models.d", "directory of model files to write")
	dryRun := fs.Bool("dry-run", false, "write nothing; print what would be written")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: gateway import-litellm --database-url postgres://... [--config F] [--teams-dir D] [--models-dir D] [--dry-run]\n\n"+
			"imports a LiteLLM proxy's teams, virtual keys (their hashes: the keys keep working) and models into teams.d and models.d.\n"+
			"LiteLLM's encrypted model params are decrypted with LITELLM_SALT_KEY (else LITELLM_MASTER_KEY) and encrypted again with the\n"+
			"gateway's salt key (GATEWAY_SALT_KEY). Objects already present are left as they are, so running it again changes nothing.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway import-litellm: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *dbURL == "" {
		*dbURL = os.Getenv("DATABASE_URL")
	}
	if *dbURL == "" {
		fmt.Fprintln(stderr, "gateway import-litellm: --database-url is required: LiteLLM's DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
		return 2
	}
	if *config == "" {
		*config = defaultConfigPath()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	dump, err := litellmimport.Read(ctx, *dbURL)
	if err != nil {
		fmt.Fprintf(stderr, "gateway import-litellm: %v\n", err)
		return 1
	}
	rep, err := litellmimport.Import(dump, litellmimport.Options{ConfigPath: *config, TeamsDir: *teamsDir, ModelsDir: *modelsDir, DryRun: *dryRun})
	if err != nil {
		fmt.Fprintf(stderr, "gateway import-litellm: %v\n", err)
		return 1
	}
	_, _ = rep.WriteTo(stdout)
	return 0
}
