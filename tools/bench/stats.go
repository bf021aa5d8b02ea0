package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// histGrowth is the width of a latency bucket: each bucket's upper bound is
// 1% above its lower one, so a quantile is off by at most ~0.5%.
const histGrowth = 1.01

var logGrowth = math.Log(histGrowth)

// Latencies is a histogram of durations in logarithmic buckets from 1µs
// up: fixed memory (a few thousand counters) however many samples it holds,
// so recording every batch keeps a run's memory flat. The zero value is
// ready to use; not safe for concurrent use.
type Latencies struct {
	counts []uint64
	n      uint64
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return int(math.Log(us)/logGrowth) + 1
}

// Add records one sample.
func (l *Latencies) Add(d time.Duration) {
	b := bucketOf(d)
	if b >= len(l.counts) {
		l.counts = append(l.counts, make([]uint64, b+1-len(l.counts))...)
	}
	l.counts[b]++
	l.n++
}

// Count is the number of samples.
func (l *Latencies) Count() uint64 { return l.n }

// Quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method,
// as the geometric middle of its bucket; 0 without samples.
func (l *Latencies) Quantile(q float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(l.n)))
	rank = min(max(rank, 1), l.n)
	var seen uint64
	for b, c := range l.counts {
		seen += c
		if seen >= rank {
			if b == 0 {
				return time.Microsecond
			}
			// Bucket b holds (g^(b-1), g^b] µs.
			us := math.Exp((float64(b) - 0.5) * logGrowth)
			return time.Duration(us * float64(time.Microsecond))
		}
	}
	return 0 // unreachable: seen ends at n
}

// PeakRSS returns the peak resident set size (VmHWM) in bytes of process
// pid ("self" for this one), from /proc/<pid>/status.
func PeakRSS(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	return parseVmHWM(b)
}

// parseVmHWM reads the "VmHWM:  12345 kB" line of a /proc status file.
func parseVmHWM(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("peak RSS: unexpected line %q", bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak RSS: %q: %w", bytes.TrimSpace(line), err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM line in /proc status")
}

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux this runs on).
const userHZ = 100

// CPUTime returns the user plus system CPU time process pid ("self" for this
// one) has used so far, from /proc/<pid>/stat.
func CPUTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("CPU time: %w", err)
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc stat
// line. The command name (field 2) may hold spaces, so fields are counted
// from its closing parenthesis.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU time: unexpected stat line %q", stat)
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("CPU time: short stat line %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time: %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// cpuWindow measures the CPU time process pid ("self" for this one) uses
// from startCPUWindow to done; unreadable times are warnings and count 0.
type cpuWindow struct {
	pid   string
	start time.Duration
}

func startCPUWindow(pid string) cpuWindow {
	d, err := CPUTime(pid)
	if err != nil {
		logf("warning: process %s: %v", pid, err)
	}
	return cpuWindow{pid: pid, start: d}
}

func (w cpuWindow) done() time.Duration {
	d, err := CPUTime(w.pid)
	if err != nil {
		logf("warning: process %s: %v", w.pid, err)
		return 0
	}
	return d - w.start
}
