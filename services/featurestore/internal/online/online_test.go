package online_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aifactory/aifactory/libs/testenv"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
	"github.com/aifactory/aifactory/services/featurestore/internal/online/onlinetest"
)

func TestMemory(t *testing.T) {
	onlinetest.Run(t, func(t *testing.T) online.Store {
		s := online.NewMemory()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestMemoryClosed(t *testing.T) {
	s := online.NewMemory()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, online.ErrUnavailable) {
		t.Errorf("Ping after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Read(context.Background(), nil); !errors.Is(err, online.ErrUnavailable) {
		t.Errorf("Read after Close: %v, want ErrUnavailable", err)
	}
}

func TestRedis(t *testing.T) {
	url := testenv.RedisURL(t)
	onlinetest.Run(t, func(t *testing.T) online.Store { return newRedisStore(t, url) })
}

// newRedisStore returns a store on the shared server under a random key
// prefix, and deletes the prefix's keys when the test ends.
func newRedisStore(tb testing.TB, url string) *online.Redis {
	tb.Helper()
	c, err := online.RedisClient(url)
	if err != nil {
		tb.Fatal(err)
	}
	prefix := randomPrefix(tb)
	s, err := online.NewRedis(c, online.RedisOptions{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		deletePrefix(tb, url, prefix)
		_ = s.Close()
	})
	return s
}

func randomPrefix(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return "onlinetest:" + hex.EncodeToString(b[:]) + ":"
}

// deletePrefix removes every key under prefix (SCAN + DEL): the test
// server is shared.
func deletePrefix(tb testing.TB, url, prefix string) {
	tb.Helper()
	c, err := online.RedisClient(url)
	if err != nil {
		tb.Error(err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("delete test keys: %v", err)
				return
			}
			keys = keys[:0]
		}
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan test keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			tb.Errorf("delete test keys: %v", err)
		}
	}
}

func TestNewRedisRejectsBadOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := online.NewRedis(c, online.RedisOptions{Prefix: "a{b"}); !errors.Is(err, online.ErrInvalidArgument) {
		t.Errorf("brace prefix: err = %v", err)
	}
	if _, err := online.NewRedis(nil, online.RedisOptions{}); !errors.Is(err, online.ErrInvalidArgument) {
		t.Errorf("nil client: err = %v", err)
	}
	if _, err := online.RedisClient("http://x"); err == nil {
		t.Errorf("RedisClient accepted an http URL")
	}
}

