package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process of the benchmark's own (no
// persistence), or an external server given by URL.
type redisServer struct {
	URL     string
	Version string
	cmd     *exec.Cmd
	done    chan struct{}
}

// startRedis starts `redis-server --port <free> --save "" --appendonly no`
// when binary is found (path or on PATH) and external is false; otherwise
// it uses url, an external server shared with others.
func startRedis(ctx context.Context, binary, url string, external bool) (*redisServer, error) {
	if !external {
		path, err := exec.LookPath(binary)
		if err == nil {
			return spawnRedis(ctx, path)
		}
		logf("features: %s not found (%v); using the external Redis at %s (--redis-url / FACTORY_BENCH_REDIS_URL)", binary, err, url)
	}
	s := &redisServer{URL: url}
	c, err := newBenchRedis(url)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return nil, fmt.Errorf("redis at %s: %w", url, err)
	}
	s.Version = infoField(info, "redis_version")
	return s, nil
}

func spawnRedis(ctx context.Context, path string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &redisServer{URL: "redis://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	s.cmd = exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning")
	// Its start-up warnings (memory overcommit…) are noise here; a failure
	// to start shows as no answer below.
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	c, err := newBenchRedis(s.URL)
	if err != nil {
		s.Stop()
		return nil, err
	}
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); ; {
		info, err := c.Info(ctx, "server").Result()
		if err == nil {
			s.Version = infoField(info, "redis_version")
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server exited at start")
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server not answering on %s after 15s: %v", s.URL, err)
		}
	}
}

// PeakRSS is the spawned server's peak RSS (0 for an external server).
func (s *redisServer) PeakRSS() int64 {
	if s.cmd == nil {
		return 0
	}
	n, _ := PeakRSS(strconv.Itoa(s.cmd.Process.Pid))
	return n
}

// Stop kills a spawned server; an external one is left alone.
func (s *redisServer) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// newBenchRedis is a go-redis client for the floor, with the pool the
// feature store's client gets (go-redis defaults) and generous timeouts.
func newBenchRedis(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url %q: %w", url, err)
	}
	opt.ReadTimeout, opt.WriteTimeout = 10*time.Second, 10*time.Second
	return redis.NewClient(opt), nil
}

func infoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return "?"
}
