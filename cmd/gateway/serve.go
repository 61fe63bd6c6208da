package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/accesslog"
	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/gateway"
	"github.com/llmgateway/gateway/gitops"
	"github.com/llmgateway/gateway/internal/pgdb"
	"github.com/llmgateway/gateway/logsafe"
	"github.com/llmgateway/gateway/logwriter"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/anthropic"
	"github.com/llmgateway/gateway/providers/azure"
	"github.com/llmgateway/gateway/providers/bedrock"
	"github.com/llmgateway/gateway/providers/gemini"
	"github.com/llmgateway/gateway/providers/mock"
	"github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/providers/vertex"
	"github.com/llmgateway/gateway/spend"
	"github.com/llmgateway/gateway/spend/pgspend"
	usagelog "github.com/llmgateway/gateway/usage"
	usagepg "github.com/llmgateway/gateway/usage/postgres"
	usagesqlite "github.com/llmgateway/gateway/usage/sqlite"
	"github.com/llmgateway/gateway/wire"
)

// testClock, when a test sets it, is the clock of the team actors (rate
// windows, budget periods), so tests move time without sleeping.
var testClock func() time.Time

// serveFlags are the flags of `gateway serve`.
type serveFlags struct {
	config    string
	teamsDir  string
	modelsDir string
	stateDir  string
	addr      string
	logFormat string
	logLevel  string
	metrics   bool
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "gateway settings file (default: configs/gateway.yaml if present, else the embedded default)")
	fs.StringVar(&f.teamsDir, "teams-dir", "teams.d", "directory of team files")
	fs.StringVar(&f.modelsDir, "models-dir", "models.d", "directory of model files")
	fs.StringVar(&f.stateDir, "state-dir", ".gateway", "directory for runtime state (spend); never under teams.d or models.d")
	fs.StringVar(&f.addr, "addr", ":4000", "listen address")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&f.metrics, "metrics", true, "record Prometheus metrics (GET /metrics); false only to measure their cost")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.config == "" {
		f.config = defaultConfigPath()
	}
	return f, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// logProblems logs every configuration problem and, when some are
// errors, a summary line. It reports whether any was an error.
func logProblems(log *slog.Logger, problems []configs.Problem) bool {
	n := 0
	for _, p := range problems {
		if p.Warning {
			log.Warn(p.String())
		} else {
			log.Error(p.String())
			n++
		}
	}
	if n > 0 {
		log.Error(fmt.Sprintf("configuration is invalid: %d error(s); fix them and start again (gateway check validates offline)", n))
	}
	return n > 0
}

// metricsListener records each configuration that goes live in the
// gateway_config_* metrics: a reload counts as one, and every one (API
// writes included) sets gateway_config_info{hash}.
func metricsListener() confstore.Listener {
	return confstore.Listener{
		Name: "metrics",
		Live: func(e confstore.Event) error {
			if e.Kind == confstore.KindRescan {
				metrics.Reload(true, e.Snapshot.Hash)
			} else {
				metrics.ConfigApplied(e.Snapshot.Hash, e.At)
			}
			return nil
		},
		Refused: func(string, confstore.Status) { metrics.Reload(false, "") },
	}
}

// logDelay is how long a log line may wait to be written with others.
const logDelay = 10 * time.Millisecond

