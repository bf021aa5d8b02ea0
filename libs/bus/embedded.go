package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ListenEnv is the setting that chooses the embedded server's client address;
// it is named in the error returned when that address is taken.
const ListenEnv = "FACTORY_NATS_LISTEN"

// EmbeddedOptions configures StartEmbedded.
type EmbeddedOptions struct {
	// StoreDir is the JetStream file-storage directory (required). Streams
	// and their messages survive a restart that reuses the same directory.
	StoreDir string
	// Listen is the client address host:port, e.g. "127.0.0.1:7222". Port 0
	// or -1 picks a free port (tests). Empty means no TCP listener at all:
	// clients connect in-process only, through Embedded.Connect.
	Listen string
	// ServerName names the server in logs and monitoring (default
	// "aifactory-embedded").
	ServerName string
	// ReadyTimeout bounds the wait for the server to accept connections
	// (default 10s).
	ReadyTimeout time.Duration
	// Logger receives the server's log lines (default slog.Default()).
	// Debug and trace lines are not enabled.
	Logger *slog.Logger
}

// Embedded is a NATS server with JetStream running inside this process.
type Embedded struct {
	srv       *server.Server
	listening bool
}

// StartEmbedded starts a NATS server with JetStream enabled in file storage
// under opts.StoreDir and waits until it accepts connections. When
// opts.Listen names an address that is already in use it fails before
// starting, with an error naming FACTORY_NATS_LISTEN and the address.
func StartEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("bus: embedded NATS: StoreDir is required")
	}
	if opts.ServerName == "" {
		opts.ServerName = "aifactory-embedded"
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	sopts := &server.Options{
		ServerName: opts.ServerName,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		NoSigs:     true, // the host process owns signal handling
	}
	if opts.Listen == "" {
		sopts.DontListen = true
	} else {
		host, portStr, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: embedded NATS: %s=%q is not host:port: %w", ListenEnv, opts.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < -1 || port > 65535 {
			return nil, fmt.Errorf("bus: embedded NATS: %s=%q: invalid port %q", ListenEnv, opts.Listen, portStr)
		}
		if port == 0 {
			port = server.RANDOM_PORT // nats-server reads 0 as "default 4222"
		}
		if port > 0 {
			// Check first: the server would otherwise log and retry, and the
			// error would not tell the user which setting to change.
			l, err := net.Listen("tcp", opts.Listen)
			if err != nil {
				return nil, fmt.Errorf("bus: embedded NATS: cannot listen on %s=%s (address in use? set %s to a free host:port): %w",
					ListenEnv, opts.Listen, ListenEnv, err)
			}
			if err := l.Close(); err != nil {
				return nil, fmt.Errorf("bus: embedded NATS: releasing port probe on %s: %w", opts.Listen, err)
			}
		}
		sopts.Host = host
		sopts.Port = port
	}

	s, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded NATS: %w", err)
	}
	s.SetLoggerV2(slogAdapter{l: opts.Logger.With("component", "nats-server")}, false, false, false)
	go s.Start()
	if !s.ReadyForConnections(opts.ReadyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded NATS (store %s, listen %q) not ready within %s", opts.StoreDir, opts.Listen, opts.ReadyTimeout)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded NATS: JetStream failed to start (store %s)", opts.StoreDir)
	}
	return &Embedded{srv: s, listening: !sopts.DontListen}, nil
}

// ClientURL returns the nats:// URL clients use, or "" when the server has no
// TCP listener (use Connect then).
func (e *Embedded) ClientURL() string {
	if !e.listening {
		return ""
	}
	return e.srv.ClientURL()
}

// Connect opens a client connection to the embedded server: in-process when
// it has no listener, over TCP otherwise. opts are applied after the
// defaults (name "aifactory-embedded-client", infinite reconnects).
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	all := append([]nats.Option{nats.Name("aifactory-embedded-client"), nats.MaxReconnects(-1)}, opts...)
	url := e.srv.ClientURL()
	if !e.listening {
		all = append(all, nats.InProcessServer(e.srv))
		url = ""
	}
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to embedded NATS: %w", err)
	}
	return nc, nil
}

// ConnectBus opens a Bus on the embedded server (see Embedded.Connect); the
// Bus owns the connection and drains it in Close.
func (e *Embedded) ConnectBus(ctx context.Context, source string, opts ...Option) (*Bus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	nc, err := e.Connect(o.natsOpts...)
	if err != nil {
		return nil, err
	}
	b, err := newBus(nc, source, o, true)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

// Shutdown stops the server gracefully (JetStream flushes its store) and
// waits until it has stopped. It is safe to call more than once.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// Server returns the underlying nats-server, for monitoring or tests.
func (e *Embedded) Server() *server.Server { return e.srv }

// slogAdapter routes nats-server's log lines to slog. Fatalf is logged as an
// error and does not exit: the host process decides what a failure means.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Noticef(f string, v ...any) { a.l.Info(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Warnf(f string, v ...any)   { a.l.Warn(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Fatalf(f string, v ...any)  { a.l.Error(fmt.Sprintf(f, v...), "fatal", true) }
func (a slogAdapter) Errorf(f string, v ...any)  { a.l.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Debugf(f string, v ...any)  { a.l.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Tracef(f string, v ...any)  { a.l.Debug(fmt.Sprintf(f, v...)) }
