package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/llmgateway/gateway/configs"
)

// encrypt runs `gateway encrypt [--config FILE]`: it reads a secret on
// standard input and prints its enc:v1: form for the configured salt key
// (general_settings.salt_key, by default os.environ/GATEWAY_SALT_KEY), to
// commit as an api_key in a hand-written models file.
func encrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("encrypt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: printf '%%s' \"$SECRET\" | gateway encrypt [--config FILE]\n\nprints the secret's enc:v1: form for the configured salt key\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway encrypt: unexpected arguments %q; pass the secret on standard input\n", fs.Args())
		return 2
	}
	if *config == "" {
		if _, err := os.Stat("configs/gateway.yaml"); err == nil {
			*config = "configs/gateway.yaml"
		}
	}
	in, err := configs.ReadDirs(*config, "", "")
	if err != nil {
		fmt.Fprintf(stderr, "gateway encrypt: %v\n", err)
		return 1
	}
	snap, problems := configs.Build(in, nil)
	if snap == nil {
		for _, p := range problems {
			if !p.Warning {
				fmt.Fprintln(stderr, p.String())
			}
		}
		fmt.Fprintln(stderr, "gateway encrypt: the settings file is invalid")
		return 1
	}
	if snap.Settings.SaltKey == "" {
		fmt.Fprintln(stderr, "gateway encrypt: no salt key is set; set GATEWAY_SALT_KEY (general_settings.salt_key) to the key the gateway runs with")
		return 1
	}
	secret, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		fmt.Fprintf(stderr, "gateway encrypt: reading standard input: %v\n", err)
		return 1
	}
	secret = bytes.TrimRight(secret, "\r\n")
	if len(secret) == 0 {
		fmt.Fprintf(stderr, "gateway encrypt: standard input is empty; pipe the secret in, e.g. printf '%%s' \"$KEY\" | gateway encrypt\n")
		return 2
	}
	out, err := configs.Encrypt(snap.Settings.SaltKey, string(secret))
	if err != nil {
		fmt.Fprintf(stderr, "gateway encrypt: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, out)
	return 0
}
