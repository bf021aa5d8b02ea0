// Package client resolves the address and bearer token factoryctl talks to
// and dials the aifactory gRPC services with them.
package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/devserver"
)

// Environment variables read by this package.
const (
	AddrVar    = "FACTORY_ADDR"
	TokenVar   = "FACTORY_TOKEN"
	DataDirVar = "FACTORY_DATA_DIR"
)

// Defaults of the dev mesh (`make run` / `factoryctl dev`).
const (
	DefaultAddr    = devserver.DefaultGRPCAddr
	DefaultDataDir = devserver.DefaultDataDir
	// AdminTokenFile is the name of the file, in the data dir, to which the
	// dev mesh writes its admin token.
	AdminTokenFile = devserver.AdminTokenFile
)

// Env looks up an environment variable; os.Getenv in production, a map in
// tests.
type Env func(key string) string

// DefaultAddress returns $FACTORY_ADDR or the dev mesh address.
func DefaultAddress(env Env) string {
	if a := env(AddrVar); a != "" {
		return a
	}
	return DefaultAddr
}

// AdminTokenPath returns where the dev mesh keeps its admin token:
// $FACTORY_DATA_DIR/admin.token, with the data dir defaulting to ./.factory.
func AdminTokenPath(env Env) string {
	dir := env(DataDirVar)
	if dir == "" {
		dir = DefaultDataDir
	}
	return filepath.Join(dir, AdminTokenFile)
}

// ResolveToken picks the bearer token for addr: the explicit flag value,
// else $FACTORY_TOKEN, else — only when addr is a loopback address, i.e.
// the local dev mesh — the admin token the dev mesh wrote to its data dir.
// The token is never read from disk for a remote address so that a dev
// admin token does not leak to another server.
func ResolveToken(addr, flagValue string, env Env, readFile func(string) ([]byte, error)) (string, error) {
	if t := strings.TrimSpace(flagValue); t != "" {
		return t, nil
	}
	if t := strings.TrimSpace(env(TokenVar)); t != "" {
		return t, nil
	}
	if !IsLoopback(addr) {
		return "", fmt.Errorf("no token for %s: pass --token or set %s", addr, TokenVar)
	}
	path := AdminTokenPath(env)
	b, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("no token for %s: pass --token or set %s, or start the dev mesh (`make run` or `factoryctl dev`), which writes its admin token to %s (set %s if its data dir is elsewhere)",
			addr, TokenVar, path, DataDirVar)
	case err != nil:
		return "", fmt.Errorf("read the dev mesh admin token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("the dev mesh admin token file %s is empty: restart the dev mesh or pass --token", path)
	}
	return t, nil
}

// IsLoopback reports whether addr ("host:port", "host", or a gRPC target
// such as "dns:///host:port") names this machine: localhost, 127.0.0.0/8 or
// ::1.
func IsLoopback(addr string) bool {
	host := addr
	if i := strings.LastIndex(host, "///"); i >= 0 {
		host = host[i+3:]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Options configure Dial.
type Options struct {
	// Addr is the gRPC target, e.g. "127.0.0.1:7100".
	Addr string
	// Token is sent as "authorization: Bearer <token>" on every call.
	Token string
}

// Dial creates a client connection to opts.Addr with plaintext transport
// (the mesh terminates TLS in front of it), the bearer token on every call,
// OpenTelemetry client spans, and errors of an unreachable server turned
// into *UnreachableError. The connection is lazy: nothing is sent until the
// first call.
func Dial(opts Options) (*grpc.ClientConn, error) {
	if opts.Addr == "" {
		return nil, errors.New("dial: empty address")
	}
	conn, err := grpc.NewClient(opts.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(opts.Token)),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(unreachableInterceptor(opts.Addr)),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", opts.Addr, err)
	}
	return conn, nil
}

// bearer is a grpc.PerRPCCredentials that sends a bearer token. It does not
// require transport security because the dev mesh listens on plaintext
// loopback.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if b == "" {
		return nil, nil
	}
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// UnreachableError reports that no server answered at Addr. It
// deliberately neither unwraps to nor exposes the Unavailable status, so
// that error renderers print its own advice rather than the transport's
// message; test for it with errors.As.
type UnreachableError struct {
	Addr string
	// Err is the gRPC status error of the failed call.
	Err error
}

func (e *UnreachableError) Error() string {
	cause := status.Convert(e.Err).Message()
	if _, after, ok := strings.Cut(cause, "Error while dialing: "); ok {
		cause = strings.TrimSuffix(after, `"`)
	}
	return fmt.Sprintf("the mesh at %s is not reachable (%s): start it with `make run` or `factoryctl dev`, or pass --addr", e.Addr, cause)
}

func unreachableInterceptor(addr string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if IsConnectionError(err) {
			return &UnreachableError{Addr: addr, Err: err}
		}
		return err
	}
}

// IsConnectionError reports whether err is the transport failing to reach
// the server (connection refused, unknown host, ...) rather than the server
// itself answering Unavailable.
func IsConnectionError(err error) bool {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable {
		return false
	}
	msg := st.Message()
	for _, s := range []string{"connection error", "connection refused", "no such host", "dial tcp", "name resolver", "produced zero addresses", "connection reset"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
