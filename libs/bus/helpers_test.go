package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aifactory/aifactory/libs/testenv"
)

// testLogger discards logs unless BUS_TEST_LOG=1: nats callbacks may log
// after a test has returned, where t.Log would panic.
func testLogger() *slog.Logger {
	if os.Getenv("BUS_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testCtx returns a context that ends with the test or after 20s.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startEmbedded starts an embedded server on a random port in t.TempDir().
func startEmbedded(t *testing.T) *Embedded {
	t.Helper()
	e, err := StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1", Logger: testLogger()})
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

// connectBus connects a Bus to url and closes it when the test ends.
func connectBus(t *testing.T, url string, opts ...Option) *Bus {
	t.Helper()
	b, err := Connect(testCtx(t), url, "aifactory/bus-test", append([]Option{WithLogger(testLogger())}, opts...)...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// target is a server the integration tests run against.
type target struct {
	name string
	url  func(t *testing.T) string
}

var targets = []target{
	{"embedded", func(t *testing.T) string { t.Helper(); return startEmbedded(t).ClientURL() }},
	// The shared real server (nats-server 2.9 on the dev machine, the CI
	// service): skipped unless FACTORY_TEST_NATS_URL is set.
	{"server", func(t *testing.T) string { t.Helper(); return testenv.NATSURL(t) }},
}

// eachServer runs fn in a parallel subtest per target with a fresh Bus.
func eachServer(t *testing.T, fn func(t *testing.T, b *Bus, url string), opts ...Option) {
	t.Helper()
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			url := tg.url(t)
			b := connectBus(t, url, opts...)
			t.Logf("nats-server %s at %s", b.Conn().ConnectedServerVersion(), url)
			fn(t, b, url)
		})
	}
}

// fixture is a private namespace on a (possibly shared) server: a stream on
// <prefix>.> and a dead-letter stream on dlq.<prefix>.>, deleted at the end.
type fixture struct {
	prefix string     // first subject token, e.g. "t1a2b3c4d"
	events StreamSpec // stream on <prefix>.>
	dlq    string     // name of the stream holding dlq.<prefix>.>
}

func randHex(t *testing.T) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func newFixture(t *testing.T, b *Bus) fixture {
	t.Helper()
	ctx := testCtx(t)
	r := randHex(t)
	f := fixture{
		prefix: "t" + r,
		events: StreamSpec{
			Name:       "T" + strings.ToUpper(r) + "_EVENTS",
			Subjects:   []string{"t" + r + ".>"},
			MaxAge:     time.Hour,
			Duplicates: time.Minute,
		},
	}
	dlq := StreamSpec{Name: "T" + strings.ToUpper(r) + "_DLQ", Subjects: []string{"dlq.t" + r + ".>"}, MaxAge: time.Hour}
	ensureDeleted(t, b, f.events.Name)
	if err := b.EnsureStreams(ctx, f.events); err != nil {
		t.Fatalf("EnsureStreams(%s): %v", f.events.Name, err)
	}
	// A shared server may already have a stream on dlq.> (a DLQ stream of
	// the platform); then ours would overlap and that one holds our letters.
	if name, err := b.js.StreamNameBySubject(ctx, dlq.Subjects[0]); err == nil {
		f.dlq = name
	} else {
		ensureDeleted(t, b, dlq.Name)
		if err := b.EnsureStreams(ctx, dlq); err != nil {
			t.Fatalf("EnsureStreams(%s): %v", dlq.Name, err)
		}
		f.dlq = dlq.Name
	}
	return f
}

// ensureDeleted deletes the stream when the test ends.
func ensureDeleted(t *testing.T, b *Bus, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", name, err)
		}
	})
}

func (f fixture) subject(tokens ...string) string {
	return f.prefix + "." + strings.Join(tokens, ".")
}

// consumer returns a spec for the fixture's stream with fast retries.
func (f fixture) consumer(durable string) ConsumerSpec {
	return ConsumerSpec{
		Stream:     f.events.Name,
		Durable:    durable,
		MaxDeliver: 3,
		Backoff:    []time.Duration{20 * time.Millisecond, 40 * time.Millisecond},
	}
}

// runConsumer runs Consume in a goroutine owned by the test; the returned
// stop cancels it and waits, failing the test if Consume returned an error.
// stop is also registered as a cleanup.
func runConsumer(t *testing.T, b *Bus, spec ConsumerSpec, h Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, spec, h) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Consume(%s): %v", spec.Durable, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Consume(%s) did not stop within 10s of cancel", spec.Durable)
		}
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every 10ms until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyDescribed(t, cond, func() string { return what })
}

// eventuallyDescribed is eventually with what it waits for described at
// the time it gives up (say, with the last state it saw).
func eventuallyDescribed(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tryConsumerInfo fetches the consumer's state, or nil when it does not
// exist (yet): for polling while Consume is starting.
func tryConsumerInfo(t *testing.T, b *Bus, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx := testCtx(t)
	c, err := b.js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("consumer %s/%s: %v", stream, durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info %s/%s: %v", stream, durable, err)
	}
	return info
}

// consumerInfo fetches the consumer's state.
func consumerInfo(t *testing.T, b *Bus, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx := testCtx(t)
	c, err := b.js.Consumer(ctx, stream, durable)
	if err != nil {
		t.Fatalf("consumer %s/%s: %v", stream, durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info %s/%s: %v", stream, durable, err)
	}
	return info
}

// lastDeadLetter returns the dead letter stored for subject, waiting for it.
func (f fixture) lastDeadLetter(t *testing.T, b *Bus, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := testCtx(t)
	s, err := b.js.Stream(ctx, f.dlq)
	if err != nil {
		t.Fatalf("stream %s: %v", f.dlq, err)
	}
	var msg *jetstream.RawStreamMsg
	eventually(t, "dead letter on "+DLQPrefix+subject, func() bool {
		msg, err = s.GetLastMsgForSubject(ctx, DLQPrefix+subject)
		return err == nil
	})
	return msg
}
