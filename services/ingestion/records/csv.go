package records

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CSVOptions configure a CSVReader.
type CSVOptions struct {
	// Comma is the field delimiter, a single-byte character; 0 means ','.
	Comma rune
	// MaxRecordBytes limits one row, in bytes of input; larger rows are
	// skipped with an ErrRecordTooLarge item, without being buffered.
	// 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// FirstLine is the line number at the offset given to NewCSVReaderAt
	// (Item.NextLine of the checkpoint). 0 means: counted from the header
	// when the offset is where the header ends (or 0), else from the
	// offset as line 1.
	FirstLine int64
}

// CSVReader reads CSV (RFC 4180: quoted fields may hold delimiters, quotes
// doubled, and line ends) whose first row names the fields. Each further
// row becomes a JSON object of strings keyed by the header: an empty cell
// leaves its key out (absent), and a dotted name such as
// "destination.country" builds nested objects (an object whose cells are
// all empty is left out too). Blank lines are skipped, a UTF-8 byte order
// mark at the start is ignored, "\r\n" line ends are read as "\n" (also
// inside quoted fields, as encoding/csv does).
//
// A row with a different number of fields than the header, a bare or
// stray quote, invalid UTF-8, or more than MaxRecordBytes yields an item
// with Err; reading continues with the next line after the error.
type CSVReader struct {
	br     *bufio.Reader
	comma  byte
	max    int
	off    int64 // offset of the next unread byte
	line   int64 // line number of the next byte
	header []string
	root   *node
	err    error

	// The current row.
	field  []byte // cell contents, concatenated
	ends   []int  // end of each cell in field
	quoted bool   // some cell was quoted
	out    []byte
}

// node is one key of the JSON object built from the header.
type node struct {
	key      []byte // JSON-quoted name
	col      int    // column of a leaf; -1 for an object
	children []*node
	byName   map[string]*node
}

// NewCSVReader reads the header row from r and returns a reader of the
// following rows. A missing header, an empty or duplicate column name, or
// a malformed header row is an error naming the column.
func NewCSVReader(r io.Reader, opts CSVOptions) (*CSVReader, error) {
	cr, err := newCSV(r, 0, opts)
	if err != nil {
		return nil, err
	}
	if opts.FirstLine > 0 {
		cr.line = opts.FirstLine
	}
	return cr, nil
}

// NewCSVReaderAt reads the header from the start of r, then seeks to offset
// (an Item.Offset of an earlier reader of the same file) and reads the rows
// from there. Offsets 0 and the end of the header both mean the first row.
func NewCSVReaderAt(r io.ReadSeeker, offset int64, opts CSVOptions) (*CSVReader, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek to 0: %w", err)
	}
	cr, err := newCSV(r, 0, opts)
	if err != nil {
		return nil, err
	}
	if offset == 0 || offset == cr.off {
		if opts.FirstLine > 0 {
			cr.line = opts.FirstLine
		}
		return cr, nil
	}
	if offset < cr.off {
		return nil, fmt.Errorf("offset %d is inside the header (it ends at %d)", offset, cr.off)
	}
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek to %d: %w", offset, err)
	}
	cr.br.Reset(r)
	cr.off = offset
	cr.line = max(opts.FirstLine, 1)
	return cr, nil
}

