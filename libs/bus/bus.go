package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Bus publishes and consumes platform events on one NATS connection. Source
// is the CloudEvents ce-source stamped on every event it publishes, e.g.
// "aifactory/catalog". A Bus is safe for concurrent use.
type Bus struct {
	// Source is the CloudEvents source of events published through this Bus.
	Source string

	nc     *nats.Conn
	js     jetstream.JetStream
	log    *slog.Logger
	tp     trace.TracerProvider
	owned  bool
	closed chan nats.Status

	// acks routes PublishBatch acknowledgements (see ackRouter).
	acksOnce sync.Once
	acks     *ackRouter
	acksErr  error
}

// Option configures New and Connect.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	tp       trace.TracerProvider
	natsOpts []nats.Option
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithTracerProvider sets the OpenTelemetry tracer provider for consumer
// spans (default: the global provider, otel.GetTracerProvider(), looked up
// per message so a provider installed after New is used).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithNATSOptions adds nats.go connection options; they are used by Connect
// and Embedded.ConnectBus (New receives an open connection) and apply after
// the defaults, so they can override them.
func WithNATSOptions(opts ...nats.Option) Option {
	return func(o *options) { o.natsOpts = append(o.natsOpts, opts...) }
}

func applyOptions(opts []Option) options {
	o := options{logger: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// New returns a Bus on an open connection. The caller keeps ownership of nc:
// Close does not close it.
func New(nc *nats.Conn, source string, opts ...Option) (*Bus, error) {
	if nc == nil {
		return nil, errors.New("bus: nil NATS connection")
	}
	return newBus(nc, source, applyOptions(opts), false)
}

func newBus(nc *nats.Conn, source string, o options, owned bool) (*Bus, error) {
	if source == "" {
		return nil, errors.New("bus: source (CloudEvents ce-source) is required")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bus: JetStream context: %w", err)
	}
	b := &Bus{Source: source, nc: nc, js: js, log: o.logger, tp: o.tp, owned: owned}
	if owned {
		b.closed = nc.StatusChanged(nats.CLOSED)
	}
	return b, nil
}

// Connect dials url and returns a Bus that owns the connection. The
// connection reconnects forever (every 2s, with jitter) and buffers up to
// 8 MiB of publishes while disconnected; disconnects and reconnects are
// logged. The initial dial is bounded by ctx's deadline (default 10s) and
// fails if the server is unreachable.
func Connect(ctx context.Context, url, source string, opts ...Option) (*Bus, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	o := applyOptions(opts)
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	log := o.logger
	nopts := []nats.Option{
		nats.Name(source),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(2 * time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.ReconnectBufSize(8 << 20),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil || nc.IsClosed() { // our own Close
				return
			}
			log.Warn("nats disconnected; reconnecting", "url", url, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Error("nats async error", "subject", subj, "err", err)
		}),
	}
	nc, err := nats.Connect(url, append(nopts, o.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	b, err := newBus(nc, source, o, true)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

// Conn returns the underlying connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the underlying JetStream context, for what this package
// does not wrap (stream info, key-value, object store).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Close drains and closes the connection when the Bus owns it (Connect,
// Embedded.ConnectBus), waiting for the drain to finish; a Bus made with New
// leaves the connection to its owner. Stop consumers (cancel their contexts)
// before calling Close.
func (b *Bus) Close() error {
	b.acksOnce.Do(func() {}) // no ack router after Close
	if !b.owned || b.nc.IsClosed() {
		if b.acks != nil && b.acks.sub != nil {
			_ = b.acks.sub.Unsubscribe() // the connection is the caller's
		}
		return nil
	}
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
		return fmt.Errorf("bus: draining connection: %w", err)
	}
	timeout := b.nc.Opts.DrainTimeout + time.Second
	select {
	case <-b.closed:
	case <-time.After(timeout):
		b.nc.Close()
		return fmt.Errorf("bus: connection drain did not finish within %s", timeout)
	}
	return nil
}

func (b *Bus) tracer() trace.Tracer {
	tp := b.tp
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(TracerName)
}

// Connected reports whether the connection to the server is up right now.
// Callers that answer users (an RPC waiting for acks) check it to fail fast
// with Unavailable instead of waiting out a reconnect.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }
