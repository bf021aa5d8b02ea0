// Package bus is the platform's event bus on NATS JetStream.
//
// It provides:
//
//   - Embedded: a NATS server with JetStream running inside the process
//     (StartEmbedded), used by `factoryctl dev` and by tests, with file storage
//     that survives restarts.
//   - Bus: a client bound to one connection and one CloudEvents source
//     (New, Connect).
//   - Streams as code: StreamSpec, the platform's standard streams
//     (CatalogStream … DLQStream, DataStream) and Bus.EnsureStreams, which
//     creates or updates them idempotently at start-up.
//   - Publishing: Bus.Publish and Bus.PublishProto wait for the JetStream ack
//     and stamp every message with CloudEvents 1.0 headers (ce-specversion,
//     ce-id = Nats-Msg-Id, ce-type, ce-source, ce-time, ce-subject),
//     content-type, and the W3C traceparent/tracestate of the caller's span.
//     EventFromMsg and ContextWithTrace read them back.
//   - Consuming: Bus.Consume runs a durable pull consumer with explicit acks,
//     retries failed messages with a backoff, and moves a message that fails
//     MaxDeliver times (or with a Permanent error) to dlq.<subject> with the
//     reason. Each handled message gets an OpenTelemetry span whose parent is
//     the publisher's span.
//   - Subjects: Subject and ValidateToken build and check subject names.
//
// Everything here works against nats-server 2.9 and later: the package uses no
// feature newer than 2.9 (no multiple consumer filter subjects, stream
// metadata, per-message TTL, priority groups or TERM reasons).
package bus
