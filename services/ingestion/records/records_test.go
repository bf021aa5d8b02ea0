package records

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// readAll drains r into "line:json" or "line:ERR" strings.
func readAll(t testing.TB, r Reader) ([]string, []Item) {
	t.Helper()
	var out []string
	var items []Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return out, items
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		items = append(items, it)
		if it.Err != nil {
			out = append(out, fmt.Sprintf("%d:ERR", it.Line))
			if it.JSON != nil {
				t.Errorf("item with Err has JSON")
			}
			continue
		}
		out = append(out, fmt.Sprintf("%d:%s", it.Line, it.JSON))
	}
}

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name, in string
		opts     CSVOptions
		want     []string
	}{
		{"basic", "a,b\n1,2\n3,4\n", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`, `3:{"a":"3","b":"4"}`}},
		{"no final newline", "a,b\n1,2", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`}},
		{"crlf", "a,b\r\n1,2\r\n3,\r\n", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`, `3:{"a":"3"}`}},
		{"crlf at eof", "a,b\r\n1,2\r", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`}},
		{"bom", "\xef\xbb\xbfa,b\n1,2\n", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`}},
		{"quoted comma and newline", "a,b\n\"x,y\",\"line1\nline2\"\n3,4\n", CSVOptions{},
			[]string{`2:{"a":"x,y","b":"line1\nline2"}`, `4:{"a":"3","b":"4"}`}},
		{"quoted crlf", "a\r\n\"l1\r\nl2\"\r\n", CSVOptions{}, []string{`2:{"a":"l1\nl2"}`}},
		{"doubled quotes", "a\n\"say \"\"hi\"\"\"\n", CSVOptions{}, []string{`2:{"a":"say \"hi\""}`}},
		{"lone cr is data", "a,b\nx\ry,2\n", CSVOptions{}, []string{`2:{"a":"x\ry","b":"2"}`}},
		{"empty cells absent", "a,b,c\n,,\n1,,3\n", CSVOptions{}, []string{`2:{}`, `3:{"a":"1","c":"3"}`}},
		{"quoted empty is absent", "a,b\n\"\",1\n", CSVOptions{}, []string{`2:{"b":"1"}`}},
		{"blank lines skipped", "a\n\n1\n\r\n2\n", CSVOptions{}, []string{`3:{"a":"1"}`, `5:{"a":"2"}`}},
		{"escaping", "a\n\"tab\there \\ /\"\n", CSVOptions{}, []string{`2:{"a":"tab\there \\ /"}`}},
		{"control char", "a\nx\x01y\n", CSVOptions{}, []string{`2:{"a":"x\u0001y"}`}},
		{"unicode", "name\nJosé 😀\n", CSVOptions{}, []string{`2:{"name":"José 😀"}`}},
		{"wrong count continues", "a,b\n1\n1,2,3\n4,5\n", CSVOptions{}, []string{`2:ERR`, `3:ERR`, `4:{"a":"4","b":"5"}`}},
		{"bare quote continues", "a,b\n1,x\"y\n4,5\n", CSVOptions{}, []string{`2:ERR`, `3:{"a":"4","b":"5"}`}},
		{"stray quote continues", "a,b\n\"1\"x,2\n4,5\n", CSVOptions{}, []string{`2:ERR`, `3:{"a":"4","b":"5"}`}},
		{"unterminated quote", "a,b\n1,2\n\"3,4\n5,6\n", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`, `3:ERR`}},
		{"invalid utf8", "a\n\xff\nok\n", CSVOptions{}, []string{`2:ERR`, `3:{"a":"ok"}`}},
		{"semicolon", "a;b\n1;\"2;3\"\n", CSVOptions{Comma: ';'}, []string{`2:{"a":"1","b":"2;3"}`}},
		{"dotted", "id,destination.country,destination.city,x.y.z\n1,DE,Berlin,\n2,,,deep\n", CSVOptions{},
			[]string{`2:{"id":"1","destination":{"country":"DE","city":"Berlin"}}`, `3:{"id":"2","x":{"y":{"z":"deep"}}}`}},
		{"header trimmed", " a , b\n1,2\n", CSVOptions{}, []string{`2:{"a":"1","b":"2"}`}},
		{"oversize row skipped", "a\n" + strings.Repeat("x", 100) + "\n\"" + strings.Repeat("y\n", 60) + "\"\nok\n", CSVOptions{MaxRecordBytes: 50},
			[]string{`2:ERR`, `3:ERR`, `64:{"a":"ok"}`}},
		{"header only", "a,b\n", CSVOptions{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewCSVReader(strings.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, items := readAll(t, r)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			for _, it := range items {
				if it.JSON != nil && !json.Valid(it.JSON) {
					t.Errorf("invalid JSON %s", it.JSON)
				}
			}
			// Same cells as encoding/csv where that reads the input cleanly.
			if !strings.Contains(tc.name, "dotted") && !strings.Contains(tc.name, "continues") && !strings.Contains(tc.name, "unterminated") &&
				!strings.Contains(tc.name, "oversize") && !strings.Contains(tc.name, "bom") && !strings.Contains(tc.name, "trimmed") && !strings.Contains(tc.name, "utf8") {
				compareStdlib(t, tc.in, tc.opts, items)
			}
		})
	}
}

