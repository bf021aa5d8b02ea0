package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// checkpointSuffix names the default checkpoint of FILE: FILE.factory-checkpoint.
const checkpointSuffix = ".factory-checkpoint"

// loadCounters are the running totals of a load.
type loadCounters struct {
	// Read counts every record read, including unreadable ones.
	Read       int64 `json:"read"`
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"`
	// Rejected counts records the server quarantined plus those the
	// client could not read (Unreadable, also under the rule
	// "unreadable").
	Rejected       int64            `json:"rejected"`
	RejectedByRule map[string]int64 `json:"rejected_by_rule,omitempty"`
	Unreadable     int64            `json:"unreadable"`
	Errors         int64            `json:"errors"`
}

func (c *loadCounters) addRule(rule string, n int64) {
	if c.RejectedByRule == nil {
		c.RejectedByRule = map[string]int64{}
	}
	c.RejectedByRule[rule] += n
}

// add adds d to c.
func (c *loadCounters) add(d loadCounters) {
	c.Read += d.Read
	c.Stored += d.Stored
	c.Duplicates += d.Duplicates
	c.Rejected += d.Rejected
	c.Unreadable += d.Unreadable
	c.Errors += d.Errors
	for r, n := range d.RejectedByRule {
		c.addRule(r, n)
	}
}

func (c loadCounters) clone() loadCounters {
	out := c
	out.RejectedByRule = nil
	for r, n := range c.RejectedByRule {
		out.addRule(r, n)
	}
	return out
}

// checkpoint is where a load stands after its last acknowledged batch: the
// input (to notice when it changed), the reader position after the last
// acknowledged record, the run id to continue with, and the totals so far.
type checkpoint struct {
	File    string    `json:"file"`
	Size    int64     `json:"size"`
	MTime   time.Time `json:"mtime"`
	Format  string    `json:"format"`
	Product string    `json:"product"`
	Port    string    `json:"port,omitempty"`
	// Offset is the byte offset at which the first record not yet
	// acknowledged starts, NextLine its line number; Line is the line of
	// the last acknowledged record.
	Offset   int64        `json:"offset"`
	Line     int64        `json:"line"`
	NextLine int64        `json:"next_line,omitempty"`
	RunID    string       `json:"run_id"`
	Counters loadCounters `json:"counters"`
	Updated  time.Time    `json:"updated"`
}

// defaultCheckpointPath is FILE.factory-checkpoint.
func defaultCheckpointPath(file string) string { return file + checkpointSuffix }

// writeCheckpoint replaces the checkpoint at path atomically: it writes a
// temporary file in the same directory, syncs it and renames it over path,
// so that a crash leaves either the old or the new checkpoint.
func writeCheckpoint(path string, c *checkpoint) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint reads the checkpoint at path; the error wraps
// fs.ErrNotExist when there is none.
func readCheckpoint(path string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the checkpoint: %w", err)
	}
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("the checkpoint %s is damaged (%v): remove it to start the load over", path, err)
	}
	if c.RunID == "" || c.Offset < 0 {
		return nil, fmt.Errorf("the checkpoint %s is damaged (no run id or a negative offset): remove it to start the load over", path)
	}
	return &c, nil
}

// errCheckpointMismatch is returned by verify.
var errCheckpointMismatch = errors.New("the checkpoint does not match")

// verify checks that the checkpoint at path belongs to a load of the file
// described by fi into product, unchanged since: same size and
// modification time.
func (c *checkpoint) verify(path string, fi fs.FileInfo, product, format string) error {
	var why string
	switch {
	case c.Size != fi.Size():
		why = fmt.Sprintf("the file is now %d bytes, the checkpoint was written for %d", fi.Size(), c.Size)
	case !c.MTime.Equal(fi.ModTime()):
		why = fmt.Sprintf("the file was modified at %s, after the checkpoint's %s", fi.ModTime().Format(time.RFC3339), c.MTime.Format(time.RFC3339))
	case c.Product != product:
		why = fmt.Sprintf("the checkpoint is of a load into %s, not %s", c.Product, product)
	case c.Format != format:
		why = fmt.Sprintf("the checkpoint was read as %s, not %s", c.Format, format)
	case c.Offset > fi.Size():
		why = fmt.Sprintf("its offset %d is past the end of the file", c.Offset)
	default:
		return nil
	}
	return fmt.Errorf("%w: %s: remove %s to start the load over", errCheckpointMismatch, why, path)
}
