package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// TestLoaderAckTimeout: a stream on which acknowledgements stop counts as
// broken and is reopened like one that failed with Unavailable.
func TestLoaderAckTimeout(t *testing.T) {
	f := newFakeIngestion()
	f.holdAcks = 1000 // acknowledges only when the client closes its side
	addr := startIngestion(t, f)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dir := t.TempDir()
	fh, err := os.Open(writeJSONL(t, dir, 25))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	items, err := openItems(fh, formatJSONL, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	l := newLoader(ingestionv1.NewIngestionServiceClient(conn), items, loadOptions{
		Open:      &ingestionv1.StreamOpen{Target: &ingestionv1.Target{Domain: "sales", Product: "orders"}, RunId: "r"},
		BatchSize: 10, Inflight: 1, Retries: 1, Backoff: time.Millisecond, AckTimeout: 50 * time.Millisecond,
		Notify: func(s string) { notes = append(notes, s) },
	})
	err = l.run(context.Background())
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "no acknowledgement from the server within 50ms") {
		t.Fatalf("err = %v", err)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "resending 1 unacknowledged batch(es)") || notes[1] != "Giving up after 1 retries." {
		t.Errorf("notes = %q", notes)
	}
	if st, _, _, _ := l.result(); st.Counters.Read != 0 || st.Offset != 0 {
		t.Errorf("nothing was acknowledged, yet the position moved: %+v", st)
	}
}

// failingReader yields n good items, then fails.
type failingReader struct{ n, i int }

func (r *failingReader) Next() (item, error) {
	if r.i >= r.n {
		return item{}, errors.New("disk on fire")
	}
	r.i++
	return item{Line: int64(r.i), Offset: int64(r.i * 10), NextLine: int64(r.i + 1), JSON: []byte(fmt.Sprintf(`{"i":%d}`, r.i))}, nil
}

// TestLoaderReaderFailure: a reader that cannot go on stops the load
// (without retries) at the last acknowledged batch.
func TestLoaderReaderFailure(t *testing.T) {
	f := newFakeIngestion()
	addr := startIngestion(t, f)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var acked []loadState
	l := newLoader(ingestionv1.NewIngestionServiceClient(conn), &failingReader{n: 25}, loadOptions{
		Open:      &ingestionv1.StreamOpen{Target: &ingestionv1.Target{Domain: "sales", Product: "orders"}, RunId: "r"},
		BatchSize: 10, Inflight: 1, Retries: 5, Backoff: time.Millisecond,
		OnAck: func(st loadState) error { acked = append(acked, st); return nil },
	})
	done := make(chan error, 1)
	go func() { done <- l.run(context.Background()) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the load hangs after a reader failure")
	}
	if err == nil || !strings.Contains(err.Error(), "read the input after line 25: disk on fire") {
		t.Fatalf("err = %v", err)
	}
	if len(acked) != 2 || acked[1].Offset != 200 || acked[1].NextLine != 21 || acked[1].Counters.Stored != 20 {
		t.Errorf("acknowledged positions = %+v", acked)
	}
}
