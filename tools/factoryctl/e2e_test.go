package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// e2e runs the real factoryctl binary against a real `factoryctl dev` mesh
// in a temp dir, on free ports.
type e2e struct {
	t                    *testing.T
	bin, dir             string
	grpc, http, natsAddr string
	dev                  *exec.Cmd
	devLog               *os.File
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "factoryctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e := &e2e{t: t, bin: bin, dir: dir, grpc: freeAddr(t), http: freeAddr(t), natsAddr: freeAddr(t)}
	t.Cleanup(e.stopDev)
	return e
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (e *e2e) env() []string {
	return append(os.Environ(),
		"FACTORY_DATA_DIR="+filepath.Join(e.dir, "data"),
		"FACTORY_GRPC_ADDR="+e.grpc, "FACTORY_HTTP_ADDR="+e.http, "FACTORY_NATS_LISTEN="+e.natsAddr,
		"FACTORY_ADDR="+e.grpc, "FACTORY_TOKEN=")
}

// startDev starts `factoryctl dev` and waits until it serves.
func (e *e2e) startDev() {
	e.t.Helper()
	log, err := os.OpenFile(filepath.Join(e.dir, "dev.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	e.devLog = log
	e.dev = exec.Command(e.bin, "dev")
	e.dev.Env, e.dev.Stdout, e.dev.Stderr = e.env(), log, log
	if err := e.dev.Start(); err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(log.Name())
		if strings.Count(string(b), "dev mesh is up") > 0 && e.run("catalog", "domain", "list") == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("dev mesh did not come up:\n%s", b)
		}
	}
}

func (e *e2e) stopDev() {
	if e.dev != nil && e.dev.ProcessState == nil {
		_ = e.dev.Process.Signal(syscall.SIGINT)
		_ = e.dev.Wait()
	}
	if e.devLog != nil {
		_ = e.devLog.Close()
	}
}

// killDev kills the mesh with SIGKILL: no drain, no flush.
func (e *e2e) killDev() {
	e.t.Helper()
	if err := e.dev.Process.Kill(); err != nil {
		e.t.Fatal(err)
	}
	_ = e.dev.Wait()
}

// run runs a factoryctl command to completion.
func (e *e2e) run(args ...string) error {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("factoryctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (e *e2e) must(args ...string) {
	e.t.Helper()
	if err := e.run(args...); err != nil {
		e.t.Fatal(err)
	}
}

// writeOrders writes n valid sales.orders records as JSON Lines, ids from
// first on.
func writeOrders(t *testing.T, path string, first, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := first; i < first+n; i++ {
		fmt.Fprintf(w, `{"order_id":"%08x-0000-4000-8000-000000000000","customer_id":"c0000000-0000-4000-8000-000000000001",`+
			`"customer_email":"ann@example.com","product_id":"b0000000-0000-4000-8000-000000000002","quantity":%d,`+
			`"unit_price":"19.90","currency":"EUR","channel":"web","order_ts":"2026-11-20T10:00:00Z","updated_at":"2026-11-20T10:00:00Z"}`+"\n",
			i, 1+i%5)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// stored counts the records on the orders port subject.
func (e *e2e) stored() uint64 {
	e.t.Helper()
	nc, err := nats.Connect("nats://" + e.natsAddr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "DATA_SALES")
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("data.sales.orders.v1"))
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Subjects["data.sales.orders.v1"]
}

// waitCheckpoint waits until a load has acknowledged at least n records.
func waitCheckpoint(t *testing.T, path string, n int64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var c struct {
			Line int64 `json:"line"`
		}
		if json.Unmarshal(b, &c) == nil && c.Line >= n {
			return
		}
	}
	t.Fatalf("no checkpoint past line %d in %s", n, path)
}

// TestKillAndResumeFileLoad: kill -9 of the mesh (and so of the ingestion
// service) in the middle of a 200k-record file load, restart, and the load
// completes with the stream holding exactly 200k records; then kill -9 of
// the loading client, `--resume`, and again nothing is stored twice.
func TestKillAndResumeFileLoad(t *testing.T) {
	e := newE2E(t)
	e.startDev()
	e.must("catalog", "domain", "create", "sales", "--member", "sam")
	e.must("catalog", "product", "create", "sales/orders")
	e.must("catalog", "contract", "apply", "-f", "../../examples/retailer/sales-orders.odcs.yaml")

	const n = 200_000
	file := filepath.Join(e.dir, "orders.jsonl")
	writeOrders(t, file, 0, n)
	load := exec.Command(e.bin, "ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--retries", "60", file)
	load.Env = e.env()
	var loadOut strings.Builder
	load.Stdout, load.Stderr = &loadOut, &loadOut
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, file+".factory-checkpoint", n/4)
	e.killDev()
	if got := ackedLines(file + ".factory-checkpoint"); got >= n {
		t.Fatalf("the load had finished before the kill (%d acknowledged); the test proved nothing", got)
	}
	time.Sleep(300 * time.Millisecond)
	e.startDev()
	if err := load.Wait(); err != nil {
		// The client gave up while the mesh was down: resume it.
		t.Logf("load stopped (%v); resuming\n%s", err, loadOut.String())
		e.must("ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--resume", file)
	}
	t.Logf("load output:\n%s", tail(loadOut.String(), 12))
	if got := e.stored(); got != n {
		t.Fatalf("after kill -9 of the mesh: the stream holds %d records, want exactly %d\n%s", got, n, loadOut.String())
	}

	// Now the client dies instead.
	file2 := filepath.Join(e.dir, "more-orders.jsonl")
	writeOrders(t, file2, n, n/4)
	load2 := exec.Command(e.bin, "ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--batch", "500", file2)
	load2.Env = e.env()
	if err := load2.Start(); err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, file2+".factory-checkpoint", n/16)
	_ = load2.Process.Kill()
	if err := load2.Wait(); err == nil {
		t.Fatal("the second load finished before the kill; the test proved nothing")
	}
	e.must("ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--resume", file2)
	if got := e.stored(); got != n+n/4 {
		t.Fatalf("after kill -9 of the client and --resume: the stream holds %d records, want exactly %d", got, n+n/4)
	}
}

// ackedLines reads how far a load's checkpoint says it was acknowledged.
func ackedLines(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var c struct {
		Line uint64 `json:"line"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Line
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
