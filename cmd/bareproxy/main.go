// Command bareproxy is the benchmark's floor: a fasthttp reverse proxy with
// no logic at all (no auth, no parsing, no actors, no logs, no metrics).
// It forwards every request to one upstream and copies the answer back.
// Whatever a two-hop HTTP proxy costs on the machine — two more reads,
// two more writes and the wake-ups between processes — it costs; the
// gateway's own work is what the gateway adds on top of it.
//
//	bareproxy -addr 127.0.0.1:0 -upstream http://127.0.0.1:8080
//
// It prints "listening http://<addr>" on stdout once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	upstream := flag.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:8080")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		fmt.Fprintf(os.Stderr, "bareproxy: -upstream %q: want http://host:port\n", *upstream)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bareproxy: %v\n", err)
		os.Exit(1)
	}
	client := &fasthttp.HostClient{Addr: u.Host, MaxConns: 4096}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if err := client.Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error("upstream: "+err.Error(), fasthttp.StatusBadGateway)
			}
		},
		NoDefaultServerHeader: true,
		Concurrency:           100000,
	}
	fmt.Printf("listening http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "bareproxy: %v\n", err)
		os.Exit(1)
	}
}
