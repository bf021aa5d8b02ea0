// Package progress draws the progress of a long-running load on a terminal
// (one line redrawn in place, at most 10 times a second) or, when the output
// is a file or a pipe, as a plain line every few seconds.
//
// The renderer takes its clock and writer from the caller, so that tests
// drive it with a fixed clock and a buffer.
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Snapshot is the state of a load at one moment.
type Snapshot struct {
	// Records is the number of records whose outcome is known (acked or
	// rejected locally).
	Records int64
	// Bytes is how far into the input those records reach; TotalBytes is the
	// input's size, 0 when unknown.
	Bytes, TotalBytes int64
	Stored            int64
	Duplicates        int64
	Rejected          int64
	Errors            int64
}

// Default redraw intervals.
const (
	TerminalInterval = 100 * time.Millisecond
	LogInterval      = 5 * time.Second
)

// Options configure a Bar.
type Options struct {
	// Terminal selects in-place redrawing ("\r" and erase to end of line);
	// otherwise each draw is a line of its own.
	Terminal bool
	// Width is the terminal width; lines are cut to it. 0 means 80.
	Width int
	// Interval is the least time between two draws; 0 means
	// TerminalInterval on a terminal and LogInterval otherwise.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Bar renders a progress line to a writer: a load's snapshots (New), or
// any line a render function draws from the elapsed time (NewLine). It is
// safe for concurrent use.
type Bar struct {
	w        io.Writer
	opts     Options
	mu       sync.Mutex
	start    time.Time
	base     Snapshot // state when the bar started: rates count only what this run did
	last     Snapshot
	render   func(elapsed time.Duration) string // nil: Render(last, base, elapsed)
	lastDraw time.Time
	drawn    bool // a terminal line is on screen
}

// New returns a bar writing to w that starts counting at base, the state
// a resumed load starts from.
func New(w io.Writer, base Snapshot, opts Options) *Bar {
	b := newBar(w, opts)
	b.base, b.last = base, base
	return b
}

// NewLine returns a bar whose line render draws from the elapsed time
// (its own counters, read under its own synchronisation); call Refresh or
// Run to draw it with the bar's pacing.
func NewLine(w io.Writer, opts Options, render func(elapsed time.Duration) string) *Bar {
	b := newBar(w, opts)
	b.render = render
	return b
}

func newBar(w io.Writer, opts Options) *Bar {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Width <= 0 {
		opts.Width = 80
	}
	if opts.Interval <= 0 {
		opts.Interval = LogInterval
		if opts.Terminal {
			opts.Interval = TerminalInterval
		}
	}
	return &Bar{w: w, opts: opts, start: opts.Now()}
}

// ForWriter returns the Options for w: a terminal with its width when w is
// a terminal, plain lines otherwise.
func ForWriter(w io.Writer) Options {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Options{}
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return Options{Terminal: true, Width: width}
}

// Update records s and draws it when the interval since the previous draw
// has passed. On a non-terminal the first draw waits a whole interval, so
// that a short load prints no progress lines.
func (b *Bar) Update(s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = s
	b.drawIfDue()
}

// Refresh draws the line when the interval since the previous draw has
// passed.
func (b *Bar) Refresh() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drawIfDue()
}

// Run refreshes the line every TerminalInterval until ctx is done.
func (b *Bar) Run(ctx context.Context) {
	t := time.NewTicker(TerminalInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.Refresh()
		}
	}
}

// drawIfDue draws when the interval has passed; on a non-terminal the first
// draw waits a whole interval. b.mu is held.
func (b *Bar) drawIfDue() {
	now := b.opts.Now()
	prev := b.lastDraw
	if prev.IsZero() && !b.opts.Terminal {
		prev = b.start
	}
	if !prev.IsZero() && now.Sub(prev) < b.opts.Interval {
		return
	}
	b.draw(now)
}

// Println prints a message on a line of its own, above the bar on a
// terminal, and redraws the bar under it.
func (b *Bar) Println(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	fmt.Fprintln(b.w, msg)
	if b.drawn {
		b.drawn = false
		b.draw(b.opts.Now())
	}
}

