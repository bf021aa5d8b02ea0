package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.csv"+checkpointSuffix)
	want := &checkpoint{
		File: "/data/orders.csv", Size: 1234, MTime: time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC), Format: formatCSV,
		Product: "sales/orders", Port: "v1", Offset: 900, Line: 41, NextLine: 42, RunID: "run-1",
		Counters: loadCounters{Read: 40, Stored: 35, Duplicates: 2, Rejected: 3, Unreadable: 1, RejectedByRule: map[string]int64{"required": 2, "unreadable": 1}},
	}
	if _, err := readCheckpoint(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading a missing checkpoint: %v, want fs.ErrNotExist", err)
	}
	for range 2 { // the second write replaces the first
		if err := writeCheckpoint(path, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"file"`, `"size"`, `"mtime"`, `"offset"`, `"line"`, `"run_id"`, `"counters"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("checkpoint JSON lacks %s:\n%s", key, b)
		}
	}
}

func TestCheckpointDamaged(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"truncated": `{"file": "x", "offs`, "no run id": `{"file": "x", "offset": 10}`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readCheckpoint(path); err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestCheckpointVerify(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "o.jsonl", `{"a":1}`+"\n"+`{"a":2}`+"\n")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	good := checkpoint{File: file, Size: fi.Size(), MTime: fi.ModTime(), Format: formatJSONL, Product: "sales/orders", Offset: 8, RunID: "r"}
	tests := []struct {
		name    string
		change  func(c *checkpoint)
		product string
		wantErr string
	}{
		{name: "matches", change: func(*checkpoint) {}},
		{name: "size", change: func(c *checkpoint) { c.Size++ }, wantErr: "the file is now 16 bytes, the checkpoint was written for 17"},
		{name: "mtime", change: func(c *checkpoint) { c.MTime = c.MTime.Add(-time.Minute) }, wantErr: "the file was modified at"},
		{name: "product", change: func(*checkpoint) {}, product: "sales/invoices", wantErr: "a load into sales/orders, not sales/invoices"},
		{name: "format", change: func(c *checkpoint) { c.Format = formatCSV }, wantErr: "read as csv, not jsonl"},
		{name: "offset", change: func(c *checkpoint) { c.Offset = 99 }, wantErr: "past the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			product := tt.product
			if product == "" {
				product = "sales/orders"
			}
			err := c.verify("o.ckpt", fi, product, formatJSONL)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, errCheckpointMismatch) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasSuffix(err.Error(), "remove o.ckpt to start the load over") {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