// compareStdlib checks the values against encoding/csv.
func compareStdlib(t *testing.T, in string, opts CSVOptions, items []Item) {
	t.Helper()
	cr := csv.NewReader(strings.NewReader(in))
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	if len(rows)-1 != len(items) {
		t.Fatalf("encoding/csv has %d rows, we %d items", len(rows)-1, len(items))
	}
	for i, row := range rows[1:] {
		var m map[string]string
		if err := json.Unmarshal(items[i].JSON, &m); err != nil {
			t.Fatal(err)
		}
		for j, v := range row {
			if m[rows[0][j]] != v {
				t.Errorf("row %d %s: %q, encoding/csv %q", i, rows[0][j], m[rows[0][j]], v)
			}
		}
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "no header",
		"\n\n":             "no header",
		"a,,b\n":           "column 2",
		"a,b,a\n":          `column 3 "a" repeats column 1`,
		"a,a.b\n":          "column 2",
		"a.b,a\n":          "column 2",
		"a..b\n":           "column 1",
		"\"a,b\n":          "header",
		"a,\"b\"x\n":       "header",
		"a,\xff\n":         "column 2",
		"\xef\xbb\xbf,a\n": "column 1 has no name",
	} {
		_, err := NewCSVReader(strings.NewReader(in), CSVOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", in, err, want)
		}
	}
	if _, err := NewCSVReader(strings.NewReader("a\n"), CSVOptions{Comma: '"'}); err == nil {
		t.Error("quote as delimiter accepted")
	}
}

