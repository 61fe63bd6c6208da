// Command gateway is the team-scoped LLM gateway.
//
//	gateway [serve] [flags]   run the server (the default)
//	gateway check [flags]     validate the configuration offline
//	gateway encrypt           print the enc:v2: form of a secret read on stdin
//	gateway rotate-salt       re-encrypt every enc: value for a new salt key
//	gateway import-litellm    import a LiteLLM database's teams, keys and models
//	gateway version           print the module version and commit
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version, when set at build time with -ldflags "-X main.version=...",
// replaces the module version the build recorded.
var version = ""

// versionString is "gateway <module version> (commit <hash>[, modified])",
// from what the Go toolchain recorded in the binary: the module version
// ("(devel)" for a build of a checkout) and the VCS commit when the build
// had one ("unknown" otherwise: go run, or a build outside git).
func versionString(info *debug.BuildInfo, ok bool) string {
	v, commit, modified := "unknown", "unknown", false
	if ok && info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v = version
	}
	out := "gateway " + v + " (commit " + commit
	if modified {
		out += ", modified"
	}
	return out + ")"
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd = "help" // the commands, not only serve's flags
	}
	switch cmd {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, args, stderr, nil)
	case "encrypt":
		return encrypt(args, stdin, stdout, stderr)
	case "rotate-salt":
		return rotateSalt(args, stdout, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "import-litellm":
		return importLiteLLM(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString(debug.ReadBuildInfo()))
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "gateway: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: gateway <command> [flags]

commands:
  serve     run the gateway (default); see "gateway serve -h"
  check     validate the configuration offline; see "gateway check -h"
  encrypt   read a secret on stdin, print its enc:v2: form for the salt key,
            bound to one deployment (--team ID --model ID)
  rotate-salt
            re-encrypt every enc: value from the salt key to a new one
            (GATEWAY_SALT_KEY_NEW); see "gateway rotate-salt -h"
  import-litellm
            read a LiteLLM database (--database-url) and write its teams,
            keys and models into teams.d/ and models.d/; see
            "gateway import-litellm -h"
  version   print the module version and the commit it was built from

"gateway <command> -h" prints a command's flags.
`)
}

// defaultConfigPath is the --config file when none is given:
// configs/gateway.yaml when it exists in the working directory, else ""
// (the copy embedded in the binary).
func defaultConfigPath() string {
	if _, err := os.Stat("configs/gateway.yaml"); err == nil {
		return "configs/gateway.yaml"
	}
	return ""
}