func TestRedisClientDefaults(t *testing.T) {
	c, err := online.RedisClient("redis://127.0.0.1:6379/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Options()
	if o.DialTimeout != 500*time.Millisecond || o.ReadTimeout != 500*time.Millisecond || o.WriteTimeout != 500*time.Millisecond || o.MaxRetries != 1 {
		t.Errorf("options: dial %v read %v write %v retries %d", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries)
	}
	c2, err := online.RedisClient("redis://127.0.0.1:6379/0?read_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := c2.Options().ReadTimeout; got != 2*time.Second {
		t.Errorf("URL read_timeout ignored: %v", got)
	}
}

// TestRedisUnreachable needs no server: nothing listens on the port.
func TestRedisUnreachable(t *testing.T) {
	port := freePort(t)
	c, err := online.RedisClient("redis://127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	s, err := online.NewRedis(c, online.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	assertUnavailable(t, s, "nothing listening")
}

// TestRedisOutage runs its own redis-server on a spare port: writes, kills
// it, checks calls fail fast with ErrUnavailable, freezes it, restarts it
// on the same port and checks the same client writes again.
func TestRedisOutage(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testenv.Required() {
			t.Fatalf("redis-server not on PATH and %s=1", testenv.RequireServersVar)
		}
		t.Skip("redis-server not on PATH")
	}
	port := freePort(t)
	url := "redis://127.0.0.1:" + strconv.Itoa(port)
	srv := startRedisServer(t, port)

	c, err := online.RedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := online.NewRedis(c, online.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	write := func(seq uint64) error {
		return s.PutLatest(ctx, "v", []online.Latest{{Entity: "k", EventTime: time.Unix(int64(seq), 0), Seq: seq,
			Values: map[string]*featurestorev1.Value{"f": {Kind: &featurestorev1.Value_Int64Value{Int64Value: int64(seq)}}}}})
	}
	if err := write(1); err != nil {
		t.Fatalf("write before the outage: %v", err)
	}
	readF(t, s, 1)

	stopRedisServer(t, srv)
	assertUnavailable(t, s, "server stopped")

	srv = startRedisServer(t, port)
	// The client reconnects by itself; the restarted server has an empty
	// script cache, so this also exercises the NOSCRIPT fallback.
	waitWrite(t, write, 2)
	readF(t, s, 2)

	// A frozen server (SIGSTOP) must not make calls hang either.
	if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Read(ctx, []online.ReadRequest{{View: "v", Entity: "k", Fields: []string{"f"}}})
	took := time.Since(start)
	if cerr := srv.Process.Signal(syscall.SIGCONT); cerr != nil {
		t.Fatal(cerr)
	}
	if !errors.Is(err, online.ErrUnavailable) {
		t.Errorf("Read on a frozen server: err = %v, want ErrUnavailable", err)
	}
	if took > 2500*time.Millisecond {
		t.Errorf("Read on a frozen server took %v", took)
	}
	t.Logf("frozen server: Read failed after %v: %v", took, err)
	waitWrite(t, write, 3)
	readF(t, s, 3)

	// SCRIPT FLUSH (as after a failover) is recovered from too.
	raw := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer raw.Close()
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := write(4); err != nil {
		t.Fatalf("write after SCRIPT FLUSH: %v", err)
	}
	if err := s.AddEvents(ctx, "v", time.Hour, []online.AggEvent{{Entity: "k", ID: "e", EventTime: time.Unix(4, 0)}}); err != nil {
		t.Fatalf("AddEvents after SCRIPT FLUSH: %v", err)
	}
	readF(t, s, 4)
}

// assertUnavailable checks that every call fails with ErrUnavailable
// within 1.5 s.
func assertUnavailable(t *testing.T, s online.Store, state string) {
	t.Helper()
	ctx := context.Background()
	calls := []struct {
		name string
		fn   func() error
	}{
		{"Read", func() error {
			_, err := s.Read(ctx, []online.ReadRequest{{View: "v", Entity: "k", Fields: []string{"f"}, WithEvents: true}})
			return err
		}},
		{"PutLatest", func() error {
			return s.PutLatest(ctx, "v", []online.Latest{{Entity: "k", EventTime: time.Now(), Values: map[string]*featurestorev1.Value{"f": nil}}})
		}},
		{"AddEvents", func() error {
			return s.AddEvents(ctx, "v", time.Hour, []online.AggEvent{{Entity: "k", ID: "x", EventTime: time.Now()}})
		}},
		{"Ping", func() error { return s.Ping(ctx) }},
	}
	for round := range 2 { // the second round hits a pool that has seen dial errors
		for _, c := range calls {
			start := time.Now()
			err := c.fn()
			took := time.Since(start)
			if !errors.Is(err, online.ErrUnavailable) {
				t.Errorf("%s: %s (round %d): err = %v, want ErrUnavailable", state, c.name, round, err)
			}
			t.Logf("%s: %s (round %d) failed after %v", state, c.name, round, took)
			if took > 1500*time.Millisecond {
				t.Errorf("%s: %s (round %d) took %v, want < 1.5s", state, c.name, round, took)
			}
		}
	}
}

func waitWrite(t *testing.T, write func(uint64) error, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := write(seq)
		if err == nil {
			return
		}
		if !errors.Is(err, online.ErrUnavailable) {
			t.Fatalf("write %d: unexpected error %v", seq, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("write %d still failing after the restart: %v", seq, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readF(t *testing.T, s online.Store, want int64) {
	t.Helper()
	res, err := s.Read(context.Background(), []online.ReadRequest{{View: "v", Entity: "k", Fields: []string{"f"}}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !res[0].Found || res[0].Values[0].GetInt64Value() != want {
		t.Fatalf("Read = %+v, want f=%d", res[0], want)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisServer starts a throwaway redis-server on port and waits until
// it answers PING.
func startRedisServer(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGCONT)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(addr); err == nil {
			return cmd
		} else if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s not ready: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func stopRedisServer(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop redis-server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("redis-server ignored SIGTERM")
	}
}

// quietLogger drops go-redis's own log lines (one per failed dial), which
// the outage tests provoke by the dozen; failures surface as errors.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}
