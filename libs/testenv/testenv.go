// Package testenv tells integration tests which real servers to use.
//
// Tests read the server addresses from FACTORY_TEST_DATABASE_URL,
// FACTORY_TEST_NATS_URL and FACTORY_TEST_REDIS_URL. When a variable is unset
// the test is skipped and the caller falls back to the embedded default —
// unless FACTORY_TEST_REQUIRE_SERVERS=1 (set by CI), which turns a missing or
// unreachable server into a failure so CI cannot pass by skipping.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	DatabaseURLVar    = "FACTORY_TEST_DATABASE_URL"
	NATSURLVar        = "FACTORY_TEST_NATS_URL"
	RedisURLVar       = "FACTORY_TEST_REDIS_URL"
	RequireServersVar = "FACTORY_TEST_REQUIRE_SERVERS"
)

// Required reports whether CI demands the real servers.
func Required() bool { return os.Getenv(RequireServersVar) == "1" }

// DatabaseURL returns the PostgreSQL/CockroachDB URL for integration tests,
// or skips the test (fails it when servers are required).
func DatabaseURL(t testing.TB) string { return lookup(t, DatabaseURLVar) }

// NATSURL returns the NATS URL for integration tests, or skips the test
// (fails it when servers are required).
func NATSURL(t testing.TB) string { return lookup(t, NATSURLVar) }

// RedisURL returns the Redis URL for integration tests, or skips the test
// (fails it when servers are required).
func RedisURL(t testing.TB) string { return lookup(t, RedisURLVar) }

func lookup(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if Required() {
			t.Fatalf("%s is not set and %s=1: this integration test needs its server", name, RequireServersVar)
		}
		t.Skipf("%s not set; skipping the integration test against a real server", name)
	}
	if err := reachable(v); err != nil {
		if Required() {
			t.Fatalf("%s=%s: server unreachable: %v", name, v, err)
		}
		t.Skipf("%s=%s: server unreachable (%v); skipping", name, v, err)
	}
	return v
}

// reachable dials the URL's host:port once, so a down server is reported as
// such rather than as a confusing protocol error deep in a test.
func reachable(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Host
	if host == "" {
		return nil // socket paths and DSNs without a host: let the driver decide
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := map[string]string{"postgres": "5432", "postgresql": "5432", "nats": "4222", "redis": "6379"}[u.Scheme]
		host = net.JoinHostPort(host, port)
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
