package records

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSONLOptions configure a JSONLReader.
type JSONLOptions struct {
	// MaxRecordBytes limits one line (without its line end); longer lines
	// are skipped with an ErrRecordTooLarge item, without being buffered.
	// 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// FirstLine is the line number of the first line read (Item.NextLine
	// of a checkpoint when resuming); 0 means 1.
	FirstLine int64
}

// JSONLReader reads JSON Lines: one JSON object per line, "\n" or "\r\n"
// line ends. Blank lines are skipped; a UTF-8 byte order mark at the start
// of the file is ignored. A line that is not a JSON object yields an item
// with Err.
type JSONLReader struct {
	br   *bufio.Reader
	max  int
	off  int64 // offset of the next unread byte
	line int64 // line number of the next line
	bom  bool  // still at the start of the file: skip a BOM
	buf  []byte
	err  error
}

// NewJSONLReader reads JSON Lines from r, starting at offset 0.
func NewJSONLReader(r io.Reader, opts JSONLOptions) *JSONLReader {
	return newJSONL(r, 0, opts)
}

// NewJSONLReaderAt seeks r to offset (an Item.Offset) and reads from there;
// Item.Offset stays relative to the start of r.
func NewJSONLReaderAt(r io.ReadSeeker, offset int64, opts JSONLOptions) (*JSONLReader, error) {
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek to %d: %w", offset, err)
	}
	return newJSONL(r, offset, opts), nil
}

func newJSONL(r io.Reader, offset int64, opts JSONLOptions) *JSONLReader {
	jr := &JSONLReader{
		br:   bufio.NewReaderSize(r, 64<<10),
		max:  opts.MaxRecordBytes,
		off:  offset,
		line: opts.FirstLine,
		bom:  offset == 0,
	}
	if jr.max <= 0 {
		jr.max = DefaultMaxRecordBytes
	}
	if jr.line <= 0 {
		jr.line = 1
	}
	return jr
}

// Next returns the next non-blank line.
func (r *JSONLReader) Next() (Item, error) {
	for {
		if r.err != nil {
			return Item{}, r.err
		}
		line := r.line
		text, tooBig, err := r.readLine()
		if err != nil {
			r.err = err
			return Item{}, err
		}
		it := Item{Line: line, Offset: r.off, NextLine: r.line}
		if tooBig {
			it.Err = fmt.Errorf("line %d: %w: over %d bytes", line, ErrRecordTooLarge, r.max)
			return it, nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		if text[0] != '{' {
			it.Err = fmt.Errorf("line %d: not a JSON object", line)
			return it, nil
		}
		if !json.Valid(text) {
			var v json.RawMessage
			err := json.Unmarshal(text, &v)
			if err == nil {
				err = errors.New("invalid JSON")
			}
			it.Err = fmt.Errorf("line %d: %w", line, err)
			return it, nil
		}
		it.JSON = append([]byte(nil), text...)
		return it, nil
	}
}

// readLine reads one line into r.buf, or discards it when it is over the
// limit. It returns io.EOF only when no byte was left.
func (r *JSONLReader) readLine() (text []byte, tooBig bool, err error) {
	r.buf = r.buf[:0]
	n := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += len(chunk)
		if r.bom {
			if len(chunk) >= len(utf8BOM) || err != bufio.ErrBufferFull {
				r.bom = false
				chunk = bytes.TrimPrefix(chunk, []byte(utf8BOM))
			}
		}
		if !tooBig {
			// Allow for "\r\n" beyond the limit; checked exactly below.
			if len(r.buf)+len(chunk) > r.max+2 {
				tooBig = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if n == 0 {
				return nil, false, io.EOF
			}
		} else if err != nil {
			return nil, false, err
		}
		break
	}
	r.off += int64(n)
	r.line++
	text = r.buf
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	if len(text) > r.max {
		tooBig = true
	}
	return text, tooBig, nil
}