// Finish draws the last snapshot one final time on a terminal and ends the
// line, so that what follows starts on a line of its own. On a
// non-terminal it prints nothing: the summary follows.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.opts.Terminal {
		return
	}
	b.draw(b.opts.Now())
	fmt.Fprintln(b.w)
	b.drawn = false
}

func (b *Bar) draw(now time.Time) {
	var line string
	if b.render != nil {
		line = b.render(now.Sub(b.start))
	} else {
		line = Render(b.last, b.base, now.Sub(b.start))
	}
	if b.opts.Terminal {
		if r := []rune(line); len(r) > b.opts.Width-1 {
			line = string(r[:b.opts.Width-1])
		}
		fmt.Fprint(b.w, "\r"+line+"\x1b[K")
		b.drawn = true
	} else {
		fmt.Fprintln(b.w, line)
	}
	b.lastDraw = now
}

// barWidth is the number of cells of the bar itself.
const barWidth = 20

// Render formats s as one line; base is the state the run started from and
// elapsed the run's duration so far, from which the rate and the ETA
// follow:
//
//	[=========>          ]  45.0%  12,000 records  5.2 MiB/11.6 MiB  2,400/s  stored 11,900  dup 50  rejected 50  ETA 6s
//
// Without a known size, the bar and the percentage are left out.
func Render(s, base Snapshot, elapsed time.Duration) string {
	var parts []string
	if s.TotalBytes > 0 {
		frac := min(max(float64(s.Bytes)/float64(s.TotalBytes), 0), 1)
		parts = append(parts, Gauge(frac), fmt.Sprintf("%5.1f%%", frac*100))
	}
	parts = append(parts, Count(s.Records)+" records")
	if s.TotalBytes > 0 {
		parts = append(parts, Bytes(s.Bytes)+"/"+Bytes(s.TotalBytes))
	}
	if r := Rate(s.Records-base.Records, elapsed); r != "" {
		parts = append(parts, r)
	}
	parts = append(parts, "stored "+Count(s.Stored), "dup "+Count(s.Duplicates), "rejected "+Count(s.Rejected))
	if s.Errors > 0 {
		parts = append(parts, "errors "+Count(s.Errors))
	}
	if eta, ok := ETA(s, base, elapsed); ok {
		parts = append(parts, "ETA "+Duration(eta))
	}
	return strings.Join(parts, "  ")
}

// Gauge draws frac (clamped to 0..1) as a bar of barWidth cells:
// "[=========>          ]".
func Gauge(frac float64) string {
	frac = min(max(frac, 0), 1)
	full := int(frac * barWidth)
	switch {
	case full >= barWidth:
		return "[" + strings.Repeat("=", barWidth) + "]"
	default:
		return "[" + strings.Repeat("=", full) + ">" + strings.Repeat(" ", barWidth-full-1) + "]"
	}
}

// Rate formats n per elapsed as "1,234/s"; "" before any time passed.
func Rate(n int64, elapsed time.Duration) string {
	if elapsed <= 0 {
		return ""
	}
	return Count(int64(float64(n)/elapsed.Seconds())) + "/s"
}

// ETA estimates the time left from the byte rate of this run; ok is false
// while there is nothing to base it on.
func ETA(s, base Snapshot, elapsed time.Duration) (time.Duration, bool) {
	done := s.Bytes - base.Bytes
	if s.TotalBytes <= 0 || done <= 0 || elapsed <= 0 {
		return 0, false
	}
	left := max(s.TotalBytes-s.Bytes, 0)
	return time.Duration(float64(elapsed) * float64(left) / float64(done)), true
}

// Duration formats d for people, rounded to the second: "42s", "3m05s",
// "1h02m".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Count formats n with thousands separators: 1234567 → "1,234,567".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	if neg {
		return "-" + out.String()
	}
	return out.String()
}

// Bytes formats a byte count in binary units: "512 B", "1.5 KiB",
// "12.3 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit && exp < 5; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
