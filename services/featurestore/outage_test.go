package featurestore_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/testenv"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// redisProcess is a redis-server the test owns, on a spare port, with an
// append-only file so a restart keeps what was written.
type redisProcess struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, r *redisProcess) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port)); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
}

func (r *redisProcess) stop() {
	if r.cmd != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
	}
}

// TestRedisOutage: while Redis is down, online reads answer Unavailable
// quickly and materialization pauses without acknowledging; when Redis
// returns, it resumes and nothing ingested meanwhile is lost.
func TestRedisOutage(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testenv.Required() {
			t.Fatal("redis-server is not on PATH")
		}
		t.Skip("redis-server is not on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &redisProcess{t: t, port: port, dir: t.TempDir()}
	startRedis(t, r)
	t.Cleanup(r.stop)

	m := newMesh(t, "sqlite", meshOptions{redisURL: fmt.Sprintf("redis://127.0.0.1:%d", port)})
	setupRetailer(t, m)
	now := time.Now().UTC().Truncate(time.Second)
	m.ingest("sales", "orders", "order_ts", order(1, custA, "10.00", "web", now.Add(-time.Hour)))
	req := &featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", Entities: []*featurestorev1.EntityRow{customer(custA)}}
	online(t, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool {
		return r.GetColumns()[1].GetInt64S()[0] == 1
	})

	r.stop()
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	_, err = m.client("sam").GetOnlineFeatures(ctx, req)
	cancel()
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("read with Redis down: %v, want Unavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Unavailable took %v; reads must not hang", took)
	}
	// Data keeps arriving while Redis is down.
	for i := 2; i <= 5; i++ {
		m.ingest("sales", "orders", "order_ts", order(i, custA, "10.00", "mobile_app", now.Add(-time.Duration(i)*time.Minute)))
	}
	time.Sleep(500 * time.Millisecond) // materialization fails and pauses meanwhile
	startRedis(t, r)
	got := online(t, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool {
		return r.GetColumns()[1].GetInt64S()[0] == 5
	})
	if v := got.GetColumns()[3].GetStrings()[0]; v != "mobile_app" {
		t.Fatalf("last_channel = %q after the outage, want the newest order's mobile_app", v)
	}
}
