package bus

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
)

// Header names set on every published message.
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderID          = "ce-id"
	HeaderType        = "ce-type"
	HeaderSource      = "ce-source"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderContentType = "content-type"
	HeaderMsgID       = jetstream.MsgIDHeader // "Nats-Msg-Id", equal to ce-id
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"

	// SpecVersion is the CloudEvents version written to ce-specversion.
	SpecVersion = "1.0"
	// ContentTypeProtobuf is the content-type of PublishProto events.
	ContentTypeProtobuf = "application/protobuf"
	// ContentTypeJSON is the content-type of JSON event bodies (lineage
	// events; data records are always JSON and carry no content-type).
	ContentTypeJSON = "application/json"
)

// Event is a CloudEvent carried in a NATS message: the attributes travel as
// headers and Data is the message body.
type Event struct {
	// ID is ce-id and Nats-Msg-Id. Publishing the same ID twice within the
	// stream's Duplicates window stores the event once. Empty: a random UUID.
	ID string
	// Type is ce-type, e.g. "aifactory.catalog.v1.ContractPublished" (required).
	Type string
	// Source is ce-source; Publish fills it from Bus.Source when empty.
	Source string
	// Subject is ce-subject, the thing the event is about (optional), e.g. a
	// product id. Not to be confused with the NATS subject.
	Subject string
	// Time is ce-time (default: now), written as RFC 3339 with nanoseconds.
	Time time.Time
	// ContentType is the content-type of Data, e.g. "application/json".
	ContentType string
	// Data is the message body.
	Data []byte
	// Headers are extra headers, sent as given; the CloudEvents and trace
	// headers above take precedence. Publishing takes ownership of the map:
	// the CloudEvents headers are added to it, so do not reuse one map for
	// several events. EventFromMsg puts every header it does
	// not map to a field here.
	Headers nats.Header
}

// Ack is the JetStream acknowledgement of a published event.
type Ack struct {
	Stream   string
	Sequence uint64
	// Duplicate is true when the stream already held an event with this ID
	// within its deduplication window; nothing new was stored and Sequence
	// is that of the original.
	Duplicate bool
}

// traceKey keys the batch's traceparent in values (not a valid header value).
const (
	traceKey      = "\x00traceparent"
	traceStateKey = "\x00tracestate"
)

// propagator is fixed to W3C trace context so traceparent is written and
// read even when the process has not configured a global propagator.
var propagator = propagation.TraceContext{}

// headerCarrier adapts nats.Header (case-sensitive keys) to the
// OpenTelemetry TextMapCarrier; keys are lower case, as propagators use them.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string {
	if v := nats.Header(c).Get(key); v != "" {
		return v
	}
	// Tolerate publishers that canonicalised the key (Traceparent).
	for k, vs := range c {
		if strings.EqualFold(k, key) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(strings.ToLower(key), value) }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectTrace writes the W3C traceparent/tracestate of ctx's span into h.
func InjectTrace(ctx context.Context, h nats.Header) {
	propagator.Inject(ctx, headerCarrier(h))
}

