package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestPublishBatch(t *testing.T) {
	eachServer(t, testPublishBatch)
}

func testPublishBatch(t *testing.T, b *Bus, _ string) {
	ctx := testCtx(t)
	r := randHex(t)
	spec := StreamSpec{Name: "BATCH_" + r, Subjects: []string{"batch" + r + ".>"}}
	if err := b.EnsureStreams(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.JetStream().DeleteStream(context.Background(), spec.Name) })
	subject := "batch" + r + ".x"
	var batch []Outgoing
	for i := range 5000 {
		batch = append(batch, Outgoing{Subject: subject, Event: Event{ID: fmt.Sprint("id-", i%4000), Type: "test.Event", Data: []byte("{}")}})
	}
	// A bad subject fails alone.
	batch = append(batch, Outgoing{Subject: "bad subject", Event: Event{Type: "test.Event"}})
	res, err := b.PublishBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	stored, dups, failed := 0, 0, 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			failed++
		case r.Ack.Duplicate:
			dups++
		default:
			stored++
		}
	}
	if stored != 4000 || dups != 1000 || failed != 1 {
		t.Fatalf("stored %d, duplicates %d, failed %d; want 4000, 1000, 1", stored, dups, failed)
	}
	info, err := b.JetStream().Stream(ctx, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 4000 {
		t.Fatalf("stream holds %d messages, want 4000", n)
	}
}

func TestPublishBatchFailures(t *testing.T) {
	eachServer(t, testPublishBatchFailures)
}

func testPublishBatchFailures(t *testing.T, b *Bus, _ string) {
	ctx := testCtx(t)
	r := randHex(t)
	spec := StreamSpec{Name: "BATCHF_" + r, Subjects: []string{"batchf" + r + ".>"}}
	if err := b.EnsureStreams(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.JetStream().DeleteStream(context.Background(), spec.Name) })

	// No stream captures the subject: the server answers "no responders".
	// The other events of the batch are stored all the same.
	batch := []Outgoing{
		{Subject: "nostream" + r + ".x", Event: Event{ID: "a", Type: "test.Event"}},
		{Subject: "batchf" + r + ".x", Event: Event{ID: "b", Type: "test.Event",
			Headers: nats.Header{"extra": {"1"}}}},
		{Subject: "batchf" + r + ".x", Event: Event{ID: "c", Type: "test.Event",
			Headers: nats.Header{"extra": {"2"}}}},
	}
	res, err := b.PublishBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[0].Err, jetstream.ErrNoStreamResponse) {
		t.Errorf("event to no stream: err = %v, want ErrNoStreamResponse", res[0].Err)
	}
	for i, want := range []uint64{1, 2} {
		if a := res[i+1]; a.Err != nil || a.Ack.Sequence != want || a.Ack.Stream != spec.Name {
			t.Errorf("event %d: %+v, want stored at %s:%d", i+1, a, spec.Name, want)
		}
	}
	// One header map serves the whole batch: each stored message has its own
	// id and its own extra headers, and none of the others'.
	s, err := b.JetStream().Stream(ctx, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	for seq, want := range map[uint64][2]string{1: {"b", "1"}, 2: {"c", "2"}} {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if id, extra := m.Header.Get(HeaderMsgID), m.Header.Get("extra"); id != want[0] || extra != want[1] || m.Header.Get(HeaderID) != want[0] {
			t.Errorf("message %d: Nats-Msg-Id %q, ce-id %q, extra %q; want %q, %q", seq, id, m.Header.Get(HeaderID), extra, want[0], want[1])
		}
	}

	// A context that ends before the acks arrive fails every event not yet
	// acknowledged, with the context's error; nothing waits past it.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.PublishBatch(done, batch); !errors.Is(err, context.Canceled) {
		t.Errorf("PublishBatch with a done context: %v, want context.Canceled", err)
	}
	big := make([]Outgoing, 20000)
	for i := range big {
		big[i] = Outgoing{Subject: "batchf" + r + ".y", Event: Event{ID: fmt.Sprint("big-", i), Type: "test.Event", Data: make([]byte, 512)}}
	}
	// 20,000 acks take far longer than 20ms (~0.2s at 100k/s), and a 20ms
	// deadline has not passed yet when the call starts, even under -race.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	res, err = b.PublishBatch(short, big)
	if err != nil {
		t.Fatal(err)
	}
	unacked := 0
	for _, a := range res {
		if a.Err != nil {
			if !errors.Is(a.Err, context.DeadlineExceeded) {
				t.Fatalf("unacknowledged event: %v, want DeadlineExceeded", a.Err)
			}
			unacked++
		}
	}
	if unacked == 0 {
		t.Error("20000 events acknowledged within 20ms: the deadline was not tested")
	}
	t.Logf("%d of %d events unacknowledged at the deadline", unacked, len(big))
	// Acks still arriving for the abandoned batch are dropped; the next
	// batch gets only its own.
	res, err = b.PublishBatch(ctx, batch[1:])
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range res {
		if a.Err != nil || !a.Ack.Duplicate {
			t.Errorf("re-sent event %d: %+v, want a duplicate", i, a)
		}
	}
}

func TestParseAck(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Ack
		wantErr string
	}{
		{in: `{"stream":"DATA_SALES","seq":42}`, want: Ack{Stream: "DATA_SALES", Sequence: 42}},
		{in: `{"stream":"S","seq":7,"duplicate":true}`, want: Ack{Stream: "S", Sequence: 7, Duplicate: true}},
		// Shapes the direct reader leaves to encoding/json.
		{in: `{"stream":"S","domain":"hub","seq":9}`, want: Ack{Stream: "S", Sequence: 9}},
		{in: `{"stream":"S","seq":9,"duplicate":false}`, want: Ack{Stream: "S", Sequence: 9}},
		{in: ` {"seq":3,"stream":"S"}`, want: Ack{Stream: "S", Sequence: 3}},
		{in: `{"stream":"S\u0041","seq":1}`, want: Ack{Stream: "SA", Sequence: 1}},
		{in: `{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}`, wantErr: "maximum messages exceeded"},
		{in: `{"stream":"S","seq":}`, wantErr: "invalid JetStream publish ack"},
		{in: `{"seq":1}`, wantErr: "names no stream"},
		{in: ``, wantErr: "invalid JetStream publish ack"},
	} {
		got, err := parseAck([]byte(tc.in), "S")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseAck(%s) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseAck(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	var apiErr *jetstream.APIError
	if _, err := parseAck([]byte(`{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}}`), ""); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10060 {
		t.Errorf("server error: %v, want a *jetstream.APIError with err_code 10060", err)
	}
}

func BenchmarkParseAck(b *testing.B) {
	in := []byte(`{"stream":"DATA_SALES","seq":123456789}`)
	for b.Loop() {
		if _, err := parseAck(in, "DATA_SALES"); err != nil {
			b.Fatal(err)
		}
	}
}
