package main

import (
	"fmt"
	"io"

	"github.com/aifactory/aifactory/services/ingestion/records"
)

// The loader sees the records package through these names and openItems
// only, so that the reading side can be swapped (or faked) in one place.
type (
	item       = records.Item
	itemReader = records.Reader
)

// openItems returns a reader of f's records in format, starting at the
// record that begins at byte offset (0: the start; a CSV header is always
// read from the start) on line firstLine (an Item.NextLine of a checkpoint;
// 0: from the top).
func openItems(f io.ReadSeeker, format string, offset, firstLine int64) (itemReader, error) {
	switch format {
	case formatCSV:
		return records.NewCSVReaderAt(f, offset, records.CSVOptions{FirstLine: firstLine})
	case formatJSONL:
		return records.NewJSONLReaderAt(f, offset, records.JSONLOptions{FirstLine: firstLine})
	}
	return nil, fmt.Errorf("unknown format %q", format)
}
