// Package service provides the runtime every aifactory service shares:
// configuration from FACTORY_* environment variables and flags, slog logging,
// OpenTelemetry tracing, a gRPC server with health, reflection, tracing,
// Prometheus metrics, panic recovery and bearer-token authentication, an HTTP
// endpoint for /metrics and /healthz, graceful shutdown, gRPC status helpers
// that carry field and precondition details, and a client dialer that sends
// the caller's token.
//
// A standalone service's main is, in outline:
//
//	var cfg service.Config
//	cfg.Name = "catalog"
//	cfg.RegisterFlags(flag.CommandLine)
//	flag.Parse()
//	// cfg.Validate, NewLogger, SetupTracing, cfg.LoadAuthSecret, auth.NewSigner …
//	srv, err := service.New(service.Options{Name: cfg.Name, Logger: log, Authenticator: signer})
//	catalogv1.RegisterCatalogServiceServer(srv.GRPC, handler)
//	srv.SetServing(catalogv1.CatalogService_ServiceDesc.ServiceName)
//	grpcLis, err := cfg.ListenGRPC()
//	httpLis, err := cfg.ListenHTTP()
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	return srv.Serve(ctx, grpcLis, httpLis)
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/auth"
)

// DefaultShutdownTimeout bounds how long Serve waits for in-flight calls to
// finish before it cuts them off.
const DefaultShutdownTimeout = 10 * time.Second

// DefaultPublicMethods returns the methods that need no token: the standard
// health and reflection services, so probes and grpcurl work unauthenticated.
func DefaultPublicMethods() []string {
	return []string{"/grpc.health.v1.Health/", "/grpc.reflection."}
}

// Options configures New.
type Options struct {
	// Name names the service in logs, e.g. "catalog". Required.
	Name string
	// Logger receives request logs (debug), panics and shutdown progress.
	// Nil discards them.
	Logger *slog.Logger
	// Authenticator verifies bearer tokens. Required: every call is
	// authenticated except PublicMethods.
	Authenticator auth.Authenticator
	// PublicMethods lists full method names ("/pkg.Service/Method") that skip
	// authentication; an entry ending in "/" or "." matches as a prefix. Nil
	// means DefaultPublicMethods; an empty non-nil slice makes every method
	// require a token.
	PublicMethods []string
	// Registry receives the gRPC and runtime metrics and is served on
	// /metrics. Nil creates a registry owned by the Server; the process-wide
	// default registry is never used.
	Registry *prometheus.Registry
	// ShutdownTimeout bounds the graceful drain; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// ServerOptions are appended to the server's own options; interceptors
	// given here run after the built-in ones.
	ServerOptions []grpc.ServerOption
}

// Server is a gRPC server plus its HTTP side. Register services on GRPC and
// extra HTTP handlers on Mux before calling Serve.
type Server struct {
	// GRPC is the gRPC server, with health and reflection registered.
	GRPC *grpc.Server
	// Health reports serving status; set SERVING per registered service name.
	// Serve sets everything NOT_SERVING when shutdown starts.
	Health *health.Server
	// Mux serves /metrics and /healthz; add handlers as needed.
	Mux *http.ServeMux
	// Registry is the registry served on /metrics; register service metrics
	// (aifactory_<service>_<what>_<unit>) here.
	Registry *prometheus.Registry

	name     string
	log      *slog.Logger
	authn    auth.Authenticator
	public   []string
	timeout  time.Duration
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	draining atomic.Bool
	served   atomic.Bool
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if opts.Name == "" {
		return nil, errors.New("service.New: Options.Name is empty")
	}
	if opts.Authenticator == nil {
		return nil, errors.New("service.New: Options.Authenticator is nil (every call must be authenticated)")
	}
	s := &Server{
		Health:   health.NewServer(),
		Mux:      http.NewServeMux(),
		Registry: opts.Registry,
		name:     opts.Name,
		log:      opts.Logger,
		authn:    opts.Authenticator,
		public:   opts.PublicMethods,
		timeout:  opts.ShutdownTimeout,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("service", opts.Name)
	if s.public == nil {
		s.public = DefaultPublicMethods()
	}
	if s.timeout <= 0 {
		s.timeout = DefaultShutdownTimeout
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}

	serverOpts := append([]grpc.ServerOption{
		// Calls run on a pool of goroutines whose stacks have already grown
		// through the interceptors (a fresh goroutine per call copies its
		// stack several times); when every worker is busy, as with long
		// streams, a call gets its own goroutine as without the pool.
		grpc.NumStreamWorkers(uint32(4 * runtime.GOMAXPROCS(0))),
		grpc.InitialWindowSize(StreamWindow),
		grpc.InitialConnWindowSize(ConnWindow),
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(s.observeUnary, s.recoverUnary, s.authUnary),
		grpc.ChainStreamInterceptor(s.observeStream, s.recoverStream, s.authStream),
	}, opts.ServerOptions...)
	s.GRPC = grpc.NewServer(serverOpts...)
	healthpb.RegisterHealthServer(s.GRPC, s.Health)
	reflection.Register(s.GRPC)

	s.Mux.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}))
	s.Mux.HandleFunc("/healthz", s.healthz)
	return s, nil
}

