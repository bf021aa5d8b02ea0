package ingestion_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/store/storetest"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion"
)

// TestNATSRestartMidStream restarts the NATS server while a producer
// streams batches: the producer sees Unavailable, retries the batch, and
// the stream ends up with every record exactly once.
func TestNATSRestartMidStream(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	quiet := slog.New(slog.DiscardHandler)
	start := func() *bus.Embedded {
		e, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: filepath.Join(dir, "nats"), Listen: addr, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	srv := start()
	t.Cleanup(func() { srv.Shutdown() })
	b, err := bus.Connect(t.Context(), srv.ClientURL(), "aifactory/restart-test", bus.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	m := newMeshOn(t, b, storetest.SQLite(t), storetest.SQLite(t), func(o *ingestion.Options) {
		o.Config.AckTimeout = 2 * time.Second
	})
	d := m.product("sales", "orders", "sales-orders.odcs.yaml")
	sam := m.ingest("sam")

	const batches, perBatch = 40, 250
	restarted := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		srv.Shutdown()
		time.Sleep(700 * time.Millisecond)
		srv = start()
		close(restarted)
	}()
	unavailable := 0
	for i := range batches {
		var recs [][]byte
		for j := range perBatch {
			recs = append(recs, order(i*perBatch+j, ""))
		}
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			_, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(recs...)})
			cancel()
			if err == nil {
				break
			}
			if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
				t.Fatalf("batch %d: %v", i, err)
			}
			unavailable++
			if attempt > 100 {
				t.Fatalf("batch %d never went through: %v", i, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-restarted
	if unavailable == 0 {
		t.Fatal("the producer never saw the outage; the test proved nothing")
	}
	var n uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n = m.streamCount("DATA_"+upper(d), "data."+d+".orders.v1"); n == batches*perBatch {
			break
		}
	}
	if n != batches*perBatch {
		t.Fatalf("stream holds %d records, want exactly %d", n, batches*perBatch)
	}
	t.Logf("%d retried calls during the restart; %d records stored exactly once", unavailable, n)
}
