package main

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestLatenciesQuantile(t *testing.T) {
	var l Latencies
	if l.Quantile(0.5) != 0 {
		t.Fatal("empty histogram: want 0")
	}
	for i := 1000; i >= 1; i-- { // 1ms..1000ms, in any order
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{1, 1000 * time.Millisecond},
		{0.001, time.Millisecond},
	} {
		got := l.Quantile(tc.q)
		if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 0.01 {
			t.Errorf("q%v = %s, want %s ±1%%", tc.q, got, tc.want)
		}
	}
	if l.Count() != 1000 {
		t.Fatalf("count %d", l.Count())
	}
	var tiny Latencies
	tiny.Add(0)
	if got := tiny.Quantile(0.5); got != time.Microsecond {
		t.Fatalf("sub-microsecond sample: %s", got)
	}
}

func TestParseVmHWM(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   int64
		ok     bool
	}{
		{"Name:\tbench\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n", 51200 << 10, true},
		{"VmHWM: 1 kB", 1024, true},
		{"Name:\tbench\n", 0, false},
		{"VmHWM:\t12 MB\n", 0, false},
		{"VmHWM:\tx kB\n", 0, false},
	} {
		got, err := parseVmHWM([]byte(tc.status))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseVmHWM(%q) = %d, %v; want %d, ok=%v", tc.status, got, err, tc.want, tc.ok)
		}
	}
}

func TestPeakRSSOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux only")
	}
	rss, err := PeakRSS("self")
	if err != nil || rss < 1<<20 {
		t.Fatalf("PeakRSS(self) = %d, %v", rss, err)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	line := []byte("4242 (nats server) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0\n")
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Errorf("CPU = %s, want %s", got, want)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Error("short line: want an error")
	}
	if self, err := CPUTime("self"); err != nil || self < 0 {
		t.Errorf("CPUTime(self) = %s, %v", self, err)
	}
}
