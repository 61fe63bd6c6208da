package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/accesslog"
	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/usage"
	"github.com/llmgateway/gateway/wire"
)

// Options configure a Server.
type Options struct {
	// Directory is the atomically swapped key index and team actor map.
	Directory *actors.Directory
	// Store owns the configuration files; management writes go through it.
	Store *confstore.Store
	// Root sends requests to the actors.
	Root *actor.RootContext
	// Log receives server events (and the request lines when AccessLog
	// is nil).
	Log *slog.Logger
	// AccessLog writes one line per request (default: through Log).
	AccessLog *accesslog.Logger
	// Usage receives one record per LLM call (the usage log); nil: none.
	// A concrete type, so the record built on the stack stays there.
	Usage *usage.Writer
	// Reports is the usage log's store, for the report routes (/spend/logs,
	// /team/daily/activity, ...); nil: they answer 503.
	Reports usage.Store
	// MaxRequestBody caps request bodies, in bytes (default 8 MiB).
	MaxRequestBody int
	// MaxConns caps concurrent connections (default 10,000).
	MaxConns int
	// ReadTimeout bounds reading one request (default 60 s).
	ReadTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections (default 120 s).
	IdleTimeout time.Duration
	// CallTimeout is the backstop for an actor answer (default 1 h); the
	// per-deployment upstream timeout is what normally ends a call.
	CallTimeout time.Duration
	// Probe checks one deployment for GET /health (nil: the route answers
	// 503).
	Probe func(d *configs.Deployment, deadline time.Time) error
}

// readBufferSize is fasthttp's per-connection read buffer, which is also
// the limit on a request's headers.
const readBufferSize = 16 << 10

// Server is the gateway's HTTP front: thin handlers that authenticate,
// ask a team actor and encode its answer.
type Server struct {
	opts   Options
	srv    *fasthttp.Server
	codecs codecCache // response ids (endpoints.go)

	inFlight atomic.Int64 // requests in the handler now (withRequestLog)
}

// Busy reports whether a request is in the handler now. The usage store
// works between requests on a one-core gateway while none is
// (usage/sqlite's SetBusy).
func (s *Server) Busy() bool { return s.inFlight.Load() > 0 }

// New builds a server with its routes and limits.
func New(opts Options) *Server {
	if opts.MaxRequestBody <= 0 {
		opts.MaxRequestBody = 8 << 20
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 10000
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Hour
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.AccessLog == nil {
		opts.AccessLog = accesslog.Slog(opts.Log)
	}
	s := &Server{opts: opts}
	r := router.New()
	s.routes(routeTable{r})
	if dir := opts.Directory; dir != nil {
		metrics.SetTeamActors(func() int {
			if n := dir.Teams(); n >= 0 {
				return n + 1 // + the master key's actor
			}
			return 0
		})
	}
	s.srv = &fasthttp.Server{
		Handler:               s.withRequestLog(r.Handler),
		Name:                  "gateway",
		NoDefaultServerHeader: true,
		MaxRequestBodySize:    opts.MaxRequestBody,
		ReadTimeout:           opts.ReadTimeout,
		IdleTimeout:           opts.IdleTimeout,
		// No WriteTimeout: it would cut long streams.
		Concurrency:                  opts.MaxConns,
		ReadBufferSize:               readBufferSize,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		ErrorHandler:                 s.transportError,
		Logger:                       fasthttpLogger{opts.Log}, // never prints request bytes: transportlog.go
	}
	return s
}

// Handler returns the full request handler, for in-process use.
func (s *Server) Handler() fasthttp.RequestHandler { return s.srv.Handler }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown stops accepting connections and waits, bounded by ctx, for
// in-flight requests to finish.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, wire.Errorf(413, wire.TypeInvalidRequest,
			"request body is larger than the %d byte limit; send a smaller request or raise general_settings.max_request_size_mb", s.opts.MaxRequestBody))
	case errors.Is(err, fasthttp.ErrSmallReadBuffer):
		writeError(ctx, wire.Errorf(431, wire.TypeInvalidRequest,
			"request headers are larger than the %d byte limit; send fewer or smaller headers", readBufferSize))
	case isTimeout(err):
		writeError(ctx, wire.Errorf(408, wire.TypeInvalidRequest, "request was not received in time"))
	default:
		// fasthttp's error quotes the request bytes (headers included):
		// only its description is echoed.
		writeError(ctx, wire.BadRequest("malformed HTTP request: %s", transportErrorText(err)))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// snapshot is the live configuration (nil in a server without a store).
func (s *Server) snapshot() *configs.Snapshot {
	if s.opts.Store == nil {
		return nil
	}
	return s.opts.Store.Snapshot()
}
