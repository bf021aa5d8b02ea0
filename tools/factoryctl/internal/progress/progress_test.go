package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// clock is a fixed clock moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func snap(records, b int64) Snapshot {
	return Snapshot{Records: records, Bytes: b, TotalBytes: 1000, Stored: records}
}
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
func count(s, sub string) int { return strings.Count(s, sub) }
func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q lacks %q", s, sub)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		s, base Snapshot
		elapsed time.Duration
		want    string
	}{
		{
			name:    "half way",
			s:       Snapshot{Records: 12000, Bytes: 500, TotalBytes: 1000, Stored: 11900, Duplicates: 50, Rejected: 50},
			elapsed: 5 * time.Second,
			want:    "[==========>         ]   50.0%  12,000 records  500 B/1000 B  2,400/s  stored 11,900  dup 50  rejected 50  ETA 5s",
		},
		{
			name:    "resumed: rate and ETA count this run only",
			s:       Snapshot{Records: 3000, Bytes: 3 << 20, TotalBytes: 4 << 20, Stored: 3000},
			base:    Snapshot{Records: 2000, Bytes: 2 << 20, TotalBytes: 4 << 20},
			elapsed: 10 * time.Second,
			want:    "[===============>    ]  75.0%  3,000 records  3.0 MiB/4.0 MiB  100/s  stored 3,000  dup 0  rejected 0  ETA 10s",
		},
		{
			name:    "done, with errors",
			s:       Snapshot{Records: 10, Bytes: 1000, TotalBytes: 1000, Stored: 8, Errors: 2},
			elapsed: 2 * time.Second,
			want:    "[====================]  100.0%  10 records  1000 B/1000 B  5/s  stored 8  dup 0  rejected 0  errors 2  ETA 0s",
		},
		{
			name: "unknown size, not started",
			s:    Snapshot{},
			want: "0 records  stored 0  dup 0  rejected 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.s, tt.base, tt.elapsed)
			// Compare words: the percentage is right-aligned, so spacing varies.
			if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(tt.want), " ") {
				t.Errorf("Render() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestBarTerminalThrottlesTo10PerSecond(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, Snapshot{TotalBytes: 1000}, Options{Terminal: true, Width: 200, Now: c.now})
	for i := int64(1); i <= 30; i++ { // 30 updates in 300 ms
		b.Update(snap(i, i*10))
		c.advance(10 * time.Millisecond)
	}
	// Draws at 0, 100 and 200 ms, each in place.
	if n := count(buf.String(), "\r"); n != 3 {
		t.Errorf("%d draws in 300ms, want 3:\n%q", n, buf.String())
	}
	if strings.Contains(buf.String(), "\n") {
		t.Errorf("a terminal bar must redraw in place: %q", buf.String())
	}
	b.Println("reconnecting")
	out := buf.String()
	if !strings.Contains(out, "\r\x1b[Kreconnecting\n\r[") {
		t.Errorf("Println must clear the bar, print and redraw: %q", out)
	}
	buf.Reset()
	b.Finish()
	mustContain(t, buf.String(), "30 records")
	if !strings.HasSuffix(buf.String(), "\x1b[K\n") {
		t.Errorf("Finish must end the line: %q", buf.String())
	}
}

func TestBarTerminalCutsToWidth(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, Snapshot{}, Options{Terminal: true, Width: 30, Now: c.now})
	b.Update(snap(5, 500))
	line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r"), "\x1b[K")
	if n := len([]rune(line)); n != 29 {
		t.Errorf("line of %d runes for width 30: %q", n, line)
	}
}

func TestBarLogEvery5Seconds(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, Snapshot{TotalBytes: 1000}, Options{Now: c.now})
	for i := int64(1); i <= 12; i++ { // one update a second for 12 s
		c.advance(time.Second)
		b.Update(snap(i*10, i*50))
	}
	got := lines(buf.String())
	if len(got) != 2 {
		t.Fatalf("%d lines in 12s, want 2 (at 5s and 10s):\n%s", len(got), buf.String())
	}
	mustContain(t, got[0], "50 records")
	mustContain(t, got[1], "100 records")
	mustContain(t, got[1], "ETA 10s")
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("no carriage returns in a log: %q", buf.String())
	}
	buf.Reset()
	b.Println("reconnecting")
	b.Finish()
	if buf.String() != "reconnecting\n" {
		t.Errorf("Println/Finish on a log = %q", buf.String())
	}
}

func TestShortLoadPrintsNothingToALog(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, Snapshot{}, Options{Now: c.now})
	b.Update(snap(1, 1))
	c.advance(time.Second)
	b.Update(snap(2, 2))
	b.Finish()
	if buf.Len() != 0 {
		t.Errorf("printed %q", buf.String())
	}
}

func TestFormatters(t *testing.T) {
	counts := map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"}
	for n, want := range counts {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	sizes := map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 12_900_000: "12.3 MiB", 5 << 30: "5.0 GiB"}
	for n, want := range sizes {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	durs := map[time.Duration]string{0: "0s", 42 * time.Second: "42s", 185 * time.Second: "3m05s", 3720 * time.Second: "1h02m", 1500 * time.Millisecond: "2s"}
	for d, want := range durs {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
