// Package records reads record files — CSV and JSON Lines — as a stream of
// JSON objects, one at a time and with bounded memory, for loading into
// data products (factoryctl ingest). It does no validation against a
// contract: that is the ingestion service's job.
//
// Every reader yields Items. An item with Err set is a problem of that one
// record (a malformed line, a wrong column count, a record over the size
// limit); the reader continues with the next one. A non-nil error from Next
// itself means the stream is unusable; io.EOF marks the end.
//
// # Resuming
//
// Item.Offset is the byte offset where the next item starts and
// Item.NextLine its line number: a checkpoint. To resume after an item,
// open the file again and call NewJSONLReaderAt or NewCSVReaderAt with that
// offset and FirstLine set to NextLine; the new reader yields exactly the
// items that followed. A CSV reader needs the header, so NewCSVReaderAt
// reads it from the start of the file before seeking.
package records

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMaxRecordBytes is the default limit on one record (a line of JSON
// Lines, a row of CSV, in bytes of input).
const DefaultMaxRecordBytes = 1 << 20

// Item is one record read from a file.
type Item struct {
	// Line is the 1-based line number where the record starts.
	Line int64
	// Offset is the byte offset of the start of the next item (after this
	// record's line end): where a resumed reader starts.
	Offset int64
	// NextLine is the line number at Offset.
	NextLine int64
	// JSON is the record as a JSON object; nil when Err is set. Each item
	// has its own slice.
	JSON []byte
	// Err describes what is wrong with this record; the reader goes on.
	Err error
}

// Reader yields records one at a time.
type Reader interface {
	// Next returns the next item, io.EOF at the end, or another error when
	// reading failed and the stream cannot continue.
	Next() (Item, error)
}

// ErrRecordTooLarge is wrapped by Item.Err for records over the size limit.
var ErrRecordTooLarge = errors.New("record too large")

// Format names; "" in Open means by extension.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// FormatOf returns the format of a file name: csv for .csv, jsonl for
// .jsonl, .ndjson and .json (read as one object per line), "" otherwise.
func FormatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL
	}
	return ""
}

// File is a Reader over an open file; Close closes the file.
type File struct {
	Reader
	f *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Open opens a record file in format ("csv", "jsonl", or "" to go by the
// extension) with the default options.
func Open(path, format string) (*File, error) {
	return OpenAt(path, format, 0, 0)
}

// OpenAt opens a record file and resumes at offset (an Item.Offset; 0 is
// the start) with line numbers from firstLine (an Item.NextLine; 0 means
// counting from the offset as line 1, or from the top for offset 0).
func OpenAt(path, format string, offset, firstLine int64) (*File, error) {
	if format == "" {
		format = FormatOf(path)
	}
	if format != FormatCSV && format != FormatJSONL {
		if format == "" {
			return nil, fmt.Errorf("records: %s: unknown format: name it (csv or jsonl) or use .csv, .jsonl, .ndjson or .json", path)
		}
		return nil, fmt.Errorf("records: unknown format %q (want csv or jsonl)", format)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	var r Reader
	switch format {
	case FormatCSV:
		r, err = NewCSVReaderAt(f, offset, CSVOptions{FirstLine: firstLine})
	default:
		r, err = NewJSONLReaderAt(f, offset, JSONLOptions{FirstLine: firstLine})
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("records: %s: %w", path, err)
	}
	return &File{Reader: r, f: f}, nil
}

// utf8BOM is skipped at the start of a file.
const utf8BOM = "\xef\xbb\xbf"