// serve runs the gateway until ctx ends. ready, when set, gets the bound
// address once the server accepts connections (tests use it).
func serve(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) int {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		return 2
	}
	// Log lines are written in batches off the request path (one write
	// per few milliseconds, not one per request); Close writes the last.
	lw := logwriter.New(stderr, logDelay)
	defer lw.Close()
	log, err := newLogger(lw, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		return 2
	}
	metrics.Enable(f.metrics)
	if warning, err := spend.CheckStateDir(f.stateDir, f.teamsDir, f.modelsDir); err != nil {
		log.Error("refusing to start: " + err.Error())
		return 1
	} else if warning != "" {
		log.Warn(warning)
	}
	if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
		log.Error("creating the state directory", "dir", f.stateDir, "err", err)
		return 1
	}
	// The spend backend is chosen by the first configuration's
	// general_settings.database_url (PostgreSQL, shared by replicas) or
	// is spend.db in --state-dir; the registry needs a store before that.
	spendStore := spend.NewDeferred()
	var pgPool *pgxpool.Pool // shared with the usage store
	defer func() {
		if pgPool != nil {
			pgPool.Close()
		}
	}()
	chooseSpend := func(dbURL string) error {
		if spendStore.Backend() != nil {
			return nil // chosen at start; a changed database_url needs a restart
		}
		if dbURL == "" {
			b, err := spend.Open(f.stateDir, log)
			if err != nil {
				return fmt.Errorf("opening the spend store: %w", err)
			}
			spendStore.Set(b)
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		pool, err := pgdb.Connect(cctx, dbURL)
		if err != nil {
			return err
		}
		b, err := pgspend.New(cctx, pool, pgspend.Options{Log: log, StateDir: f.stateDir})
		if err != nil {
			pool.Close()
			return fmt.Errorf("opening the spend store in PostgreSQL: %w", err)
		}
		pgPool = pool
		spendStore.Set(b)
		log.Info("spend is kept in PostgreSQL (general_settings.database_url)")
		return nil
	}
	spendClosed := false
	closeSpend := func() {
		if !spendClosed {
			spendClosed = true
			if err := spendStore.Close(); err != nil {
				log.Error("writing spend on shutdown", "err", err)
			}
		}
	}
	defer closeSpend()

	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		// protoactor logs messages (dead letters) by value: they carry
		// request bodies and snapshots; logsafe logs their type only.
		return slog.New(logsafe.Handler(log.Handler(), "*actor.PID")).With("component", "actors")
	}))
	defer system.Shutdown()
	roots, err := extraRoots(os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return 2
	}
	client := providers.NewClientWith(providers.ClientOptions{Log: log, RootCAs: roots})
	provs := newProviders(client)
	dir := &actors.Directory{}
	probe := func(d *configs.Deployment, deadline time.Time) error {
		p := provs[d.Provider]
		if p == nil {
			return wire.Errorf(500, wire.TypeInternal, "provider %q is not in this build", d.Provider)
		}
		return providers.Probe(p, d, deadline)
	}
	var live atomic.Pointer[confstore.Store] // set once the store is open
	liveSnapshot := func() *configs.Snapshot {
		if st := live.Load(); st != nil {
			return st.Snapshot()
		}
		return nil
	}
	registry := system.Root.Spawn(actors.RegistryProps(dir, provs, log,
		actors.WithSpendStore(spendStore), actors.WithClock(testClock), actors.WithHealthChecks(ctx, liveSnapshot, probe)))
	committer := gitops.New(configs.GitOpsSettings{}, log) // commits API write-backs (gitops.commit)
	// Every configuration that goes live (start-up, rescans, API writes)
	// is told to these listeners, in this order; the store's status is
	// the last. The actors may refuse one; the others cannot.
	logProblems(log, configs.MissingDirs(f.teamsDir, f.modelsDir))
	store, problems, err := confstore.Open(confstore.Options{
		ConfigPath: f.config,
		TeamsDir:   f.teamsDir,
		ModelsDir:  f.modelsDir,
		Log:        log,
		Listeners: []confstore.Listener{
			{Name: "actors", Live: func(e confstore.Event) error { // the api_base policy, team actors and the key directory
				if err := chooseSpend(e.Snapshot.Settings.DatabaseURL); err != nil {
					return err
				}
				// The api_base policy for team deployments goes live before them.
				prevPolicy := client.TeamPolicy()
				client.SetTeamPolicy(egress.New(e.Snapshot.Settings.TeamAPIBaseAllow, e.Snapshot.Settings.TeamAPIBaseDeny, egress.HostAddrs()))
				_, err := system.Root.RequestFuture(registry, &actors.ApplySnapshot{Snapshot: e.Snapshot}, time.Minute).Result()
				if err != nil {
					client.SetTeamPolicy(prevPolicy)
				}
				return err
			}},
			metricsListener(),
			committer.Listener(),
		},
		GitOpsStatus: committer.Status,
	})
	if logProblems(log, problems) {
		return 1
	}
	if err != nil {
		log.Error("starting", "err", err)
		return 1
	}
	live.Store(store)
	snap := store.Snapshot()
	if snap.Settings.MasterKey == "" {
		log.Warn("no master key: the management API answers 403 to everyone; set GATEWAY_MASTER_KEY (general_settings.master_key: os.environ/GATEWAY_MASTER_KEY) to enable it. Team keys work as usual.")
	}

	committer.Start(ctx)
	// Live reload: the watcher and the periodic rescan until shutdown, and
	// SIGHUP rescans at once. Both stop before the actor system does.
	wctx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer close(watchDone)
		go func() {
			for {
				select {
				case <-wctx.Done():
					return
				case <-hup:
					_, _ = store.Rescan("SIGHUP")
				}
			}
		}()
		store.Watch(wctx, confstore.WatchOptions{})
	}()
	defer func() { signal.Stop(hup); stopWatch(); <-watchDone }()

	access := accesslog.Slog(log) // honours --log-level: off above info
	if log.Enabled(ctx, slog.LevelInfo) {
		access = accesslog.New(lw, f.logFormat)
	}
	usageStore, err := openUsage(ctx, snap.Settings, f.stateDir, pgPool, log)
	if err != nil {
		log.Error("opening the usage log", "err", err)
		return 1
	}
	usageLog := usagelog.NewWriter(usageStore, usagelog.WriterOptions{Retention: snap.Settings.SpendLogsRetention, Logger: log,
		OnDrop: metrics.UsageDropped})
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := usageLog.Close(cctx); err != nil {
			log.Warn("closing the usage log", "err", err)
		}
		if err := usageStore.Close(); err != nil {
			log.Warn("closing the usage store", "err", err)
		}
	}()
	srv := gateway.New(gateway.Options{
		Directory:      dir,
		Store:          store,
		Root:           system.Root,
		Log:            log,
		AccessLog:      access,
		MaxRequestBody: snap.Settings.MaxRequestBody,
		Probe:          probe,
		Usage:          usageRecorder(usageLog, snap.Settings),
		Reports:        usageStore,
	})
	if b, ok := usageStore.(interface{ SetBusy(func() bool) }); ok {
		b.SetBusy(srv.Busy) // SQLite: on one core, write between calls
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		log.Error("listening", "addr", f.addr, "err", err)
		return 1
	}
	keys, deployments := 0, len(snap.Global)
	for id, t := range snap.Teams {
		keys += len(t.Keys)
		deployments += len(snap.TeamDeployments[id])
	}
	log.Info("gateway listening", "addr", ln.Addr().String(), "version", version,
		"teams", len(snap.Teams), "keys", keys, "deployments", deployments, "config_hash", snap.Hash)
	if ready != nil {
		ready(ln.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; waiting up to 30s for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown did not finish cleanly", "err", err)
	}
	// The finished calls' usage reports are in the team actors' mailboxes:
	// let them land, then write all spend.
	dir.Drain(system.Root, 5*time.Second)
	closeSpend()
	log.Info("stopped")
	return 0
}

