package bus

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartEmbeddedRequiresStoreDir(t *testing.T) {
	if _, err := StartEmbedded(EmbeddedOptions{}); err == nil || !strings.Contains(err.Error(), "StoreDir") {
		t.Fatalf("StartEmbedded without StoreDir: %v; want an error naming StoreDir", err)
	}
}

func TestStartEmbeddedPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()

	_, err = StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Listen: addr, Logger: testLogger()})
	if err == nil {
		t.Fatalf("StartEmbedded on taken %s: no error", addr)
	}
	for _, want := range []string{ListenEnv, addr} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestStartEmbeddedBadListen(t *testing.T) {
	for _, listen := range []string{"localhost", "127.0.0.1:http", "127.0.0.1:70000"} {
		_, err := StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Listen: listen, Logger: testLogger()})
		if err == nil || !strings.Contains(err.Error(), ListenEnv) {
			t.Errorf("Listen %q: error %v; want one naming %s", listen, err, ListenEnv)
		}
	}
}

// TestEmbeddedRestartKeepsData stores an event with an in-process-only
// server, restarts it on the same StoreDir with a TCP listener, and reads the
// event back.
func TestEmbeddedRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	dir := t.TempDir()
	spec := StreamSpec{Name: "RESTART", Subjects: []string{"restart.>"}}

	e, err := StartEmbedded(EmbeddedOptions{StoreDir: dir, ServerName: "restart-test", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if e.ClientURL() != "" {
		t.Errorf("ClientURL() = %q without a listener; want empty", e.ClientURL())
	}
	b, err := e.ConnectBus(ctx, "aifactory/test", WithLogger(testLogger()))
	if err != nil {
		e.Shutdown()
		t.Fatal(err)
	}
	if err := b.EnsureStreams(ctx, spec); err != nil {
		t.Fatal(err)
	}
	ack, err := b.Publish(ctx, "restart.one", Event{ID: "keep-me", Type: "aifactory.test.v1.Kept", Data: []byte("payload")})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	e.Shutdown()
	e.Shutdown() // idempotent

	e2, err := StartEmbedded(EmbeddedOptions{StoreDir: dir, ServerName: "restart-test", Listen: "127.0.0.1:0", Logger: testLogger()})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(e2.Shutdown)
	if !strings.HasPrefix(e2.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(e2.ClientURL(), ":0") {
		t.Errorf("ClientURL() = %q; want nats://127.0.0.1:<port>", e2.ClientURL())
	}
	b2 := connectBus(t, e2.ClientURL())
	s, err := b2.js.Stream(ctx, spec.Name)
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	raw, err := s.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatalf("message after restart: %v", err)
	}
	ev, err := ParseEvent(raw.Header, raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "keep-me" || string(ev.Data) != "payload" {
		t.Errorf("after restart: %+v", ev)
	}
	// Deduplication state survives too: the same ID is still a duplicate.
	ack2, err := b2.Publish(ctx, "restart.one", Event{ID: "keep-me", Type: "aifactory.test.v1.Kept"})
	if err != nil {
		t.Fatal(err)
	}
	if !ack2.Duplicate {
		t.Errorf("re-publish after restart: Duplicate = false")
	}
}

func TestEmbeddedConnectInProcess(t *testing.T) {
	t.Parallel()
	e, err := StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, err := e.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := New(nc, "aifactory/test", WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.EnsureStreams(ctx, PlatformStreams()...); err != nil {
		t.Fatalf("EnsureStreams(platform): %v", err)
	}
	if err := b.EnsureStreams(ctx, DataStream("credit-risk")); err != nil {
		t.Fatalf("EnsureStreams(data): %v", err)
	}
	ack, err := b.Publish(ctx, "data.credit-risk.loans", Event{Type: "aifactory.data.v1.Record", ContentType: ContentTypeJSON, Data: []byte(`{}`)})
	if err != nil || ack.Stream != "DATA_CREDIT_RISK" {
		t.Fatalf("Publish = %+v, %v; want stored in DATA_CREDIT_RISK", ack, err)
	}
	if err := b.Close(); err != nil { // New: the caller owns nc
		t.Fatal(err)
	}
	if nc.IsClosed() {
		t.Error("Close closed a connection the Bus does not own")
	}
}
