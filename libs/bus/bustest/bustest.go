// Package bustest gives tests a Bus: on the real NATS server named by
// FACTORY_TEST_NATS_URL when set (required when
// FACTORY_TEST_REQUIRE_SERVERS=1), else on an embedded server in a temp dir.
package bustest

import (
	"log/slog"
	"os"
	"testing"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/testenv"
)

// Connect returns a Bus for t, closed when t ends. Tests on a shared real
// server must use subjects and names of their own (random suffixes).
func Connect(t testing.TB, source string) *bus.Bus {
	t.Helper()
	if os.Getenv(testenv.NATSURLVar) != "" || testenv.Required() {
		b, err := bus.Connect(t.Context(), testenv.NATSURL(t), source)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	e := Embedded(t)
	b, err := e.ConnectBus(t.Context(), source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Embedded starts a quiet embedded server with a random port in a temp dir,
// shut down when t ends.
func Embedded(t testing.TB) *bus.Embedded {
	t.Helper()
	e, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}