// newProviders builds one provider per entry of the provider registry
// (TestProvidersMatchTheRegistry keeps the two lists equal).
func newProviders(client *providers.Client) map[string]providers.Provider {
	provs := map[string]providers.Provider{
		"openai":    openai.New(client),
		"azure":     azure.New(client),
		"azure_ai":  azure.NewAI(client),
		"mock":      mock.New(),
		"anthropic": anthropic.New(client),
		"vertex_ai": vertex.New(client),
		"gemini":    gemini.New(client),
		"bedrock":   bedrock.New(client),
	}
	// OpenAI-compatible hosts by name: registry entries the openai
	// package serves.
	for _, s := range registry.Table {
		if s.Family == "openai" {
			provs[s.Name] = openai.NewFor(client, s)
		}
	}
	return provs
}

// extraRoots is the system's certificate pool plus the PEM certificates of
// file (SSL_CERT_FILE: a private CA for upstreams and token endpoints, as
// LiteLLM honours it), read at every start; nil when file is "".
func extraRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SSL_CERT_FILE %s holds no PEM certificate", file)
	}
	return pool, nil
}

// openUsage opens the usage log's store: in PostgreSQL when
// general_settings.database_url is set (on the pool spend uses), else
// usage.db in the state directory (SQLite, embedded).
func openUsage(ctx context.Context, st configs.Settings, stateDir string, pool *pgxpool.Pool, log *slog.Logger) (usagelog.Store, error) {
	if pool != nil {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s, err := usagepg.New(cctx, pool, log)
		if err != nil {
			return nil, fmt.Errorf("in PostgreSQL: %w", err)
		}
		log.Info("the usage log is kept in PostgreSQL (general_settings.database_url)")
		return s, nil
	}
	s, err := usagesqlite.OpenDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", stateDir, err)
	}
	return s, nil
}

// usageRecorder is w, or nil when general_settings.disable_spend_logs
// (LiteLLM's setting) turns the per-request log off.
func usageRecorder(w *usagelog.Writer, st configs.Settings) *usagelog.Writer {
	if st.DisableSpendLogs {
		return nil
	}
	return w
}
