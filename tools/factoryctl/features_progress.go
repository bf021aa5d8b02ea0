package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

// counterBar draws the progress of a stream that progress.Bar does not
// describe (its line is that of an ingestion load): a line of named counts
// from a render function, redrawn in place on a terminal and printed every
// progress.LogInterval otherwise, with progress.Bar's options and pacing.
type counterBar struct {
	w        io.Writer
	opts     progress.Options
	render   func(elapsed time.Duration) string
	mu       sync.Mutex
	start    time.Time
	lastDraw time.Time
}

func newCounterBar(w io.Writer, opts progress.Options, render func(elapsed time.Duration) string) *counterBar {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Width <= 0 {
		opts.Width = 80
	}
	if opts.Interval <= 0 {
		opts.Interval = progress.LogInterval
		if opts.Terminal {
			opts.Interval = progress.TerminalInterval
		}
	}
	return &counterBar{w: w, opts: opts, render: render, start: opts.Now()}
}

// run redraws the bar until ctx is done.
func (b *counterBar) run(ctx context.Context) {
	t := time.NewTicker(progress.TerminalInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.update()
		}
	}
}

// update draws when the interval since the last draw has passed; off a
// terminal the first draw waits a whole interval, so that a short run
// prints no progress lines.
func (b *counterBar) update() {
	b.mu.Lock()
	defer b.mu.Unlock()
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

// finish draws the final state on a terminal and ends the line.
func (b *counterBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.opts.Terminal {
		return
	}
	b.draw(b.opts.Now())
	fmt.Fprintln(b.w)
}

func (b *counterBar) draw(now time.Time) {
	line := b.render(now.Sub(b.start))
	if b.opts.Terminal {
		if r := []rune(line); len(r) > b.opts.Width-1 {
			line = string(r[:b.opts.Width-1])
		}
		fmt.Fprint(b.w, "\r"+line+"\x1b[K")
	} else {
		fmt.Fprintln(b.w, line)
	}
	b.lastDraw = now
}

// fractionBar renders frac (0..1) as a 20-cell bar and a percentage.
func fractionBar(frac float64) string {
	const width = 20
	frac = min(max(frac, 0), 1)
	full := int(frac * width)
	bar := "[" + strings.Repeat("=", width) + "]"
	if full < width {
		bar = "[" + strings.Repeat("=", full) + ">" + strings.Repeat(" ", width-full-1) + "]"
	}
	return fmt.Sprintf("%s %5.1f%%", bar, frac*100)
}

// rate formats n per elapsed as "1,234/s"; "" before any time passed.
func rate(n int64, elapsed time.Duration) string {
	if elapsed <= 0 {
		return ""
	}
	return progress.Count(int64(float64(n)/elapsed.Seconds())) + "/s"
}

// joinParts joins the non-empty parts two spaces apart.
func joinParts(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "  ")
}
