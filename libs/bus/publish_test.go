package bus

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// spanCtx returns ctx carrying a fixed, sampled remote span context.
func spanCtx(ctx context.Context) (context.Context, trace.SpanContext) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	return trace.ContextWithRemoteSpanContext(ctx, sc), sc
}

func TestPublishHeaders(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx, sc := spanCtx(testCtx(t))
		when := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("CET", 3600))
		subject := f.subject("catalog", "contract")

		ack, err := b.Publish(ctx, subject, Event{
			ID:          "evt-1",
			Type:        "aifactory.catalog.v1.ContractPublished",
			Subject:     "sales/orders",
			Time:        when,
			ContentType: ContentTypeJSON,
			Data:        []byte(`{"v":1}`),
			Headers:     map[string][]string{"x-tenant": {"acme"}, HeaderID: {"ignored"}},
		})
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if ack.Stream != f.events.Name || ack.Sequence != 1 || ack.Duplicate {
			t.Errorf("Ack = %+v; want first message of %s", ack, f.events.Name)
		}

		raw := getMsg(t, b, f.events.Name, ack.Sequence)
		want := map[string]string{
			"ce-specversion": "1.0",
			"ce-id":          "evt-1",
			"Nats-Msg-Id":    "evt-1",
			"ce-type":        "aifactory.catalog.v1.ContractPublished",
			"ce-source":      "aifactory/bus-test",
			"ce-time":        "2026-03-04T04:06:07.00000089Z",
			"ce-subject":     "sales/orders",
			"content-type":   "application/json",
			"traceparent":    "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01",
			"x-tenant":       "acme",
		}
		for k, v := range want {
			if got := raw.Header.Get(k); got != v {
				t.Errorf("header %s = %q; want %q", k, got, v)
			}
		}
		if string(raw.Data) != `{"v":1}` {
			t.Errorf("data = %q", raw.Data)
		}

		ev, err := ParseEvent(raw.Header, raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != "evt-1" || ev.Source != "aifactory/bus-test" || !ev.Time.Equal(when) || ev.Subject != "sales/orders" ||
			ev.Headers.Get("x-tenant") != "acme" {
			t.Errorf("ParseEvent = %+v", ev)
		}
		if got := trace.SpanContextFromContext(ContextWithTrace(context.Background(), raw.Header)); got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() {
			t.Errorf("ContextWithTrace: span context %v; want %v", got, sc)
		}
	})
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPublishDefaults(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		before := time.Now()
		ack, err := b.Publish(ctx, f.subject("x"), Event{Type: "aifactory.test.v1.Thing"})
		if err != nil {
			t.Fatal(err)
		}
		raw := getMsg(t, b, f.events.Name, ack.Sequence)
		if id := raw.Header.Get(HeaderID); !uuidRE.MatchString(id) || raw.Header.Get(HeaderMsgID) != id {
			t.Errorf("generated ce-id %q / Nats-Msg-Id %q; want one UUIDv4", id, raw.Header.Get(HeaderMsgID))
		}
		ts, err := time.Parse(time.RFC3339Nano, raw.Header.Get(HeaderTime))
		if err != nil || ts.Before(before.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("ce-time %q (%v); want now", raw.Header.Get(HeaderTime), err)
		}
		for _, k := range []string{HeaderSubject, HeaderContentType, HeaderTraceParent} {
			if _, ok := raw.Header[k]; ok {
				t.Errorf("header %s set without a value to carry", k)
			}
		}

		for _, bad := range []struct {
			subject string
			ev      Event
		}{
			{f.subject("x"), Event{}},                 // no type
			{f.prefix + ".*", Event{Type: "t"}},       // wildcard
			{"", Event{Type: "t"}},                    // empty
			{f.prefix + "..x", Event{Type: "t"}},      // empty token
			{"nostream" + f.prefix, Event{Type: "t"}}, // no stream captures it
		} {
			if _, err := b.Publish(ctx, bad.subject, bad.ev); err == nil {
				t.Errorf("Publish(%q, %+v): no error", bad.subject, bad.ev)
			}
		}
	})
}

func TestPublishDuplicate(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		ev := Event{ID: "same-id", Type: "aifactory.test.v1.Thing", Data: []byte("1")}
		first, err := b.Publish(ctx, f.subject("dup"), ev)
		if err != nil {
			t.Fatal(err)
		}
		second, err := b.Publish(ctx, f.subject("dup"), ev)
		if err != nil {
			t.Fatal(err)
		}
		if first.Duplicate || !second.Duplicate || second.Sequence != first.Sequence {
			t.Errorf("acks %+v, %+v; want the second a duplicate of the first", first, second)
		}
		if n := streamInfo(t, b, f.events.Name).State.Msgs; n != 1 {
			t.Errorf("stream holds %d messages; want 1", n)
		}
	})
}

func TestPublishProto(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		when := time.Now().Add(-time.Hour)
		ack, err := b.PublishProto(ctx, f.subject("proto"), wrapperspb.String("hello"),
			WithID("p-1"), WithEventSubject("thing/1"), WithTime(when), WithHeader("x-a", "b"))
		if err != nil {
			t.Fatal(err)
		}
		raw := getMsg(t, b, f.events.Name, ack.Sequence)
		ev, err := ParseEvent(raw.Header, raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != "google.protobuf.StringValue" || ev.ContentType != ContentTypeProtobuf || ev.ID != "p-1" ||
			ev.Subject != "thing/1" || !ev.Time.Equal(when) || ev.Headers.Get("x-a") != "b" {
			t.Errorf("event = %+v", ev)
		}
		var got wrapperspb.StringValue
		if err := proto.Unmarshal(ev.Data, &got); err != nil || got.GetValue() != "hello" {
			t.Errorf("data = %v, %v", got.GetValue(), err)
		}
		if _, err := b.PublishProto(ctx, f.subject("proto"), nil); err == nil {
			t.Error("PublishProto(nil): no error")
		}
	})
}

func getMsg(t *testing.T, b *Bus, stream string, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := testCtx(t)
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetMsg(ctx, seq)
	if err != nil {
		t.Fatalf("GetMsg(%s, %d): %v", stream, seq, err)
	}
	return raw
}
