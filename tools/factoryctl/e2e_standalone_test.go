package main

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
)

// standalone runs bin/catalog and bin/ingestion as their own processes
// against one NATS server the test owns, as a production deployment does.
type standalone struct {
	t                   *testing.T
	dir                 string
	catalogBin, ingBin  string
	catalogAddr, ingest string
	env                 []string
	procs               map[string]*exec.Cmd
}

func newStandalone(t *testing.T, e *e2e) *standalone {
	t.Helper()
	s := &standalone{t: t, dir: e.dir, procs: map[string]*exec.Cmd{}}
	for name, pkg := range map[string]string{"catalog": "github.com/aifactory/aifactory/services/catalog/cmd/catalog", "ingestion": "github.com/aifactory/aifactory/services/ingestion/cmd/ingestion"} {
		out := filepath.Join(e.dir, name)
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	s.catalogBin, s.ingBin = filepath.Join(e.dir, "catalog"), filepath.Join(e.dir, "ingestion")
	nats, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: filepath.Join(e.dir, "nats"), Listen: freeAddr(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nats.Shutdown)
	e.natsAddr = strings.TrimPrefix(nats.ClientURL(), "nats://")
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	signer, err := auth.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Issue(auth.Principal{Name: "admin", Roles: []string{auth.RoleAdmin}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.catalogAddr, s.ingest = freeAddr(t), freeAddr(t)
	s.env = append(os.Environ(), "FACTORY_NATS_URL="+nats.ClientURL(), "FACTORY_AUTH_SECRET="+hex.EncodeToString(secret),
		"FACTORY_TOKEN="+tok, "FACTORY_LOG_LEVEL=warn")
	t.Cleanup(func() {
		for _, p := range s.procs {
			if p.ProcessState == nil {
				_ = p.Process.Signal(syscall.SIGTERM)
				_ = p.Wait()
			}
		}
	})
	return s
}

// start runs one service on its address and waits for its port.
func (s *standalone) start(name, bin, addr string) {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { log.Close() })
	cmd := exec.Command(bin)
	cmd.Env = append(s.env, "FACTORY_GRPC_ADDR="+addr, "FACTORY_HTTP_ADDR="+freeAddr(s.t), "FACTORY_DATA_DIR="+filepath.Join(s.dir, name+"-data"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.procs[name] = cmd
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			s.t.Fatalf("%s did not start:\n%s", name, b)
		}
	}
}

func (s *standalone) run(args ...string) error {
	cmd := exec.Command(s.binCLI(), args...)
	cmd.Env = s.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("factoryctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (s *standalone) binCLI() string { return filepath.Join(s.dir, "factoryctl") }

// TestKillStandaloneIngestion: kill -9 of the standalone ingestion process
// (NATS and the catalog keep running) in the middle of a 200k-record file
// load; restarted, the load completes and the stream holds exactly 200k.
func TestKillStandaloneIngestion(t *testing.T) {
	e := newE2E(t)
	s := newStandalone(t, e)
	s.start("catalog", s.catalogBin, s.catalogAddr)
	s.start("ingestion", s.ingBin, s.ingest)
	for _, args := range [][]string{
		{"--addr", s.catalogAddr, "catalog", "domain", "create", "sales"},
		{"--addr", s.catalogAddr, "catalog", "product", "create", "sales/orders"},
		{"--addr", s.catalogAddr, "catalog", "contract", "apply", "-f", "../../examples/retailer/sales-orders.odcs.yaml"},
	} {
		if err := s.run(args...); err != nil {
			t.Fatal(err)
		}
	}
	const n = 200_000
	file := filepath.Join(e.dir, "orders.jsonl")
	writeOrders(t, file, 0, n)
	// The ingestion process learns the contract from the catalog's events.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		probe := filepath.Join(e.dir, "probe.jsonl")
		writeOrders(t, probe, 0, 1)
		if err := s.run("--addr", s.ingest, "ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", probe); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	load := exec.Command(s.binCLI(), "--addr", s.ingest, "ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--retries", "60", file)
	load.Env = s.env
	var out strings.Builder
	load.Stdout, load.Stderr = &out, &out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, file+".factory-checkpoint", n/4)
	ing := s.procs["ingestion"]
	if err := ing.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = ing.Wait()
	if got := ackedLines(file + ".factory-checkpoint"); got >= n {
		t.Fatalf("the load had finished before the kill (%d acknowledged)", got)
	}
	s.start("ingestion", s.ingBin, s.ingest)
	if err := load.Wait(); err != nil {
		t.Logf("load stopped (%v); resuming\n%s", err, tail(out.String(), 12))
		if err := s.run("--addr", s.ingest, "ingest", "file", "--product", "sales/orders", "--event-time-field", "order_ts", "--resume", file); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("load output:\n%s", tail(out.String(), 8))
	// The probe stored record 0 already (same id): the stream holds n.
	if got := e.stored(); got != n {
		t.Fatalf("after kill -9 of the ingestion process: the stream holds %d records, want exactly %d", got, n)
	}
}
