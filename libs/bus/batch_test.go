package bus

import (
	"context"
	"fmt"
	"testing"
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
