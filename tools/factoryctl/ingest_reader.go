package main

// This file is the only place that knows how records are read from a file.
// The rest of `ingest file` sees itemReader.
//
// STUB: it stands in for github.com/aifactory/aifactory/services/ingestion/records,
// which was not buildable yet when `ingest file` was written. Once it is,
// replace openItems with
//
//	func openItems(f io.ReadSeeker, format string, offset, firstLine int64) (itemReader, error) {
//		var (
//			r   records.Reader
//			err error
//		)
//		switch format {
//		case formatCSV:
//			r, err = records.NewCSVReaderAt(f, offset, records.CSVOptions{FirstLine: firstLine})
//		default:
//			r, err = records.NewJSONLReaderAt(f, offset, records.JSONLOptions{FirstLine: firstLine})
//		}
//		if err != nil {
//			return nil, err
//		}
//		return adapter{r}, nil
//	}
//
// with adapter.Next converting records.Item to item field by field, delete
// the stub readers below, and add the module to go.mod:
//
//	go mod edit -require=github.com/aifactory/aifactory/services/ingestion@v0.0.0-00010101000000-000000000000 \
//		-replace=github.com/aifactory/aifactory/services/ingestion=../../services/ingestion

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// item is one record read from the input, as records.Item.
type item struct {
	// Line is where the record starts (1-based).
	Line int64
	// Offset is the byte offset at which the next record starts: reading
	// again from there continues after this record.
	Offset int64
	// NextLine is the line number at Offset.
	NextLine int64
	// JSON is the record as one JSON object.
	JSON []byte
	// Err is why this record could not be read; the reader continues.
	Err error
}

// itemReader reads records one at a time; Next returns io.EOF at the end.
type itemReader interface {
	Next() (item, error)
}

// maxRecordBytes is the largest record read; longer ones are per-item
// errors (the server's default limit is 1 MiB).
const maxRecordBytes = 1 << 20

// openItems returns a reader of f's records in format, starting at the
// record that begins at byte offset (0: the start; a CSV header is always
// read from the start) on line firstLine (an item's NextLine; 0: unknown,
// counted from the offset as line 1).
func openItems(f io.ReadSeeker, format string, offset, firstLine int64) (itemReader, error) {
	switch format {
	case formatCSV:
		return newStubCSV(f, offset, firstLine)
	case formatJSONL:
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, err
		}
		return &stubJSONL{r: bufio.NewReaderSize(f, 64<<10), offset: offset, line: max(firstLine-1, 0)}, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// stubJSONL reads one JSON object per line; blank lines are skipped.
type stubJSONL struct {
	r      *bufio.Reader
	offset int64
	line   int64
}

func (j *stubJSONL) Next() (item, error) {
	for {
		b, n, tooLong, err := j.readLine()
		if n == 0 && err != nil {
			return item{}, err
		}
		j.line++
		j.offset += n
		it := item{Line: j.line, Offset: j.offset, NextLine: j.line + 1}
		b = bytes.TrimSpace(b)
		switch {
		case tooLong:
			it.Err = fmt.Errorf("record longer than %d bytes", maxRecordBytes)
		case len(b) == 0:
			if err != nil {
				return item{}, err
			}
			continue
		case b[0] != '{' || !json.Valid(b):
			it.Err = errors.New("not a JSON object")
			if json.Valid(b) {
				it.Err = errors.New("a JSON value that is not an object")
			}
		default:
			it.JSON = bytes.Clone(b)
		}
		return it, nil
	}
}

// readLine reads up to and including the next '\n', keeping at most
// maxRecordBytes of it; n counts every byte consumed.
func (j *stubJSONL) readLine() (line []byte, n int64, tooLong bool, err error) {
	for {
		frag, e := j.r.ReadSlice('\n')
		n += int64(len(frag))
		if !tooLong {
			if len(line)+len(frag) > maxRecordBytes+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return line, n, tooLong, e
	}
}

// stubCSV reads a CSV file with a header row; each row becomes an object of
// string values, empty cells left out.
type stubCSV struct {
	r        *csv.Reader
	header   []string
	base     int64 // byte offset r starts at
	lineBase int64 // line number before r's first line
}

func newStubCSV(f io.ReadSeeker, offset, firstLine int64) (*stubCSV, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	hr := csv.NewReader(f)
	header, err := hr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("the CSV file is empty: it needs a header row")
		}
		return nil, fmt.Errorf("read the CSV header: %w", err)
	}
	c := &stubCSV{header: header}
	start := hr.InputOffset()
	if offset > start {
		start = offset
		c.lineBase = max(firstLine-1, 0)
	} else {
		c.lineBase = 1
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	c.base = start
	c.r = csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	c.r.FieldsPerRecord = len(header)
	c.r.ReuseRecord = true
	return c, nil
}

func (c *stubCSV) Next() (item, error) {
	row, err := c.r.Read()
	if err == io.EOF {
		return item{}, io.EOF
	}
	line, _ := c.r.FieldPos(0)
	it := item{Line: c.lineBase + int64(line), Offset: c.base + c.r.InputOffset()}
	if len(row) > 0 {
		last, _ := c.r.FieldPos(len(row) - 1)
		it.NextLine = c.lineBase + int64(last) + int64(strings.Count(row[len(row)-1], "\n")) + 1
	}
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe) && errors.Is(err, csv.ErrFieldCount):
		it.Err = fmt.Errorf("%d columns, the header has %d", len(row), len(c.header))
		return it, nil
	case errors.As(err, &pe):
		it.Line, it.NextLine = c.lineBase+int64(pe.StartLine), c.lineBase+int64(pe.Line)+1
		it.Err = pe.Err
		return it, nil
	case err != nil:
		return item{}, err
	}
	b := []byte{'{'}
	for i, v := range row {
		if v == "" {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(c.header[i])
		s, _ := json.Marshal(v)
		b = append(append(append(b, k...), ':'), s...)
	}
	b = append(b, '}')
	if len(b) > maxRecordBytes {
		it.Err = fmt.Errorf("record longer than %d bytes", maxRecordBytes)
		return it, nil
	}
	it.JSON = b
	return it, nil
}
