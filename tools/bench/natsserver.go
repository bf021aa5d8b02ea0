package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// natsServerVersion is the nats-server the project embeds (libs/go.mod); the
// benchmark runs the same version as a separate process.
const natsServerVersion = "v2.15.2"

// repoRoot returns the directory holding go.work, searching up from the
// working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory: run from the repository or pass --nats-server")
		}
		dir = parent
	}
}

// natsServerBinary returns path when set, else <repo>/.tools/bin/nats-server,
// installing the pinned version there first when it is missing.
func natsServerBinary(ctx context.Context, path string) (string, error) {
	if path != "" {
		return path, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".tools", "bin")
	path = filepath.Join(bin, "nats-server")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	logf("building nats-server %s into %s (first run only)", natsServerVersion, bin)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/nats-io/nats-server/v2@"+natsServerVersion)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOBIN="+bin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install nats-server %s: %w", natsServerVersion, err)
	}
	return path, nil
}

// natsVersion returns what `nats-server --version` prints, e.g. "v2.15.2".
func natsVersion(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	v := strings.TrimSpace(string(out))
	_, v, _ = strings.Cut(v, ": ") // "nats-server: v2.15.2"
	return v, nil
}

// natsServer is a nats-server process with JetStream in file storage in a
// temporary directory of its own.
type natsServer struct {
	URL string
	// ProfileURL serves the server's pprof (when started with profiling).
	ProfileURL string
	cmd        *exec.Cmd
	dir        string
	done       chan struct{}
}

// startNATS starts the server at path on a free loopback port with a fresh
// store directory and waits until it accepts connections. Stop it with Stop.
func startNATS(ctx context.Context, path string, profile bool) (_ *natsServer, err error) {
	dir, err := os.MkdirTemp("", "aifactory-bench-nats-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "nats-server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s := &natsServer{URL: "nats://127.0.0.1:" + strconv.Itoa(port), dir: dir, done: make(chan struct{})}
	args := []string{"-js", "-sd", filepath.Join(dir, "store"), "-a", "127.0.0.1", "-p", strconv.Itoa(port)}
	if profile {
		pport, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args = append(args, "-profile", strconv.Itoa(pport))
		s.ProfileURL = "http://127.0.0.1:" + strconv.Itoa(pport) + "/debug/pprof/profile"
	}
	s.cmd = exec.Command(path, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, derr := net.DialTimeout("tcp", addr, time.Second)
		if derr == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("nats-server exited at start: %s", s.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("nats-server not listening on %s after 15s: %s", addr, s.logTail())
		}
	}
}

// logTail returns the end of the server's log, for errors.
func (s *natsServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "nats-server.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// PeakRSS is the server process's peak RSS so far.
func (s *natsServer) PeakRSS() (int64, error) {
	return PeakRSS(strconv.Itoa(s.cmd.Process.Pid))
}

// cpuWindow starts measuring the server's CPU time.
func (s *natsServer) cpuWindow() cpuWindow { return startCPUWindow(strconv.Itoa(s.cmd.Process.Pid)) }

// profileCPU writes a CPU profile of the server over the next d to file;
// the returned function waits for it and reports failures as warnings.
func (s *natsServer) profileCPU(ctx context.Context, d time.Duration, file string) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("%s?seconds=%d", s.ProfileURL, int(d.Seconds()))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			logf("warning: nats-server profile: %v", err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			logf("warning: nats-server profile: %v", err)
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		if err == nil {
			err = os.WriteFile(file, b, 0o644)
		}
		if err != nil {
			logf("warning: nats-server profile: %v", err)
			return
		}
		logf("nats-server CPU profile in %s", file)
	}()
	return func() { <-done }
}

// Stop kills the server, waits for it to exit and removes its store.
func (s *natsServer) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
	os.RemoveAll(s.dir)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