func TestJSONLReader(t *testing.T) {
	long := `{"a":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name, in string
		opts     JSONLOptions
		want     []string
	}{
		{"basic", "{\"a\":1}\n{\"b\":2}\n", JSONLOptions{}, []string{`1:{"a":1}`, `2:{"b":2}`}},
		{"no final newline", `{"a":1}`, JSONLOptions{}, []string{`1:{"a":1}`}},
		{"crlf and blanks", "{\"a\":1}\r\n\r\n  \n{\"b\":2}\r\n", JSONLOptions{}, []string{`1:{"a":1}`, `4:{"b":2}`}},
		{"bom", "\xef\xbb\xbf{\"a\":1}\n", JSONLOptions{}, []string{`1:{"a":1}`}},
		{"surrounding space trimmed", "  {\"a\": 1}  \n", JSONLOptions{}, []string{`1:{"a": 1}`}},
		{"invalid continues", "{\"a\":\n[1]\n\"s\"\n{\"ok\":true}\n", JSONLOptions{}, []string{`1:ERR`, `2:ERR`, `3:ERR`, `4:{"ok":true}`}},
		{"two objects on a line", "{} {}\n", JSONLOptions{}, []string{`1:ERR`}},
		{"oversize skipped", "{\"a\":1}\n" + long + "\n{\"b\":2}\n", JSONLOptions{MaxRecordBytes: 100},
			[]string{`1:{"a":1}`, `2:ERR`, `3:{"b":2}`}},
		{"oversize last line", "{\"a\":1}\n" + long, JSONLOptions{MaxRecordBytes: 100}, []string{`1:{"a":1}`, `2:ERR`}},
		{"exactly the limit", `{"a":"xxxx"}` + "\r\n", JSONLOptions{MaxRecordBytes: 12}, []string{`1:{"a":"xxxx"}`}},
		{"first line", "{}\n{}\n", JSONLOptions{FirstLine: 10}, []string{`10:{}`, `11:{}`}},
		{"empty", "", JSONLOptions{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := readAll(t, NewJSONLReader(strings.NewReader(tc.in), tc.opts))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestJSONLHugeLineNotBuffered(t *testing.T) {
	// A 64 MiB line followed by a good one: skipped without holding it.
	huge := io.MultiReader(strings.NewReader(`{"a":"`), &repeatReader{b: 'x', n: 64 << 20}, strings.NewReader("\"}\n{\"ok\":1}\n"))
	r := NewJSONLReader(huge, JSONLOptions{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	it, err := r.Next()
	if err != nil || !errors.Is(it.Err, ErrRecordTooLarge) {
		t.Fatalf("Next = %v, %v", it.Err, err)
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 8<<20 {
		t.Errorf("allocated %d bytes for a skipped line", grown)
	}
	it, err = r.Next()
	if err != nil || string(it.JSON) != `{"ok":1}` || it.Line != 2 || it.Offset != int64(64<<20)+6+3+9 {
		t.Errorf("after huge line: %+v %v", it, err)
	}
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return k, nil
}

// TestResume checks that a reader started at any item's checkpoint yields
// exactly the items after it, with the same lines and offsets.
func TestResume(t *testing.T) {
	csvIn := "\xef\xbb\xbfid,note\r\n1,plain\r\n\r\n2,\"multi\r\nline\"\r\n3,x\"bad\r\n4,\"a,b\"\r\n5\r\n6,last"
	jsonlIn := "{\"id\":1}\n\n{\"id\":2}\r\nnope\n" + `{"id":"` + strings.Repeat("x", 80) + `"}` + "\n{\"id\":3}"
	for _, tc := range []struct {
		name string
		in   string
		open func(io.ReadSeeker, int64, int64) (Reader, error)
	}{
		{"csv", csvIn, func(r io.ReadSeeker, off, line int64) (Reader, error) {
			return NewCSVReaderAt(r, off, CSVOptions{FirstLine: line})
		}},
		{"jsonl", jsonlIn, func(r io.ReadSeeker, off, line int64) (Reader, error) {
			return NewJSONLReaderAt(r, off, JSONLOptions{FirstLine: line, MaxRecordBytes: 64})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.open(strings.NewReader(tc.in), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			all, items := readAll(t, r)
			if len(items) < 5 {
				t.Fatalf("only %d items: %q", len(items), all)
			}
			prev := int64(0)
			for _, it := range items {
				if it.Offset < prev || it.Offset > int64(len(tc.in)) {
					t.Errorf("offset %d after %d", it.Offset, prev)
				}
				prev = it.Offset
			}
			if items[len(items)-1].Offset != int64(len(tc.in)) {
				t.Errorf("last offset %d, file has %d bytes", items[len(items)-1].Offset, len(tc.in))
			}
			for i, it := range items {
				r, err := tc.open(strings.NewReader(tc.in), it.Offset, it.NextLine)
				if err != nil {
					t.Fatal(err)
				}
				rest, restItems := readAll(t, r)
				if (len(rest) > 0 || len(all) > i+1) && !reflect.DeepEqual(rest, all[i+1:]) {
					t.Errorf("resume after item %d (offset %d):\ngot  %q\nwant %q", i, it.Offset, rest, all[i+1:])
				}
				for j, ri := range restItems {
					if ri.Offset != items[i+1+j].Offset || ri.NextLine != items[i+1+j].NextLine {
						t.Errorf("resumed item %d: offset/next line %d/%d, want %d/%d", j, ri.Offset, ri.NextLine, items[i+1+j].Offset, items[i+1+j].NextLine)
					}
				}
			}
		})
	}
}

func TestCSVReaderAtHeaderOffsets(t *testing.T) {
	in := "a\n1\n2\n"
	for _, off := range []int64{0, 2} {
		r, err := NewCSVReaderAt(strings.NewReader(in), off, CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readAll(t, r); !reflect.DeepEqual(got, []string{`2:{"a":"1"}`, `3:{"a":"2"}`}) {
			t.Errorf("offset %d: %q", off, got)
		}
	}
	if _, err := NewCSVReaderAt(strings.NewReader(in), 1, CSVOptions{}); err == nil {
		t.Error("offset inside the header accepted")
	}
}

// lineSource generates n JSONL or CSV lines without holding them.
type lineSource struct {
	csv  bool
	n, i int
	buf  []byte
}

func (s *lineSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.i > s.n {
			return 0, io.EOF
		}
		switch {
		case s.csv && s.i == 0:
			s.buf = []byte("order_id,customer,quantity,unit_price,note\n")
		case s.csv:
			s.buf = fmt.Appendf(s.buf[:0], "O-%d,C-%d,%d,%d.99,\"a note, with a comma\"\n", s.i, s.i%97, s.i%10+1, s.i%500)
		case s.i > 0:
			s.buf = fmt.Appendf(s.buf[:0], `{"order_id":"O-%d","customer":"C-%d","quantity":%d,"unit_price":"%d.99","note":"a note"}`+"\n", s.i, s.i%97, s.i%10+1, s.i%500)
		}
		s.i++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// TestStreamingBoundedMemory reads 200,000 lines of each format and checks
// the live heap does not grow with the input.
func TestStreamingBoundedMemory(t *testing.T) {
	const n = 200_000
	for _, isCSV := range []bool{false, true} {
		name := "jsonl"
		if isCSV {
			name = "csv"
		}
		t.Run(name, func(t *testing.T) {
			var r Reader
			src := &lineSource{csv: isCSV, n: n}
			if isCSV {
				cr, err := NewCSVReader(src, CSVOptions{})
				if err != nil {
					t.Fatal(err)
				}
				r = cr
			} else {
				src.i = 1
				r = NewJSONLReader(src, JSONLOptions{})
			}
			var ms runtime.MemStats
			var peak uint64
			count := 0
			for {
				it, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil || it.Err != nil {
					t.Fatalf("item %d: %v %v", count, err, it.Err)
				}
				count++
				if count%50_000 == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			}
			if count != n {
				t.Fatalf("read %d items, want %d", count, n)
			}
			// The test binary itself holds a few MiB; 200k records of ~100 B
			// held in memory would be 20+ MiB.
			if peak > 16<<20 {
				t.Errorf("live heap reached %d bytes", peak)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.csv":    "x\n1\n",
		"a.ndjson": "{\"x\":1}\n",
		"a.json":   "{\"x\":1}\n",
		"a.txt":    "{\"x\":1}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, format, want string
	}{
		{"a.csv", "", `1:{"x":"1"}`},
		{"a.ndjson", "", `1:{"x":1}`},
		{"a.json", "", `1:{"x":1}`},
		{"a.txt", "jsonl", `1:{"x":1}`},
	} {
		f, err := Open(filepath.Join(dir, tc.name), tc.format)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readAll(t, f)
		f.Close()
		if len(got) != 1 || got[0] != strings.Replace(tc.want, "1:", map[bool]string{true: "2:", false: "1:"}[strings.HasSuffix(tc.name, ".csv")], 1) {
			t.Errorf("%s: %q", tc.name, got)
		}
	}
	if _, err := Open(filepath.Join(dir, "a.txt"), ""); err == nil {
		t.Error("unknown extension accepted")
	}
	if _, err := Open(filepath.Join(dir, "a.csv"), "xml"); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := Open(filepath.Join(dir, "missing.csv"), ""); err == nil {
		t.Error("missing file opened")
	}
}

func TestIOError(t *testing.T) {
	boom := errors.New("boom")
	r := NewJSONLReader(io.MultiReader(strings.NewReader("{}\n"), &errReader{boom}), JSONLOptions{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("error not sticky: %v", err)
	}
	cr, err := NewCSVReader(io.MultiReader(strings.NewReader("a\n1\n"), &errReader{boom}), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Next(); !errors.Is(err, boom) {
		t.Errorf("csv err = %v", err)
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

func BenchmarkCSVReader(b *testing.B) {
	var buf bytes.Buffer
	src := &lineSource{csv: true, n: 10_000}
	io.Copy(&buf, src)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewCSVReader(bytes.NewReader(data), CSVOptions{})
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

func BenchmarkJSONLReader(b *testing.B) {
	var buf bytes.Buffer
	src := &lineSource{n: 10_000, i: 1}
	io.Copy(&buf, src)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewJSONLReader(bytes.NewReader(data), JSONLOptions{})
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