// ContextWithTrace returns ctx carrying the remote span context found in h's
// traceparent/tracestate, so spans started from it are children of the
// publisher's span. Without a valid traceparent it returns ctx unchanged.
func ContextWithTrace(ctx context.Context, h nats.Header) context.Context {
	return propagator.Extract(ctx, headerCarrier(h))
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// values interns header values within one batch: the CloudEvents type,
// source, content type, trace context… repeat on every message, and
// nats.Header needs a []string per value. Messages only read them.
type values map[string][]string

func (v values) get(s string) []string {
	if v == nil {
		return []string{s}
	}
	if vs, ok := v[s]; ok {
		return vs
	}
	vs := []string{s}
	v[s] = vs
	return vs
}

// message builds the NATS message for ev on subject. The event's header
// map becomes the message's (see Event.Headers).
func (b *Bus) message(ctx context.Context, subject string, ev Event) (*nats.Msg, Event, error) {
	if err := validateSubject(subject, false); err != nil {
		return nil, ev, err
	}
	h := ev.Headers
	if h == nil {
		h = make(nats.Header, 10)
	}
	ev, err := b.setHeaders(ctx, subject, ev, nil, h)
	if err != nil {
		return nil, ev, err
	}
	return &nats.Msg{Subject: subject, Header: h, Data: ev.Data}, ev, nil
}

// setHeaders fills in ev's defaults (ID, Source, Time) and writes its
// CloudEvents and trace headers into h, over any of the same names already
// there. vals, when not nil, shares repeated header values (and the trace
// context) across the events of a batch.
func (b *Bus) setHeaders(ctx context.Context, subject string, ev Event, vals values, h nats.Header) (Event, error) {
	if ev.Type == "" {
		return ev, fmt.Errorf("bus: publish to %s: event Type (ce-type) is required", subject)
	}
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Source == "" {
		ev.Source = b.Source
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	id := []string{ev.ID}
	h[HeaderSpecVersion] = vals.get(SpecVersion)
	h[HeaderID] = id
	h[HeaderMsgID] = id
	h[HeaderType] = vals.get(ev.Type)
	h[HeaderSource] = vals.get(ev.Source)
	h[HeaderTime] = []string{ev.Time.UTC().Format(time.RFC3339Nano)}
	if ev.Subject != "" {
		h[HeaderSubject] = vals.get(ev.Subject)
	} else {
		delete(h, HeaderSubject) // an extra header of that name
	}
	if ev.ContentType != "" {
		h[HeaderContentType] = vals.get(ev.ContentType)
	}
	if vals == nil {
		InjectTrace(ctx, h)
	} else if tp, ok := vals[traceKey]; ok {
		if len(tp) > 0 {
			h[HeaderTraceParent] = tp
		}
		if ts := vals[traceStateKey]; len(ts) > 0 {
			h[HeaderTraceState] = ts
		}
	} else {
		InjectTrace(ctx, h)
		vals[traceKey] = h[HeaderTraceParent] // nil when ctx has no span
		vals[traceStateKey] = h[HeaderTraceState]
	}
	return ev, nil
}

// Publish stores ev on subject and waits for the JetStream ack. A nil error
// means the event is stored (or was already stored: Ack.Duplicate). The
// subject must be captured by a stream; otherwise the publish fails with
// jetstream.ErrNoStreamResponse.
func (b *Bus) Publish(ctx context.Context, subject string, ev Event) (Ack, error) {
	msg, ev, err := b.message(ctx, subject, ev)
	if err != nil {
		return Ack{}, err
	}
	pa, err := b.js.PublishMsg(ctx, msg)
	if err != nil {
		return Ack{}, fmt.Errorf("bus: publish %s (ce-type %s, ce-id %s): %w", subject, ev.Type, ev.ID, err)
	}
	return Ack{Stream: pa.Stream, Sequence: pa.Sequence, Duplicate: pa.Duplicate}, nil
}

// PublishOption sets an optional attribute of an event built by PublishProto.
type PublishOption func(*Event)

// WithID sets ce-id / Nats-Msg-Id (default: a random UUID). Derive it from
// the business key to make retried publishes idempotent.
func WithID(id string) PublishOption { return func(e *Event) { e.ID = id } }

// WithEventSubject sets ce-subject, the thing the event is about.
func WithEventSubject(s string) PublishOption { return func(e *Event) { e.Subject = s } }

// WithTime sets ce-time (default: now).
func WithTime(t time.Time) PublishOption { return func(e *Event) { e.Time = t } }

// WithHeader adds an extra header.
func WithHeader(key, value string) PublishOption {
	return func(e *Event) {
		if e.Headers == nil {
			e.Headers = nats.Header{}
		}
		e.Headers.Add(key, value)
	}
}

// PublishProto publishes msg in protobuf binary encoding with content-type
// application/protobuf and ce-type set to the message's full name (e.g.
// "aifactory.catalog.v1.ContractPublished").
func (b *Bus) PublishProto(ctx context.Context, subject string, msg proto.Message, opts ...PublishOption) (Ack, error) {
	if msg == nil {
		return Ack{}, fmt.Errorf("bus: publish %s: nil proto message", subject)
	}
	data, err := proto.Marshal(msg)
	if err != nil {
		return Ack{}, fmt.Errorf("bus: publish %s: marshal %s: %w", subject, msg.ProtoReflect().Descriptor().FullName(), err)
	}
	ev := Event{
		Type:        string(msg.ProtoReflect().Descriptor().FullName()),
		ContentType: ContentTypeProtobuf,
		Data:        data,
	}
	for _, o := range opts {
		o(&ev)
	}
	return b.Publish(ctx, subject, ev)
}

// ErrNotCloudEvent is returned by EventFromMsg for a message without the
// required CloudEvents headers (ce-specversion, ce-id, ce-type).
var ErrNotCloudEvent = errors.New("bus: message is not a CloudEvent")

// EventFromMsg reads the CloudEvent carried by a received message. Headers
// that are not CloudEvents attributes, content-type or trace context (for
// example Nats-Msg-Id or application headers) are returned in Event.Headers.
func EventFromMsg(m jetstream.Msg) (Event, error) {
	return ParseEvent(m.Headers(), m.Data())
}

// ParseEvent is EventFromMsg for headers and data obtained another way: a
// core nats.Msg, or a stored message read with Stream.GetMsg.
func ParseEvent(h nats.Header, data []byte) (Event, error) {
	ev := Event{
		ID:          h.Get(HeaderID),
		Type:        h.Get(HeaderType),
		Source:      h.Get(HeaderSource),
		Subject:     h.Get(HeaderSubject),
		ContentType: h.Get(HeaderContentType),
		Data:        data,
	}
	if h.Get(HeaderSpecVersion) == "" || ev.ID == "" || ev.Type == "" {
		return ev, fmt.Errorf("%w: missing %s, %s or %s", ErrNotCloudEvent, HeaderSpecVersion, HeaderID, HeaderType)
	}
	if ts := h.Get(HeaderTime); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return ev, fmt.Errorf("bus: event %s: invalid %s %q: %w", ev.ID, HeaderTime, ts, err)
		}
		ev.Time = t
	}
	for k, vs := range h {
		switch k {
		case HeaderSpecVersion, HeaderID, HeaderType, HeaderSource, HeaderTime, HeaderSubject,
			HeaderContentType, HeaderTraceParent, HeaderTraceState:
			continue
		}
		if ev.Headers == nil {
			ev.Headers = nats.Header{}
		}
		ev.Headers[k] = append([]string(nil), vs...)
	}
	return ev, nil
}
