package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/llmgateway/gateway/configs"
)

// encrypt runs `gateway encrypt --model ID [--team ID] [--config FILE]`: it
// reads a secret on standard input and prints its enc:v2: form for the
// configured salt key (general_settings.salt_key, by default
// os.environ/GATEWAY_SALT_KEY), bound to the deployment it is for (its
// model_info.team_id, none for a global model, and model_info.id), to
// commit as the api_key (or another secret param: aws_secret_access_key, vertex_credentials, client_secret, ...) of that deployment in a hand-written models file.
// --unbound prints the legacy enc:v1: form instead, bound to nothing: for
// general_settings.master_key, never for an upstream key.
func encrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("encrypt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default)")
	team := fs.String("team", "", "model_info.team_id of the deployment the key is for (omit for a global model)")
	model := fs.String("model", "", "model_info.id of the deployment the key is for (required; write the same id in the file)")
	unbound := fs.Bool("unbound", false, "legacy: print an enc:v1: value bound to nothing (for general_settings.master_key; an upstream key copied elsewhere would still decrypt)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: printf '%%s' \"$SECRET\" | gateway encrypt --model ID [--team ID] [--config FILE]\n\n"+
			"prints the secret's enc:v2: form for the configured salt key, bound to that team and deployment:\n"+
			"it decrypts only as a secret (api_key, aws_secret_access_key, client_secret, ...) of the deployment with that model_info.id and team_id\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *unbound && (*team != "" || *model != "") {
		fmt.Fprintln(stderr, "gateway encrypt: --unbound takes no --team or --model; an unbound value is bound to nothing")
		return 2
	}
	if !*unbound && *model == "" {
		fmt.Fprintln(stderr, "gateway encrypt: --model is required: the value is bound to the deployment's model_info.id (and --team to its model_info.team_id); "+
			"write that id in the file. --unbound prints the legacy enc:v1: form, for general_settings.master_key only")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway encrypt: unexpected arguments %q; pass the secret on standard input\n", fs.Args())
		return 2
	}
	if *config == "" {
		*config = defaultConfigPath()
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
		fmt.Fprintf(stderr, "gateway encrypt: standard input is empty; pipe the secret in, e.g. printf '%%s' \"$KEY\" | gateway encrypt --model ID\n")
		return 2
	}
	var out string
	if *unbound {
		out, err = configs.Encrypt(snap.Settings.SaltKey, string(secret))
	} else {
		out, err = configs.EncryptBound(snap.Settings.SaltKey, configs.Binding{TeamID: *team, ModelID: *model}, string(secret))
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway encrypt: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, out)
	return 0
}