func (s *Server) registerMetrics() error {
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aifactory_grpc_requests_total",
		Help: "gRPC requests handled, by service, method and status code.",
	}, []string{"service", "method", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "aifactory_grpc_request_duration_seconds",
		Help:    "Time to handle a gRPC request (a whole stream for streaming calls).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"service", "method"})
	var err error
	if s.requests, err = register(s.Registry, s.requests); err != nil {
		return err
	}
	if s.duration, err = register(s.Registry, s.duration); err != nil {
		return err
	}
	if _, err = register(s.Registry, collectors.NewGoCollector()); err != nil {
		return err
	}
	_, err = register(s.Registry, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return err
}

// register adds c to reg, or returns the equal collector already there, so
// several servers can share one registry.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register metrics: %w", err)
	}
	return c, nil
}

// Serve serves gRPC on grpcLis and HTTP on httpLis (nil: no HTTP) until ctx
// is done or a listener fails, then shuts down: health NOT_SERVING (so
// /healthz answers 503 and load balancers stop routing), a graceful gRPC stop
// that drains in-flight calls for up to the shutdown timeout (then a hard
// stop), and finally the HTTP server. It returns the error that ended serving
// early, or nil after a requested shutdown. Serve may be called once.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	if grpcLis == nil {
		return errors.New("serve: nil gRPC listener")
	}
	if s.served.Swap(true) {
		return errors.New("serve: already called")
	}
	errc := make(chan error, 2)
	running := 1
	go func() {
		// ErrServerStopped means shutdown began before Serve got going.
		if err := s.GRPC.Serve(grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			errc <- fmt.Errorf("serve gRPC on %s: %w", grpcLis.Addr(), err)
			return
		}
		errc <- nil
	}()
	var hs *http.Server
	if httpLis != nil {
		hs = &http.Server{
			Handler:           s.Mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		running++
		go func() {
			if err := hs.Serve(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve HTTP on %s: %w", httpLis.Addr(), err)
				return
			}
			errc <- nil
		}()
	}
	s.log.InfoContext(ctx, "serving", "grpc", grpcLis.Addr().String(), "http", addrOf(httpLis))

	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		running--
		if first == nil {
			first = errors.New("serve: a server stopped unexpectedly")
		}
	}
	s.shutdown(hs)
	for ; running > 0; running-- {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Server) shutdown(hs *http.Server) {
	start := time.Now()
	s.log.Info("shutting down", "timeout", s.timeout)
	s.draining.Store(true)
	s.Health.Shutdown()

	done := make(chan struct{})
	go func() {
		s.GRPC.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(s.timeout)
	select {
	case <-done:
		timer.Stop()
	case <-timer.C:
		// Stop closes every connection, which cancels the calls' contexts.
		// GracefulStop keeps waiting for handlers that ignore cancellation;
		// nothing can end those, so do not wait for it any longer.
		s.log.Warn("in-flight gRPC calls did not finish in time; stopping hard", "timeout", s.timeout)
		s.GRPC.Stop()
	}

	if hs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			s.log.Warn("HTTP shutdown did not finish in time; closing", "err", err)
			_ = hs.Close()
		}
	}
	s.log.Info("stopped", "took", time.Since(start))
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// healthz answers 200 "ok" while every status in Health is SERVING and 503
// naming the services that are not, or once shutdown has started.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	resp, err := s.Health.List(r.Context(), &healthpb.HealthListRequest{})
	if err != nil {
		http.Error(w, "health: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	var down []string
	for name, st := range resp.GetStatuses() {
		if st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			if name == "" {
				name = "(server)"
			}
			down = append(down, name+"="+st.GetStatus().String())
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		http.Error(w, "not serving: "+strings.Join(down, ", "), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// --- interceptors, outermost first: observe, recover, auth ---

func (s *Server) observeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	s.observe(ctx, info.FullMethod, start, err)
	return resp, err
}

func (s *Server) observeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	s.observe(ss.Context(), info.FullMethod, start, err)
	return err
}

// observe records metrics and logs one finished call. Server-side failures
// are logged at error level; everything else at debug.
func (s *Server) observe(ctx context.Context, fullMethod string, start time.Time, err error) {
	took := time.Since(start)
	code := status.Code(err)
	svc, method := splitMethod(fullMethod)
	s.requests.WithLabelValues(svc, method, code.String()).Inc()
	s.duration.WithLabelValues(svc, method).Observe(took.Seconds())
	level := slog.LevelDebug
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		level = slog.LevelError
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("method", fullMethod), slog.String("code", code.String()), slog.Duration("took", took)}
	if err != nil {
		attrs = append(attrs, slog.String("err", status.Convert(err).Message()))
	}
	s.log.LogAttrs(ctx, level, "rpc", attrs...)
}

// splitMethod splits "/pkg.Service/Method" into its service and method.
func splitMethod(full string) (svc, method string) {
	svc, method, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		return "unknown", full
	}
	return svc, method
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer s.recovered(ctx, info.FullMethod, &err)
	return handler(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer s.recovered(ss.Context(), info.FullMethod, &err)
	return handler(srv, ss)
}

// recovered turns a handler panic into codes.Internal so one bad request
// cannot take the process down; the panic value stays in the log, not in the
// client's error.
func (s *Server) recovered(ctx context.Context, method string, err *error) {
	if r := recover(); r != nil {
		s.log.ErrorContext(ctx, "panic in gRPC handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, "internal error")
	}
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
}

type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *contextStream) Context() context.Context { return c.ctx }

// authenticate returns ctx carrying the caller's principal, or an
// Unauthenticated status saying what was wrong with the token.
func (s *Server) authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if s.isPublic(fullMethod) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	switch {
	case len(vals) == 0:
		return nil, status.Error(codes.Unauthenticated, `missing bearer token: send metadata "authorization: Bearer <token>"`)
	case len(vals) > 1:
		return nil, status.Error(codes.Unauthenticated, "more than one authorization metadata value")
	}
	scheme, token, _ := strings.Cut(vals[0], " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, status.Error(codes.Unauthenticated, `malformed authorization metadata: want "Bearer <token>"`)
	}
	p, err := s.authn.Authenticate(ctx, token)
	if err != nil {
		// An authenticator that answers with a status (e.g. Unavailable from
		// a remote identity service) knows best what the client should do.
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Unauthenticated, "invalid bearer token: %v", err)
	}
	return auth.NewContext(ctx, p), nil
}

func (s *Server) isPublic(fullMethod string) bool {
	for _, m := range s.public {
		if m == fullMethod || (strings.HasSuffix(m, "/") || strings.HasSuffix(m, ".")) && strings.HasPrefix(fullMethod, m) {
			return true
		}
	}
	return false
}

// SetServing marks the named gRPC services SERVING on the health service
// (Serve marks everything NOT_SERVING when shutdown starts).
func (s *Server) SetServing(services ...string) {
	for _, name := range services {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
}