func newCSV(r io.Reader, offset int64, opts CSVOptions) (*CSVReader, error) {
	comma := opts.Comma
	if comma == 0 {
		comma = ','
	}
	if comma >= utf8.RuneSelf || comma == '"' || comma == '\r' || comma == '\n' {
		return nil, fmt.Errorf("invalid CSV delimiter %q: want a single-byte character other than quote and line ends", comma)
	}
	cr := &CSVReader{
		br:    bufio.NewReaderSize(r, 64<<10),
		comma: byte(comma),
		max:   opts.MaxRecordBytes,
		off:   offset,
		line:  1,
	}
	if cr.max <= 0 {
		cr.max = DefaultMaxRecordBytes
	}
	if b, err := cr.br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		cr.br.Discard(len(utf8BOM))
		cr.off += int64(len(utf8BOM))
	}
	for {
		_, rowErr, err := cr.readRow()
		if err == io.EOF {
			return nil, errors.New("no header row")
		}
		if err != nil {
			return nil, err
		}
		if rowErr != nil {
			return nil, fmt.Errorf("header: %w", rowErr)
		}
		if cr.blank() {
			continue
		}
		break
	}
	cr.header = make([]string, len(cr.ends))
	cr.root = &node{col: -1, byName: map[string]*node{}}
	seen := make(map[string]int, len(cr.ends))
	for i := range cr.ends {
		name := strings.TrimSpace(string(cr.cell(i)))
		col := fmt.Sprintf("column %d", i+1)
		if name == "" {
			return nil, fmt.Errorf("header: %s has no name", col)
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("header: %s: name is not valid UTF-8", col)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("header: %s %q repeats column %d", col, name, j+1)
		}
		seen[name] = i
		cr.header[i] = name
		if err := cr.root.add(strings.Split(name, "."), i); err != nil {
			return nil, fmt.Errorf("header: %s %q: %w", col, name, err)
		}
	}
	return cr, nil
}

// add places column col under the dotted path.
func (n *node) add(path []string, col int) error {
	for i, seg := range path {
		if seg == "" {
			return errors.New("empty part in a dotted name")
		}
		leaf := i == len(path)-1
		c, ok := n.byName[seg]
		switch {
		case !ok:
			c = &node{key: appendString(nil, []byte(seg)), col: -1}
			if leaf {
				c.col = col
			} else {
				c.byName = map[string]*node{}
			}
			n.byName[seg] = c
			n.children = append(n.children, c)
		case leaf || c.col >= 0:
			return fmt.Errorf("conflicts with the column holding %q", strings.Join(path[:i+1], "."))
		}
		n = c
	}
	return nil
}

// Header returns the column names.
func (r *CSVReader) Header() []string { return append([]string(nil), r.header...) }

// Next returns the next row as a JSON object.
func (r *CSVReader) Next() (Item, error) {
	for {
		if r.err != nil {
			return Item{}, r.err
		}
		line, rowErr, err := r.readRow()
		if err != nil {
			r.err = err
			return Item{}, err
		}
		it := Item{Line: line, Offset: r.off, NextLine: r.line}
		if rowErr != nil {
			it.Err = fmt.Errorf("line %d: %w", line, rowErr)
			return it, nil
		}
		if r.blank() {
			continue
		}
		if len(r.ends) != len(r.header) {
			it.Err = fmt.Errorf("line %d: %d fields, the header has %d", line, len(r.ends), len(r.header))
			return it, nil
		}
		for i := range r.ends {
			if !utf8.Valid(r.cell(i)) {
				it.Err = fmt.Errorf("line %d: column %q is not valid UTF-8", line, r.header[i])
				return it, nil
			}
		}
		r.out = r.out[:0]
		r.writeObject(r.root)
		it.JSON = append([]byte(nil), r.out...)
		return it, nil
	}
}

func (r *CSVReader) cell(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.field[start:r.ends[i]]
}

// blank reports whether the row read was an empty line.
func (r *CSVReader) blank() bool { return len(r.ends) == 1 && r.ends[0] == 0 && !r.quoted }

// writeObject appends n's object; false when it had no non-empty cell.
func (r *CSVReader) writeObject(n *node) bool {
	r.out = append(r.out, '{')
	first := true
	for _, c := range n.children {
		mark := len(r.out)
		if !first {
			r.out = append(r.out, ',')
		}
		r.out = append(r.out, c.key...)
		r.out = append(r.out, ':')
		if c.col >= 0 {
			v := r.cell(c.col)
			if len(v) == 0 {
				r.out = r.out[:mark]
				continue
			}
			r.out = appendString(r.out, v)
		} else if !r.writeObject(c) {
			r.out = r.out[:mark]
			continue
		}
		first = false
	}
	r.out = append(r.out, '}')
	return !first
}

const hexDigits = "0123456789abcdef"

// appendString appends s (valid UTF-8) as a JSON string.
func appendString(out, s []byte) []byte {
	out = append(out, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

func (r *CSVReader) cellStart() int {
	if len(r.ends) == 0 {
		return 0
	}
	return r.ends[len(r.ends)-1]
}

// trimCR drops the "\r" of a "\r\n" line end from the current cell.
func (r *CSVReader) trimCR() {
	if n := len(r.field); n > r.cellStart() && r.field[n-1] == '\r' {
		r.field = r.field[:n-1]
	}
}

// Parser states.
const (
	stFieldStart = iota
	stUnquoted
	stQuoted
	stQuote    // a quote inside a quoted field: closing, or the first of ""
	stQuoteCR  // "\r" after a closing quote
	stSkipLine // after an error: discard up to the line end
	stRowEnded // the row is complete
)

// readRow reads one row into r.field/r.ends. rowErr is a problem of this
// row (the rest of its line was skipped); err is io.EOF when nothing was
// left, or an I/O error.
func (r *CSVReader) readRow() (line int64, rowErr error, err error) {
	r.field, r.ends, r.quoted = r.field[:0], r.ends[:0], false
	line = r.line
	state := stFieldStart
	size := 0
	tooBig := false
	for state != stRowEnded {
		chunk, rerr := r.br.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull && rerr != io.EOF {
			return line, nil, rerr
		}
		r.off += int64(len(chunk))
		size += len(chunk)
		if size > r.max {
			tooBig = true
		}
		for _, c := range chunk {
			if c == '\n' {
				r.line++
			}
			switch state {
			case stFieldStart, stUnquoted:
				switch {
				case c == '"' && state == stFieldStart:
					state = stQuoted
					r.quoted = true
				case c == '"':
					rowErr = fmt.Errorf("column %d: bare \" in a field without quotes", len(r.ends)+1)
					state = stSkipLine
				case c == r.comma:
					r.ends = append(r.ends, len(r.field))
					state = stFieldStart
				case c == '\n':
					r.trimCR()
					r.ends = append(r.ends, len(r.field))
					state = stRowEnded
				default:
					if !tooBig {
						r.field = append(r.field, c)
					}
					state = stUnquoted
				}
			case stQuoted:
				switch {
				case c == '"':
					state = stQuote
				case c == '\n' && len(r.field) > r.cellStart() && r.field[len(r.field)-1] == '\r':
					r.field[len(r.field)-1] = '\n'
				default:
					if !tooBig {
						r.field = append(r.field, c)
					}
				}
			case stQuote:
				switch c {
				case '"':
					if !tooBig {
						r.field = append(r.field, '"')
					}
					state = stQuoted
				case r.comma:
					r.ends = append(r.ends, len(r.field))
					state = stFieldStart
				case '\n':
					r.ends = append(r.ends, len(r.field))
					state = stRowEnded
				case '\r':
					state = stQuoteCR
				default:
					rowErr = fmt.Errorf("column %d: extraneous or missing \" in a quoted field", len(r.ends)+1)
					state = stSkipLine
				}
			case stQuoteCR:
				if c == '\n' {
					r.ends = append(r.ends, len(r.field))
					state = stRowEnded
				} else {
					rowErr = fmt.Errorf("column %d: \\r after a closing quote", len(r.ends)+1)
					state = stSkipLine
				}
			case stSkipLine:
				if c == '\n' {
					state = stRowEnded
				}
			}
		}
		if rerr == io.EOF {
			if size == 0 {
				return line, nil, io.EOF
			}
			switch state {
			case stQuoted:
				rowErr = errors.New("quoted field not terminated at the end of the input")
			case stFieldStart, stUnquoted:
				r.trimCR()
				r.ends = append(r.ends, len(r.field))
			case stQuote, stQuoteCR:
				r.ends = append(r.ends, len(r.field))
			}
			break
		}
	}
	if tooBig {
		return line, fmt.Errorf("%w: row over %d bytes", ErrRecordTooLarge, r.max), nil
	}
	return line, rowErr, nil
}
